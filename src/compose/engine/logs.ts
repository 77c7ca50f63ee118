// Log lines of many containers on one output, as docker compose prints them:
// `name  | line`, names padded to the longest, one colour per service on a TTY.
import type { Readable } from 'node:stream';

const COLOURS = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

export interface LogWriter {
  write(text: string): unknown;
}

export class LogPrefixer {
  readonly #width: number;
  readonly #colours = new Map<string, number>();
  constructor(
    names: readonly string[],
    private readonly out: LogWriter,
    private readonly colour: boolean,
  ) {
    this.#width = Math.max(0, ...names.map((n) => n.length));
  }

  /** The prefix of a container's lines; the colour follows the service. */
  prefix(name: string, service: string): string {
    const padded = `${name.padEnd(this.#width)}  | `;
    if (!this.colour) return padded;
    let code = this.#colours.get(service);
    if (code === undefined) {
      code = COLOURS[this.#colours.size % COLOURS.length] as number;
      this.#colours.set(service, code);
    }
    return `\x1b[${code}m${padded}\x1b[0m`;
  }

  /** Copies a log stream (stdcopy-framed unless tty), one prefixed output line per input line. */
  async pump(stream: Readable, name: string, service: string, tty: boolean): Promise<void> {
    const prefix = this.prefix(name, service);
    const partial: Record<number, string> = { 1: '', 2: '' };
    const emit = (kind: number, text: string) => {
      const lines = (partial[kind] + text).split('\n');
      partial[kind] = lines.pop() ?? '';
      for (const line of lines) this.out.write(`${prefix}${line.replace(/\r$/, '')}\n`);
    };
    let buf: Buffer = Buffer.alloc(0);
    for await (const chunk of stream) {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      if (tty) {
        emit(1, data.toString('utf8'));
        continue;
      }
      buf = buf.length ? Buffer.concat([buf, data]) : data;
      while (buf.length >= 8) {
        const size = buf.readUInt32BE(4);
        if (buf.length < 8 + size) break;
        emit(buf[0] === 2 ? 2 : 1, buf.subarray(8, 8 + size).toString('utf8'));
        buf = buf.subarray(8 + size);
      }
    }
    for (const kind of [1, 2]) if (partial[kind]) this.out.write(`${prefix}${partial[kind]}\n`);
  }
}
