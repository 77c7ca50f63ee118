// Shell-word lexer with variable expansion, a port of BuildKit's shell.Lex:
// quotes, the escape character, $VAR / ${VAR} and the ${VAR<op>word} forms
// (:- - :+ + :? ? # ## % %% / //). Word splitting happens after expansion,
// on unquoted whitespace only, exactly as BuildKit does it.
import { ShellLexError } from './errors.js';
import { goQuote } from './gofmt.js';

/** Looks a variable up; undefined means unset (distinct from empty). */
export type EnvLookup = (name: string) => string | undefined;

export interface LexOptions {
  /** the escape character from the `# escape=` directive (default backslash) */
  escape?: '\\' | '`';
  /** keep quote characters in the output (BuildKit RawQuotes) */
  rawQuotes?: boolean;
  /** keep escape characters in the output (BuildKit RawEscapes) */
  rawEscapes?: boolean;
  /** treat quotes as ordinary characters (BuildKit SkipProcessQuotes) */
  skipProcessQuotes?: boolean;
  /** leave references to unset variables as written (BuildKit SkipUnsetEnv) */
  skipUnsetEnv?: boolean;
}

export interface ProcessResult {
  /** the word with quotes removed and variables expanded, whitespace kept */
  result: string;
  /** the same, split into words on unquoted whitespace */
  words: string[];
  /** variables referenced that were set */
  matched: Set<string>;
  /** variables referenced that were unset */
  unmatched: Set<string>;
}

const EOF = '';

const isSpace = (ch: string) => /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(ch);
const isLetter = (ch: string) => /^\p{L}$/u.test(ch);
const isDigit = (ch: string) => /^\p{Nd}$/u.test(ch);
const isSpecialParam = (ch: string) => '@*#?-$!0'.includes(ch) && ch !== '';

class Words {
  word = '';
  words: string[] = [];
  inWord = false;

