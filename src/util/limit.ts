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

/**
 * Many shared holders at once, or one exclusive holder, in arrival order: a task queued
 * behind an exclusive one waits for it, so an exclusive task is not starved by a stream
 * of shared ones.
 */
export class RwLock {
  #shared = 0;
  #exclusive = false;
  readonly #queue: Array<{ exclusive: boolean; run: () => void }> = [];

  shared<T>(task: () => Promise<T>): Promise<T> {
    return this.#enqueue(false, task);
  }

  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.#enqueue(true, task);
  }

  #enqueue<T>(exclusive: boolean, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const run = () => {
        task()
          .then(resolve, reject)
          .finally(() => {
            if (exclusive) this.#exclusive = false;
            else this.#shared--;
            this.#next();
          });
      };
      this.#queue.push({ exclusive, run });
      this.#next();
    });
  }

  #next(): void {
    while (!this.#exclusive) {
      const head = this.#queue[0];
      if (!head || (head.exclusive && this.#shared > 0)) return;
      this.#queue.shift();
      if (head.exclusive) this.#exclusive = true;
      else this.#shared++;
      head.run();
    }
  }
}

/** One task at a time per key; tasks of different keys run concurrently. */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const run = prev.then(task, task);
    const tail = run.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return run;
  }

  /** Settles when the tasks queued so far have all settled. */
  async idle(): Promise<void> {
    await Promise.all([...this.#tails.values()]);
  }
}
