// The subset of Go's text/template that docker's --format flags use:
// {{.Field}}, {{.A.B}}, {{.}}, pipelines with |, parentheses, string/number
// literals, {{if}}/{{else if}}/{{else}}/{{end}}, {{range}}, {{with}}, {{- -}}
// trimming, and docker's function set (json, upper, lower, title, truncate,
// join, split, pad, println) plus Go's builtins (index, len, print, printf,
// not, and, or, eq, ne, lt, le, gt, ge).

/** Marks an object as a Go struct: unknown fields are errors, JSON keys sort. */
export const STRUCT = Symbol('berth.template.struct');

export type TemplateData = unknown;
export class TemplateError extends Error {
  override name = 'TemplateError';
}

type Operand =
  | { kind: 'field'; base: 'dot' | Operand; path: string[] }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'nil' }
  | { kind: 'ident'; name: string }
  | { kind: 'pipe'; pipe: Pipeline };
type Command = Operand[];
type Pipeline = Command[];
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with' | 'range'; pipe: Pipeline; body: Node[]; otherwise: Node[] };

type Fn = (...args: unknown[]) => unknown;

// ---------------------------------------------------------------- lexing

interface Action {
  kind: 'text' | 'action';
  text: string;
}

function splitActions(src: string): Action[] {
  const out: Action[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push({ kind: 'text', text: src.slice(i) });
      break;
    }
    let text = src.slice(i, open);
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\t', start) || src.startsWith('-\n', start)) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text) out.push({ kind: 'text', text });
    // Find the closing braces outside string literals.
    let j = start;
    let quote = '';
    for (; j < src.length; j++) {
      const c = src[j];
      if (quote) {
        if (c === '\\' && quote === '"') j++;
        else if (c === quote) quote = '';
      } else if (c === '"' || c === '`') quote = c;
      else if (src.startsWith('}}', j)) break;
    }
    if (j >= src.length) throw new TemplateError('template: :1: unclosed action');
    let body = src.slice(start, j);
    let next = j + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      const m = /^\s*/.exec(src.slice(next));
      next += m ? m[0].length : 0;
    }
    out.push({ kind: 'action', text: body.trim() });
    i = next;
  }
  return out;
}

type Token =
  | { t: 'field'; path: string[] }
  | { t: 'dot' }
  | { t: 'string'; value: string }
  | { t: 'number'; value: number }
  | { t: 'ident'; name: string }
  | { t: 'pipe' }
  | { t: 'lparen' }
  | { t: 'rparen' };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (/\s/.test(c)) {
      i++;
    } else if (c === '|') {
      tokens.push({ t: 'pipe' });
      i++;
    } else if (c === '(') {
      tokens.push({ t: 'lparen' });
      i++;
    } else if (c === ')') {
      tokens.push({ t: 'rparen' });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw new TemplateError('template: :1: unterminated quoted string');
      tokens.push({ t: 'string', value: JSON.parse(text.slice(i, j + 1)) as string });
      i = j + 1;
    } else if (c === '`') {
      const j = text.indexOf('`', i + 1);
      if (j < 0) throw new TemplateError('template: :1: unterminated raw quoted string');
      tokens.push({ t: 'string', value: text.slice(i + 1, j) });
      i = j + 1;
    } else if (c === '.') {
      const m = /^(\.[A-Za-z_][A-Za-z0-9_]*)+/.exec(text.slice(i));
      if (m) {
        tokens.push({ t: 'field', path: m[0].slice(1).split('.') });
        i += m[0].length;
      } else {
        tokens.push({ t: 'dot' });
        i++;
      }
    } else if (/[-+0-9]/.test(c)) {
      const m = /^[-+]?(0x[0-9a-fA-F]+|[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)/.exec(text.slice(i));
      if (!m) throw new TemplateError(`template: :1: bad number syntax: ${JSON.stringify(text.slice(i))}`);
      tokens.push({ t: 'number', value: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i)) as RegExpExecArray;
      tokens.push({ t: 'ident', name: m[0] });
      i += m[0].length;
    } else {
      throw new TemplateError(`template: :1: unexpected ${JSON.stringify(c)} in command`);
    }
  }
  return tokens;
}

// ---------------------------------------------------------------- parsing

