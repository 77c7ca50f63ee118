// Renders POST /build's JSON lines the way BuildKit's progress UI does:
// `plain` writes "#N ..." lines as things happen, `tty` redraws a frame in
// place (at most 10 times a second) with a line per step. Both track the same
// per-step state, built from berth.step / berth.log records; plain `stream`
// and `status` messages (a daemon without berth records, FROM pulls) are
// shown as they come.
import type { BuildMessage, StepRecord } from '../build/types.js';
import { parseReference, withDefaultTag, referenceString } from './reference.js';

/** Where the output goes, and the clock it measures with (injected so tests control time). */
export interface ProgressEnv {
  write(text: string): void;
  /** Milliseconds; any monotonic origin. */
  now(): number;
  /** Terminal width for the tty display. */
  width?: number;
  /** Tags asked for, shown as "naming to ..." at the end. */
  tags: readonly string[];
}

/** What a renderer does with the stream; `finish` writes the closing lines. */
export interface BuildProgress {
  handle(msg: BuildMessage): void;
  finish(outcome: { imageId?: string; error?: string }): void;
}

interface LogLine {
  at: number;
  text: string;
}

interface Step {
  vertex: number;
  name: string;
  state: StepRecord['state'];
  startedAt: number;
  elapsedMs?: number;
  error?: string;
  logs: LogLine[];
  /** data after the last newline, per output stream */
  partial: Map<string, string>;
}

const seconds = (ms: number, digits: number): string => (Math.max(0, ms) / 1000).toFixed(digits);

/** The full names BuildKit prints in "naming to": docker.io/library/app:latest. */
export function namingTargets(tags: readonly string[]): string[] {
  return tags.map((t) => {
    try {
      return referenceString(withDefaultTag(parseReference(t)));
    } catch {
      return t;
    }
  });
}

/** Per-step state shared by the renderers. */
class StepTracker {
  readonly steps = new Map<number, Step>();
  constructor(private readonly now: () => number) {}

  /** Applies a record; returns the step it concerns. */
  step(rec: StepRecord): Step {
    let step = this.steps.get(rec.vertex);
    if (!step) {
      step = { vertex: rec.vertex, name: rec.name, state: rec.state, startedAt: this.now(), logs: [], partial: new Map() };
      this.steps.set(rec.vertex, step);
    }
    step.name = rec.name || step.name;
    step.state = rec.state;
    if (rec.elapsedMs !== undefined) step.elapsedMs = rec.elapsedMs;
    if (rec.error !== undefined) step.error = rec.error;
    return step;
  }

  /** Adds output to a step; returns the complete lines it made. */
  log(vertex: number, stream: string, data: string): { step: Step; lines: LogLine[] } {
    let step = this.steps.get(vertex);
    if (!step) step = this.step({ vertex, name: '', state: 'started' });
    const text = (step.partial.get(stream) ?? '') + data;
    const parts = text.split('\n');
    step.partial.set(stream, parts.pop() ?? '');
    const at = this.now() - step.startedAt;
    const lines = parts.map((p) => ({ at, text: p.replace(/\r$/, '') }));
    step.logs.push(...lines);
    return { step, lines };
  }

  /** Output left without a final newline, made into lines (at a step's end). */
  flush(step: Step): LogLine[] {
    const lines: LogLine[] = [];
    for (const [stream, rest] of step.partial) {
      if (rest) lines.push({ at: this.now() - step.startedAt, text: rest });
      step.partial.set(stream, '');
    }
    step.logs.push(...lines);
    return lines;
  }

  nextVertex(): number {
    return Math.max(0, ...this.steps.keys()) + 1;
  }
}

const isStep = (m: BuildMessage): m is { id: 'berth.step'; aux: StepRecord } => 'id' in m && m.id === 'berth.step' && 'aux' in m;
const isLog = (m: BuildMessage): m is { id: 'berth.log'; aux: { vertex: number; stream: 'stdout' | 'stderr'; data: string } } =>
  'id' in m && m.id === 'berth.log' && 'aux' in m;

// ---------------------------------------------------------------- plain

/** BuildKit's --progress=plain: "#3 [2/4] RUN make", "#3 0.412 output", "#3 DONE 1.2s". */
export class PlainProgress implements BuildProgress {
  readonly #env: ProgressEnv;
  readonly #tracker: StepTracker;
  /** the vertex whose lines were printed last (a switch starts a new block) */
  #current: number | undefined;
  #printed = false;
  readonly #lastStatus = new Map<string, string>();

  constructor(env: ProgressEnv) {
    this.#env = env;
    this.#tracker = new StepTracker(env.now);
  }

