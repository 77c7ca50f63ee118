// Thin synchronous wrappers over the few Linux syscalls Node.js does not
// expose: mknod (overlay whiteouts, device nodes in layers), extended
// attributes (opaque directories, file capabilities), mount/umount2, pidfds,
// and a posix_spawn-based spawn: Node's fork()-based one blocks the event loop
// for 5-10 ms per child in a daemon of ~100 MiB, vfork-style spawning does not.
// Each throws an Error whose `code` is the errno name, like node:fs does.
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <termios.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sendfile.h>
#include <poll.h>
#include <spawn.h>
#include <signal.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/wait.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define MAX_STR 8192

static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  char msg[MAX_STR + 128];
  snprintf(msg, sizeof msg, "%s: %s, %s '%s'", strerrorname_np(err) ? strerrorname_np(err) : "EUNKNOWN",
           strerror(err), syscall, path ? path : "");
  napi_value code, message, error;
  napi_create_string_utf8(env, strerrorname_np(err) ? strerrorname_np(err) : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_value errnum;
  napi_create_int32(env, -err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_value sc;
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_set_named_property(env, error, "syscall", sc);
  napi_throw(env, error);
  return NULL;
}

static int get_str(napi_env env, napi_value v, char *buf, size_t len) {
  size_t out;
  if (napi_get_value_string_utf8(env, v, buf, len, &out) != napi_ok) return -1;
  if (out >= len - 1) return -1;
  return 0;
}

static napi_value bad_args(napi_env env, const char *fn) {
  napi_throw_type_error(env, NULL, fn);
  return NULL;
}

// mknod(path: string, mode: number, major: number, minor: number): void
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[MAX_STR];
  uint32_t mode, major, minor;
  if (argc < 4 || get_str(env, argv[0], path, sizeof path) ||
      napi_get_value_uint32(env, argv[1], &mode) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &major) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &minor) != napi_ok)
    return bad_args(env, "mknod(path, mode, major, minor)");
  if (mknod(path, (mode_t)mode, makedev(major, minor)) != 0) return throw_errno(env, errno, "mknod", path);
  return NULL;
}

// lsetxattr(path: string, name: string, value: Buffer): void
static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[MAX_STR], name[256];
  void *data;
  size_t len;
  if (argc < 3 || get_str(env, argv[0], path, sizeof path) || get_str(env, argv[1], name, sizeof name) ||
      napi_get_buffer_info(env, argv[2], &data, &len) != napi_ok)
    return bad_args(env, "lsetxattr(path, name, value: Buffer)");
  if (lsetxattr(path, name, data, len, 0) != 0) return throw_errno(env, errno, "lsetxattr", path);
  return NULL;
}

// lgetxattr(path: string, name: string): Buffer | null (null when absent)
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[MAX_STR], name[256];
  if (argc < 2 || get_str(env, argv[0], path, sizeof path) || get_str(env, argv[1], name, sizeof name))
    return bad_args(env, "lgetxattr(path, name)");
  ssize_t n = lgetxattr(path, name, NULL, 0);
  if (n < 0) {
    if (errno == ENODATA) {
      napi_value nul;
      napi_get_null(env, &nul);
      return nul;
    }
    return throw_errno(env, errno, "lgetxattr", path);
  }
  void *buf;
  napi_value result;
  napi_create_buffer(env, (size_t)n, &buf, &result);
  if (n > 0 && lgetxattr(path, name, buf, (size_t)n) < 0) return throw_errno(env, errno, "lgetxattr", path);
  return result;
}