function parsePipeline(tokens: Token[], funcs: Record<string, Fn>): Pipeline {
  let pos = 0;
  const pipeline = (): Pipeline => {
    const cmds: Pipeline = [];
    let cmd: Command = [];
    while (pos < tokens.length) {
      const tok = tokens[pos] as Token;
      if (tok.t === 'rparen') break;
      pos++;
      if (tok.t === 'pipe') {
        if (!cmd.length) throw new TemplateError('template: :1: missing command');
        cmds.push(cmd);
        cmd = [];
        continue;
      }
      let operand: Operand;
      switch (tok.t) {
        case 'field':
          operand = { kind: 'field', base: 'dot', path: tok.path };
          break;
        case 'dot':
          operand = { kind: 'field', base: 'dot', path: [] };
          break;
        case 'string':
          operand = { kind: 'string', value: tok.value };
          break;
        case 'number':
          operand = { kind: 'number', value: tok.value };
          break;
        case 'lparen': {
          const inner = pipeline();
          if (tokens[pos]?.t !== 'rparen') throw new TemplateError('template: :1: unclosed left paren');
          pos++;
          operand = { kind: 'pipe', pipe: inner };
          const after = tokens[pos];
          if (after?.t === 'field') {
            pos++;
            operand = { kind: 'field', base: operand, path: after.path };
          }
          break;
        }
        case 'ident':
          if (tok.name === 'true' || tok.name === 'false') operand = { kind: 'bool', value: tok.name === 'true' };
          else if (tok.name === 'nil') operand = { kind: 'nil' };
          else if (!(tok.name in funcs)) throw new TemplateError(`template: :1: function "${tok.name}" not defined`);
          else operand = { kind: 'ident', name: tok.name };
          break;
      }
      cmd.push(operand);
    }
    if (!cmd.length) throw new TemplateError('template: :1: missing value for command');
    cmds.push(cmd);
    return cmds;
  };
  const result = pipeline();
  if (pos < tokens.length) throw new TemplateError('template: :1: unexpected ")"');
  return result;
}

function parse(src: string, funcs: Record<string, Fn>): Node[] {
  const actions = splitActions(src);
  let pos = 0;
  // Parses nodes until {{end}} / {{else}}; returns the terminator seen.
  const list = (): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (pos < actions.length) {
      const a = actions[pos++] as Action;
      if (a.kind === 'text') {
        nodes.push({ kind: 'text', text: a.text });
        continue;
      }
      if (a.text.startsWith('/*')) continue; // comment
      const word = /^[a-z]+/.exec(a.text)?.[0] ?? '';
      if (word === 'end' && a.text === 'end') return { nodes, end: 'end' };
      if (word === 'else') return { nodes, end: a.text };
      if (word === 'if' || word === 'with' || word === 'range') {
        nodes.push(block(word, a.text.slice(word.length)));
        continue;
      }
      nodes.push({ kind: 'action', pipe: parsePipeline(tokenize(a.text), funcs) });
    }
    return { nodes, end: '' };
  };
  const block = (kind: 'if' | 'with' | 'range', rest: string): Node => {
    const pipe = parsePipeline(tokenize(rest), funcs);
    const body = list();
    if (!body.end) throw new TemplateError(`template: :1: unexpected EOF`);
    let otherwise: Node[] = [];
    if (body.end !== 'end') {
      const elseRest = body.end.slice('else'.length).trim();
      if (elseRest.startsWith('if ') && kind === 'if') {
        // {{else if X}} is an {{if}} nested in the else branch, sharing the {{end}}.
        otherwise = [block('if', elseRest.slice(2))];
      } else if (elseRest === '') {
        const tail = list();
        if (tail.end !== 'end') throw new TemplateError('template: :1: expected end; found ' + (tail.end || 'EOF'));
        otherwise = tail.nodes;
      } else {
        throw new TemplateError(`template: :1: unexpected {{${body.end}}}`);
      }
    }
    return { kind, pipe, body: body.nodes, otherwise };
  };
  const top = list();
  if (top.end) throw new TemplateError(`template: :1: unexpected {{${top.end}}}`);
  return top.nodes;
}

// ---------------------------------------------------------------- values

function isStruct(v: unknown): boolean {
  return typeof v === 'object' && v !== null && STRUCT in v;
}

/** Truthiness as Go templates define it: zero values and empty collections are false. */
export function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0 || isStruct(v);
  return true;
}

