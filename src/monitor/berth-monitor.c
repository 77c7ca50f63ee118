/*
 * berth-monitor: one per container, the part of berth that outlives the daemon
 * (containerd's shim / podman's conmon role). It runs `runc create`, keeps the
 * container's stdio, writes docker's json-file log (with max-size/max-file
 * rotation), forwards stdin from clients of a SOCK_STREAM attach socket,
 * applies terminal resizes from a control fifo, and writes the exit status.
 *
 * Modes:
 *   (default)   container monitor, see usage() and src/monitor/index.ts
 *   --exec-tty  a relay between our stdio and the pty master `runc exec -d -t`
 *               hands over a console socket (Node cannot receive SCM_RIGHTS);
 *               runc refuses a console socket without -d, so with --pid-file
 *               we are the subreaper that waits for the exec'd process
 *               (the caller passes the same --pid-file to runc exec)
 *   --log-only  pipe stdin into the json-file writer (used by tests)
 *
 * Single-threaded poll(2) loop over non-blocking fds; no heap use after setup.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 16384 /* docker splits longer lines into partial entries of this size */
#define MAX_CLIENTS 64
#define DRAIN_MS 100
#define ATTACH_NAME "attach"
#define CTL_NAME "ctl"
#define CONSOLE_NAME "console.sock"

/* ---------- options ---------- */

static struct {
  const char *id, *bundle, *runtime, *runtime_root, *runtime_log, *log_path;
  const char *container_pid_file, *monitor_pid_file, *console_socket, *stream, *exec_pid_file;
  const char *exit_files[16];
  int n_exit_files, terminal, use_stdin, stdin_once, start, exec_tty, log_only, fixed_time;
  long long log_max_size;
  int log_max_files;
  struct timespec fixed_ts;
  char **runc_argv;
} opt = {.runtime = "/usr/sbin/runc", .log_max_files = 1, .stream = "stdout"};

static int sync_fd = -1;
static int in_bundle; /* set once we chdir'd: only then are the relative socket names ours to remove */

static void warnmsg(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("berth-monitor: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* ---------- JSON strings, as Go's encoding/json writes them (HTML-safe) ---------- */

/* Length of the valid UTF-8 sequence at s (Go's utf8.DecodeRune rules), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0], lo = 0x80, hi = 0xBF;
  size_t k, i;
  if (c < 0x80) return 1;
  if (c < 0xC2) return 0;
  if (c < 0xE0) k = 2;
  else if (c < 0xF0) { k = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
  else if (c < 0xF5) { k = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
  else return 0;
  if (n < k || s[1] < lo || s[1] > hi) return 0;
  for (i = 2; i < k; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  return k;
}

/* Escapes n bytes into out (room for 6*n needed); returns bytes written. */
static size_t json_escape(char *out, const unsigned char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  char *o = out;
  size_t i = 0, k;
  while (i < n) {
    unsigned char b = s[i];
    if (b < 0x80) {
      i++;
      if (b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&') { *o++ = (char)b; continue; }
      *o++ = '\\';
      switch (b) {
      case '"': case '\\': *o++ = (char)b; break;
      case '\n': *o++ = 'n'; break;
      case '\r': *o++ = 'r'; break;
      case '\t': *o++ = 't'; break;
      case '\b': *o++ = 'b'; break;
      case '\f': *o++ = 'f'; break;
      default: *o++ = 'u'; *o++ = '0'; *o++ = '0'; *o++ = hex[b >> 4]; *o++ = hex[b & 15];
      }
      continue;
    }
    k = utf8_len(s + i, n - i);
    if (k == 0) { memcpy(o, "\\ufffd", 6); o += 6; i++; continue; }
    if (k == 3 && b == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) {
      memcpy(o, s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6); /* JavaScript line separators */
      o += 6; i += 3; continue;
    }
    memcpy(o, s + i, k); o += k; i += k;
  }
  return (size_t)(o - out);
}

/* Go's time.RFC3339Nano in UTC: fraction with trailing zeros trimmed, none if zero. */
static size_t rfc3339nano(char *out, struct timespec ts) {
  struct tm tm;
  size_t n;
  gmtime_r(&ts.tv_sec, &tm);
  n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  if (ts.tv_nsec > 0) {
    char frac[16];
    int len = snprintf(frac, sizeof frac, "%09ld", ts.tv_nsec);
    while (len > 0 && frac[len - 1] == '0') len--;
    out[n++] = '.';
    memcpy(out + n, frac, (size_t)len);
    n += (size_t)len;
  }
  out[n++] = 'Z';
  out[n] = 0;
  return n;
}

/* ---------- small file helpers ---------- */

static int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    p += w; n -= (size_t)w;
  }
  return 0;
}

/* tmp + rename: readers see the old content or the new, never half; with
 * `durable`, fsynced first, so it also survives a power cut. */
static int write_file_atomic(const char *path, const char *text, int durable) {
  char tmp[PATH_MAX];
  int fd, rc;
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) { errno = ENAMETOOLONG; return -1; }
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  rc = write_all(fd, text, strlen(text));
  if (rc == 0 && durable) rc = fsync(fd);
  if (close(fd) != 0) rc = -1;
  if (rc == 0) rc = rename(tmp, path);
  if (rc != 0) { int e = errno; unlink(tmp); errno = e; }
  return rc;
}

