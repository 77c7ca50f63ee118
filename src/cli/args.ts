// A docker/cobra-style flag parser: long flags (--name value, --name=value),
// short flags and bundles (-aq, -ofile, -o file), repeatable flags, flags
// anywhere among the arguments, and `--` to end flags.

export type FlagType = 'bool' | 'string' | 'strings';

export interface FlagSpec {
  name: string;
  short?: string;
  type: FlagType;
  description: string;
  /** Placeholder shown in help ("string", "list"...). */
  placeholder?: string;
  /** Default for string flags; bools default to false, lists to []. */
  default?: string | boolean;
  hidden?: boolean;
}

export type FlagValues = Record<string, boolean | string | string[]>;

export interface Parsed {
  flags: FlagValues;
  args: string[];
  help: boolean;
}

/** A usage mistake: printed with the command's usage, exit code 125 for flags, 1 for arguments (as docker). */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly exitCode = 125,
  ) {
    super(message);
  }
}

const BOOL_TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const BOOL_FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

function parseBool(flag: string, value: string): boolean {
  if (BOOL_TRUE.has(value)) return true;
  if (BOOL_FALSE.has(value)) return false;
  throw new UsageError(`invalid argument "${value}" for "${flag}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
}

export interface ParseOptions {
  /** Stop at the first positional argument (global flags before the command). */
  stopAtPositional?: boolean;
}

export function parseArgs(specs: readonly FlagSpec[], argv: readonly string[], options: ParseOptions = {}): Parsed & { rest: string[] } {
  const flags: FlagValues = {};
  for (const s of specs) flags[s.name] = s.type === 'bool' ? s.default === true : s.type === 'strings' ? [] : ((s.default as string | undefined) ?? '');
  const args: string[] = [];
  let help = false;
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));

  const set = (spec: FlagSpec, value: string | boolean): void => {
    if (spec.type === 'bool') flags[spec.name] = value;
    else if (spec.type === 'strings') (flags[spec.name] as string[]).push(String(value));
    else flags[spec.name] = String(value);
  };

  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      args.push(...argv.slice(i + 1));
      i = argv.length;
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      const spec = byLong.get(name);
      if (!spec) {
        if (name === 'help') {
          help = true;
          continue;
        }
        throw new UsageError(`unknown flag: --${name}`);
      }
      if (spec.type === 'bool') {
        set(spec, inline === undefined ? true : parseBool(name, inline));
      } else if (inline !== undefined) {
        set(spec, inline);
      } else {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: --${name}`);
        set(spec, argv[++i] as string);
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // A bundle: each letter is a bool, until one takes a value (the rest, or the next argument).
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j] as string;
        const spec = byShort.get(letter);
        if (!spec) {
          if (letter === 'h') {
            help = true;
            continue;
          }
          throw new UsageError(`unknown shorthand flag: '${letter}' in ${arg}`);
        }
        if (spec.type === 'bool') {
          if (arg[j + 1] === '=') {
            set(spec, parseBool(spec.name, arg.slice(j + 2)));
            break;
          }
          set(spec, true);
          continue;
        }
        let value = arg.slice(j + 1);
        if (value.startsWith('=')) value = value.slice(1);
        if (value === '') {
          if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: '${letter}' in -${letter}`);
          value = argv[++i] as string;
        }
        set(spec, value);
        break;
      }
      continue;
    }
    if (options.stopAtPositional) break;
    args.push(arg);
  }
  return { flags, args, help, rest: argv.slice(i) as string[] };
}

/** Help text for flags, aligned like cobra's. */
export function flagUsages(specs: readonly FlagSpec[]): string {
  const rows = specs
    .filter((s) => !s.hidden)
    .map((s) => {
      const names = s.short ? `-${s.short}, --${s.name}` : `    --${s.name}`;
      const placeholder = s.type === 'bool' ? '' : ` ${s.placeholder ?? (s.type === 'strings' ? 'list' : 'string')}`;
      const def = s.type === 'string' && s.default ? ` (default "${s.default}")` : '';
      return [`  ${names}${placeholder}`, `${s.description}${def}`] as const;
    });
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${left.padEnd(width)}   ${right.replaceAll('\n', '\n' + ' '.repeat(width + 3))}`).join('\n');
}