/** fmt's %v for JSON-shaped values. */
export function printValue(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v); // typed Go fields print as plain numbers
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(printInner).join(' ')}]`;
  if (typeof v === 'object') {
    if (isStruct(v)) return `{${Object.keys(v).map((k) => printInner((v as Record<string, unknown>)[k])).join(' ')}}`;
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${printInner((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
  return String(v);
}
const printInner = (v: unknown): string => (v === undefined || v === null ? '<nil>' : printValue(v));

/** Go's json.Marshal look: HTML-sensitive characters escaped, struct keys sorted. */
export function goJson(v: unknown): string {
  const sortStructs = (_key: string, value: unknown): unknown => {
    if (isStruct(value)) {
      const obj = value as Record<string, unknown>;
      return Object.fromEntries(Object.keys(obj).sort().map((k) => [k, obj[k]]));
    }
    return value;
  };
  const text = JSON.stringify(v === undefined ? null : v, sortStructs) ?? 'null';
  return text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function fieldOf(base: unknown, name: string): unknown {
  if (base === null || base === undefined) {
    throw new TemplateError(`template: :1: nil pointer evaluating interface {}.${name}`);
  }
  if (typeof base !== 'object' || Array.isArray(base)) {
    throw new TemplateError(`template: :1: can't evaluate field ${name} in type ${Array.isArray(base) ? '[]interface {}' : typeof base}`);
  }
  if (Object.prototype.hasOwnProperty.call(base, name)) return (base as Record<string, unknown>)[name];
  if (isStruct(base)) throw new TemplateError(`template: :1: can't evaluate field ${name}`);
  return undefined;
}

// ---------------------------------------------------------------- functions

function toStr(v: unknown): string {
  return typeof v === 'string' ? v : printValue(v);
}

function sprintf(format: string, args: unknown[]): string {
  let i = 0;
  return format.replace(/%([-+ 0#]*)(\d*)(?:\.(\d+))?([vsdqtfx%])/g, (_m, flags: string, width: string, prec: string, verb: string) => {
    if (verb === '%') return '%';
    const arg = args[i++];
    let s: string;
    if (verb === 'q') s = JSON.stringify(toStr(arg));
    else if (verb === 'f') s = Number(arg).toFixed(prec ? Number(prec) : 6);
    else if (verb === 'x') s = typeof arg === 'number' ? arg.toString(16) : Buffer.from(toStr(arg)).toString('hex');
    else s = printValue(arg);
    const w = Number(width || 0);
    return flags.includes('-') ? s.padEnd(w) : s.padStart(w);
  });
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new TemplateError('template: :1: incompatible types for comparison');
}

const BUILTINS: Record<string, Fn> = {
  json: (v) => goJson(v),
  upper: (s) => toStr(s).toUpperCase(),
  lower: (s) => toStr(s).toLowerCase(),
  title: (s) => toStr(s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, pre: string, ch: string) => pre + ch.toUpperCase()),
  truncate: (s, n) => [...toStr(s)].slice(0, Number(n)).join(''),
  join: (list, sep) => (Array.isArray(list) ? list.map(toStr).join(toStr(sep)) : toStr(list)),
  split: (s, sep) => toStr(s).split(toStr(sep)),
  pad: (s, left, right) => ' '.repeat(Number(left)) + toStr(s) + ' '.repeat(Number(right)),
  println: (...args) => args.map(printValue).join(' ') + '\n',
  print: (...args) => args.map(printValue).join(''),
  printf: (format, ...args) => sprintf(toStr(format), args),
  index: (item, ...keys) => {
    let v = item;
    for (const k of keys) {
      if (v === null || v === undefined) throw new TemplateError('template: :1: index of untyped nil');
      if (Array.isArray(v)) {
        const i = Number(k);
        if (!Number.isInteger(i) || i < 0 || i >= v.length) throw new TemplateError(`template: :1: error calling index: index out of range: ${String(k)}`);
        v = v[i];
      } else if (typeof v === 'object') {
        v = (v as Record<string, unknown>)[toStr(k)];
      } else {
        throw new TemplateError(`template: :1: can't index item of type ${typeof v}`);
      }
    }
    return v;
  },
  len: (v) => {
    if (typeof v === 'string' || Array.isArray(v)) return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
    if (v && typeof v === 'object') return Object.keys(v).length;
    throw new TemplateError(`template: :1: error calling len: len of type ${typeof v}`);
  },
  not: (v) => !truthy(v),
  and: (...args) => args.find((a) => !truthy(a)) ?? args[args.length - 1],
  or: (...args) => args.find((a) => truthy(a)) ?? args[args.length - 1],
  eq: (a, ...rest) => rest.some((b) => a === b),
  ne: (a, b) => a !== b,
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
};

/** docker's HeaderFunctions: formatting functions leave header names as they are. */
const HEADER_OVERRIDES: Record<string, Fn> = Object.fromEntries(
  ['json', 'upper', 'lower', 'title', 'truncate', 'join', 'split', 'pad'].map((name) => [name, (v: unknown) => toStr(v)]),
);