static void set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) warnmsg("fcntl(%d): %s", fd, strerror(errno));
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------- the json-file log ---------- */

static struct { int fd; long long size; } lg = {-1, 0};
static char entry[LINE_MAX_BYTES * 6 + 256];

static int log_open(int flags) {
  struct stat st;
  lg.fd = open(opt.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | flags, 0640);
  if (lg.fd < 0) return -1;
  lg.size = fstat(lg.fd, &st) == 0 ? st.st_size : 0;
  return 0;
}

/* docker's rotation: FILE.(n-2)->FILE.(n-1) ... FILE->FILE.1, or truncation when max-file is 1. */
static void log_rotate(void) {
  char from[PATH_MAX], to[PATH_MAX];
  int i;
  if (opt.log_max_files <= 1) {
    if (ftruncate(lg.fd, 0) != 0) warnmsg("truncate %s: %s", opt.log_path, strerror(errno));
    lg.size = 0;
    return;
  }
  for (i = opt.log_max_files - 1; i >= 2; i--) {
    snprintf(from, sizeof from, "%s.%d", opt.log_path, i - 1);
    snprintf(to, sizeof to, "%s.%d", opt.log_path, i);
    if (rename(from, to) != 0 && errno != ENOENT) warnmsg("rename %s: %s", from, strerror(errno));
  }
  snprintf(to, sizeof to, "%s.1", opt.log_path);
  if (rename(opt.log_path, to) != 0) warnmsg("rename %s: %s", opt.log_path, strerror(errno));
  close(lg.fd);
  if (log_open(O_TRUNC) != 0) warnmsg("open %s: %s", opt.log_path, strerror(errno));
}

static void log_entry(const char *stream, const unsigned char *s, size_t n) {
  struct timespec ts;
  size_t m;
  if (opt.fixed_time) ts = opt.fixed_ts;
  else clock_gettime(CLOCK_REALTIME, &ts);
  m = (size_t)sprintf(entry, "{\"log\":\"");
  m += json_escape(entry + m, s, n);
  m += (size_t)sprintf(entry + m, "\",\"stream\":\"%s\",\"time\":\"", stream);
  m += rfc3339nano(entry + m, ts);
  memcpy(entry + m, "\"}\n", 3);
  m += 3;
  if (opt.log_max_size > 0 && lg.size > 0 && lg.size + (long long)m > opt.log_max_size) log_rotate();
  if (lg.fd < 0) return;
  if (write_all(lg.fd, entry, m) != 0) { warnmsg("write %s: %s", opt.log_path, strerror(errno)); return; }
  lg.size += (long long)m;
}

/* One output stream of the container, cut into lines. */
struct stream {
  int fd;
  const char *name;
  size_t len;
  unsigned char buf[LINE_MAX_BYTES];
};

static void stream_split(struct stream *st) {
  size_t start = 0;
  unsigned char *nl;
  while ((nl = memchr(st->buf + start, '\n', st->len - start)) != NULL) {
    size_t end = (size_t)(nl - st->buf) + 1;
    log_entry(st->name, st->buf + start, end - start);
    start = end;
  }
  if (start > 0) { memmove(st->buf, st->buf + start, st->len - start); st->len -= start; }
  if (st->len == sizeof st->buf) { log_entry(st->name, st->buf, st->len); st->len = 0; }
}

static void stream_flush(struct stream *st) {
  if (st->len > 0) log_entry(st->name, st->buf, st->len);
  st->len = 0;
}

