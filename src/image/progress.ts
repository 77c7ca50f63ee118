// dockerd's progress messages for pulls: the same statuses and the same
// "[====>   ]  1.2MB/3.4MB" bar text, throttled per layer so a fast loopback
// pull does not flood the stream.
import { shortId } from '../util/index.js';
import type { ProgressFn, ProgressMessage } from './types.js';

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** go-units HumanSize: decimal units, 4 significant digits ("2.151MB"). */
export function humanSize(n: number): string {
  let i = 0;
  let v = n;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${UNITS[i]}`;
}

/** The bar dockerd's JSONProgress.String draws for a 110-column terminal. */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return humanSize(current);
  const width = 50;
  const filled = Math.min(width, Math.floor((current * width) / total));
  const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? (filled === width ? '=' : '>') : '') + ' '.repeat(width - filled);
  const numbers = `${humanSize(current)}/${humanSize(total)}`;
  return `[${bar}] ${numbers.padStart(18)}`;
}

/** Reports progress of one layer under its short ID. */
export class LayerProgress {
  readonly id: string;
  #last = 0;
  constructor(
    digest: string,
    private readonly emit: ProgressFn,
    private readonly intervalMs = 100,
  ) {
    this.id = shortId(digest);
  }
  status(status: string): void {
    this.emit({ status, progressDetail: {}, id: this.id });
  }
  /** Throttled; `force` for the final value. */
  progress(status: string, current: number, total: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.#last < this.intervalMs) return;
    this.#last = now;
    const m: ProgressMessage = { status, progressDetail: { current, total }, progress: progressBar(current, total), id: this.id };
    this.emit(m);
  }
}

export const noProgress: ProgressFn = () => {};
