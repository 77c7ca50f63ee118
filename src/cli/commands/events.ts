// berth events: GET /events rendered like the docker CLI: its default line
// (`TIME TYPE ACTION ID (k=v, ...)`) or a Go template per event.
import { createInterface } from 'node:readline';
import { CliError, str, list, type Handler } from '../context.js';
import { Template, TemplateError } from '../format/index.js';
import { parseFilters } from './images.js';
import { parseTimestamp } from '../../events/index.js';

interface WireEvent {
  Type: string;
  Action: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

/** nanoseconds since the epoch -> 2006-01-02T15:04:05.000000000Z (UTC, docker's RFC3339NanoFixed) */
export function formatEventTime(nanos: bigint): string {
  const seconds = nanos / 1_000_000_000n;
  const iso = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${iso}.${(nanos % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

/** The docker CLI's default event line, attributes sorted by key. */
export function defaultEventLine(ev: WireEvent, nanos: bigint): string {
  const attrs = Object.entries(ev.Actor?.Attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const suffix = attrs.length ? ` (${attrs.map(([k, v]) => `${k}=${v}`).join(', ')})` : '';
  return `${formatEventTime(nanos)} ${ev.Type} ${ev.Action} ${ev.Actor?.ID ?? ''}${suffix}\n`;
}

/** The CLI sends since/until as unix seconds with nine decimals, as docker does. */
function timestampArg(flag: string, value: string): string | undefined {
  if (!value) return undefined;
  try {
    return parseTimestamp(value).toFixed(9);
  } catch (err) {
    throw new CliError(`invalid value for "${flag}": ${(err as Error).message}`, 125);
  }
}

export const events: Handler = async (ctx, { flags }) => {
  const format = str(flags, 'format');
  let tmpl: Template | undefined;
  if (format) {
    try {
      tmpl = Template.parse(format === 'json' ? '{{json .}}' : format.replaceAll('\\t', '\t').replaceAll('\\n', '\n'));
    } catch (err) {
      throw new CliError(`template parsing error: ${(err as Error).message}`, 64);
    }
  }
  const filters = parseFilters(list(flags, 'filter'));
  const res = await ctx.client().request('GET', '/events', {
    query: {
      since: timestampArg('since', str(flags, 'since')),
      until: timestampArg('until', str(flags, 'until')),
      filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined,
    },
  });
  for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    const ev = JSON.parse(line) as WireEvent;
    // timeNano exceeds a double's exact range: read its digits from the text
    const nanoText = /"timeNano":(\d+)/.exec(line)?.[1];
    const nanos = nanoText ? BigInt(nanoText) : BigInt(ev.time ?? 0) * 1_000_000_000n;
    if (!tmpl) {
      ctx.stdout.write(defaultEventLine(ev, nanos));
      continue;
    }
    try {
      ctx.stdout.write(`${tmpl.execute(ev)}\n`);
    } catch (err) {
      if (err instanceof TemplateError) throw new CliError(`template: ${err.message.replace(/^template: /, '')}`, 1);
      throw err;
    }
  }
};