/* One read: 1 got data, 0 would block, -1 closed (EOF, or EIO from a pty master with no slave left). */
static int stream_read(struct stream *st) {
  ssize_t r;
  if (st->fd < 0) return -1;
  do r = read(st->fd, st->buf + st->len, sizeof st->buf - st->len);
  while (r < 0 && errno == EINTR);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
  if (r <= 0) {
    if (r < 0 && errno != EIO) warnmsg("read %s: %s", st->name, strerror(errno));
    close(st->fd);
    st->fd = -1;
    stream_flush(st);
    return -1;
  }
  st->len += (size_t)r;
  stream_split(st);
  /* Interactive containers (a terminal, or stdin open): the attached client follows the log,
     so a prompt without a newline is written at once as a partial entry, not held for its line. */
  if (st->len > 0 && (opt.terminal || opt.use_stdin)) stream_flush(st);
  return 1;
}

/* ---------- reporting on the sync pipe ---------- */

static void report(long pid, const char *message) {
  static char line[8192 * 6 + 64];
  size_t n;
  if (sync_fd < 0) return;
  if (pid > 0) n = (size_t)snprintf(line, sizeof line, "{\"pid\": %ld}\n", pid);
  else {
    size_t len = strnlen(message, 8192);
    n = (size_t)sprintf(line, "{\"pid\": -1, \"message\": \"");
    n += json_escape(line + n, (const unsigned char *)message, len);
    memcpy(line + n, "\"}\n", 3);
    n += 3;
  }
  if (write_all(sync_fd, line, n) != 0) warnmsg("sync pipe: %s", strerror(errno));
  close(sync_fd);
  sync_fd = -1;
}

static void fail(const char *fmt, ...) {
  char msg[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  warnmsg("%s", msg);
  report(-1, msg);
  if (in_bundle) {
    unlink(ATTACH_NAME);
    unlink(CTL_NAME);
    unlink(CONSOLE_NAME);
  }
  exit(1);
}

/* The last `"level":"error"` message of runc's JSON log, unescaped into out. */
static int runtime_log_error(char *out, size_t cap) {
  static char text[65536];
  char *line, *save = NULL, *found = NULL;
  ssize_t n;
  int fd = open(opt.runtime_log, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return 0;
  text[n] = 0;
  for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
    if (strstr(line, "\"level\":\"error\"") || strstr(line, "\"level\":\"fatal\"")) found = line;
  if (!found || !(found = strstr(found, "\"msg\":\""))) return 0;
  found += 7;
  size_t o = 0;
  for (; *found && *found != '"' && o + 4 < cap; found++) {
    if (*found != '\\') { out[o++] = *found; continue; }
    found++;
    switch (*found) {
    case 'n': out[o++] = '\n'; break;
    case 't': out[o++] = '\t'; break;
    case 'r': out[o++] = '\r'; break;
    case 'u': {
      unsigned cp = 0;
      if (sscanf(found + 1, "%4x", &cp) != 1) return 0;
      found += 4;
      if (cp < 0x80) out[o++] = (char)cp;
      else if (cp < 0x800) { out[o++] = (char)(0xC0 | cp >> 6); out[o++] = (char)(0x80 | (cp & 63)); }
      else { out[o++] = (char)(0xE0 | cp >> 12); out[o++] = (char)(0x80 | ((cp >> 6) & 63)); out[o++] = (char)(0x80 | (cp & 63)); }
      break;
    }
    case 0: found--; break;
    default: out[o++] = *found; /* \" \\ \/ */
    }
  }
  out[o] = 0;
  return o > 0;
}

/* Whatever is readable now from fd (runc's stderr after a failed create), last non-empty line. */
static void last_line_of(int fd, char *out, size_t cap) {
  static char text[16384];
  size_t len = 0;
  ssize_t r;
  char *end, *start;
  out[0] = 0;
  if (fd < 0) return;
  set_nonblock(fd);
  while (len < sizeof text - 1 && (r = read(fd, text + len, sizeof text - 1 - len)) > 0) len += (size_t)r;
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ')) len--;
  text[len] = 0;
  end = text + len;
  start = memrchr(text, '\n', len);
  start = start ? start + 1 : text;
  snprintf(out, cap, "%.*s", (int)(end - start), start);
}

/* ---------- sockets ---------- */

static int listen_unix(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  mode_t old;
  int s, rc;
  if (strlen(path) >= sizeof addr.sun_path) { errno = ENAMETOOLONG; return -1; }
  strcpy(addr.sun_path, path);
  if (unlink(path) != 0 && errno != ENOENT) return -1;
  s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return -1;
  old = umask(0177); /* 0600 from the start: no window where others may connect */
  rc = bind(s, (struct sockaddr *)&addr, sizeof addr);
  umask(old);
  if (rc != 0 || listen(s, 16) != 0) { int e = errno; close(s); errno = e; return -1; }
  return s;
}

/* Accepts one connection on a console socket and receives the pty master runc sends. */
static int receive_master(int lsock) {
  char name[512];
  struct iovec iov = {name, sizeof name};
  union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } ctl;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
  struct cmsghdr *c;
  int fd = -1, conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
  ssize_t r;
  if (conn < 0) return -1;
  do r = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r >= 0)
    for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(c), sizeof fd);
  close(conn);
  if (fd < 0 && r >= 0) errno = EPROTO;
  return fd;
}

