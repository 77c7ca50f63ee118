// Dockerfile text → nodes, a port of BuildKit's parser package: directives,
// comments, line continuations, flags, JSON detection, here-documents.
// Instruction-specific argument shapes (ENV pairs, FROM words...) are also
// computed here, as BuildKit's line parsers do, so syntax errors surface at
// parse time with the right line.
import { DockerfileError } from './errors.js';
import { goQuote } from './gofmt.js';
import { ShellLex } from './lexer.js';
import type { Directives, DockerfileNode, Heredoc, ParsedDockerfile } from './types.js';

type Escape = '\\' | '`';

const WHITESPACE = /[\t\v\f\r ]+/;
const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const HEREDOC = /^(\d*)<<(-?)([^<]*)$/;
const VALID_DIRECTIVES = new Set(['escape', 'syntax', 'check']);
/** instructions whose line may open here-documents (and ONBUILD wrapping them) */
const HEREDOC_KEYWORDS = new Set(['add', 'copy', 'run']);

export const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

const isGoSpace = (ch: string | undefined) =>
  ch !== undefined && /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(ch);
const trimLeftSpace = (s: string) => s.replace(/^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/, '');
const trimSpace = (s: string) =>
  trimLeftSpace(s).replace(/[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/, '');
const trimNewline = (s: string) => s.replace(/[\r\n]+$/, '');
const isComment = (raw: string) => trimLeftSpace(trimNewline(raw)).startsWith('#');

/** Parser state for directives: they are only honoured before anything else. */
class DirectiveState {
  escape: Escape = '\\';
  syntax?: string;
  check?: string;
  done = false;
  readonly seen = new Set<string>();

  /** Looks at one (left-trimmed) line while directives are still possible. */
  consider(line: string, lineNo: number): void {
    if (this.done) return;
    const m = DIRECTIVE.exec(line);
    if (!m) {
      this.done = true;
      return;
    }
    const key = m[1].toLowerCase();
    if (!VALID_DIRECTIVES.has(key)) {
      this.done = true;
      return;
    }
    if (this.seen.has(key)) throw new DockerfileError(lineNo, `only one ${key} parser directive can be used`);
    this.seen.add(key);
    const value = m[2];
    if (key === 'escape') {
      if (value !== '`' && value !== '\\') {
        throw new DockerfileError(lineNo, `invalid escape token '${value}' does not match \` or \\`);
      }
      this.escape = value;
    } else if (key === 'syntax') {
      this.syntax = value;
    } else {
      this.check = value;
    }
  }

  /** Strips a trailing continuation escape; [line, isEndOfLine]. */
  trimContinuation(line: string): [string, boolean] {
    const e = this.escape === '\\' ? '\\\\' : '`';
    const re = new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
    if (re.test(line)) return [line.replace(re, '$1'), false];
    return [line, true];
  }

  toDirectives(): Directives {
    const out: Directives = { escape: this.escape };
    if (this.syntax !== undefined) out.syntax = this.syntax;
    if (this.check !== undefined) out.check = this.check;
    return out;
  }
}

/** Splits text into lines keeping their endings, like BuildKit's scanLines. */
function scanLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** Leading --flags after the keyword (BuildKit extractBuilderFlags); returns [rest, flags]. */
export function extractBuilderFlags(line: string): [string, string[]] {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    let ch = pos < line.length ? line[pos] : '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (isGoSpace(ch)) continue;
      if (ch !== '-' || pos + 1 === line.length || line[pos + 1] !== '-') return [line.slice(pos), words];
      phase = 'word';
    }
    if (pos === line.length) {
      if (word !== '--' && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isGoSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return [line.slice(pos), words];
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      if (ch === '\\') {
        if (pos + 1 === line.length) continue;
        pos++;
        ch = line[pos];
      }
      word += ch;
      continue;
    }
    // in a quote
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === '\\') {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      pos++;
      ch = line[pos];
    }
    word += ch;
  }
  return ['', words];
}

/** Keyword, flags and rest of a joined instruction line (BuildKit splitCommand). */
export function splitCommand(line: string): { keyword: string; written: string; flags: string[]; rest: string } {
  const trimmed = trimSpace(line);
  const idx = trimmed.search(WHITESPACE);
  const written = idx < 0 ? trimmed : trimmed.slice(0, idx);
  let rest = '';
  let flags: string[] = [];
  if (idx >= 0) {
    const after = trimmed.slice(idx).replace(/^[\t\v\f\r ]+/, '');
    [rest, flags] = extractBuilderFlags(after);
  }
  return { keyword: written.toLowerCase(), written, flags, rest: trimSpace(rest) };
}