// ---------------------------------------------------------------- execution

export class Template {
  readonly #nodes: Node[];
  readonly #funcs: Record<string, Fn>;

  private constructor(nodes: Node[], funcs: Record<string, Fn>) {
    this.#nodes = nodes;
    this.#funcs = funcs;
  }

  /** Parses `source`; throws TemplateError on syntax errors or unknown functions. */
  static parse(source: string): Template {
    return new Template(parse(source, BUILTINS), BUILTINS);
  }

  /** The same template with docker's header functions (used to render table headers). */
  forHeader(): Template {
    return new Template(this.#nodes, { ...this.#funcs, ...HEADER_OVERRIDES });
  }

  execute(data: TemplateData): string {
    let out = '';
    const walk = (nodes: Node[], dot: unknown): void => {
      for (const node of nodes) {
        switch (node.kind) {
          case 'text':
            out += node.text;
            break;
          case 'action':
            out += printValue(this.#pipe(node.pipe, dot));
            break;
          case 'if': {
            const v = this.#pipe(node.pipe, dot);
            walk(truthy(v) ? node.body : node.otherwise, dot);
            break;
          }
          case 'with': {
            const v = this.#pipe(node.pipe, dot);
            if (truthy(v)) walk(node.body, v);
            else walk(node.otherwise, dot);
            break;
          }
          case 'range': {
            const v = this.#pipe(node.pipe, dot);
            const items = Array.isArray(v)
              ? v
              : v && typeof v === 'object'
                ? Object.keys(v)
                    .sort()
                    .map((k) => (v as Record<string, unknown>)[k])
                : typeof v === 'number'
                  ? Array.from({ length: v }, (_x, i) => i)
                  : v === undefined || v === null
                    ? []
                    : (() => {
                        throw new TemplateError(`template: :1: range can't iterate over ${printValue(v)}`);
                      })();
            if (items.length === 0) walk(node.otherwise, dot);
            for (const item of items) walk(node.body, item);
            break;
          }
        }
      }
    };
    walk(this.#nodes, data);
    return out;
  }

  #pipe(pipe: Pipeline, dot: unknown): unknown {
    let previous: unknown;
    let hasPrevious = false;
    for (const cmd of pipe) {
      const args = hasPrevious ? [...cmd, { kind: 'pipe-value' as const }] : cmd;
      previous = this.#command(args, dot, previous);
      hasPrevious = true;
    }
    return previous;
  }

  #command(cmd: Array<Operand | { kind: 'pipe-value' }>, dot: unknown, piped: unknown): unknown {
    const [first, ...rest] = cmd;
    const evalArg = (op: Operand | { kind: 'pipe-value' }): unknown => {
      if (op.kind === 'pipe-value') return piped;
      if (op.kind === 'ident') return this.#call(op.name, [], dot);
      return this.#operand(op, dot);
    };
    if (first && first.kind === 'ident') {
      return this.#call(first.name, rest.map(evalArg), dot);
    }
    if (rest.length > 0) {
      throw new TemplateError(`template: :1: can't give argument to non-function ${first ? printOperand(first) : ''}`);
    }
    return first ? evalArg(first) : undefined;
  }

  #call(name: string, args: unknown[], _dot: unknown): unknown {
    const fn = this.#funcs[name];
    if (!fn) throw new TemplateError(`template: :1: function "${name}" not defined`);
    return fn(...args);
  }

  #operand(op: Operand, dot: unknown): unknown {
    switch (op.kind) {
      case 'string':
      case 'number':
      case 'bool':
        return op.value;
      case 'nil':
        return null;
      case 'ident':
        return this.#call(op.name, [], dot);
      case 'pipe':
        return this.#pipe(op.pipe, dot);
      case 'field': {
        let v = op.base === 'dot' ? dot : this.#operand(op.base, dot);
        for (const name of op.path) v = fieldOf(v, name);
        return v;
      }
    }
  }
}

function printOperand(op: Operand | { kind: 'pipe-value' }): string {
  if (op.kind === 'field') return '.' + op.path.join('.');
  if (op.kind === 'string') return JSON.stringify(op.value);
  if (op.kind === 'number' || op.kind === 'bool') return String(op.value);
  return op.kind;
}

/** Parses and executes in one step. */
export function renderTemplate(source: string, data: TemplateData): string {
  return Template.parse(source).execute(data);
}
