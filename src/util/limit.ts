/** Run at most `n` tasks at once (bounded concurrency for downloads and unpacks). */
export function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  const next = () => {
    if (active >= n) return;
    const run = queue.shift();
    if (run) {
      active++;
      run();
    }
  };
  return <T>(task: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => {
        task()
          .then(resolve, reject)
          .finally(() => {
            active--;
            next();
          });
      });
      next();
    });
}

/**
 * Deduplicate concurrent work by key: while a task for `key` runs, later
 * callers get the same promise (two pulls of one blob download it once).
 */
export class Singleflight<T> {
  #inflight = new Map<string, Promise<T>>();
  do(key: string, task: () => Promise<T>): Promise<T> {
    const existing = this.#inflight.get(key);
    if (existing) return existing;
    const p = task().finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }
}