// llistxattr(path: string): string[]
static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[MAX_STR];
  if (argc < 1 || get_str(env, argv[0], path, sizeof path)) return bad_args(env, "llistxattr(path)");
  ssize_t n = llistxattr(path, NULL, 0);
  if (n < 0) return throw_errno(env, errno, "llistxattr", path);
  char *buf = malloc((size_t)n + 1);
  if (!buf) return throw_errno(env, ENOMEM, "llistxattr", path);
  if (n > 0) {
    n = llistxattr(path, buf, (size_t)n);
    if (n < 0) {
      int e = errno;
      free(buf);
      return throw_errno(env, e, "llistxattr", path);
    }
  }
  napi_value arr;
  napi_create_array(env, &arr);
  uint32_t idx = 0;
  for (ssize_t off = 0; off < n;) {
    size_t l = strlen(buf + off);
    napi_value s;
    napi_create_string_utf8(env, buf + off, l, &s);
    napi_set_element(env, arr, idx++, s);
    off += (ssize_t)l + 1;
  }
  free(buf);
  return arr;
}

// mount(source: string, target: string, fstype: string, flags: number, data: string): void
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char source[MAX_STR], target[MAX_STR], fstype[64];
  char *data = malloc(65536);
  uint32_t flags;
  if (!data) return throw_errno(env, ENOMEM, "mount", "");
  if (argc < 5 || get_str(env, argv[0], source, sizeof source) || get_str(env, argv[1], target, sizeof target) ||
      get_str(env, argv[2], fstype, sizeof fstype) || napi_get_value_uint32(env, argv[3], &flags) != napi_ok ||
      get_str(env, argv[4], data, 65536)) {
    free(data);
    return bad_args(env, "mount(source, target, fstype, flags, data)");
  }
  int rc = mount(source, target, fstype[0] ? fstype : NULL, flags, data[0] ? data : NULL);
  int e = errno;
  free(data);
  if (rc != 0) return throw_errno(env, e, "mount", target);
  return NULL;
}

// umount2(target: string, flags: number): void
static napi_value js_umount2(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char target[MAX_STR];
  uint32_t flags;
  if (argc < 2 || get_str(env, argv[0], target, sizeof target) || napi_get_value_uint32(env, argv[1], &flags) != napi_ok)
    return bad_args(env, "umount2(target, flags)");
  if (umount2(target, (int)flags) != 0) return throw_errno(env, errno, "umount2", target);
  return NULL;
}

/* Output post-processing (OPOST: "\n" -> "\r\n") on a terminal. libuv's raw mode keeps it on;
   a container's terminal already sends "\r\n", so the docker CLI's raw mode turns it off. */
static napi_value js_set_tty_opost(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  bool on;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_bool(env, argv[1], &on) != napi_ok)
    return bad_args(env, "setTtyOpost(fd, on)");
  struct termios t;
  if (tcgetattr(fd, &t) != 0) return throw_errno(env, errno, "tcgetattr", "tty");
  if (on) t.c_oflag |= OPOST;
  else t.c_oflag &= ~(tcflag_t)OPOST;
  if (tcsetattr(fd, TCSADRAIN, &t) != 0) return throw_errno(env, errno, "tcsetattr", "tty");
  return NULL;
}

/* A persistent network namespace at `path` (an existing empty file) with lo up, made on a
   short-lived thread: unshare(CLONE_NEWNET) changes only the calling thread's namespace, the
   bind mount of that thread's nsfs file keeps the namespace after the thread is gone. This is
   what `unshare --net=FILE` plus CNI's loopback plugin do, without two process starts. */
struct netns_job {
  const char *path;
  int err;
  const char *step;
};

static void *netns_thread(void *arg) {
  struct netns_job *j = arg;
  if (unshare(CLONE_NEWNET) != 0) { j->err = errno; j->step = "unshare"; return NULL; }
  char self[64];
  snprintf(self, sizeof self, "/proc/self/task/%ld/ns/net", (long)syscall(SYS_gettid));
  if (mount(self, j->path, NULL, MS_BIND, NULL) != 0) { j->err = errno; j->step = "mount"; return NULL; }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) { j->err = errno; j->step = "socket"; return NULL; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) { j->err = errno; j->step = "SIOCGIFFLAGS lo"; close(fd); return NULL; }
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) { j->err = errno; j->step = "SIOCSIFFLAGS lo"; close(fd); return NULL; }
  close(fd);
  return NULL;
}