static void resize(int master, const char *line) {
  unsigned h, w;
  struct winsize ws = {0};
  if (master < 0 || sscanf(line, "%u %u", &h, &w) != 2) return;
  ws.ws_row = (unsigned short)h;
  ws.ws_col = (unsigned short)w;
  if (ioctl(master, TIOCSWINSZ, &ws) != 0) warnmsg("TIOCSWINSZ: %s", strerror(errno));
}

/* Lines from a control fd (fifo or pipe) into buf; calls fn(line) for each complete one. -1 at EOF. */
static int read_lines(int fd, char *buf, size_t cap, size_t *len, void (*fn)(const char *)) {
  ssize_t r = read(fd, buf + *len, cap - 1 - *len);
  char *nl;
  if (r < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
  if (r == 0) return -1;
  *len += (size_t)r;
  buf[*len] = 0;
  while ((nl = memchr(buf, '\n', *len)) != NULL) {
    *nl = 0;
    fn(buf);
    *len -= (size_t)(nl + 1 - buf);
    memmove(buf, nl + 1, *len);
    buf[*len] = 0;
  }
  if (*len == cap - 1) *len = 0; /* a line too long to be ours */
  return 0;
}

/* ---------- stdin forwarding: one pending buffer; clients are not read while it is full ---------- */

static struct { unsigned char buf[65536]; size_t len, off; int fd, close_when_drained; } in = {.fd = -1};

static void close_stdin(void) {
  if (in.fd >= 0 && !opt.terminal) close(in.fd);
  in.fd = -1;
  in.len = in.off = 0;
}

static void flush_stdin(void) {
  while (in.fd >= 0 && in.off < in.len) {
    ssize_t w = write(in.fd, in.buf + in.off, in.len - in.off);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      close_stdin(); /* EPIPE: the container closed its stdin */
      return;
    }
    in.off += (size_t)w;
  }
  in.len = in.off = 0;
  if (in.close_when_drained) close_stdin();
}

/* ---------- container mode ---------- */

static int master_fd = -1;
static void ctl_line(const char *line) {
  if (strncmp(line, "resize ", 7) == 0) resize(master_fd, line + 7);
}

static int decode_status(int st) {
  return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255;
}

static void reset_child_signals(void) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL); /* ignored dispositions survive exec: the container must not inherit ours */
  signal(SIGHUP, SIG_DFL);
}