  #out(text: string): void {
    this.#env.write(text);
    this.#printed = true;
  }

  /** Starts the block of a vertex, with its header when it isn't the current one. */
  #enter(step: Step): void {
    if (this.#current === step.vertex) return;
    this.#out(`${this.#printed ? '\n' : ''}#${step.vertex} ${step.name}\n`);
    this.#current = step.vertex;
  }

  #lines(step: Step, lines: readonly LogLine[]): void {
    for (const l of lines) this.#out(`#${step.vertex} ${seconds(l.at, 3)} ${l.text}\n`);
  }

  handle(msg: BuildMessage): void {
    if (isStep(msg)) {
      const step = this.#tracker.step(msg.aux);
      this.#enter(step);
      const rest = this.#tracker.flush(step);
      this.#lines(step, rest);
      if (step.state === 'cached') this.#out(`#${step.vertex} CACHED\n`);
      else if (step.state === 'done') this.#out(`#${step.vertex} DONE ${seconds(step.elapsedMs ?? 0, 1)}s\n`);
      else if (step.state === 'error') this.#out(`#${step.vertex} ERROR: ${step.error ?? 'failed'}\n`);
      return;
    }
    if (isLog(msg)) {
      const { step, lines } = this.#tracker.log(msg.aux.vertex, msg.aux.stream, msg.aux.data);
      if (lines.length === 0) return;
      this.#enter(step);
      this.#lines(step, lines);
      return;
    }
    if ('stream' in msg && typeof msg.stream === 'string') {
      this.#current = undefined;
      if (msg.stream) this.#out(msg.stream);
      return;
    }
    if ('status' in msg && typeof msg.status === 'string') {
      // One line per change of status; repeated "Downloading" progress collapses.
      const key = msg.id ?? '';
      if (this.#lastStatus.get(key) === msg.status) return;
      this.#lastStatus.set(key, msg.status);
      this.#current = undefined;
      this.#out(`${msg.id ? `${msg.id}: ` : ''}${msg.status}\n`);
    }
  }

  finish(outcome: { imageId?: string; error?: string }): void {
    if (outcome.error !== undefined) {
      this.#out(`ERROR: ${outcome.error}\n`);
      return;
    }
    if (!outcome.imageId) return;
    const n = this.#tracker.nextVertex();
    let text = `${this.#printed ? '\n' : ''}#${n} exporting to image\n#${n} writing image ${outcome.imageId} done\n`;
    for (const name of namingTargets(this.#env.tags)) text += `#${n} naming to ${name} done\n`;
    text += `#${n} DONE 0.0s\n`;
    this.#out(text);
  }
}

// ---------------------------------------------------------------- tty

const FRAME_INTERVAL_MS = 100;
const LOG_TAIL = 6;
export const ESC = '\x1b';

/** Cuts to `width` columns (code units; build output is mostly ASCII). */
function fit(line: string, width: number): string {
  return line.length > width ? line.slice(0, Math.max(0, width)) : line;
}

/** BuildKit's --progress=tty: a frame redrawn in place, the final one left on screen. */
export class TtyProgress implements BuildProgress {
  readonly #env: ProgressEnv;
  readonly #tracker: StepTracker;
  readonly #start: number;
  #frameLines = 0;
  #lastDraw = -Infinity;
  #timer: NodeJS.Timeout | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #imageId: string | undefined;
  #finished = false;

  constructor(env: ProgressEnv, opts: { tick?: boolean } = {}) {
    this.#env = env;
    this.#tracker = new StepTracker(env.now);
    this.#start = env.now();
    // Running times advance without messages: redraw on a ticker (unref'd: it never keeps the CLI alive).
    if (opts.tick !== false) {
      this.#ticker = setInterval(() => this.#draw(), FRAME_INTERVAL_MS * 2);
      this.#ticker.unref();
    }
  }

  /** The frame's lines, without escapes. */
  frame(): string[] {
    const width = Math.max(20, (this.#env.width ?? 80) - 1);
    const now = this.#env.now();
    const steps = [...this.#tracker.steps.values()].sort((a, b) => a.vertex - b.vertex);
    const completed = steps.filter((s) => s.state === 'done' || s.state === 'cached').length + (this.#imageId ? 1 : 0);
    const total = steps.length + (this.#imageId ? 1 : 0);
    const status = this.#finished ? ' FINISHED' : '';
    const lines = [fit(`[+] Building ${seconds(now - this.#start, 1)}s (${completed}/${total})${status}`, width)];
    const row = (left: string, time: string) => {
      const room = width - time.length - 1;
      const text = left.length > room ? left.slice(0, Math.max(0, room)) : left;
      return `${text.padEnd(room)} ${time}`;
    };
    for (const s of steps) {
      const prefix = s.state === 'cached' ? 'CACHED ' : s.state === 'error' ? 'ERROR ' : '';
      const ms = s.state === 'started' ? now - s.startedAt : s.state === 'cached' ? 0 : (s.elapsedMs ?? now - s.startedAt);
      lines.push(row(` => ${prefix}${s.name}`, `${seconds(ms, 1)}s`));
      if (s.state === 'started') {
        const tail = [...s.logs.map((l) => l.text), ...[...s.partial.values()].filter((p) => p)].slice(-LOG_TAIL);
        for (const l of tail) lines.push(fit(` => => # ${l}`, width));
      }
    }
    if (this.#imageId) {
      lines.push(row(' => exporting to image', '0.0s'));
      lines.push(row(` => => writing image ${this.#imageId}`, '0.0s'));
      for (const name of namingTargets(this.#env.tags)) lines.push(row(` => => naming to ${name}`, '0.0s'));
    }
    return lines;
  }

  /** Cursor back to the frame's first line and everything below erased. */
  #erase(): string {
    return this.#frameLines > 0 ? `${ESC}[${this.#frameLines}A\r${ESC}[J` : '';
  }

  #draw(above = ''): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const lines = this.frame();
    this.#env.write(this.#erase() + above + lines.map((l) => `${l}${ESC}[K\n`).join(''));
    this.#frameLines = lines.length;
    this.#lastDraw = this.#env.now();
  }

  /** Redraw now if the last frame is old enough, else once the interval has passed. */
  #schedule(): void {
    const wait = this.#lastDraw + FRAME_INTERVAL_MS - this.#env.now();
    if (wait <= 0) this.#draw();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => this.#draw(), wait);
      this.#timer.unref();
    }
  }

  handle(msg: BuildMessage): void {
    if (isStep(msg)) {
      const step = this.#tracker.step(msg.aux);
      if (step.state !== 'started') this.#tracker.flush(step);
      this.#schedule();
      return;
    }
    if (isLog(msg)) {
      this.#tracker.log(msg.aux.vertex, msg.aux.stream, msg.aux.data);
      this.#schedule();
      return;
    }
    // Messages that are not steps go above the frame, which is then drawn again below them.
    let text = '';
    if ('stream' in msg && typeof msg.stream === 'string') text = msg.stream;
    else if ('status' in msg && typeof msg.status === 'string' && !('progressDetail' in msg && msg.progressDetail && msg.progressDetail.total)) {
      text = `${msg.id ? `${msg.id}: ` : ''}${msg.status}\n`;
    }
    if (!text) return;
    this.#draw(text.endsWith('\n') ? text : `${text}\n`);
  }

  finish(outcome: { imageId?: string; error?: string }): void {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = undefined;
    this.#finished = true;
    if (outcome.imageId && outcome.error === undefined) this.#imageId = outcome.imageId;
    this.#draw();
    if (outcome.error === undefined) return;
    // The failing step's whole output, as BuildKit prints it under the frame.
    let text = '';
    for (const s of this.#tracker.steps.values()) {
      if (s.state !== 'error') continue;
      text += `------\n > ${s.name}:\n`;
      for (const l of s.logs) text += `${seconds(l.at, 3)} ${l.text}\n`;
      text += '------\n';
    }
    this.#env.write(`${text}ERROR: ${outcome.error}\n`);
  }
}

// ---------------------------------------------------------------- quiet, rawjson

/** -q: nothing while it runs; the stream's text is kept and shown only if the build fails. */
export class QuietProgress implements BuildProgress {
  #text = '';
  constructor(private readonly writeErr: (text: string) => void) {}

  handle(msg: BuildMessage): void {
    if ('stream' in msg && typeof msg.stream === 'string') this.#text += msg.stream;
  }

  /** The image ID a daemon without the aux record sent as text (q=1 streams just "sha256:...\n"). */
  streamedId(): string | undefined {
    const m = /(sha256:[0-9a-f]{64})\s*$/.exec(this.#text);
    return m?.[1];
  }

  finish(outcome: { imageId?: string; error?: string }): void {
    if (outcome.error !== undefined) this.writeErr(`${this.#text}ERROR: ${outcome.error}\n`);
  }
}

/** --progress=rawjson: the lines as the daemon sent them. */
export class RawJsonProgress implements BuildProgress {
  constructor(private readonly writeErr: (text: string) => void) {}
  handle(msg: BuildMessage): void {
    this.writeErr(`${JSON.stringify(msg)}\n`);
  }
  finish(): void {
    /* the stream already said everything */
  }
}

