// The daemon's event bus: publishers (container and image services, via
// compose.ts) push, GET /events subscribers read. The last HISTORY events stay
// in memory for `since`, as dockerd keeps its last 1000.
import type { EventFilters, EventInput, EventMessage } from './types.js';
import { matchEvent } from './filters.js';

export const HISTORY = 1000;

export interface EventQuery {
  /** unix seconds; history from here on */
  since?: number;
  /** unix seconds; the stream ends here */
  until?: number;
  filters?: EventFilters;
  signal?: AbortSignal;
}

const nanosOf = (seconds: number) => BigInt(Math.round(seconds * 1e6)) * 1000n;

export class EventBus {
  readonly #history: EventMessage[] = [];
  readonly #listeners = new Set<(ev: EventMessage) => void>();
  readonly #now: () => bigint;
  #last = 0n;

  /** `now`: current unix time in ns (tests pass a clock). */
  constructor(now: () => bigint = () => BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n)) {
    this.#now = now;
  }

  publish(input: EventInput): EventMessage {
    // strictly increasing, so history order and since/until comparisons agree
    let nano = this.#now();
    if (nano <= this.#last) nano = this.#last + 1n;
    this.#last = nano;
    const ev: EventMessage = { ...input, scope: 'local', time: Number(nano / 1_000_000_000n), timeNano: nano };
    this.#history.push(ev);
    if (this.#history.length > HISTORY) this.#history.shift();
    for (const fn of this.#listeners) fn(ev);
    return ev;
  }

  /** Events with since <= time <= until (both optional) still in history. */
  history(q: Pick<EventQuery, 'since' | 'until' | 'filters'> = {}): EventMessage[] {
    const since = q.since === undefined ? undefined : nanosOf(q.since);
    const until = q.until === undefined ? undefined : nanosOf(q.until);
    return this.#history.filter(
      (ev) => (since === undefined || ev.timeNano >= since) && (until === undefined || ev.timeNano <= until) && matchEvent(q.filters ?? {}, ev),
    );
  }

  subscribe(fn: (ev: EventMessage) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * docker's semantics: history when `since` is given, then live events until
   * `until` passes or `signal` aborts. An `until` already past ends after history.
   */
  async *stream(q: EventQuery = {}): AsyncGenerator<EventMessage> {
    const filters = q.filters ?? {};
    const queue: EventMessage[] = [];
    let wake: (() => void) | undefined;
    const untilNano = q.until === undefined ? undefined : nanosOf(q.until);
    // subscribe and snapshot history in the same tick: nothing falls between them
    const unsubscribe = this.subscribe((ev) => {
      if (matchEvent(filters, ev)) queue.push(ev);
      wake?.();
    });
    const past = q.since !== undefined ? this.history({ ...(q.since !== undefined ? { since: q.since } : {}), ...(q.until !== undefined ? { until: q.until } : {}), filters }) : [];
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const end = () => {
      ended = true;
      wake?.();
    };
    q.signal?.addEventListener('abort', end, { once: true });
    try {
      yield* past;
      if (untilNano !== undefined) {
        const waitMs = Number((untilNano - this.#now()) / 1_000_000n);
        if (waitMs <= 0) return;
        timer = setTimeout(end, waitMs);
      }
      while (!q.signal?.aborted) {
        const ev = queue.shift();
        if (ev) {
          if (untilNano !== undefined && ev.timeNano > untilNano) return;
          yield ev;
          continue;
        }
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      unsubscribe();
      clearTimeout(timer);
      q.signal?.removeEventListener('abort', end);
    }
  }
}

/** One JSON line, with timeNano written exactly (JSON.stringify cannot write a bigint). */
export function encodeEvent(ev: EventMessage): string {
  const { timeNano, ...rest } = ev;
  return `${JSON.stringify(rest).slice(0, -1)},"timeNano":${timeNano.toString()}}\n`;
}
