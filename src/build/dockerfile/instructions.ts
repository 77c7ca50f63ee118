// Parsed nodes → typed instructions and stages, a port of BuildKit's
// instructions package: per-instruction flags, argument counts and messages.
import { DockerfileError } from './errors.js';
import { goQuote, parseGoDuration } from './gofmt.js';
import { chompHeredocContent, lineArgs, parseHeredocWord } from './parser.js';
import type {
  ArgDecl,
  DockerfileNode,
  DockerfileProgram,
  HealthcheckSpec,
  Heredoc,
  Instruction,
  KeyValue,
  ParsedDockerfile,
  ShellOrExec,
  Stage,
} from './types.js';

/** 1ms: docker's container.MinimumDuration for healthcheck intervals */
const MINIMUM_DURATION_NS = 1_000_000;
const VALID_STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

type FlagType = 'bool' | 'string' | 'strings';
interface Flag {
  type: FlagType;
  value?: string;
  values: string[];
  used: boolean;
}

/** An instruction's declared flags, parsed from the node's --name=value words (BuildKit BFlags). */
class BuilderFlags {
  readonly #flags = new Map<string, Flag>();
  constructor(private readonly args: string[]) {}

  #add(name: string, type: FlagType): Flag {
    const flag: Flag = { type, values: [], used: false };
    this.#flags.set(name, flag);
    return flag;
  }
  bool(name: string): Flag {
    return this.#add(name, 'bool');
  }
  string(name: string): Flag {
    return this.#add(name, 'string');
  }
  strings(name: string): Flag {
    return this.#add(name, 'strings');
  }

  parse(): void {
    for (const a of this.args) {
      if (a === '--') return; // end of options
      if (!a.startsWith('--')) throw new Error(`arg should start with -- : ${a}`);
      const eq = a.indexOf('=');
      const flagName = eq < 0 ? a : a.slice(0, eq);
      const hasValue = eq >= 0;
      const value = hasValue ? a.slice(eq + 1) : '';
      const flag = this.#flags.get(flagName.slice(2));
      if (!flag) throw new Error(`unknown flag: ${flagName}`);
      if (flag.used && flag.type !== 'strings') throw new Error(`duplicate flag specified: ${flagName}`);
      flag.used = true;
      switch (flag.type) {
        case 'bool': {
          if (hasValue && value === '') throw new Error(`missing a value on flag: ${flagName}`);
          const lower = value.toLowerCase();
          if (lower === '' || lower === 'true') flag.value = 'true';
          else if (lower === 'false') flag.value = 'false';
          else throw new Error(`expecting boolean value for flag ${flagName}, not: ${value}`);
          break;
        }
        case 'string':
          if (!hasValue) throw new Error(`missing a value on flag: ${flagName}`);
          flag.value = value;
          break;
        case 'strings':
          if (!hasValue) throw new Error(`missing a value on flag: ${flagName}`);
          flag.values.push(value);
          break;
      }
    }
  }
}

interface Request {
  node: DockerfileNode;
  keyword: string;
  written: string;
  args: string[];
  json: boolean;
  flags: BuilderFlags;
}

const atLeastOne = (cmd: string) => new Error(`${cmd} requires at least one argument`);
const exactlyOne = (cmd: string) => new Error(`${cmd} requires exactly one argument`);
const blankNames = (cmd: string) => new Error(`${cmd} names can not be blank`);
const noDestination = (cmd: string) =>
  new Error(`${cmd} requires at least two arguments, but only one was provided. Destination could not be determined`);

/** Exec form when JSON, else the words joined into one shell command (BuildKit handleJSONArgs). */
function shellOrExec(req: Request): ShellOrExec {
  if (req.json) return { form: 'exec', argv: [...req.args] };
  return { form: 'shell', command: req.args.join(' ') };
}

function kvPairs(args: string[], cmd: string): KeyValue[] {
  if (args.length === 0) throw atLeastOne(cmd);
  if (args.length % 2 !== 0) throw new Error(`Bad input to ${cmd}, too many arguments`);
  const out: KeyValue[] = [];
  for (let i = 0; i < args.length; i += 2) {
    if (args[i].length === 0) throw blankNames(cmd);
    out.push({ key: args[i], value: args[i + 1] });
  }
  return out;
}

function optInterval(name: string, flag: Flag): number {
  const s = flag.value ?? '';
  if (s === '') return 0;
  const d = parseGoDuration(s);
  if (d === 0) return 0;
  if (d < MINIMUM_DURATION_NS) throw new Error(`Interval ${goQuote(name)} cannot be less than 1ms`);
  return d;
}

