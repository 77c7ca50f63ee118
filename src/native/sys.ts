// The package's own small N-API addon (src/native/sys.c, built by `npm install`
// through node-gyp): the syscalls Node.js lacks. Everything but sendFile is
// synchronous: each call is one fast syscall.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export interface NativeSys {
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  /** null when the attribute is absent */
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  mount(source: string, target: string, fstype: string, flags: number, data: string): void;
  umount2(target: string, flags: number): void;
  /** a terminal's output post-processing (OPOST) on or off */
  setTtyOpost(fd: number, on: boolean): void;
  /** a new network namespace bind-mounted on `path` (an existing file), loopback up */
  createNetns(path: string): void;
  /**
   * sendfile(2) of count bytes of inFd from offset to the socket outFd, on the thread
   * pool (the one asynchronous call here); the socket may be non-blocking.
   */
  sendFile(outFd: number, inFd: number, offset: number, count: number, cb: (err: (Error & { errno?: number }) | null, sent: number) => void): void;
  /** pidfd_open(2): a file descriptor for the process (close it with fs.closeSync) */
  pidfdOpen(pid: number): number;
  /** pidfd_send_signal(2); ESRCH once the process has exited */
  pidfdSendSignal(pidfd: number, signal: number): void;
  /** pipe2(O_CLOEXEC): [readFd, writeFd] */
  pipe(): [number, number];
  /** posix_spawn of `file` (a path) with fds[i] as the child's descriptor i; the pid (see spawn.ts) */
  spawn(file: string, argv: string[], envp: string[], cwd: string | null, fds: number[], setsid: boolean): number;
  /** waitid(P_PIDFD, WNOHANG): null while the process runs, else [exitCode (-1 when signalled), signal] */
  waitPidfd(pidfd: number): [number, number] | null;
}

const here = dirname(fileURLToPath(import.meta.url));
// dist/src/native -> package root is three levels up.
const root = join(here, '..', '..', '..');
const require = createRequire(import.meta.url);

export const sys: NativeSys = require(join(root, 'build', 'Release', 'berth_sys.node')) as NativeSys;
