// String-level rules of Compose: interpolation, dotenv files, shell-word
// splitting, Go durations and byte sizes.

export type Env = Record<string, string | undefined>;

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;

/**
 * Compose interpolation of one string: `$$`, `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`,
 * `${VAR:?e}`, `${VAR?e}`, `${VAR:+x}`, `${VAR+x}`, nested in the defaults.
 * Errors (required variables, bad syntax) are thrown as plain Errors for the caller to place.
 */
export function interpolate(input: string, env: Env, onUnset?: (name: string) => void): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const ch = input[i];
    if (ch !== '$') {
      out += ch;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = matchingBrace(input, i + 2);
      if (end < 0) throw new Error(`invalid interpolation format for ${JSON.stringify(input)}`);
      out += substitute(input.slice(i + 2, end), env, onUnset);
      i = end + 1;
      continue;
    }
    const m = NAME.exec(input.slice(i + 1));
    if (m) {
      const value = env[m[0]];
      if (value === undefined) onUnset?.(m[0]);
      out += value ?? '';
      i += 1 + m[0].length;
      continue;
    }
    out += '$'; // not a variable: kept as written
    i++;
  }
  return out;
}

function matchingBrace(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') {
      i++;
    } else if (s[i] === '$' && s[i + 1] === '{') {
      depth++;
      i++;
    } else if (s[i] === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function substitute(body: string, env: Env, onUnset?: (name: string) => void): string {
  const m = NAME.exec(body);
  if (!m) throw new Error(`invalid interpolation format for \${${body}}`);
  const name = m[0];
  const rest = body.slice(name.length);
  const value = env[name];
  const op = /^(:-|-|:\?|\?|:\+|\+)?/.exec(rest)![0];
  const arg = rest.slice(op.length);
  if (op === '' && arg !== '') throw new Error(`invalid interpolation format for \${${body}}`);
  const unsetOrEmpty = value === undefined || value === '';
  switch (op) {
    case '':
      if (value === undefined) onUnset?.(name);
      return value ?? '';
    case ':-':
      return unsetOrEmpty ? interpolate(arg, env, onUnset) : value;
    case '-':
      return value === undefined ? interpolate(arg, env, onUnset) : value;
    case ':?':
      if (unsetOrEmpty) throw new Error(`required variable ${name} is missing a value: ${interpolate(arg, env, onUnset)}`);
      return value;
    case '?':
      if (value === undefined) throw new Error(`required variable ${name} is missing a value: ${interpolate(arg, env, onUnset)}`);
      return value;
    case ':+':
      return unsetOrEmpty ? '' : interpolate(arg, env, onUnset);
    default: // '+'
      return value === undefined ? '' : interpolate(arg, env, onUnset);
  }
}

/**
 * Parse a dotenv file the way Compose does: `KEY=VALUE`, optional `export `, `#` comments
 * (inline only after whitespace in unquoted values), single quotes literal, double quotes
 * with escapes; unquoted and double-quoted values are interpolated against what came
 * before and `lookup`. A bare `KEY` takes its value from `lookup`, or is left out.
 */
export function parseDotenv(text: string, lookup: Env = {}): Record<string, string> {
  const result: Record<string, string> = {};
  const scope = (): Env => ({ ...lookup, ...result });
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n].trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trimStart();
    const eq = line.indexOf('=');
    if (eq < 0) {
      const key = line;
      if (!/^[^\s]+$/.test(key)) throw new Error(`line ${n + 1}: unexpected character in variable name ${JSON.stringify(key)}`);
      const v = lookup[key];
      if (v !== undefined) result[key] = v;
      continue;
    }
    const key = line.slice(0, eq).trim();
    if (key === '' || /\s/.test(key)) throw new Error(`line ${n + 1}: invalid variable name ${JSON.stringify(key)}`);
    let raw = line.slice(eq + 1).trimStart();
    const quote = raw[0];
    if (quote === '"' || quote === "'") {
      // a quoted value may span lines
      let body = raw.slice(1);
      let close = findClosingQuote(body, quote);
      while (close < 0 && n + 1 < lines.length) {
        n++;
        body += '\n' + lines[n];
        close = findClosingQuote(body, quote);
      }
      if (close < 0) throw new Error(`line ${n + 1}: unterminated quoted value for ${key}`);
      const inner = body.slice(0, close);
      result[key] = quote === "'" ? inner : interpolate(unescapeDouble(inner), scope());
      continue;
    }
    const hash = raw.search(/\s#/);
    if (hash >= 0) raw = raw.slice(0, hash);
    result[key] = interpolate(raw.trim(), scope());
  }
  return result;
}

function findClosingQuote(s: string, quote: string): number {
  for (let i = 0; i < s.length; i++) {
    if (quote === '"' && s[i] === '\\') {
      i++;
      continue;
    }
    if (s[i] === quote) return i;
  }
  return -1;
}

function unescapeDouble(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
}

/** Split a command line like a POSIX shell (mattn/go-shellwords, Python shlex): quotes and backslashes. */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1])) word += line[++i];
      else word += c;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated quote in ${JSON.stringify(line)}`);
  if (inWord) words.push(word);
  return words;
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration ("1m30s", "500ms") → nanoseconds; a bare number counts as seconds. */
export function parseDuration(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.round(value * 1e9);
  if (typeof value !== 'string' || value.trim() === '') throw new Error(`invalid duration ${JSON.stringify(value)}`);
  const s = value.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    pos = re.lastIndex;
  }
  if (pos !== s.length || pos === 0) throw new Error(`invalid duration ${JSON.stringify(value)}`);
  return Math.round(total);
}

/** Nanoseconds → a Go-style duration string that parseDuration reads back exactly. */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  let rest = ns;
  let out = '';
  for (const [unit, size] of [['h', 3600e9], ['m', 60e9], ['s', 1e9], ['ms', 1e6], ['us', 1e3], ['ns', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

/** docker/go-units RAMInBytes: "512m", "1g", "100kb" (binary multiples) → bytes. */
export function parseBytes(value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  const m = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$/i.exec(value) : null;
  if (!m) throw new Error(`invalid size ${JSON.stringify(value)}`);
  const power = ' kmgtp'.indexOf(m[2].toLowerCase() || ' ');
  return Math.round(Number(m[1]) * 1024 ** power);
}

