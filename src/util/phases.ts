/**
 * Milliseconds spent in the named phases of one operation, for debug logs
 * (`container started mount=3 network=41 ...`): where a slow start went.
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

  /** The phases and the total, as log fields. */
  fields(): Record<string, number> {
    return { ...this.ms, totalMs: Math.round(performance.now() - this.#start) };
  }
}
