// Reading docker's json-file log as berth-monitor writes it: one JSON object
// per line, `{"log":"...","stream":"stdout"|"stderr","time":"<RFC3339Nano>"}`,
// rotated as FILE -> FILE.1 -> FILE.2 ... (oldest has the highest number).
import { open, stat, type FileHandle } from 'node:fs/promises';

export interface LogRecord {
  stream: 'stdout' | 'stderr';
  /** as written, RFC3339Nano in UTC */
  time: string;
  /** Unix time in seconds, with the fraction */
  seconds: number;
  /** the bytes the container wrote, '\n' included when the line had one */
  line: Buffer;
}

const TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/;

/** Seconds since the epoch of an RFC3339Nano UTC time; NaN if it is not one. */
export function secondsOf(time: string): number {
  const m = TIME.exec(time);
  if (!m) return NaN;
  const whole = Date.parse(`${m[1]}Z`) / 1000;
  return m[2] ? whole + Number(`0.${m[2]}`) : whole;
}

/** One line of the log, or undefined when it is not a complete entry. */
export function parseLogLine(text: string): LogRecord | undefined {
  let entry: { log?: unknown; stream?: unknown; time?: unknown };
  try {
    entry = JSON.parse(text) as typeof entry;
  } catch {
    return undefined;
  }
  if (typeof entry.log !== 'string' || typeof entry.time !== 'string') return undefined;
  if (entry.stream !== 'stdout' && entry.stream !== 'stderr') return undefined;
  return { stream: entry.stream, time: entry.time, seconds: secondsOf(entry.time), line: Buffer.from(entry.log, 'utf8') };
}

/** Bytes in, records out; a torn last line waits for the rest of its bytes. */
export class JsonLogParser {
  #rest: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): LogRecord[] {
    const data = this.#rest.length ? Buffer.concat([this.#rest, chunk]) : chunk;
    const out: LogRecord[] = [];
    let start = 0;
    for (let nl = data.indexOf(10, start); nl >= 0; nl = data.indexOf(10, start)) {
      const record = parseLogLine(data.toString('utf8', start, nl));
      if (record) out.push(record);
      start = nl + 1;
    }
    this.#rest = Buffer.from(data.subarray(start));
    return out;
  }

  /** The end of the input: a last line without '\n' counts if it is complete JSON. */
  end(): LogRecord[] {
    const record = this.#rest.length ? parseLogLine(this.#rest.toString('utf8')) : undefined;
    this.#rest = Buffer.alloc(0);
    return record ? [record] : [];
  }
}

interface OpenLog {
  fh: FileHandle;
  dev: number;
  ino: number;
  offset: number;
  parser: JsonLogParser;
}

const MAX_SCAN = 1000;

/**
 * Reads a json-file log and its rotated files (FILE.N … FILE.1 then FILE,
 * oldest first) and keeps reading as the monitor appends and rotates:
 * readMore() returns the entries written since the last call; when FILE is
 * renamed away under it, it finishes the old file, then continues with the
 * next newer one, found by where its own file now sits in the rotation.
 */
export class JsonLogReader {
  readonly #path: string;
  readonly #maxFiles: number | undefined;
  #current: OpenLog | undefined;
  #closed = false;

  constructor(path: string, opts: { maxFiles?: number } = {}) {
    this.#path = path;
    this.#maxFiles = opts.maxFiles;
  }

  async readMore(): Promise<LogRecord[]> {
    const out: LogRecord[] = [];
    if (this.#closed) return out;
    if (!this.#current) {
      this.#current = await this.#openOldest();
      if (!this.#current) return out;
    }
    for (;;) {
      const cur: OpenLog = this.#current;
      await this.#drain(cur, out);
      const live = await stat(this.#path).catch(() => undefined);
      if (live && live.ino === cur.ino && live.dev === cur.dev) return out;
      // Renamed away: the monitor writes only to the new FILE now, so what is there is final.
      await this.#drain(cur, out);
      const next = await this.#next(cur);
      if (!next) return out; // the new FILE is not there yet
      out.push(...cur.parser.end());
      await cur.fh.close();
      this.#current = next;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#current?.fh.close();
    this.#current = undefined;
  }

  async #open(name: string): Promise<OpenLog | undefined> {
    const fh = await open(name, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!fh) return undefined;
    const st = await fh.stat();
    return { fh, dev: st.dev, ino: st.ino, offset: 0, parser: new JsonLogParser() };
  }

  async #drain(cur: OpenLog, out: LogRecord[]): Promise<void> {
    const buf = Buffer.allocUnsafe(64 * 1024);
    // max-file 1 truncates in place: start again from the top.
    if ((await cur.fh.stat()).size < cur.offset) {
      cur.offset = 0;
      cur.parser = new JsonLogParser();
    }
    for (;;) {
      const { bytesRead } = await cur.fh.read(buf, 0, buf.length, cur.offset);
      if (bytesRead === 0) return;
      cur.offset += bytesRead;
      out.push(...cur.parser.push(Buffer.from(buf.subarray(0, bytesRead))));
    }
  }

  #limit(): number {
    return this.#maxFiles !== undefined ? Math.max(0, this.#maxFiles - 1) : MAX_SCAN;
  }

  /** The highest N with FILE.N present (0 if none). */
  async #highestRotated(): Promise<number> {
    let n = 0;
    for (let i = 1; i <= this.#limit(); i++) {
      if (!(await stat(`${this.#path}.${i}`).catch(() => undefined))) {
        if (this.#maxFiles === undefined) break;
        continue;
      }
      n = i;
    }
    return n;
  }

  #nameOf(index: number): string {
    return index === 0 ? this.#path : `${this.#path}.${index}`;
  }

  /** The oldest file; checked after opening, since a rotation may have shifted the names meanwhile. */
  async #openOldest(): Promise<OpenLog | undefined> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const first = await this.#open(this.#nameOf(await this.#highestRotated()));
      if (!first) continue; // renamed away between the look and the open
      const now = await stat(this.#nameOf(await this.#highestRotated())).catch(() => undefined);
      if (now && now.ino === first.ino && now.dev === first.dev) return first;
      await first.fh.close();
    }
    return undefined;
  }

  /** The file that came after `cur`: one number below wherever `cur` sits now. */
  async #next(cur: OpenLog): Promise<OpenLog | undefined> {
    for (let attempt = 0; attempt < 10; attempt++) {
      let at = 0;
      for (let i = 1; i <= this.#limit(); i++) {
        const st = await stat(`${this.#path}.${i}`).catch(() => undefined);
        if (!st) {
          if (this.#maxFiles === undefined) break;
          continue;
        }
        if (st.ino === cur.ino && st.dev === cur.dev) {
          at = i;
          break;
        }
      }
      // Dropped off the end: every rotated file left is newer than it.
      const index = at > 0 ? at - 1 : await this.#highestRotated();
      const next = await this.#open(this.#nameOf(index));
      if (!next) return undefined;
      // Another rotation in between would have moved `cur` on: then look again.
      const still = at > 0 ? await stat(`${this.#path}.${at}`).catch(() => undefined) : undefined;
      if (at === 0 || (still && still.ino === cur.ino && still.dev === cur.dev)) return next;
      await next.fh.close();
    }
    return undefined;
  }
}
