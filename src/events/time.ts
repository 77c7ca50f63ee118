// docker's timetypes.GetTimestamp: --since/--until accept unix seconds (with a
// fraction), RFC 3339 (or its date/time prefixes, zone optional = UTC), and Go
// durations ("10m", "1h30m") counted back from now.
import { BerthError } from '../errors/index.js';

const DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
const DURATION = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h)(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))*$/;

/** A Go duration in seconds, or undefined when `value` is not one. */
export function parseGoDuration(value: string): number | undefined {
  if (value === '0') return 0;
  if (!DURATION.test(value)) return undefined;
  const sign = value.startsWith('-') ? -1 : 1;
  let total = 0;
  for (const m of value.replace(/^[-+]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
  }
  return sign * total;
}

/** A --since/--until value as unix seconds (fractional); `now` in ms. Throws invalid_argument. */
export function parseTimestamp(value: string, now: number = Date.now()): number {
  const v = value.trim();
  if (v === '') throw new BerthError('invalid_argument', 'empty timestamp');
  const duration = parseGoDuration(v);
  if (duration !== undefined) return now / 1000 - duration;
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  const m = /^(\d{4}-\d\d-\d\d)(?:T(\d\d(?::\d\d(?::\d\d(\.\d{1,9})?)?)?))?(Z|[+-]\d\d:\d\d)?$/i.exec(v);
  if (m) {
    const [, date, clock, fraction, zone] = m;
    const hms = (clock ?? '00:00:00').replace(/\.\d+$/, '').split(':');
    while (hms.length < 3) hms.push('00');
    const ms = Date.parse(`${date}T${hms.join(':')}${zone?.toUpperCase() ?? 'Z'}`);
    if (!Number.isNaN(ms)) return ms / 1000 + Number(`0${fraction ?? ''}`);
  }
  throw new BerthError('invalid_argument', `failed to parse value as time or duration: "${value}"`);
}