static int container_main(void) {
  static struct stream out = {.fd = -1, .name = "stdout"}, err = {.fd = -1, .name = "stderr"};
  char bundle[PATH_MAX], pidtext[32], msg[4096];
  int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
  int devnull, sfd, console = -1, attach, ctl, clients[MAX_CLIENTS], nclients = 0, status = -1, st, i;
  int cpid_is_child = 1;
  sigset_t mask;
  pid_t p, runc;
  long cpid;
  size_t ctl_len = 0;
  static char ctl_buf[256];

  if (fcntl(3, F_GETFD) >= 0) { sync_fd = 3; fcntl(3, F_SETFD, FD_CLOEXEC); }
  if (!realpath(opt.bundle, bundle)) fail("bundle %s: %s", opt.bundle, strerror(errno));

  /* Detach: fork, setsid, fork; the first process exits once the second has forked. */
  p = fork();
  if (p < 0) fail("fork: %s", strerror(errno));
  if (p > 0) {
    while (waitpid(p, &st, 0) < 0 && errno == EINTR) {}
    _exit(0);
  }
  if (setsid() < 0) fail("setsid: %s", strerror(errno));
  p = fork();
  if (p < 0) fail("fork: %s", strerror(errno));
  if (p > 0) _exit(0);

  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) fail("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0) fail("/dev/null: %s", strerror(errno));
  if (chdir(bundle) != 0) fail("chdir %s: %s", bundle, strerror(errno));
  in_bundle = 1;
  snprintf(pidtext, sizeof pidtext, "%ld", (long)getpid());
  /* no fsync: after a power cut there is no monitor left for the pid to name */
  if (write_file_atomic(opt.monitor_pid_file, pidtext, 0) != 0) fail("write %s: %s", opt.monitor_pid_file, strerror(errno));
  if (log_open(0) != 0) fail("open log %s: %s", opt.log_path, strerror(errno));

  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0) fail("sigprocmask: %s", strerror(errno));
  sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) fail("signalfd: %s", strerror(errno));

  if (opt.terminal) {
    if ((console = listen_unix(CONSOLE_NAME)) < 0) fail("console socket: %s", strerror(errno));
    if (pipe2(perr, O_CLOEXEC) != 0) fail("pipe: %s", strerror(errno));
  } else {
    if (opt.use_stdin && pipe2(pin, O_CLOEXEC) != 0) fail("pipe: %s", strerror(errno));
    if (pipe2(pout, O_CLOEXEC) != 0 || pipe2(perr, O_CLOEXEC) != 0) fail("pipe: %s", strerror(errno));
  }
  unlink(opt.runtime_log);

  {
    const char *argv[20];
    int a = 0;
    argv[a++] = opt.runtime; argv[a++] = "--root"; argv[a++] = opt.runtime_root;
    argv[a++] = "--log"; argv[a++] = opt.runtime_log; argv[a++] = "--log-format"; argv[a++] = "json";
    /* --start: `runc run --detach` creates and starts in one runc process (one Go start-up less
       than create + start); without it the caller runs `runc start` itself. */
    if (opt.start) { argv[a++] = "run"; argv[a++] = "--detach"; }
    else argv[a++] = "create";
    argv[a++] = "--bundle"; argv[a++] = bundle;
    argv[a++] = "--pid-file"; argv[a++] = opt.container_pid_file;
    if (opt.terminal) { argv[a++] = "--console-socket"; argv[a++] = CONSOLE_NAME; }
    argv[a++] = opt.id;
    argv[a] = NULL;
    runc = fork();
    if (runc < 0) fail("fork: %s", strerror(errno));
    if (runc == 0) {
      reset_child_signals();
      if (dup2(pin[0] >= 0 ? pin[0] : devnull, 0) < 0 || dup2(pout[1] >= 0 ? pout[1] : devnull, 1) < 0 || dup2(perr[1], 2) < 0) _exit(127);
      execv(opt.runtime, (char *const *)argv);
      fprintf(stderr, "exec %s: %s\n", opt.runtime, strerror(errno));
      _exit(127);
    }
  }
  /* Our copies of the container's ends go, so EOF means every writer is gone. */
  if (pin[0] >= 0) close(pin[0]);
  if (pout[1] >= 0) close(pout[1]);
  close(perr[1]);
  while (waitpid(runc, &st, 0) < 0) if (errno != EINTR) fail("waitpid: %s", strerror(errno));
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    if (!runtime_log_error(msg, sizeof msg)) last_line_of(perr[0], msg, sizeof msg);
    if (!msg[0]) snprintf(msg, sizeof msg, "%s create exited with status %d", opt.runtime, decode_status(st));
    fail("%s", msg);
  }
  {
    int fd = open(opt.container_pid_file, O_RDONLY | O_CLOEXEC);
    ssize_t r = fd >= 0 ? read(fd, pidtext, sizeof pidtext - 1) : -1;
    if (fd >= 0) close(fd);
    pidtext[r > 0 ? r : 0] = 0;
    cpid = strtol(pidtext, NULL, 10);
    if (cpid <= 0) fail("no container pid in %s", opt.container_pid_file);
  }
  if (opt.terminal) {
    master_fd = receive_master(console);
    close(console);
    unlink(CONSOLE_NAME);
    close(perr[0]);
    if (master_fd < 0) fail("no pty master from %s: %s", opt.runtime, strerror(errno));
    set_nonblock(master_fd);
    out.fd = master_fd;
    if (opt.use_stdin) in.fd = master_fd;
  } else {
    out.fd = pout[0];
    err.fd = perr[0];
    set_nonblock(out.fd);
    set_nonblock(err.fd);
    if (pin[1] >= 0) { in.fd = pin[1]; set_nonblock(in.fd); }
  }
  if ((attach = listen_unix(ATTACH_NAME)) < 0) fail("attach socket: %s", strerror(errno));
  unlink(CTL_NAME);
  if (mkfifo(CTL_NAME, 0600) != 0) fail("mkfifo %s: %s", CTL_NAME, strerror(errno));
  if ((ctl = open(CTL_NAME, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) fail("open %s: %s", CTL_NAME, strerror(errno));
  report(cpid, NULL);

  /* The event loop, until the container's init is reaped. */
  while (status < 0) {
    struct pollfd pf[6 + MAX_CLIENTS];
    int pending = in.len > in.off, timeout = -1;
    pf[0] = (struct pollfd){sfd, POLLIN, 0};
    pf[1] = (struct pollfd){out.fd, (short)(POLLIN | (opt.terminal && pending ? POLLOUT : 0)), 0};
    pf[2] = (struct pollfd){err.fd, POLLIN, 0};
    pf[3] = (struct pollfd){!opt.terminal && pending ? in.fd : -1, POLLOUT, 0};
    pf[4] = (struct pollfd){nclients < MAX_CLIENTS ? attach : -1, POLLIN, 0};
    pf[5] = (struct pollfd){ctl, POLLIN, 0};
    for (i = 0; i < nclients; i++) pf[6 + i] = (struct pollfd){pending ? -1 : clients[i], POLLIN, 0};
    if (!cpid_is_child) timeout = 1000;
    if (poll(pf, (nfds_t)(6 + nclients), timeout) < 0) {
      if (errno == EINTR) continue;
      warnmsg("poll: %s", strerror(errno));
      break;
    }
    if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) stream_read(&out);
    if (out.fd < 0 && opt.terminal) { master_fd = -1; in.fd = -1; }
    if (pf[2].revents) stream_read(&err);
    if ((pf[1].revents & POLLOUT) || (pf[3].revents)) flush_stdin();
    if (pf[5].revents & POLLIN) read_lines(ctl, ctl_buf, sizeof ctl_buf, &ctl_len, ctl_line);
    for (i = nclients - 1; i >= 0; i--) {
      ssize_t r;
      if (!pf[6 + i].revents || in.len > in.off) continue;
      r = read(clients[i], in.buf, sizeof in.buf);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r > 0) {
        if (in.fd >= 0) { in.len = (size_t)r; in.off = 0; flush_stdin(); }
        continue;
      }
      /* EOF or error: docker's -i without -t closes the container's stdin with the first detach */
      close(clients[i]);
      clients[i] = clients[--nclients];
      if (opt.stdin_once && !opt.terminal) { in.close_when_drained = 1; flush_stdin(); }
    }
    if (pf[4].revents & POLLIN) {
      int c = accept4(attach, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (c >= 0) clients[nclients++] = c;
      else if (errno != EAGAIN) warnmsg("accept: %s", strerror(errno));
    }
    if (pf[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {}
    }
    while ((p = waitpid(-1, &st, WNOHANG)) > 0)
      if (p == cpid) status = decode_status(st);
    if (status < 0 && p < 0 && errno == ECHILD) {
      /* not our child after all (no subreaper?): watch it from outside */
      if (kill((pid_t)cpid, 0) != 0 && errno == ESRCH) status = 255;
      cpid_is_child = 0;
    }
  }

  /* Drain what is still written, briefly: grandchildren may hold the pipes open. */
  {
    long long deadline = now_ms() + DRAIN_MS;
    while (out.fd >= 0 || err.fd >= 0) {
      struct pollfd pf[2] = {{out.fd, POLLIN, 0}, {err.fd, POLLIN, 0}};
      long long left = deadline - now_ms();
      if (left <= 0) break;
      if (poll(pf, 2, (int)left) < 0 && errno != EINTR) break;
      if (pf[0].revents) stream_read(&out);
      if (pf[1].revents) stream_read(&err);
    }
    for (i = 0; i < 64 && stream_read(&out) > 0; i++) {}
    for (i = 0; i < 64 && stream_read(&err) > 0; i++) {}
    stream_flush(&out);
    stream_flush(&err);
  }
  snprintf(msg, sizeof msg, "%d", status);
  for (i = 0; i < opt.n_exit_files; i++)
    if (write_file_atomic(opt.exit_files[i], msg, 1) != 0) warnmsg("write %s: %s", opt.exit_files[i], strerror(errno));
  unlink(ATTACH_NAME);
  unlink(CTL_NAME);
  return 0;
}

/* ---------- exec TTY relay ---------- */

static char pending_size[64]; /* the last size asked for before runc sent the master */
static void relay_resize(const char *line) {
  if (master_fd >= 0) resize(master_fd, line);
  else snprintf(pending_size, sizeof pending_size, "%s", line);
}

static int exec_tty_main(void) {
  static char out_buf[65536], rz_buf[256];
  size_t rz_len = 0;
  int lsock, sfd, rz = -1, status = -1, st, stdin_open = 1, devnull, n_orphans = 0, i;
  struct { pid_t pid; int status; } orphans[32]; /* reaped before we knew the exec pid */
  sigset_t mask;
  pid_t runc, p, exec_pid = 0;

  signal(SIGPIPE, SIG_IGN);
  /* `runc exec -d` leaves the process to us: as subreaper we can wait for it. */
  if (opt.exec_pid_file && prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) { warnmsg("PR_SET_CHILD_SUBREAPER: %s", strerror(errno)); return 125; }
  if ((lsock = listen_unix(opt.console_socket)) < 0) { warnmsg("console socket %s: %s", opt.console_socket, strerror(errno)); return 125; }
  if (fcntl(3, F_GETFD) >= 0) { rz = 3; fcntl(3, F_SETFD, FD_CLOEXEC); set_nonblock(3); }
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0 || (sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
    warnmsg("signalfd: %s", strerror(errno));
    return 125;
  }
  if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) { warnmsg("/dev/null: %s", strerror(errno)); return 125; }
  runc = fork();
  if (runc < 0) { warnmsg("fork: %s", strerror(errno)); return 125; }
  if (runc == 0) {
    reset_child_signals();
    if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0) _exit(127);
    execvp(opt.runc_argv[0], opt.runc_argv);
    fprintf(stderr, "exec %s: %s\n", opt.runc_argv[0], strerror(errno));
    _exit(127);
  }
  set_nonblock(0);
  in.fd = -1;

  while (status < 0) {
    int pending = in.len > in.off;
    struct pollfd pf[5] = {
        {sfd, POLLIN, 0},
        {master_fd < 0 ? lsock : -1, POLLIN, 0},
        {master_fd, (short)(POLLIN | (pending ? POLLOUT : 0)), 0},
        {stdin_open && master_fd >= 0 && !pending ? 0 : -1, POLLIN, 0},
        {rz, POLLIN, 0},
    };
    if (poll(pf, 5, -1) < 0) {
      if (errno == EINTR) continue;
      warnmsg("poll: %s", strerror(errno));
      break;
    }
    if (pf[1].revents & POLLIN) {
      master_fd = receive_master(lsock);
      if (master_fd >= 0) {
        set_nonblock(master_fd);
        in.fd = master_fd;
        if (pending_size[0]) resize(master_fd, pending_size);
      } else warnmsg("console socket: %s", strerror(errno));
    }
    if (pf[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(master_fd, out_buf, sizeof out_buf);
      if (r > 0) write_all(1, out_buf, (size_t)r);
      else if (r == 0 || (errno != EAGAIN && errno != EINTR)) { close(master_fd); master_fd = in.fd = -1; }
    }
    if (pf[2].revents & POLLOUT) flush_stdin();
    if (pf[3].revents) {
      ssize_t r = read(0, in.buf, sizeof in.buf);
      if (r > 0) { in.len = (size_t)r; in.off = 0; flush_stdin(); }
      else if (r == 0 || (errno != EAGAIN && errno != EINTR)) stdin_open = 0;
    }
    if (pf[4].revents) {
      if (read_lines(rz, rz_buf, sizeof rz_buf, &rz_len, relay_resize) < 0) rz = -1;
    }
    if (pf[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {}
    }
    while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
      if (p == exec_pid) status = decode_status(st);
      else if (p != runc) {
        if (n_orphans < 32) orphans[n_orphans++].pid = p, orphans[n_orphans - 1].status = decode_status(st);
      } else if (!opt.exec_pid_file || !WIFEXITED(st) || WEXITSTATUS(st) != 0) status = decode_status(st);
      else {
        /* runc detached: from now on we wait for the process it started */
        char text[32];
        int fd = open(opt.exec_pid_file, O_RDONLY | O_CLOEXEC);
        ssize_t r = fd >= 0 ? read(fd, text, sizeof text - 1) : -1;
        if (fd >= 0) close(fd);
        text[r > 0 ? r : 0] = 0;
        exec_pid = (pid_t)strtol(text, NULL, 10);
        if (exec_pid <= 0) { warnmsg("no pid in %s", opt.exec_pid_file); status = 125; }
        for (i = 0; i < n_orphans; i++)
          if (orphans[i].pid == exec_pid) status = orphans[i].status;
      }
    }
  }
  /* runc has exited: a master it sent just before is still queued on the socket. */
  if (master_fd < 0) {
    master_fd = receive_master(lsock);
    if (master_fd >= 0) set_nonblock(master_fd);
  }
  {
    long long deadline = now_ms() + 2 * DRAIN_MS;
    while (master_fd >= 0) {
      struct pollfd pf = {master_fd, POLLIN, 0};
      long long left = deadline - now_ms();
      ssize_t r;
      if (left <= 0 || poll(&pf, 1, (int)left) <= 0) break;
      r = read(master_fd, out_buf, sizeof out_buf);
      if (r > 0) write_all(1, out_buf, (size_t)r);
      else if (r == 0 || (errno != EAGAIN && errno != EINTR)) break;
    }
  }
  unlink(opt.console_socket);
  return status < 0 ? 125 : status;
}

