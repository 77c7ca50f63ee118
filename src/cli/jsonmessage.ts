// Renders the daemon's JSON progress stream the way docker's jsonmessage
// package does: on a terminal one line per layer id, rewritten in place with
// cursor movement; elsewhere only status lines, no progress bars.
import { humanSize, goDurationSeconds } from './format/units.js';

export interface JSONProgress {
  current?: number;
  total?: number;
  start?: number;
  hidecounts?: boolean;
  units?: string;
}

export interface JSONMessage {
  stream?: string;
  status?: string;
  progressDetail?: JSONProgress;
  progress?: string;
  id?: string;
  from?: string;
  time?: number;
  timeNano?: number;
  errorDetail?: { code?: number; message?: string };
  error?: string;
  aux?: unknown;
}

/** An error message carried inside the stream. */
export class StreamError extends Error {
  override name = 'StreamError';
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

export interface RenderOptions {
  isTerminal: boolean;
  /** Terminal width; docker assumes 200 when it cannot ask. */
  width?: number;
  /** Seconds since the epoch, for time-left estimates. */
  now?: () => number;
  onAux?: (msg: JSONMessage) => void;
}

/** JSONProgress.String(): "[=====>     ]  12.3MB/45.6MB 3s". */
export function progressString(p: JSONProgress, width = 200, now = Date.now() / 1000): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return p.units ? `${current} ${p.units}` : humanSize(current).padStart(8);
  let percentage = Math.trunc(Math.trunc((current / total) * 100) / 2);
  if (percentage > 50) percentage = 50;
  let bar = '';
  if (width > 110) bar = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] `;
  let numbers = '';
  if (p.hidecounts) numbers = '';
  else if (!p.units) {
    const cur = humanSize(current).padStart(8);
    numbers = current > total ? cur : `${cur}/${humanSize(total)}`;
  } else {
    numbers = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
  }
  let timeLeft = '';
  if (current > 0 && p.start && p.start > 0 && percentage < 50) {
    const elapsed = now - p.start;
    const left = Math.trunc(((total - current) * elapsed) / current);
    if (width > 50) timeLeft = ' ' + goDurationSeconds(left);
  }
  return bar + numbers + timeLeft;
}

/**
 * A stateful renderer: feed messages one by one, collect the text to write.
 * Throws StreamError for an error message, after writing what came before.
 */
export class JSONMessageRenderer {
  readonly #opts: RenderOptions;
  #ids = new Map<string, number>();

  constructor(opts: RenderOptions) {
    this.#opts = opts;
  }

  render(msg: JSONMessage): string {
    if (msg.aux !== undefined) {
      this.#opts.onAux?.(msg);
      return '';
    }
    const tty = this.#opts.isTerminal;
    let out = '';
    let diff = 0;
    const hasProgress = msg.progressDetail !== undefined && msg.progressDetail !== null;
    if (msg.id && (hasProgress || msg.progress)) {
      let line = this.#ids.get(msg.id);
      if (line === undefined) {
        line = this.#ids.size;
        this.#ids.set(msg.id, line);
        if (tty) out += '\n';
      }
      diff = this.#ids.size - line;
      if (tty && diff > 0) out += `\x1b[${diff}A`;
    } else {
      // Output that isn't progress: earlier lines are no longer rewritten.
      this.#ids = new Map();
    }
    if (msg.errorDetail || msg.error) {
      throw new StreamError(msg.errorDetail?.message || msg.error || 'unknown error', msg.errorDetail?.code || 1);
    }
    out += this.#display(msg, hasProgress);
    if (msg.id && tty && diff > 0) out += `\x1b[${diff}B`;
    return out;
  }

  #display(msg: JSONMessage, hasProgress: boolean): string {
    const tty = this.#opts.isTerminal;
    const progress = hasProgress ? progressString(msg.progressDetail as JSONProgress, this.#opts.width ?? 200, this.#opts.now?.()) : '';
    let out = '';
    let endl = '';
    if (tty && !msg.stream && hasProgress) {
      out += '\x1b[2K'; // aec.EraseLine(All); the \r below returns to column 0
      endl = '\r';
      out += endl;
    } else if (hasProgress && progress !== '') {
      return ''; // progress bars only on a terminal
    }
    if (msg.id) out += `${msg.id}: `;
    if (msg.from) out += `(from ${msg.from}) `;
    if (hasProgress && tty) out += `${msg.status ?? ''} ${progress}${endl}`;
    else if (msg.progress) out += `${msg.status ?? ''} ${msg.progress}${endl}`;
    else if (msg.stream) out += `${msg.stream}${endl}`;
    else out += `${msg.status ?? ''}${endl}\n`;
    return out;
  }
}

/** Renders a whole stream to `write`; rejects with StreamError on an error message. */
export async function displayJSONMessages(
  messages: AsyncIterable<JSONMessage>,
  write: (text: string) => void,
  opts: RenderOptions,
): Promise<void> {
  const renderer = new JSONMessageRenderer(opts);
  for await (const msg of messages) {
    const text = renderer.render(msg);
    if (text) write(text);
  }
}