function parseHealthcheck(req: Request): HealthcheckSpec {
  if (req.args.length === 0) throw atLeastOne('HEALTHCHECK');
  const type = req.args[0].toUpperCase();
  const rest = req.args.slice(1);
  const none: HealthcheckSpec = { test: [], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 };
  if (type === 'NONE') {
    if (rest.length !== 0) throw new Error('HEALTHCHECK NONE takes no arguments');
    return { ...none, test: ['NONE'] };
  }
  const interval = req.flags.string('interval');
  const timeout = req.flags.string('timeout');
  const startPeriod = req.flags.string('start-period');
  const startInterval = req.flags.string('start-interval');
  const retries = req.flags.string('retries');
  req.flags.parse();
  if (type !== 'CMD') throw new Error(`Unknown type ${goQuote(type)} in HEALTHCHECK (try CMD)`);
  const cmd = req.json ? rest : rest.length === 0 ? [] : [rest.join(' ')];
  if (cmd.length === 0) throw new Error('Missing command after HEALTHCHECK CMD');
  const spec: HealthcheckSpec = {
    test: [req.json ? 'CMD' : 'CMD-SHELL', ...cmd],
    interval: optInterval('interval', interval),
    timeout: optInterval('timeout', timeout),
    startPeriod: optInterval('start-period', startPeriod),
    startInterval: optInterval('start-interval', startInterval),
    retries: 0,
  };
  const r = retries.value ?? '';
  if (r !== '') {
    if (!/^[+-]?\d+$/.test(r) || Math.abs(Number(r)) > 2 ** 31 - 1) {
      throw new Error(`strconv.ParseInt: parsing ${goQuote(r)}: ${/^[+-]?\d+$/.test(r) ? 'value out of range' : 'invalid syntax'}`);
    }
    const n = Number(r);
    if (n < 0) throw new Error(`--retries cannot be negative (${n})`);
    spec.retries = n;
  }
  return spec;
}

/** COPY/ADD sources and destination; heredoc sources become inline files. */
function sourcesAndDest(req: Request, cmd: string): { sources: string[]; dest: string; heredocs: Heredoc[] } {
  const srcs = req.args.slice(0, -1);
  const dest = req.args[req.args.length - 1];
  if (parseHeredocWord(dest)) throw new Error(`${cmd} cannot accept a heredoc as a destination`);
  const byName = new Map(req.node.heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const heredocs: Heredoc[] = [];
  for (const src of srcs) {
    const word = parseHeredocWord(src);
    if (!word) {
      sources.push(src);
      continue;
    }
    const doc = byName.get(word.name);
    const raw = doc?.raw ?? doc?.content ?? '';
    heredocs.push({ ...word, content: word.chomp ? chompHeredocContent(raw) : raw, raw });
  }
  return { sources, dest, heredocs };
}

type Base = { line: number; endLine: number; original: string };
type ParsedItem = { stage: Omit<Stage, 'index' | 'instructions'> } | { instruction: Instruction };

function parseInstruction(req: Request, warnings: string[]): ParsedItem {
  const base: Base = { line: req.node.startLine, endLine: req.node.endLine, original: req.node.original };
  const { args, flags } = req;
  switch (req.keyword) {
    case 'from': {
      let name: string | undefined;
      if (args.length === 3 && args[1].toLowerCase() === 'as') {
        name = args[2].toLowerCase();
        if (!VALID_STAGE_NAME.test(name)) {
          throw new Error(`invalid name for build stage: ${goQuote(args[2])}, name can't start with a number or contain symbols`);
        }
      } else if (args.length !== 1) {
        throw new Error('FROM requires either one or three arguments');
      }
      const platform = flags.string('platform');
      flags.parse();
      const stage: Omit<Stage, 'index' | 'instructions'> = { base: args[0], line: base.line, original: req.node.original.trim() };
      if (name !== undefined) stage.name = name;
      if (platform.value) stage.platform = platform.value;
      return { stage };
    }
    case 'arg': {
      // BuildKit does not parse ARG's flags: they are ignored
      if (args.length < 1) throw atLeastOne('ARG');
      const decls: ArgDecl[] = args.map((a) => {
        const eq = a.indexOf('=');
        if (eq < 0) return { key: a };
        if (eq === 0) throw blankNames('ARG');
        return { key: a.slice(0, eq), value: a.slice(eq + 1) };
      });
      return { instruction: { ...base, kind: 'arg', args: decls } };
    }
    case 'env':
      flags.parse();
      return { instruction: { ...base, kind: 'env', pairs: kvPairs(args, 'ENV') } };
    case 'label':
      flags.parse();
      return { instruction: { ...base, kind: 'label', pairs: kvPairs(args, 'LABEL') } };
    case 'maintainer':
      if (args.length !== 1) throw exactlyOne('MAINTAINER');
      flags.parse();
      warnings.push(`MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label (line ${base.line})`);
      return { instruction: { ...base, kind: 'maintainer', name: args[0] } };
    case 'add':
    case 'copy': {
      const cmd = req.keyword.toUpperCase();
      if (args.length < 2) throw noDestination(cmd);
      const isAdd = req.keyword === 'add';
      const chown = flags.string('chown');
      const chmod = flags.string('chmod');
      const link = flags.bool('link');
      const exclude = flags.strings('exclude');
      const from = isAdd ? undefined : flags.string('from');
      const parents = isAdd ? undefined : flags.bool('parents');
      const keepGitDir = isAdd ? flags.bool('keep-git-dir') : undefined;
      const checksum = isAdd ? flags.string('checksum') : undefined;
      flags.parse();
      const inst: Instruction = {
        ...base,
        kind: req.keyword,
        ...sourcesAndDest(req, cmd),
        link: link.value === 'true',
        excludes: exclude.values,
        parents: parents?.value === 'true',
      };
      if (chown.value) inst.chown = chown.value;
      if (chmod.value) inst.chmod = chmod.value;
      if (from?.value) inst.from = from.value;
      if (checksum?.value) inst.checksum = checksum.value;
      if (keepGitDir) inst.keepGitDir = keepGitDir.value === 'true';
      return { instruction: inst };
    }
    case 'onbuild': {
      if (args.length === 0) throw atLeastOne('ONBUILD');
      flags.parse();
      const trigger = args[0].trim().toUpperCase();
      if (trigger === 'ONBUILD') throw new Error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new Error(`${trigger} isn't allowed as an ONBUILD trigger`);
      let expression = req.node.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const h of req.node.heredocs) expression += '\n' + (h.raw ?? h.content) + h.name;
      return { instruction: { ...base, kind: 'onbuild', trigger: expression } };
    }
    case 'workdir':
      if (args.length !== 1) throw exactlyOne('WORKDIR');
      flags.parse();
      return { instruction: { ...base, kind: 'workdir', path: args[0] } };
    case 'run': {
      const mount = flags.strings('mount');
      const network = flags.string('network');
      const security = flags.string('security');
      flags.parse();
      const inst: Instruction = { ...base, kind: 'run', command: shellOrExec(req), heredocs: req.node.heredocs, mounts: mount.values };
      if (network.used) {
        if (!['default', 'none', 'host'].includes(network.value ?? '')) {
          throw new Error(`unsupported network mode ${goQuote(network.value ?? '')}`);
        }
        inst.network = network.value;
      }
      if (security.used) {
        if (!['sandbox', 'insecure'].includes(security.value ?? '')) {
          throw new Error(`unsupported security mode ${goQuote(security.value ?? '')}`);
        }
        inst.security = security.value;
      }
      return { instruction: inst };
    }
    case 'cmd':
      flags.parse();
      return { instruction: { ...base, kind: 'cmd', command: shellOrExec(req) } };
    case 'entrypoint':
      flags.parse();
      return { instruction: { ...base, kind: 'entrypoint', command: shellOrExec(req) } };
    case 'healthcheck':
      return { instruction: { ...base, kind: 'healthcheck', check: parseHealthcheck(req) } };
    case 'expose':
      if (args.length === 0) throw atLeastOne('EXPOSE');
      flags.parse();
      return { instruction: { ...base, kind: 'expose', ports: [...args].sort() } };
    case 'user':
      if (args.length !== 1) throw exactlyOne('USER');
      flags.parse();
      return { instruction: { ...base, kind: 'user', user: args[0] } };
    case 'volume': {
      if (args.length === 0) throw atLeastOne('VOLUME');
      flags.parse();
      const paths = args.map((v) => v.trim());
      if (paths.some((v) => v === '')) throw new Error('VOLUME specified can not be an empty string');
      return { instruction: { ...base, kind: 'volume', paths } };
    }
    case 'stopsignal':
      // BuildKit does not parse STOPSIGNAL's flags either
      if (args.length !== 1) throw exactlyOne('STOPSIGNAL');
      return { instruction: { ...base, kind: 'stopsignal', signal: args[0] } };
    case 'shell': {
      flags.parse();
      if (args.length === 0) throw atLeastOne('SHELL');
      if (!req.json) throw new Error('SHELL requires the arguments to be in JSON form');
      return { instruction: { ...base, kind: 'shell', shell: [...args] } };
    }
    default:
      throw new Error(`unknown instruction: ${req.written}`);
  }
}