  addChar(ch: string): void {
    if (isSpace(ch) && this.inWord) {
      if (this.word.length !== 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else if (!isSpace(ch)) {
      this.addRawChar(ch);
    }
  }

  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }

  addString(str: string): void {
    for (const ch of str) this.addChar(ch);
  }

  addRawString(str: string): void {
    this.word += str;
    this.inWord = true;
  }

  getWords(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class ShellWord {
  readonly #chars: string[];
  #pos = 0;
  #rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(
    source: string,
    private readonly env: EnvLookup,
    private readonly opts: Required<LexOptions>,
  ) {
    this.#chars = Array.from(source);
    this.#rawEscapes = opts.rawEscapes;
  }

  peek(): string {
    return this.#chars[this.#pos] ?? EOF;
  }

  next(): string {
    const ch = this.#chars[this.#pos] ?? EOF;
    if (ch !== EOF) this.#pos++;
    return ch;
  }

  processStopOn(stopChar: string, rawEscapes: boolean): { result: string; words: string[] } {
    let result = '';
    const words = new Words();
    const saved = this.#rawEscapes;
    this.#rawEscapes = rawEscapes;
    try {
      while (this.peek() !== EOF) {
        let ch = this.peek();
        if (stopChar !== EOF && ch === stopChar) {
          this.next();
          return { result, words: words.getWords() };
        }
        if (ch === '$') {
          const tmp = this.processDollar();
          result += tmp;
          words.addString(tmp);
        } else if (!this.opts.skipProcessQuotes && (ch === "'" || ch === '"')) {
          const tmp = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
          result += tmp;
          words.addRawString(tmp);
        } else {
          ch = this.next();
          if (ch === this.opts.escape) {
            if (this.#rawEscapes) {
              words.addRawChar(ch);
              result += ch;
            }
            ch = this.next();
            if (ch === EOF) break; // an escape at the very end is dropped
            words.addRawChar(ch);
          } else {
            words.addChar(ch);
          }
          result += ch;
        }
      }
      if (stopChar !== EOF) {
        throw new ShellLexError(`unexpected end of statement while looking for matching ${stopChar}`);
      }
      return { result, words: words.getWords() };
    } finally {
      this.#rawEscapes = saved;
    }
  }

  processSingleQuote(): string {
    // everything up to the next ' is literal; a ' cannot be escaped inside
    let result = '';
    const open = this.next();
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new ShellLexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  processDoubleQuote(): string {
    // literal except $ expansions and escapes of " $ and the escape character
    let result = '';
    const open = this.next();
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const peeked = this.peek();
      if (peeked === EOF) throw new ShellLexError('unexpected end of statement while looking for matching double-quote');
      if (peeked === '"') {
        const ch = this.next();
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      if (peeked === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next();
      if (ch === this.opts.escape) {
        if (this.#rawEscapes) result += ch;
        const after = this.peek();
        if (after === EOF) continue; // a trailing escape is ignored
        if (after === '"' || after === '$' || after === this.opts.escape) ch = this.next();
      }
      result += ch;
    }
  }

  getEnv(name: string): [string, boolean] {
    const value = this.env(name);
    if (value === undefined) {
      this.unmatched.add(name);
      return ['', false];
    }
    this.matched.add(name);
    return [value, true];
  }

  processDollar(): string {
    this.next(); // $
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const [value, found] = this.getEnv(name);
      if (!found && this.opts.skipUnsetEnv) return '$' + name;
      return value;
    }
    this.next(); // {
    const first = this.peek();
    if (first === EOF) throw new ShellLexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new ShellLexError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    let chs = ch;
    let nullIsUnset = false;
    switch (ch) {
      case '}': {
        const [value, set] = this.getEnv(name);
        if (!set && this.opts.skipUnsetEnv) return `\${${name}}`;
        return value;
      }
      case ':':
        nullIsUnset = true;
        ch = this.next();
        chs += ch;
        return this.processModifier(name, ch, chs, nullIsUnset);
      case '+':
      case '-':
      case '?':
      case '#':
      case '%':
        return this.processModifier(name, ch, chs, nullIsUnset);
      case '/':
        return this.processReplace(name);
      case EOF:
        throw new ShellLexError("syntax error: missing '}'");
      default:
        throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
    }
  }

  processModifier(name: string, ch: string, chs: string, nullIsUnset: boolean): string {
    const rawEscapes = ch === '#' || ch === '%';
    let word: string;
    try {
      word = this.processStopOn('}', rawEscapes).result;
    } catch (err) {
      if (this.peek() === EOF) throw new ShellLexError("syntax error: missing '}'");
      throw err;
    }
    const [value, set] = this.getEnv(name);
    if (this.opts.skipUnsetEnv && !set) return `\${${name}${chs}${word}}`;
    switch (ch) {
      case '-':
        return !set || (nullIsUnset && value === '') ? word : value;
      case '+':
        return !set || (nullIsUnset && value === '') ? '' : word;
      case '?':
        if (!set) throw new ShellLexError(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') throw new ShellLexError(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
        return value;
      case '%':
      case '#': {
        // one character: shortest match; doubled (%% ##): longest
        let greedy = false;
        if (word.length > 0 && word[0] === ch) {
          greedy = true;
          word = word.slice(1);
        }
        return ch === '%' ? trimSuffix(word, value, greedy) : trimPrefix(word, value, greedy);
      }
      default:
        throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
    }
  }

  processReplace(name: string): string {
    const replaceAll = this.peek() === '/';
    if (replaceAll) this.next();
    let pattern: string;
    try {
      pattern = this.processStopOn('/', true).result;
    } catch (err) {
      if (this.peek() === EOF) throw new ShellLexError("syntax error: missing '/' in ${}");
      throw err;
    }
    let replacement: string;
    try {
      replacement = this.processStopOn('}', true).result;
    } catch (err) {
      if (this.peek() === EOF) throw new ShellLexError("syntax error: missing '}'");
      throw err;
    }
    const [value, set] = this.getEnv(name);
    if (this.opts.skipUnsetEnv && !set) return `\${${name}/${pattern}/${replacement}}`;
    const re = shellPatternToRegex(pattern, true, false, replaceAll);
    if (replaceAll) return value.replace(re, () => replacement);
    const m = re.exec(value);
    if (!m) return value;
    return value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length);
  }

  processName(): string {
    // a name is alphanumerics and _, or a run of digits, or one special parameter
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name.length === 0 && isDigit(ch)) {
        while (this.peek() !== EOF && isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name.length === 0 && isSpecialParam(ch)) return this.next();
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }
}

/**
 * A shell pattern (* and ?, backslash escapes, no brackets) as a regular
 * expression; BuildKit's convertShellPatternToRegex.
 */
function shellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  const star = greedy ? '.*' : '.*?';
  for (let i = 0; i < chars.length; i++) {
    const tok = chars[i];
    switch (tok) {
      case '*':
        out += star;
        continue;
      case '?':
        out += '.';
        continue;
      case '\\': {
        const after = chars[i + 1];
        // \} and \/ inside ${} are escapes for the lexer, not part of the pattern
        if (after === '}' || after === '/') continue;
        if (after !== '*' && after !== '?' && after !== '\\') {
          throw new ShellLexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${after ?? ''}'`);
        }
        out += '\\' + after;
        i++;
        continue;
      }
      case '[':
      case ']':
      case '{':
      case '}':
      case '.':
      case '+':
      case '(':
      case ')':
      case '|':
      case '^':
      case '$':
        out += '\\' + tok;
        continue;
      default:
        out += tok;
    }
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

/** Reverses a pattern keeping escapes attached to what they escape (a\*c -> c\*a). */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = new Array<string>(chars.length);
  const last = chars.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = chars[i];
    const outIdx = last - i;
    if (tok === '\\' && i !== last) {
      out[outIdx - 1] = tok;
      out[outIdx] = chars[i + 1];
      i += 2;
    } else {
      out[outIdx] = tok;
      i++;
    }
  }
  return out.join('');
}

const reverseString = (s: string) => Array.from(s).reverse().join('');

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // shortest/longest rightmost match = leftmost match on the reversed strings
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/** A configured lexer, like BuildKit's shell.Lex. */
export class ShellLex {
  readonly #opts: Required<LexOptions>;

  constructor(options: LexOptions = {}) {
    this.#opts = {
      escape: options.escape ?? '\\',
      rawQuotes: options.rawQuotes ?? false,
      rawEscapes: options.rawEscapes ?? false,
      skipProcessQuotes: options.skipProcessQuotes ?? false,
      skipUnsetEnv: options.skipUnsetEnv ?? false,
    };
  }

  /** Expands and unquotes; throws ShellLexError ('failed to process "...": ...'). */
  process(word: string, env: EnvLookup): ProcessResult {
    const sw = new ShellWord(word, env, this.#opts);
    try {
      const { result, words } = sw.processStopOn(EOF, this.#opts.rawEscapes);
      return { result, words, matched: sw.matched, unmatched: sw.unmatched };
    } catch (err) {
      if (err instanceof ShellLexError) throw new ShellLexError(`failed to process ${goQuote(word)}: ${err.message}`);
      throw err;
    }
  }
}

/** An EnvLookup over a plain record or Map. */
export function envFrom(vars: Record<string, string | undefined> | Map<string, string | undefined>): EnvLookup {
  if (vars instanceof Map) return (name) => vars.get(name);
  return (name) => (Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : undefined);
}

/** Expands variables and removes quotes, keeping whitespace: one word. */
export function processWord(word: string, env: EnvLookup, escape: '\\' | '`' = '\\'): string {
  return new ShellLex({ escape }).process(word, env).result;
}

/** Expands variables, then splits on unquoted whitespace and removes quotes. */
export function processWords(word: string, env: EnvLookup, escape: '\\' | '`' = '\\'): string[] {
  return new ShellLex({ escape }).process(word, env).words;
}

/** processWord, also reporting which variables were referenced (set and unset). */
export function processWordWithMatches(word: string, env: EnvLookup, escape: '\\' | '`' = '\\'): ProcessResult {
  return new ShellLex({ escape }).process(word, env);
}
