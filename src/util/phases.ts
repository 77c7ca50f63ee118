/**
 * Milliseconds spent in the named phases of one operation, for debug logs
 * (`container started mountMs=3 networkMs=41 ...`): where a slow start went.
 */
export class Phases {
  #last = performance.now();
  readonly #start = this.#last;
  readonly ms: Record<string, number> = {};

  /** The time since the previous mark (or the start) goes to `name`. */
  mark(name: string): void {
    const now = performance.now();
    this.ms[name] = Math.round((this.ms[name] ?? 0) + now - this.#last);
    this.#last = now;
  }

  /** `name` gets how long `p` takes (for steps that run side by side, outside the marks). */
  time<T>(name: string, p: Promise<T>): Promise<T> {
    const started = performance.now();
    return p.finally(() => (this.ms[name] = Math.round(performance.now() - started)));
  }

  /** The phases and the total, as log fields. */
  fields(): Record<string, number> {
    return { ...this.ms, totalMs: Math.round(performance.now() - this.#start) };
  }
}