/** Typed stages and meta ARGs from parsed nodes. Throws DockerfileError with the instruction's line. */
export function buildProgram(parsed: ParsedDockerfile): DockerfileProgram {
  const escape = parsed.directives.escape;
  const stages: Stage[] = [];
  const metaArgs: DockerfileProgram['metaArgs'] = [];
  const warnings = [...parsed.warnings];
  for (const node of parsed.nodes) {
    const fail = (err: unknown): never => {
      throw new DockerfileError(node.startLine, err instanceof Error ? err.message : String(err), {
        endLine: node.endLine,
        cause: err,
      });
    };
    let item: ParsedItem;
    try {
      const { args, json } = node.args ? { args: node.args, json: node.json } : lineArgs(node.keyword, node.rest, escape);
      const written = node.written ?? node.original.trim().split(/[\t\v\f\r ]+/)[0];
      item = parseInstruction(
        { node, keyword: node.keyword, written, args, json: json !== null, flags: new BuilderFlags(node.flags) },
        warnings,
      );
    } catch (err) {
      return fail(err);
    }
    if ('stage' in item) {
      stages.push({ ...item.stage, index: stages.length, instructions: [] });
      continue;
    }
    const inst = item.instruction;
    if (stages.length === 0) {
      if (inst.kind === 'arg') {
        metaArgs.push(inst);
        continue;
      }
      fail(new Error('no build stage in current context'));
    }
    stages[stages.length - 1].instructions.push(inst);
  }
  return { directives: parsed.directives, metaArgs, stages, warnings };
}