/* ---------- log-only mode (tests): stdin into the json-file writer ---------- */

static int log_only_main(void) {
  static struct stream s = {.fd = 0};
  s.name = opt.stream;
  if (log_open(0) != 0) { warnmsg("open %s: %s", opt.log_path, strerror(errno)); return 1; }
  while (stream_read(&s) >= 0) {}
  return 0;
}

/* ---------- arguments ---------- */

static void usage(void) {
  fputs("usage: berth-monitor --id ID --bundle DIR [--runtime PATH] --runtime-root DIR --runtime-log FILE\n"
        "         --log-path FILE [--log-max-size BYTES] [--log-max-files N] [--exit-file FILE]...\n"
        "         --container-pid-file FILE --monitor-pid-file FILE [--terminal] [--stdin] [--stdin-once]\n"
        "       berth-monitor --exec-tty --console-socket PATH [--pid-file FILE] -- RUNC_ARGS...\n"
        "       berth-monitor --log-only --log-path FILE [--log-max-size B] [--log-max-files N] [--stream S] [--fixed-time S.NS]\n",
        stderr);
  exit(125);
}

int main(int argc, char **argv) {
  int i;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define VALUE(name, field) if (strcmp(a, name) == 0) { if (!v) usage(); field = v; i++; continue; }
    VALUE("--id", opt.id)
    VALUE("--bundle", opt.bundle)
    VALUE("--runtime", opt.runtime)
    VALUE("--runtime-root", opt.runtime_root)
    VALUE("--runtime-log", opt.runtime_log)
    VALUE("--log-path", opt.log_path)
    VALUE("--container-pid-file", opt.container_pid_file)
    VALUE("--monitor-pid-file", opt.monitor_pid_file)
    VALUE("--console-socket", opt.console_socket)
    VALUE("--stream", opt.stream)
    VALUE("--pid-file", opt.exec_pid_file)
    if (strcmp(a, "--log-max-size") == 0 && v) { opt.log_max_size = strtoll(v, NULL, 10); i++; continue; }
    if (strcmp(a, "--log-max-files") == 0 && v) { opt.log_max_files = atoi(v); i++; continue; }
    if (strcmp(a, "--exit-file") == 0 && v) {
      if (opt.n_exit_files == (int)(sizeof opt.exit_files / sizeof *opt.exit_files)) usage();
      opt.exit_files[opt.n_exit_files++] = v; i++; continue;
    }
    if (strcmp(a, "--fixed-time") == 0 && v) {
      long long sec = 0, nsec = 0;
      if (sscanf(v, "%lld.%lld", &sec, &nsec) < 1) usage();
      opt.fixed_time = 1; opt.fixed_ts.tv_sec = (time_t)sec; opt.fixed_ts.tv_nsec = (long)nsec; i++; continue;
    }
    if (strcmp(a, "--terminal") == 0) { opt.terminal = 1; continue; }
    if (strcmp(a, "--stdin") == 0) { opt.use_stdin = 1; continue; }
    if (strcmp(a, "--stdin-once") == 0) { opt.stdin_once = 1; continue; }
    if (strcmp(a, "--start") == 0) { opt.start = 1; continue; }
    if (strcmp(a, "--exec-tty") == 0) { opt.exec_tty = 1; continue; }
    if (strcmp(a, "--log-only") == 0) { opt.log_only = 1; continue; }
    if (strcmp(a, "--") == 0) { opt.runc_argv = argv + i + 1; break; }
    warnmsg("unknown argument %s", a);
    usage();
  }
  if (opt.exec_tty) {
    if (!opt.console_socket || !opt.runc_argv || !opt.runc_argv[0]) usage();
    return exec_tty_main();
  }
  if (!opt.log_path) usage();
  if (opt.log_only) return log_only_main();
  if (!opt.id || !opt.bundle || !opt.runtime_root || !opt.runtime_log || !opt.container_pid_file || !opt.monitor_pid_file) usage();
  return container_main();
}
