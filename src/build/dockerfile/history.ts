// The image history "created_by" BuildKit records per instruction
// (dockerfile2llb commitToHistory callers), so `docker history` of a berth
// image reads like one built by docker.
import { formatGoDuration, goQuote, goQuoteRune, goQuoteSlice, goSlice } from './gofmt.js';
import { parseHeredocWord } from './parser.js';
import type { Instruction } from './types.js';

export interface HistoryOptions {
  /** the SHELL in effect (default ["/bin/sh", "-c"]) */
  shell?: readonly string[];
  /** RUN: every ARG in scope with its effective value (BuildKit's "|2 A=1 B=2" prefix); undefined values print empty */
  buildArgs?: readonly { key: string; value?: string }[];
  /** WORKDIR: the resolved absolute directory (BuildKit records that, not the argument) */
  workdir?: string;
}

export interface HistoryEntry {
  createdBy: string;
  /** true when the instruction adds no layer */
  emptyLayer: boolean;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** RUN's argv as BuildKit executes it, heredocs folded in like dispatchRun. */
export function runArgv(inst: Extract<Instruction, { kind: 'run' }>, shell: readonly string[] = DEFAULT_SHELL): string[] {
  if (inst.command.form === 'exec') return [...inst.command.argv];
  let args = [inst.command.command];
  if (inst.heredocs.length > 0) {
    const single = parseHeredocWord(inst.command.command);
    const first = inst.heredocs[0];
    if (single) {
      // one bare heredoc: a script with a shebang runs as a file, else its text runs in the shell
      args = first.content.startsWith('#!') ? [`/dev/pipes/${first.name}`] : [first.content];
    } else {
      let full = inst.command.command;
      for (const h of inst.heredocs) full += '\n' + (h.raw ?? h.content) + h.name;
      args = [full];
    }
  }
  return [...shell, args.join(' ')];
}

function exposeMap(ports: readonly string[]): string {
  const keys = new Set<string>();
  for (const spec of ports) {
    // [ip:[hostPort]:]containerPort[/proto]; only the container side is exposed
    const [portPart, protoPart] = spec.split('/', 2);
    const proto = (protoPart || 'tcp').toLowerCase();
    const container = portPart.split(':').pop() ?? portPart;
    const range = /^(\d+)-(\d+)$/.exec(container);
    if (range) {
      for (let p = Number(range[1]); p <= Number(range[2]); p++) keys.add(`${p}/${proto}`);
    } else {
      keys.add(`${container}/${proto}`);
    }
  }
  const sorted = [...keys].sort();
  return `map[${sorted.map((k) => `${k}:{}`).join(' ')}]`;
}

/** The history entry BuildKit writes for an (expanded) instruction; undefined for ONBUILD, which records none. */
export function historyEntry(inst: Instruction, opts: HistoryOptions = {}): HistoryEntry | undefined {
  const shell = opts.shell && opts.shell.length > 0 ? opts.shell : DEFAULT_SHELL;
  const withShell = (c: Extract<Instruction, { kind: 'cmd' | 'entrypoint' }>['command']) =>
    c.form === 'exec' ? c.argv : [...shell, c.command];
  switch (inst.kind) {
    case 'run': {
      const env = (opts.buildArgs ?? []).map((a) => `${a.key}=${a.value ?? ''}`);
      const prefix = env.length > 0 ? [`|${env.length}`, ...env] : [];
      return { createdBy: `RUN ${[...prefix, ...runArgv(inst, shell)].join(' ')} # buildkit`, emptyLayer: false };
    }
    case 'copy':
    case 'add': {
      const parts = [inst.kind.toUpperCase()];
      if (inst.parents) parts.push('--parents');
      if (inst.chown) parts.push(`--chown=${inst.chown}`);
      if (inst.chmod) parts.push(`--chmod=${inst.chmod}`);
      parts.push(...inst.sources, ...inst.heredocs.map((h) => `<<${h.name}`), inst.dest);
      return { createdBy: `${parts.join(' ')} # buildkit`, emptyLayer: false };
    }
    case 'env':
    case 'label':
      return { createdBy: [inst.kind.toUpperCase(), ...inst.pairs.map((p) => `${p.key}=${p.value}`)].join(' '), emptyLayer: true };
    case 'arg':
      return { createdBy: 'ARG ' + inst.args.map((a) => (a.value === undefined ? a.key : `${a.key}=${a.value}`)).join(' '), emptyLayer: true };
    case 'workdir': {
      const wd = opts.workdir ?? inst.path;
      return { createdBy: `WORKDIR ${wd}`, emptyLayer: wd === '/' };
    }
    case 'user':
      return { createdBy: `USER ${inst.user}`, emptyLayer: true };
    case 'expose':
      return { createdBy: `EXPOSE ${exposeMap(inst.ports)}`, emptyLayer: true };
    case 'volume':
      return { createdBy: `VOLUME ${goSlice(inst.paths)}`, emptyLayer: true };
    case 'cmd':
    case 'entrypoint':
      return { createdBy: `${inst.kind.toUpperCase()} ${goQuoteSlice(withShell(inst.command))}`, emptyLayer: true };
    case 'shell':
      return { createdBy: `SHELL ${goSlice(inst.shell)}`, emptyLayer: true };
    case 'stopsignal':
      return { createdBy: `STOPSIGNAL ${inst.signal}`, emptyLayer: true };
    case 'healthcheck': {
      const c = inst.check;
      const d = (ns: number) => goQuote(formatGoDuration(ns));
      const body = [goQuoteSlice(c.test), d(c.interval), d(c.timeout), d(c.startPeriod), d(c.startInterval), goQuoteRune(c.retries)];
      return { createdBy: `HEALTHCHECK &{${body.join(' ')}}`, emptyLayer: true };
    }
    case 'maintainer':
      return { createdBy: `MAINTAINER ${inst.name}`, emptyLayer: true };
    case 'onbuild':
      return undefined;
  }
}

/**
 * The `created_by` string for an (expanded) instruction. ONBUILD, for which
 * BuildKit records no entry, gives "ONBUILD <trigger>"; use historyEntry to
 * know whether to record one at all.
 */
export function formatCreatedBy(inst: Instruction, opts: HistoryOptions = {}): string {
  return historyEntry(inst, opts)?.createdBy ?? `ONBUILD ${inst.kind === 'onbuild' ? inst.trigger : ''}`;
}