static napi_value js_create_netns(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[MAX_STR];
  if (argc < 1 || get_str(env, argv[0], path, sizeof path)) return bad_args(env, "createNetns(path)");
  struct netns_job job = {path, 0, NULL};
  pthread_t th;
  int rc = pthread_create(&th, NULL, netns_thread, &job);
  if (rc != 0) return throw_errno(env, rc, "pthread_create", path);
  pthread_join(th, NULL);
  if (job.err) return throw_errno(env, job.err, job.step, path);
  return NULL;
}

/* sendFile(outFd, inFd, offset, count, cb): copy a file range to a socket in the kernel
   (zero-copy), on the libuv thread pool. The socket is non-blocking (libuv's): on EAGAIN
   the worker waits for it to be writable, up to 30 s per wait. cb(err | null, bytesSent). */
struct sendfile_job {
  int out_fd, in_fd;
  int64_t offset, count, sent;
  int err;
  napi_async_work work;
  napi_ref cb;
};

static void sendfile_execute(napi_env env, void *data) {
  (void)env;
  struct sendfile_job *j = data;
  off_t off = (off_t)j->offset;
  while (j->sent < j->count) {
    size_t want = (size_t)(j->count - j->sent);
    if (want > (1u << 30)) want = 1u << 30;
    ssize_t n = sendfile(j->out_fd, j->in_fd, &off, want);
    if (n > 0) { j->sent += n; continue; }
    if (n == 0) { j->err = EPIPE; return; } /* the file is shorter than asked */
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      struct pollfd p = {j->out_fd, POLLOUT, 0};
      int r = poll(&p, 1, 30000);
      if (r == 0) { j->err = ETIMEDOUT; return; }
      if (r < 0 && errno != EINTR) { j->err = errno; return; }
      if (r > 0 && (p.revents & (POLLERR | POLLHUP))) { j->err = EPIPE; return; }
      continue;
    }
    j->err = errno;
    return;
  }
}

static void sendfile_complete(napi_env env, napi_status status, void *data) {
  struct sendfile_job *j = data;
  napi_value cb, undef, args[2];
  napi_get_reference_value(env, j->cb, &cb);
  napi_get_undefined(env, &undef);
  if (j->err || status != napi_ok) {
    napi_value msg, code;
    int e = j->err ? j->err : EIO;
    napi_create_string_utf8(env, strerror(e), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &args[0]);
    napi_create_int32(env, e, &code);
    napi_set_named_property(env, args[0], "errno", code);
  } else {
    napi_get_null(env, &args[0]);
  }
  napi_create_int64(env, j->sent, &args[1]);
  napi_call_function(env, undef, cb, 2, args, NULL);
  napi_delete_reference(env, j->cb);
  napi_delete_async_work(env, j->work);
  free(j);
}

static napi_value js_send_file(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t out_fd, in_fd;
  int64_t offset, count;
  napi_valuetype t;
  if (argc < 5 || napi_get_value_int32(env, argv[0], &out_fd) != napi_ok || napi_get_value_int32(env, argv[1], &in_fd) != napi_ok ||
      napi_get_value_int64(env, argv[2], &offset) != napi_ok || napi_get_value_int64(env, argv[3], &count) != napi_ok ||
      napi_typeof(env, argv[4], &t) != napi_ok || t != napi_function || offset < 0 || count < 0)
    return bad_args(env, "sendFile(outFd, inFd, offset, count, cb)");
  struct sendfile_job *j = calloc(1, sizeof *j);
  if (!j) return throw_errno(env, ENOMEM, "calloc", "sendFile");
  j->out_fd = out_fd;
  j->in_fd = in_fd;
  j->offset = offset;
  j->count = count;
  napi_create_reference(env, argv[4], 1, &j->cb);
  napi_value name;
  napi_create_string_utf8(env, "berth.sendFile", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, sendfile_execute, sendfile_complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return NULL;
}

/* pidfd_open(2): a handle on one process that a reused pid can never redirect. */
static napi_value js_pidfd_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t pid;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &pid) != napi_ok || pid <= 0) return bad_args(env, "pidfdOpen(pid)");
  long fd = syscall(SYS_pidfd_open, (pid_t)pid, 0);
  if (fd < 0) {
    char p[32];
    snprintf(p, sizeof p, "%d", pid);
    return throw_errno(env, errno, "pidfd_open", p);
  }
  napi_value out;
  napi_create_int32(env, (int32_t)fd, &out);
  return out;
}