/** JSON-array detection: the strings, null when not JSON; throws on a non-string element. */
export function parseJSONArray(rest: string): string[] | null {
  const text = trimLeftSpace(rest);
  if (!text.startsWith('[')) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(value)) return null;
  const out: string[] = [];
  for (const item of value) {
    if (typeof item !== 'string') throw new Error(NOT_STRING_ARRAY);
    out.push(item);
  }
  return out;
}

/**
 * Words of a statement with quotes and escapes left in place (BuildKit
 * parseWords); quotes are removed later by the lexer at expansion time.
 */
export function parseWords(rest: string, escape: Escape): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let word = '';
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = pos < chars.length ? chars[pos] : '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (isGoSpace(ch)) continue;
      phase = 'word';
    }
    if (pos === chars.length) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isGoSpace(ch)) {
        phase = 'spaces';
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue; // an escape at the end is dropped
        // an unquoted escape keeps itself and the next character, even a quote
        word += ch;
        pos++;
        ch = chars[pos];
      }
      word += ch;
      continue;
    }
    // in a quote
    if (ch === quote) phase = 'word';
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      pos++;
      word += ch;
      ch = chars[pos];
    }
    word += ch;
  }
  return words;
}

const splitWhitespace = (rest: string): string[] => (rest === '' ? [] : rest.split(/[\t\v\f\r ]+/));

/** ENV/LABEL pairs as [k1, v1, k2, v2...], values still quoted (BuildKit parseNameVal). */
function parseNameVal(rest: string, what: string, escape: Escape): string[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) return [];
  if (!words[0].includes('=')) {
    // legacy "ENV key value with spaces"
    const m = /^(\S*?)[\t\v\f\r ]+([\s\S]*)$/.exec(rest);
    if (!m) throw new Error(`${what} must have two arguments`);
    return [m[1], m[2]];
  }
  const out: string[] = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) throw new Error(`Syntax error - can't find = in ${goQuote(w)}. Must be of the form: name=value`);
    out.push(w.slice(0, eq), w.slice(eq + 1));
  }
  return out;
}

/** The argument list BuildKit's line parser produces for an instruction, and its json flag. */
export function lineArgs(keyword: string, rest: string, escape: Escape): { args: string[]; json: string[] | null } {
  const maybeJSON = (): { args: string[]; json: string[] | null } => {
    if (rest === '') return { args: [], json: null };
    const json = parseJSONArray(rest);
    return json ? { args: json, json } : { args: [rest], json: null };
  };
  const maybeJSONToList = (): { args: string[]; json: string[] | null } => {
    const json = parseJSONArray(rest);
    return json ? { args: json, json } : { args: splitWhitespace(rest), json: null };
  };
  switch (keyword) {
    case 'add':
    case 'copy':
    case 'volume':
      return maybeJSONToList();
    case 'cmd':
    case 'entrypoint':
    case 'run':
    case 'shell':
      return maybeJSON();
    case 'arg':
      return { args: parseWords(rest, escape), json: null };
    case 'env':
      return { args: parseNameVal(rest, 'ENV', escape), json: null };
    case 'label':
      return { args: parseNameVal(rest, 'LABEL', escape), json: null };
    case 'expose':
    case 'from':
      return { args: splitWhitespace(rest), json: null };
    case 'healthcheck': {
      const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      if (!m || rest === '') return { args: [], json: null };
      const cmdRest = m[2];
      if (cmdRest === '') return { args: [m[1]], json: null };
      const json = parseJSONArray(cmdRest);
      return json ? { args: [m[1], ...json], json } : { args: [m[1], cmdRest], json: null };
    }
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      return { args: rest === '' ? [] : [rest], json: null };
    default:
      // ONBUILD keeps its rest for the sub-instruction; unknown ones are rejected later
      return { args: [], json: null };
  }
}

/** Parses a heredoc word like <<EOF, <<-"EOF", 3<<EOF; undefined when it is not one. */
export function parseHeredocWord(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = HEREDOC.exec(word);
  if (!m || m[3].length === 0) return undefined;
  const rest = m[3];
  const lex = new ShellLex({ skipUnsetEnv: true });
  const unset = () => undefined;
  let words: string[];
  try {
    words = lex.process(rest, unset).words;
  } catch {
    return undefined;
  }
  if (words.length !== 1) return undefined;
  const rawWords = new ShellLex({ skipUnsetEnv: true, rawQuotes: true }).process(rest, unset).words;
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  // a quoted delimiter (any part of it) disables expansion of the body
  const expand = quotes(words[0]) === quotes(rawWords[0]);
  const heredoc: Omit<Heredoc, 'content'> = { name: words[0], expand, chomp: m[2] === '-' };
  if (m[1] !== '') heredoc.fileDescriptor = Number(m[1]);
  return heredoc;
}

