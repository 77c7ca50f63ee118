// Container logs. conmon has no json-file driver (docker's format), so it
// writes the CRI "k8s-file" format — `<RFC3339Nano> <stdout|stderr> <F|P> <content>`
// per line, P marking a partial line continued by the next — and we convert
// on read: partial lines are joined, times become docker's UTC RFC3339Nano.
import type { LogEntry } from './types.js';

export interface ParsedEntry extends LogEntry {
  /** unix seconds with the fraction (for since/until) */
  seconds: number;
}

/** "2024-01-02T03:04:05.123456789+00:00" -> unix seconds and docker's "...123456789Z". */
export function parseLogTime(t: string): { seconds: number; iso: string } | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return undefined;
  const base = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(base)) return undefined;
  const frac = m[2] ?? '';
  const seconds = base / 1000 + (frac ? Number(`0.${frac}`) : 0);
  const utc = new Date(base).toISOString().slice(0, 19);
  return { seconds, iso: `${utc}${frac ? `.${frac}` : ''}Z` };
}

/**
 * A k8s-file parser fed with chunks; it keeps an unfinished line and a
 * partial (P) entry until their ends arrive.
 */
export class K8sLogParser {
  #rest = '';
  #partial: { stream: 'stdout' | 'stderr'; time: string; seconds: number; parts: Buffer[] } | undefined;

  push(chunk: Buffer): ParsedEntry[] {
    const text = this.#rest + chunk.toString('latin1'); // latin1 keeps every byte; content is re-encoded below
    const lines = text.split('\n');
    this.#rest = lines.pop() ?? '';
    const out: ParsedEntry[] = [];
    for (const line of lines) {
      const e = this.#line(line);
      if (e) out.push(e);
    }
    return out;
  }

  /** At the end of the stream: a partial entry never finished is emitted without a newline. */
  flush(): ParsedEntry[] {
    const out: ParsedEntry[] = [];
    if (this.#rest) {
      const e = this.#line(this.#rest);
      this.#rest = '';
      if (e) out.push(e);
    }
    const p = this.#partial;
    if (p) {
      this.#partial = undefined;
      out.push({ stream: p.stream, time: p.time, seconds: p.seconds, line: Buffer.concat(p.parts) });
    }
    return out;
  }

  #line(line: string): ParsedEntry | undefined {
    const m = /^(\S+) (stdout|stderr) ([FP])(?: (.*))?$/s.exec(line);
    if (!m) return undefined;
    const time = parseLogTime(m[1] as string);
    if (!time) return undefined;
    const stream = m[2] as 'stdout' | 'stderr';
    const content = Buffer.from(m[4] ?? '', 'latin1');
    const p = this.#partial;
    if (m[3] === 'P') {
      if (p && p.stream === stream) p.parts.push(content);
      else this.#partial = { stream, time: time.iso, seconds: time.seconds, parts: [content] };
      return undefined;
    }
    if (p && p.stream === stream) {
      this.#partial = undefined;
      return { stream, time: p.time, seconds: p.seconds, line: Buffer.concat([...p.parts, content, Buffer.from('\n')]) };
    }
    return { stream, time: time.iso, seconds: time.seconds, line: Buffer.concat([content, Buffer.from('\n')]) };
  }
}
