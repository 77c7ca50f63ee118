// Liveness of a container's monitor process (berth-monitor; see src/monitor).
/** Is a process alive (signal 0)? */
export function alive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
