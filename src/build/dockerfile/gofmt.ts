// Small ports of Go formatting that BuildKit's messages and history strings
// depend on: strconv.Quote / QuoteRune, time.ParseDuration / Duration.String.

const SIMPLE_ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\\': '\\\\',
};

function isPrintable(cp: number): boolean {
  if (cp < 0x20 || cp === 0x7f) return false;
  if (cp >= 0x80 && cp < 0xa0) return false;
  const ch = String.fromCodePoint(cp);
  // Go's IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space
  return ch === ' ' || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch);
}

function escapeCodePoint(cp: number, quote: string): string {
  const ch = String.fromCodePoint(cp);
  if (ch === quote) return '\\' + ch;
  const simple = SIMPLE_ESCAPES[ch];
  if (simple) return simple;
  if (isPrintable(cp)) return ch;
  if (cp < 0x80) return '\\x' + cp.toString(16).padStart(2, '0');
  if (cp < 0x10000) return '\\u' + cp.toString(16).padStart(4, '0');
  return '\\U' + cp.toString(16).padStart(8, '0');
}

/** Go's strconv.Quote (fmt %q of a string). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) out += escapeCodePoint(ch.codePointAt(0) as number, '"');
  return out + '"';
}

/** Go's fmt %q of an integer: a quoted rune literal. */
export function goQuoteRune(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return `%!q(int=${n})`;
  return "'" + escapeCodePoint(n, "'") + "'";
}

/** fmt %q of a []string: ["a" "b"] */
export function goQuoteSlice(items: readonly string[]): string {
  return '[' + items.map(goQuote).join(' ') + ']';
}

/** fmt %v of a []string: [a b] */
export function goSlice(items: readonly string[]): string {
  return '[' + items.join(' ') + ']';
}

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5
  'μs': 1_000n, // U+03BC
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_DURATION = (1n << 63n) - 1n;

/** Go's time.ParseDuration, in nanoseconds. Throws Error with Go's message. */
export function parseGoDuration(orig: string): number {
  const invalid = () => new Error(`time: invalid duration ${goQuote(orig)}`);
  let s = orig;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || (s[0] >= '0' && s[0] <= '9'))) throw invalid();
    const intMatch = /^[0-9]*/.exec(s)![0];
    s = s.slice(intMatch.length);
    let fracDigits = '';
    if (s[0] === '.') {
      fracDigits = /^\.([0-9]*)/.exec(s)![1];
      s = s.slice(1 + fracDigits.length);
    }
    if (intMatch === '' && fracDigits === '') throw invalid();
    const unitMatch = /^[^0-9.]*/.exec(s)![0];
    s = s.slice(unitMatch.length);
    if (unitMatch === '') throw new Error(`time: missing unit in duration ${goQuote(orig)}`);
    const unit = UNIT_NS[unitMatch];
    if (unit === undefined) throw new Error(`time: unknown unit ${goQuote(unitMatch)} in duration ${goQuote(orig)}`);
    let v = BigInt(intMatch || '0') * unit;
    if (fracDigits !== '') {
      // scale the fraction by the unit, truncating like Go
      v += (BigInt(fracDigits) * unit) / 10n ** BigInt(fracDigits.length);
    }
    total += v;
    if (total > MAX_DURATION) throw invalid();
  }
  return Number(neg ? -total : total);
}

function fmtFrac(v: bigint, prec: number): [string, bigint] {
  // the fractional part of v / 10^prec, without trailing zeros, and the integer part
  let digits = '';
  let print = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    print = print || digit !== 0n;
    if (print) digits = digit.toString() + digits;
    v /= 10n;
  }
  return [print ? '.' + digits : '', v];
}

/** Go's time.Duration.String for a nanosecond count. */
export function formatGoDuration(ns: number): string {
  let u = BigInt(Math.trunc(ns));
  const neg = u < 0n;
  if (neg) u = -u;
  let out: string;
  if (u === 0n) return '0s';
  if (u < 1_000_000_000n) {
    if (u < 1_000n) out = `${u}ns`;
    else if (u < 1_000_000n) {
      const [frac, whole] = fmtFrac(u, 3);
      out = `${whole}${frac}µs`;
    } else {
      const [frac, whole] = fmtFrac(u, 6);
      out = `${whole}${frac}ms`;
    }
  } else {
    const [frac, wholeSeconds] = fmtFrac(u, 9);
    out = `${wholeSeconds % 60n}${frac}s`;
    let v = wholeSeconds / 60n;
    if (v > 0n) {
      out = `${v % 60n}m` + out;
      v /= 60n;
      if (v > 0n) out = `${v}h` + out;
    }
  }
  return neg ? '-' + out : out;
}
