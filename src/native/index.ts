// The syscalls Node.js lacks (sys, from the package's addon), their constants,
// and child processes spawned without forking the daemon (spawn.ts).
export { sys, type NativeSys } from './sys.js';
export { spawnChild, runChild, type Child, type ChildExit, type ChildFd, type SpawnOptions, type RunResult } from './spawn.js';

/** mount(2) flags we use; values from <sys/mount.h>. */
export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  REMOUNT: 32,
  BIND: 4096,
  REC: 16384,
  PRIVATE: 1 << 18,
} as const;

/** umount2(2) flags. */
export const MNT_DETACH = 2;

/** mode bits for mknod */
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;