/** Heredoc words on an instruction line, in order (BuildKit heredocsFromLine). */
function heredocsFromLine(line: string): Omit<Heredoc, 'content'>[] {
  let words: string[];
  try {
    words = new ShellLex({ rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).process(line, () => undefined).words;
  } catch {
    words = [];
  }
  const out: Omit<Heredoc, 'content'>[] = [];
  for (const w of words) {
    const h = parseHeredocWord(w);
    if (h) out.push(h);
  }
  return out;
}

/** Removes leading tabs from every line (<<-). */
export function chompHeredocContent(src: string): string {
  return src.replace(/^\t+/gm, '');
}

interface LineNode {
  keyword: string;
  written: string;
  flags: string[];
  rest: string;
  json: string[] | null;
  args: string[];
  /** ONBUILD's inner instruction */
  child?: LineNode;
}

function nodeFromLine(line: string, escape: Escape): LineNode {
  const { keyword, written, flags, rest } = splitCommand(line);
  if (keyword === 'onbuild') {
    const child = rest === '' ? undefined : nodeFromLine(rest, escape);
    const args = child ? [child.written, ...child.args] : [];
    return { keyword, written, flags, rest, json: child?.json ?? null, args, child };
  }
  const { args, json } = lineArgs(keyword, rest, escape);
  return { keyword, written, flags, rest, json, args };
}

function canContainHeredoc(node: LineNode): boolean {
  const target = node.keyword === 'onbuild' && node.child ? node.child : node;
  return HEREDOC_KEYWORDS.has(target.keyword) && target.json === null;
}

/** Parses Dockerfile text into directives, nodes and warnings. Throws DockerfileError. */
export function parseDockerfile(text: string): ParsedDockerfile {
  const d = new DirectiveState();
  const lines = scanLines(text);
  const nodes: DockerfileNode[] = [];
  const warnings: string[] = [];
  let current = 0; // lines consumed so far
  let i = 0;
  const nextLine = (): string | undefined => (i < lines.length ? lines[i++] : undefined);

  for (let raw = nextLine(); raw !== undefined; raw = nextLine()) {
    if (current === 0) raw = raw.replace(/^\uFEFF/, '');
    let token = trimLeftSpace(trimNewline(raw));
    d.consider(token, current + 1);
    if (token.startsWith('#')) token = '';
    current++;
    const startLine = current;
    let [line, isEnd] = d.trimContinuation(token);
    if (isEnd && line === '') continue;

    let hasEmptyContinuation = false;
    while (!isEnd) {
      const next = nextLine();
      if (next === undefined) break;
      let cont = trimNewline(next);
      d.consider(cont, current + 1);
      current++;
      if (isComment(next)) continue;
      if (cont.startsWith('#')) cont = '';
      if (trimLeftSpace(cont) === '') {
        hasEmptyContinuation = true;
        continue;
      }
      let piece: string;
      [piece, isEnd] = d.trimContinuation(cont);
      line += piece;
    }
    if (hasEmptyContinuation) warnings.push('[WARNING]: Empty continuation line found in:\n    ' + line);

    let parsed: LineNode;
    try {
      parsed = nodeFromLine(line, d.escape);
    } catch (err) {
      throw new DockerfileError(startLine, (err as Error).message, { endLine: current });
    }

    const heredocs: Heredoc[] = [];
    if (canContainHeredoc(parsed)) {
      for (const h of heredocsFromLine(line)) {
        let body = '';
        let terminated = false;
        for (let docLine = nextLine(); docLine !== undefined; docLine = nextLine()) {
          current++;
          let candidate = trimNewline(docLine);
          if (h.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === h.name) {
            terminated = true;
            break;
          }
          body += docLine;
        }
        if (!terminated) throw new DockerfileError(startLine, 'unterminated heredoc', { endLine: current });
        heredocs.push({ ...h, content: h.chomp ? chompHeredocContent(body) : body, raw: body });
      }
    }

    d.done = true; // any instruction ends the directive block
    nodes.push({
      keyword: parsed.keyword,
      flags: parsed.flags,
      rest: parsed.rest,
      json: parsed.json,
      heredocs,
      startLine,
      endLine: current,
      original: line,
      args: parsed.args,
      written: parsed.written,
    });
  }

  if (warnings.length > 0) warnings.push('[WARNING]: Empty continuation lines will become errors in a future release.');
  if (nodes.length === 0) throw new DockerfileError(current, 'file with no instructions');
  return { directives: d.toDirectives(), nodes, warnings };
}