/* pidfd_send_signal(2) */
static napi_value js_pidfd_send_signal(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd, sig;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &sig) != napi_ok)
    return bad_args(env, "pidfdSendSignal(fd, signal)");
  if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) != 0) return throw_errno(env, errno, "pidfd_send_signal", "");
  return NULL;
}

/* A heap copy of a JS string; NULL when v is not a string. */
static char *dup_str(napi_env env, napi_value v) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (!s) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

static void free_str_array(char **a) {
  if (!a) return;
  for (char **p = a; *p; p++) free(*p);
  free(a);
}

/* A NULL-terminated heap copy of a JS string array; NULL on anything else. */
static char **dup_str_array(napi_env env, napi_value arr) {
  bool is = false;
  uint32_t n;
  if (napi_is_array(env, arr, &is) != napi_ok || !is || napi_get_array_length(env, arr, &n) != napi_ok) return NULL;
  char **out = calloc(n + 1, sizeof *out);
  if (!out) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, arr, i, &e) != napi_ok || !(out[i] = dup_str(env, e))) {
      free_str_array(out);
      return NULL;
    }
  }
  return out;
}

/* pipe(): [readFd, writeFd], both close-on-exec */
static napi_value js_pipe(napi_env env, napi_callback_info info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return throw_errno(env, errno, "pipe2", "");
  napi_value arr, r, w;
  napi_create_array_with_length(env, 2, &arr);
  napi_create_int32(env, fds[0], &r);
  napi_create_int32(env, fds[1], &w);
  napi_set_element(env, arr, 0, r);
  napi_set_element(env, arr, 1, w);
  return arr;
}

#define MAX_CHILD_FDS 16

/*
 * spawn(file, argv, envp, cwd | null, fds, setsid): pid. The child gets fds[i]
 * as its descriptor i and no other descriptor, default signal dispositions and
 * an empty signal mask.
 * glibc's posix_spawn shares the address space until the exec (CLONE_VM |
 * CLONE_VFORK), so its cost does not grow with the daemon's memory, and it
 * reports a failed exec as the error.
 */
