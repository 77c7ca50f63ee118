// Path patterns, two dialects docker uses: Go's filepath.Match (COPY/ADD
// sources, per path segment) and moby's patternmatcher (.dockerignore and
// COPY --exclude: `**`, `!` re-inclusion, a parent directory's match applying
// to its contents). Both are ported here rather than taken from npm, because
// the corner cases (escapes, `**` as prefix/suffix, cleaning) must be moby's.
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { BerthError } from '../../errors/index.js';

const badPattern = (pattern: string) => new BerthError('invalid_argument', `syntax error in pattern: ${JSON.stringify(pattern)}`);

/** Go's filepath.Clean for '/'-separated paths ('' -> '.', no trailing '/'). */
export function cleanPath(p: string): string {
  const n = posix.normalize(p === '' ? '.' : p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** Does a path segment contain an unescaped wildcard (buildkit's containsWildcards)? */
export function hasWildcards(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

// ---- Go's filepath.Match, on code points ---------------------------------------

type Runes = string[];

function scanChunk(pattern: Runes): { star: boolean; chunk: Runes; rest: Runes } {
  let star = false;
  let p = pattern;
  while (p.length > 0 && p[0] === '*') {
    p = p.slice(1);
    star = true;
  }
  let inRange = false;
  let i = 0;
  scan: for (; i < p.length; i++) {
    switch (p[i]) {
      case '\\':
        if (i + 1 < p.length) i++;
        break;
      case '[':
        inRange = true;
        break;
      case ']':
        inRange = false;
        break;
      case '*':
        if (!inRange) break scan;
    }
  }
  return { star, chunk: p.slice(0, i), rest: p.slice(i) };
}

/** One escaped-or-plain rune of a character class; null for a malformed class. */
function getEsc(chunk: Runes): { r: string; rest: Runes } | null {
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') return null;
  let c = chunk;
  if (c[0] === '\\') {
    c = c.slice(1);
    if (c.length === 0) return null;
  }
  const rest = c.slice(1);
  if (rest.length === 0) return null;
  return { r: c[0]!, rest };
}

const cp = (s: string) => s.codePointAt(0)!;

/** matchChunk: the rest of `s` after `chunk` matched its start, or null; throws on a malformed chunk. */
function matchChunk(chunk: Runes, s: Runes, pattern: string): Runes | null {
  let failed = false;
  let c = chunk;
  let rest = s;
  while (c.length > 0) {
    if (!failed && rest.length === 0) failed = true;
    const head = c[0]!;
    if (head === '[') {
      let r = '';
      if (!failed) {
        r = rest[0]!;
        rest = rest.slice(1);
      }
      c = c.slice(1);
      let negated = false;
      if (c.length > 0 && c[0] === '^') {
        negated = true;
        c = c.slice(1);
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (c.length > 0 && c[0] === ']' && nrange > 0) {
          c = c.slice(1);
          break;
        }
        const lo = getEsc(c);
        if (!lo) throw badPattern(pattern);
        c = lo.rest;
        let hi = lo.r;
        if (c[0] === '-') {
          const h = getEsc(c.slice(1));
          if (!h) throw badPattern(pattern);
          hi = h.r;
          c = h.rest;
        }
        if (!failed && cp(lo.r) <= cp(r) && cp(r) <= cp(hi)) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (head === '?') {
      if (!failed) {
        if (rest[0] === '/') failed = true;
        rest = rest.slice(1);
      }
      c = c.slice(1);
    } else {
      if (head === '\\') {
        c = c.slice(1);
        if (c.length === 0) throw badPattern(pattern);
      }
      if (!failed) {
        if (c[0] !== rest[0]) failed = true;
        rest = rest.slice(1);
      }
      c = c.slice(1);
    }
  }
  return failed ? null : rest;
}

/** Go's path/filepath.Match with '/' as the separator; a malformed pattern is 'invalid_argument'. */
export function goMatch(pattern: string, name: string): boolean {
  let pat: Runes = Array.from(pattern);
  let rest: Runes = Array.from(name);
  outer: while (pat.length > 0) {
    const { star, chunk, rest: after } = scanChunk(pat);
    pat = after;
    if (star && chunk.length === 0) return !rest.includes('/');
    const t = matchChunk(chunk, rest, pattern);
    if (t !== null && (t.length === 0 || pat.length > 0)) {
      rest = t;
      continue;
    }
    if (star) {
      for (let i = 0; i < rest.length && rest[i] !== '/'; i++) {
        const t2 = matchChunk(chunk, rest.slice(i + 1), pattern);
        if (t2 !== null) {
          if (pat.length === 0 && t2.length > 0) continue;
          rest = t2;
          continue outer;
        }
      }
    }
    // no match: the rest of the pattern must still be well-formed
    while (pat.length > 0) {
      const next = scanChunk(pat);
      pat = next.rest;
      matchChunk(next.chunk, [], pattern);
    }
    return false;
  }
  return rest.length === 0;
}

// ---- moby's patternmatcher -------------------------------------------------------

interface Pattern {
  cleaned: string;
  exclusion: boolean;
  test: (path: string) => boolean;
}

const REGEX_SYNTAX = new Set(['^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '/']);

/** A literal rune in a (unicode-mode) JS regex, inside or outside a class. */
function literal(ch: string, inClass: boolean): string {
  return REGEX_SYNTAX.has(ch) || (inClass && ch === '-') ? `\\${ch}` : ch;
}

/** patternmatcher's Pattern.compile: exact, prefix ("a/**"), suffix ("**\/a") or a regexp. */
function compilePattern(cleaned: string, original: string): (path: string) => boolean {
  let re = '^';
  let type: 'exact' | 'prefix' | 'suffix' | 'regexp' = 'exact';
  const runes = Array.from(cleaned);
  let inClass = false;
  for (let i = 0, k = 0; k < runes.length; i++) {
    const ch = runes[k++]!;
    if (ch === '*') {
      if (runes[k] === '*') {
        k++;
        if (runes[k] === '/') k++;
        if (k >= runes.length) {
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(.*/)?';
          type = 'regexp';
        }
        if (i === 0) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if ('.+()|{}$'.includes(ch)) {
      re += `\\${ch}`;
    } else if (ch === '\\') {
      if (k < runes.length) {
        re += literal(runes[k++]!, inClass);
        type = 'regexp';
      } else re += '\\\\';
    } else if (ch === '[' || ch === ']') {
      // a class passes through to the regexp, as moby does
      inClass = ch === '[';
      re += ch;
      type = 'regexp';
    } else {
      re += ch; // '^', '-' and '/' mean in a JS class what they mean in Go's
    }
  }
  switch (type) {
    case 'exact':
      return (path) => path === cleaned;
    case 'prefix': {
      const prefix = cleaned.slice(0, -2);
      return (path) => path.startsWith(prefix);
    }
    case 'suffix': {
      const suffix = cleaned.slice(2);
      return (path) => path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
    }
    case 'regexp': {
      let regexp: RegExp;
      try {
        regexp = new RegExp(re + '$', 'u');
      } catch {
        throw badPattern(original);
      }
      return (path) => regexp.test(path);
    }
  }
}

/** .dockerignore line normalisation (docker's ReadAll): cleaned, leading '/' dropped, '!' kept. */
export function normalizeIgnorePattern(line: string): string | null {
  let p = line.trim();
  if (p === '') return null;
  const invert = p.startsWith('!');
  if (invert) p = p.slice(1).trim();
  if (p.length > 0) {
    p = cleanPath(p);
    if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
  }
  return invert ? `!${p}` : p;
}

function compileAll(patterns: string[]): Pattern[] {
  const out: Pattern[] = [];
  for (const raw of patterns) {
    const normalized = normalizeIgnorePattern(raw);
    if (normalized === null) continue;
    let p = cleanPath(normalized);
    let exclusion = false;
    if (p.startsWith('!')) {
      if (p.length === 1) throw new BerthError('invalid_argument', 'illegal exclusion pattern: "!"');
      exclusion = true;
      p = p.slice(1);
    }
    goMatch(p, '.'); // syntax check, as patternmatcher.New does
    out.push({ cleaned: p, exclusion, test: compilePattern(p, raw) });
  }
  return out;
}

/** Patterns compiled once; `excluded` answers MatchesOrParentMatches, `mayReinclude` lets a walk skip whole directories. */
export interface IgnoreMatcher {
  excluded(relPath: string): boolean;
  /** could an exception ('!pattern') re-include something under this excluded directory? */
  mayReinclude(relDir: string): boolean;
  readonly hasExclusions: boolean;
}

export function compileIgnore(patterns: string[]): IgnoreMatcher {
  const compiled = compileAll(patterns);
  const hasExclusions = compiled.some((p) => p.exclusion);
  return {
    hasExclusions,
    excluded(relPath: string): boolean {
      const file = cleanPath(relPath);
      if (file === '.') return false; // "don't let them exclude everything"
      const parent = posix.dirname(file);
      const parentDirs = parent.split('/');
      let matched = false;
      for (const pattern of compiled) {
        if (pattern.exclusion !== matched) continue;
        let match = pattern.test(file);
        if (!match && parent !== '.') {
          for (let i = 0; i < parentDirs.length && !match; i++) match = pattern.test(parentDirs.slice(0, i + 1).join('/'));
        }
        if (match) matched = !pattern.exclusion;
      }
      return matched;
    },
    mayReinclude(relDir: string): boolean {
      if (!hasExclusions) return false;
      const dirSlash = `${cleanPath(relDir)}/`;
      return compiled.some((p) => p.exclusion && `${p.cleaned}/`.startsWith(dirSlash));
    },
  };
}

/** true = excluded (moby's MatchesOrParentMatches; `isDir` does not change the answer, as in moby). */
export function createIgnoreMatcher(patterns: string[]): (relPath: string, isDir: boolean) => boolean {
  const m = compileIgnore(patterns);
  return (relPath: string, _isDir: boolean) => m.excluded(relPath);
}

/** The patterns of <dir>/.dockerignore (none when it is absent), normalised as docker's ReadAll. */
export async function readDockerignore(dir: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(posix.join(dir, '.dockerignore'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#')) continue; // checked before trimming, as docker does
    const p = normalizeIgnorePattern(line);
    if (p !== null) out.push(p);
  }
  return out;
}

/** Go's string order (bytes), as docker sorts names. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
