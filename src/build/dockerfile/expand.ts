// docker's substitution rules per instruction: which fields are expanded with
// the environment of the moment (ENV and ARG values seen so far), and which
// are left for the shell (RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK) or for
// later (ONBUILD triggers, expanded when they fire).
import { DockerfileError, ShellLexError } from './errors.js';
import { ShellLex, type EnvLookup, type ProcessResult } from './lexer.js';
import type { Heredoc, Instruction, Stage } from './types.js';

type Escape = '\\' | '`';

export interface Expansion<T> {
  instruction: T;
  /** every variable name referenced, set or not (for the builder's cache key) */
  used: Set<string>;
  /** the referenced names that were unset */
  unset: Set<string>;
}

class Expander {
  readonly used = new Set<string>();
  readonly unset = new Set<string>();
  readonly #lex: ShellLex;
  readonly #heredocLex = new ShellLex({ escape: '\\', skipProcessQuotes: true });

  constructor(
    private readonly env: EnvLookup,
    escape: Escape,
  ) {
    this.#lex = new ShellLex({ escape });
  }

  #note(r: ProcessResult): ProcessResult {
    for (const n of r.matched) this.used.add(n);
    for (const n of r.unmatched) {
      this.used.add(n);
      this.unset.add(n);
    }
    return r;
  }

  word(s: string): string {
    return this.#note(this.#lex.process(s, this.env)).result;
  }

  words(s: string): string[] {
    return this.#note(this.#lex.process(s, this.env)).words;
  }

  optional(s: string | undefined): string | undefined {
    return s === undefined ? undefined : this.word(s);
  }

  /** COPY <<EOF bodies: variables only, quotes kept (BuildKit ExpandRaw) */
  heredoc(h: Heredoc): Heredoc {
    if (!h.expand) return h;
    return { ...h, content: this.#note(this.#heredocLex.process(h.content, this.env)).result };
  }
}

function expandWith(inst: Instruction, x: Expander): Instruction {
  switch (inst.kind) {
    case 'arg':
      return { ...inst, args: inst.args.map((a) => ({ key: x.word(a.key), ...(a.value === undefined ? {} : { value: x.word(a.value) }) })) };
    case 'env':
    case 'label':
      return { ...inst, pairs: inst.pairs.map((p) => ({ key: x.word(p.key), value: x.word(p.value) })) };
    case 'copy':
    case 'add': {
      const out = {
        ...inst,
        sources: inst.sources.map((s) => x.word(s)),
        dest: x.word(inst.dest),
        heredocs: inst.heredocs.map((h) => x.heredoc(h)),
        excludes: inst.excludes.map((e) => x.word(e)),
      };
      if (inst.chown !== undefined) out.chown = x.word(inst.chown);
      if (inst.chmod !== undefined) out.chmod = x.word(inst.chmod);
      if (inst.from !== undefined) out.from = x.word(inst.from);
      if (inst.checksum !== undefined) out.checksum = x.word(inst.checksum);
      return out;
    }
    case 'expose':
      return { ...inst, ports: inst.ports.flatMap((p) => x.words(p)) };
    case 'volume':
      return { ...inst, paths: inst.paths.map((p) => x.word(p)) };
    case 'workdir':
      return { ...inst, path: x.word(inst.path) };
    case 'user':
      return { ...inst, user: x.word(inst.user) };
    case 'stopsignal':
      return { ...inst, signal: x.word(inst.signal) };
    case 'run':
    case 'cmd':
    case 'entrypoint':
    case 'shell':
    case 'healthcheck':
    case 'onbuild':
    case 'maintainer':
      return inst;
  }
}

const withLine = (err: unknown, line: number, endLine: number): never => {
  if (err instanceof ShellLexError) throw new DockerfileError(line, err.message, { endLine, cause: err });
  throw err;
};

/**
 * Applies ${VAR} substitution where docker does (ADD COPY ENV EXPOSE LABEL
 * STOPSIGNAL USER VOLUME WORKDIR, ARG names and defaults), removing quotes as
 * it goes. Lexer errors become DockerfileError on the instruction's line.
 */
export function expandInstruction<T extends Instruction>(inst: T, env: EnvLookup, escape: Escape): Expansion<T> {
  const x = new Expander(env, escape);
  try {
    return { instruction: expandWith(inst, x) as T, used: x.used, unset: x.unset };
  } catch (err) {
    return withLine(err, inst.line, inst.endLine);
  }
}

/**
 * FROM's image and --platform expanded with the meta ARGs (ARGs before the
 * first FROM, after build-arg overrides). Throws when the name comes out blank.
 */
export function expandBaseName(
  stage: Pick<Stage, 'base' | 'platform' | 'line'>,
  metaArgs: EnvLookup | Map<string, string | undefined>,
  escape: Escape = '\\',
): { base: string; platform?: string; used: Set<string> } {
  const env: EnvLookup = metaArgs instanceof Map ? (n) => metaArgs.get(n) : metaArgs;
  const x = new Expander(env, escape);
  try {
    const base = x.word(stage.base);
    if (base === '') throw new DockerfileError(stage.line, `base name (${stage.base}) should not be blank`);
    const platform = stage.platform === undefined ? undefined : x.word(stage.platform);
    return platform === undefined ? { base, used: x.used } : { base, platform, used: x.used };
  } catch (err) {
    return withLine(err, stage.line, stage.line);
  }
}

/**
 * The meta ARG values in scope for FROM lines: each ARG before the first FROM,
 * its default expanded with the ARGs before it; a build arg (--build-arg)
 * overrides the default. Names without a value map to undefined.
 */
export function resolveMetaArgs(
  metaArgs: readonly { args: { key: string; value?: string }[]; line: number; endLine: number }[],
  buildArgs: Readonly<Record<string, string | null | undefined>>,
  escape: Escape = '\\',
  predefined: EnvLookup = () => undefined,
): Map<string, string | undefined> {
  const scope = new Map<string, string | undefined>();
  const lookup: EnvLookup = (n) => (scope.has(n) ? scope.get(n) : predefined(n));
  for (const inst of metaArgs) {
    for (const a of inst.args) {
      let value: string | undefined;
      try {
        const key = new Expander(lookup, escape).word(a.key);
        const given = Object.prototype.hasOwnProperty.call(buildArgs, key) ? buildArgs[key] : undefined;
        if (typeof given === 'string') value = given;
        else if (a.value !== undefined) value = new Expander(lookup, escape).word(a.value);
        else value = predefined(key);
        scope.set(key, value);
      } catch (err) {
        withLine(err, inst.line, inst.endLine);
      }
    }
  }
  return scope;
}