static napi_value js_spawn(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 6) return bad_args(env, "spawn(file, argv, envp, cwd, fds, setsid)");
  char *file = dup_str(env, argv[0]);
  char **args = dup_str_array(env, argv[1]);
  char **envp = dup_str_array(env, argv[2]);
  napi_valuetype cwd_type;
  napi_typeof(env, argv[3], &cwd_type);
  char *cwd = cwd_type == napi_string ? dup_str(env, argv[3]) : NULL;
  bool setsid_flag = false, fds_is_array = false;
  uint32_t nfds = 0;
  int src[MAX_CHILD_FDS], tmp[MAX_CHILD_FDS];
  bool ok = file && args && envp && (cwd_type == napi_null || cwd) && napi_get_value_bool(env, argv[5], &setsid_flag) == napi_ok &&
            napi_is_array(env, argv[4], &fds_is_array) == napi_ok && fds_is_array && napi_get_array_length(env, argv[4], &nfds) == napi_ok &&
            nfds <= MAX_CHILD_FDS;
  for (uint32_t i = 0; ok && i < nfds; i++) {
    napi_value e;
    ok = napi_get_element(env, argv[4], i, &e) == napi_ok && napi_get_value_int32(env, e, &src[i]) == napi_ok && src[i] >= 0;
  }
  int err = 0;
  uint32_t copied = 0;
  pid_t pid = -1;
  if (ok) {
    /* Copies above every target, so no dup2 overwrites a source still to come
       and none lands on itself (which would keep its close-on-exec flag). */
    for (; copied < nfds; copied++) {
      tmp[copied] = fcntl(src[copied], F_DUPFD_CLOEXEC, MAX_CHILD_FDS);
      if (tmp[copied] < 0) {
        err = errno;
        break;
      }
    }
    if (!err) {
      posix_spawn_file_actions_t fa;
      posix_spawnattr_t attr;
      posix_spawn_file_actions_init(&fa);
      posix_spawnattr_init(&attr);
      for (uint32_t i = 0; i < nfds; i++) posix_spawn_file_actions_adddup2(&fa, tmp[i], (int)i);
      if (cwd) posix_spawn_file_actions_addchdir_np(&fa, cwd);
      /* and nothing else: not even what was handed to us without close-on-exec */
      posix_spawn_file_actions_addclosefrom_np(&fa, (int)nfds);
      sigset_t none, all;
      sigemptyset(&none);
      sigfillset(&all);
      /* glibc's sigfillset leaves out its two internal signals (32, 33), and its
         posix_spawn then sets them to SIG_IGN in the child, which an exec keeps:
         every container would start with them ignored. Reset them too. */
      all.__val[0] |= (1UL << 31) | (1UL << 32);
      posix_spawnattr_setsigmask(&attr, &none);
      posix_spawnattr_setsigdefault(&attr, &all);
      posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (setsid_flag ? POSIX_SPAWN_SETSID : 0));
      err = posix_spawn(&pid, file, &fa, &attr, args, envp);
      posix_spawn_file_actions_destroy(&fa);
      posix_spawnattr_destroy(&attr);
    }
    for (uint32_t i = 0; i < copied; i++) close(tmp[i]);
  }
  napi_value out = NULL;
  if (!ok) bad_args(env, "spawn(file: string, argv: string[], envp: string[], cwd: string | null, fds: number[], setsid: boolean)");
  else if (err) throw_errno(env, err, "spawn", file);
  else napi_create_int32(env, pid, &out);
  free(file);
  free(cwd);
  free_str_array(args);
  free_str_array(envp);
  return out;
}

/* waitPidfd(fd): null while the process runs, else [exitCode, signal] (reaped). */
static napi_value js_wait_pidfd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) return bad_args(env, "waitPidfd(fd)");
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) != 0) return throw_errno(env, errno, "waitid", "");
  napi_value out;
  if (si.si_pid == 0) {
    napi_get_null(env, &out);
    return out;
  }
  bool exited = si.si_code == CLD_EXITED;
  napi_value code, sig;
  napi_create_int32(env, exited ? si.si_status : -1, &code);
  napi_create_int32(env, exited ? 0 : si.si_status, &sig);
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, code);
  napi_set_element(env, out, 1, sig);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"mknod", NULL, js_mknod, NULL, NULL, NULL, napi_default, NULL},
      {"lsetxattr", NULL, js_lsetxattr, NULL, NULL, NULL, napi_default, NULL},
      {"lgetxattr", NULL, js_lgetxattr, NULL, NULL, NULL, napi_default, NULL},
      {"llistxattr", NULL, js_llistxattr, NULL, NULL, NULL, napi_default, NULL},
      {"mount", NULL, js_mount, NULL, NULL, NULL, napi_default, NULL},
      {"umount2", NULL, js_umount2, NULL, NULL, NULL, napi_default, NULL},
      {"setTtyOpost", NULL, js_set_tty_opost, NULL, NULL, NULL, napi_default, NULL},
      {"createNetns", NULL, js_create_netns, NULL, NULL, NULL, napi_default, NULL},
      {"sendFile", NULL, js_send_file, NULL, NULL, NULL, napi_default, NULL},
      {"pidfdOpen", NULL, js_pidfd_open, NULL, NULL, NULL, napi_default, NULL},
      {"pidfdSendSignal", NULL, js_pidfd_send_signal, NULL, NULL, NULL, napi_default, NULL},
      {"pipe", NULL, js_pipe, NULL, NULL, NULL, napi_default, NULL},
      {"spawn", NULL, js_spawn, NULL, NULL, NULL, napi_default, NULL},
      {"waitPidfd", NULL, js_wait_pidfd, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
