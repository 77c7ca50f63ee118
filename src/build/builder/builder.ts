// The builder: a Dockerfile and a context in, an image out. Each stage runs
// its instructions in order on a state (the last committed image, the config
// so far, the stage's ARGs); RUN runs a container and commits its writable
// layer, COPY/ADD write into a container's rootfs and commit that, everything
// else only changes the config. Stages run as soon as the stages they read
// from are done, so independent stages build concurrently.
//
// The cache key of a step chains the key of the step before, the instruction
// after expansion, the ARG values it sees and, for COPY/ADD, a checksum of the
// content it reads; a hit reuses the image the step committed before. Images
// carry their parent, so intermediate ones stay hidden and prune with their
// final image (see docs/ARCHITECTURE.md).
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { createHash, randomBytes } from 'node:crypto';
import { BerthError, invalidArgument, isCode, notFound } from '../../errors/index.js';
import type { Logger } from '../../util/index.js';
import type { Db } from '../../db/index.js';
import type { CommitOptions, ImageConfig, ImageConfigBody, PullOptions, DeleteItem, LayerWorkspace } from '../../image/index.js';
import type { ContainerService, CreateRequest, RootfsView } from '../../container/index.js';
import { unmountBelow } from '../../storage/index.js';
import { parseReference, familiarName } from '../../reference/index.js';
import {
  parseDockerfile,
  buildProgram,
  expandInstruction,
  DockerfileError,
  formatCreatedBy,
  historyEntry,
  runArgv as dockerfileRunArgv,
  resolveMetaArgs,
  expandBaseName,
  type DockerfileProgram,
  type Instruction,
  type Stage,
  type Heredoc,
} from '../dockerfile/index.js';
import { openContext, resolveSources, checksumSources, copyInto, resolveChown, fetchUrl, type SourceMatch } from '../context/index.js';
import type { BuildMessage, BuildRequest, BuildCachePruneReport } from '../types.js';
import { BuildCache } from './cache.js';
import { Reporter, type StepHandle } from './report.js';

/** The image operations a build needs (ImageStore has them). */
export interface BuilderImages {
  resolve(nameOrId: string): { id: string };
  config(id: `sha256:${string}`): Promise<ImageConfig>;
  pull(ref: string, opts?: PullOptions): Promise<{ id: string }>;
  commit(opts: CommitOptions): Promise<string>;
  tag(source: string, repo: string, tag?: string): Promise<void>;
  remove(nameOrId: string, opts?: { force?: boolean; noprune?: boolean }): Promise<DeleteItem[]>;
  diskUsage(): Promise<{ LayersSize: number }>;
  inspect(nameOrId: string): Promise<{ RepoTags: string[] }>;
  layerWorkspace(imageId: string | null, dir: string): Promise<LayerWorkspace>;
  imageView(imageId: string, dir: string): Promise<{ rootfs: string; release: () => void }>;
}

export type BuilderContainers = Pick<ContainerService, 'create' | 'start' | 'wait' | 'logs' | 'remove' | 'kill'> & Required<Pick<ContainerService, 'commitSource'>>;

export interface BuilderDeps {
  images: BuilderImages;
  containers: BuilderContainers;
  db: Db;
  /** the builder's own scratch dir (contexts, step workspaces), emptied by init() */
  tmpDir: string;
  log: Logger;
  /** "linux/amd64": the only platform RUN can execute on */
  platform: string;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_SHELL = ['/bin/sh', '-c'];
/** ARGs every stage may use without declaring them, kept out of history and cache keys (docker's list). */
const PROXY_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

type Digest = `sha256:${string}`;

/** Where a stage stands after an instruction. */
interface State {
  key: string;
  /** the last committed image: the rootfs RUN and COPY work on; null on a bare scratch */
  imageId: string | null;
  config: ImageConfigBody;
  /** history of metadata-only steps since imageId, committed with the next image */
  pending: { created: string; created_by: string; empty_layer: true }[];
  /** the stage's declared ARGs and their values (undefined: declared, no value) */
  args: Map<string, string | undefined>;
  /** CMD set in this stage (ENTRYPOINT then keeps it) */
  cmdSet: boolean;
}

interface StageResult {
  imageId: string | null;
  config: ImageConfigBody;
}

const hash = (...parts: unknown[]) => createHash('sha256').update(JSON.stringify(parts)).digest('hex');
const shortHex = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** docker's "K=V" env list as a lookup, last one wins. */
function envMap(env: readonly string[] | null | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1));
    else m.set(e, '');
  }
  return m;
}

function setEnv(env: string[], key: string, value: string): string[] {
  const out = env.filter((e) => e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')) !== key);
  out.push(`${key}=${value}`);
  return out;
}

/** A Go-style duration for HEALTHCHECK history? No: docker stores nanoseconds; this keeps config numbers. */
function healthcheckConfig(check: Extract<Instruction, { kind: 'healthcheck' }>['check']): Record<string, unknown> {
  const out: Record<string, unknown> = { Test: check.test };
  if (check.interval) out.Interval = check.interval;
  if (check.timeout) out.Timeout = check.timeout;
  if (check.startPeriod) out.StartPeriod = check.startPeriod;
  if (check.startInterval) out.StartInterval = check.startInterval;
  if (check.retries) out.Retries = check.retries;
  return out;
}

/** The failure of one build, with the Dockerfile line it happened on. */
function stepError(dockerfile: string, inst: { line: number; original: string }, err: unknown): BerthError {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof BerthError ? err.code : 'internal';
  return new BerthError(code === 'internal' ? 'invalid_argument' : code, `${dockerfile}:${inst.line}: ${inst.original}: ${message}`, { cause: err });
}

class BuildRun {
  readonly #deps: BuilderDeps;
  readonly #cache: BuildCache;
  readonly #req: BuildRequest;
  readonly #report: Reporter;
  readonly #contextDir: string;
  readonly #program: DockerfileProgram;
  readonly #signal: AbortSignal;
  readonly #stages = new Map<number, Promise<StageResult>>();
  readonly #metaArgs = new Map<string, string | undefined>();
  readonly #consumedArgs = new Set<string>();
  readonly #liveContainers = new Set<string>();
  readonly #tmpDirs: string[] = [];
  readonly #multiStage: boolean;
  /** the index of the stage the build ends with (--target, else the last) */
  readonly #target: number;

  constructor(deps: BuilderDeps, cache: BuildCache, req: BuildRequest, program: DockerfileProgram, target: number, contextDir: string, report: Reporter, signal: AbortSignal) {
    this.#target = target;
    this.#deps = deps;
    this.#cache = cache;
    this.#req = req;
    this.#program = program;
    this.#contextDir = contextDir;
    this.#report = report;
    this.#signal = signal;
    this.#multiStage = program.stages.length > 1;
    // Meta ARGs (before the first FROM): defaults expanded in order, --build-arg overrides.
    const given: Record<string, string | undefined> = {};
    for (const d of program.metaArgs) for (const a of d.args) if (a.key in req.buildArgs) given[a.key] = this.#buildArg(a.key);
    for (const [k, v] of resolveMetaArgs(program.metaArgs, given, program.directives.escape, (n) => this.#platformArg(n))) this.#metaArgs.set(k, v);
  }

  /** A --build-arg's value; null (the docker CLI's `--build-arg K` with K unset in its environment) leaves the ARG's default. */
  #buildArg(key: string): string | undefined {
    if (!(key in this.#req.buildArgs)) return undefined;
    this.#consumedArgs.add(key);
    return this.#req.buildArgs[key] ?? undefined;
  }

  /** BuildKit's automatic platform ARGs. */
  #platformArg(name: string): string | undefined {
    const [os = 'linux', arch = 'amd64', variant = ''] = (this.#req.platform || this.#deps.platform).split('/');
    const [bos = 'linux', barch = 'amd64', bvariant = ''] = this.#deps.platform.split('/');
    const table: Record<string, string> = {
      TARGETPLATFORM: [os, arch, variant].filter(Boolean).join('/'),
      TARGETOS: os,
      TARGETARCH: arch,
      TARGETVARIANT: variant,
      BUILDPLATFORM: [bos, barch, bvariant].filter(Boolean).join('/'),
      BUILDOS: bos,
      BUILDARCH: barch,
      BUILDVARIANT: bvariant,
    };
    return table[name];
  }

  stageIndex(nameOrIndex: string): number | undefined {
    const lower = nameOrIndex.toLowerCase();
    const byName = this.#program.stages.find((s) => s.name === lower);
    if (byName) return byName.index;
    if (/^\d+$/.test(nameOrIndex)) {
      const i = Number(nameOrIndex);
      if (i < this.#program.stages.length) return i;
    }
    return undefined;
  }

  /** FROM's image and --platform with the meta ARGs (and BuildKit's platform ARGs) substituted. */
  #baseName(stage: Stage): { base: string; platform?: string } {
    return expandBaseName(stage, (n) => (this.#metaArgs.has(n) ? this.#metaArgs.get(n) : this.#platformArg(n)), this.#program.directives.escape);
  }

  stage(index: number): Promise<StageResult> {
    let p = this.#stages.get(index);
    if (!p) {
      p = this.#runStage(this.#program.stages[index] as Stage);
      // a stage nobody awaits yet must not crash the daemon when it fails
      p.catch(() => {});
      this.#stages.set(index, p);
    }
    return p;
  }

  #label(stage: Stage, step: number, count: number, what: string): string {
    const prefix = this.#multiStage ? `${stage.name ?? `stage-${stage.index}`} ` : '';
    return `[${prefix}${step}/${count}] ${what}`;
  }

  #checkAborted(): void {
    if (this.#signal.aborted) throw new BerthError('unavailable', 'build cancelled');
  }

  async #resolveImage(ref: string, alwaysPull: boolean, platform?: string): Promise<string> {
    if (!alwaysPull) {
      try {
        return this.#deps.images.resolve(ref).id;
      } catch (err) {
        if (!isCode(err, 'not_found')) throw err;
      }
    }
    const parsed = parseReference(ref);
    const auth = this.#req.registryAuth?.[parsed.domain] ?? (parsed.domain === 'docker.io' ? this.#req.registryAuth?.['https://index.docker.io/v1/'] : undefined);
    const pulled = await this.#deps.images.pull(ref, {
      ...(auth ? { auth: auth as NonNullable<PullOptions['auth']> } : {}),
      ...(platform ? { platform } : {}),
      onProgress: (m) => this.#report.pullProgress(m as Parameters<Reporter['pullProgress']>[0]),
      signal: this.#signal,
    });
    return pulled.id;
  }

  async #runStage(stage: Stage): Promise<StageResult> {
    const count = stage.instructions.length + 1;
    const { base, platform } = this.#baseName(stage);
    const from = this.#report.step(this.#label(stage, 1, count, `FROM ${base}`), stage.original);
    let state: State;
    try {
      const dep = this.stageIndex(base);
      if (base.toLowerCase() === 'scratch') {
        state = { key: hash('scratch', this.#req.platform ?? ''), imageId: null, config: { Env: [DEFAULT_PATH] }, pending: [], args: new Map(), cmdSet: false };
      } else if (dep !== undefined && dep < stage.index) {
        const r = await this.stage(dep);
        state = { key: hash('stage', r.imageId, r.config), imageId: r.imageId, config: structuredClone(r.config), pending: [], args: new Map(), cmdSet: false };
      } else {
        const id = await this.#resolveImage(base, this.#req.pull, platform ?? this.#req.platform);
        const config = (await this.#deps.images.config(id as Digest)).config ?? {};
        state = { key: hash('image', id), imageId: id, config: structuredClone(config), pending: [], args: new Map(), cmdSet: false };
        if (!state.config.Env?.some((e) => e.startsWith('PATH='))) state.config.Env = [...(state.config.Env ?? []), DEFAULT_PATH];
      }
      from.done(state.imageId);
    } catch (err) {
      from.failed(err instanceof Error ? err.message : String(err));
      throw stepError(this.#req.dockerfile, stage, err);
    }
    // ONBUILD triggers of the base image run first, then are not inherited.
    const triggers = state.config.OnBuild ?? [];
    let instructions = stage.instructions;
    if (triggers.length) {
      const onbuild = buildProgram(parseDockerfile(`FROM scratch\n${triggers.join('\n')}\n`)).stages[0]?.instructions ?? [];
      instructions = [...onbuild.map((i) => ({ ...i, line: stage.line, original: `ONBUILD ${i.original}` })), ...instructions];
      state.config.OnBuild = null;
    }
    const total = instructions.length + 1;
    for (const [i, inst] of instructions.entries()) {
      this.#checkAborted();
      const step = this.#report.step(this.#label(stage, i + 2, total, inst.original), inst.original);
      try {
        state = await this.#instruction(stage, state, inst, step);
      } catch (err) {
        const e = err instanceof DockerfileError || err instanceof BerthError ? err : new BerthError('internal', String(err));
        step.failed(e.message);
        throw stepError(this.#req.dockerfile, inst, e);
      }
    }
    return this.#finish(stage, state);
  }

  /** Commit what metadata steps are left (and --label on the target) as the stage's image. */
  async #finish(stage: Stage, state: State): Promise<StageResult> {
    const isTarget = stage.index === this.#target;
    if (isTarget && Object.keys(this.#req.labels).length) {
      state.config.Labels = { ...(state.config.Labels ?? {}), ...this.#req.labels };
      state.key = hash(state.key, 'labels', this.#req.labels);
      state.pending.push({ created: new Date().toISOString(), created_by: `LABEL ${Object.entries(this.#req.labels).map(([k, v]) => `${k}=${v}`).join(' ')}`, empty_layer: true });
    }
    if (!state.pending.length && state.imageId) return { imageId: state.imageId, config: state.config };
    if (!state.pending.length && !state.imageId && !isTarget) return { imageId: null, config: state.config };
    const id = await this.#commitCached(hash(state.key, 'final'), async () => {
      const last = state.pending.at(-1) ?? { created: new Date().toISOString(), created_by: '', empty_layer: true as const };
      return this.#deps.images.commit({
        parent: state.imageId,
        upperDir: '',
        config: state.config,
        history: last,
        precedingHistory: state.pending.slice(0, -1),
      });
    });
    return { imageId: id, config: state.config };
  }

  async #commitCached(key: string, make: () => Promise<string>): Promise<string> {
    if (!this.#req.noCache) {
      const hit = this.#cache.get(key, (id) => this.#exists(id));
      if (hit) return hit;
    }
    const id = await make();
    this.#cache.put(key, id);
    return id;
  }

  #exists(id: string): boolean {
    try {
      this.#deps.images.resolve(id);
      return true;
    } catch {
      return false;
    }
  }

  /** The environment variables are looked up in: ENV first, then the stage's ARGs. */
  #lookup(state: State): (name: string) => string | undefined {
    const env = envMap(state.config.Env);
    return (name) => (env.has(name) ? env.get(name) : state.args.get(name));
  }

  async #instruction(stage: Stage, state: State, raw: Instruction, step: StepHandle): Promise<State> {
    const escape = this.#program.directives.escape;
    const { instruction: inst } = expandInstruction(raw, this.#lookup(state), escape);
    const next: State = { ...state, config: { ...state.config }, pending: [...state.pending], args: new Map(state.args) };
    const shell = this.#shell(state);
    const meta = (keyParts: unknown, workdir?: string) => {
      next.key = hash(state.key, keyParts);
      // BuildKit records no history for ONBUILD
      const entry = historyEntry(inst, { shell, ...(workdir ? { workdir } : {}) });
      if (entry) next.pending.push({ created: new Date().toISOString(), created_by: entry.createdBy, empty_layer: true });
      step.done(null);
      return next;
    };
    switch (inst.kind) {
      case 'arg': {
        for (const a of inst.args) {
          const given = this.#buildArg(a.key);
          const inherited = a.value === undefined && this.#metaArgs.has(a.key) ? this.#metaArgs.get(a.key) : undefined;
          const platform = a.value === undefined ? this.#platformArg(a.key) : undefined;
          next.args.set(a.key, given ?? a.value ?? inherited ?? platform);
        }
        return meta(['arg', [...next.args]]);
      }
      case 'env': {
        let env = [...(next.config.Env ?? [])];
        for (const p of inst.pairs) env = setEnv(env, p.key, p.value);
        next.config.Env = env;
        return meta(['env', inst.pairs]);
      }
      case 'label':
        next.config.Labels = { ...(next.config.Labels ?? {}), ...Object.fromEntries(inst.pairs.map((p) => [p.key, p.value])) };
        return meta(['label', inst.pairs]);
      case 'workdir': {
        const dir = posix.resolve(next.config.WorkingDir || '/', inst.path);
        next.config.WorkingDir = dir;
        return meta(['workdir', dir], dir);
      }
      case 'user':
        next.config.User = inst.user;
        return meta(['user', inst.user]);
      case 'expose': {
        const ports = { ...(next.config.ExposedPorts ?? {}) };
        for (const p of inst.ports) for (const spec of expandPortSpec(p)) ports[spec] = {};
        next.config.ExposedPorts = ports;
        return meta(['expose', inst.ports]);
      }
      case 'volume': {
        const vols = { ...(next.config.Volumes ?? {}) };
        for (const v of inst.paths) {
          if (!v.trim()) throw invalidArgument('VOLUME specified can not be an empty string');
          vols[v] = {};
        }
        next.config.Volumes = vols;
        return meta(['volume', inst.paths]);
      }
      case 'cmd':
        next.config.Cmd = inst.command.form === 'exec' ? inst.command.argv : [...this.#shell(state), inst.command.command];
        next.cmdSet = true;
        return meta(['cmd', next.config.Cmd]);
      case 'entrypoint':
        next.config.Entrypoint = inst.command.form === 'exec' ? inst.command.argv : [...this.#shell(state), inst.command.command];
        if (!state.cmdSet) next.config.Cmd = null; // an inherited CMD does not survive a new ENTRYPOINT
        return meta(['entrypoint', next.config.Entrypoint]);
      case 'shell':
        next.config.Shell = inst.shell;
        return meta(['shell', inst.shell]);
      case 'stopsignal':
        next.config.StopSignal = inst.signal;
        return meta(['stopsignal', inst.signal]);
      case 'healthcheck':
        next.config.Healthcheck = healthcheckConfig(inst.check);
        return meta(['healthcheck', inst.check]);
      case 'onbuild':
        next.config.OnBuild = [...(next.config.OnBuild ?? []), inst.trigger];
        return meta(['onbuild', inst.trigger]);
      case 'maintainer':
        return meta(['maintainer', inst.name]);
      case 'run':
        return this.#run(state, next, inst, step);
      case 'copy':
      case 'add':
        return this.#copy(stage, state, next, inst, step);
    }
  }

  #shell(state: State): string[] {
    return state.config.Shell?.length ? state.config.Shell : DEFAULT_SHELL;
  }

  /** The ARGs a RUN sees as environment (ENV wins), without the proxy ones for history and cache. */
  #runArgs(state: State): { all: string[]; recorded: string[] } {
    const env = envMap(state.config.Env);
    const all: string[] = [];
    const recorded: string[] = [];
    for (const [k, v] of [...state.args].sort(([a], [b]) => a.localeCompare(b))) {
      if (v === undefined || env.has(k)) continue;
      all.push(`${k}=${v}`);
      if (!PROXY_ARGS.has(k)) recorded.push(`${k}=${v}`);
    }
    for (const k of PROXY_ARGS) {
      if (state.args.has(k) || env.has(k)) continue;
      const v = this.#buildArg(k);
      if (v !== undefined) all.push(`${k}=${v}`);
    }
    return { all, recorded };
  }

  async #run(state: State, next: State, inst: Extract<Instruction, { kind: 'run' }>, step: StepHandle): Promise<State> {
    if (inst.mounts.length) throw invalidArgument('RUN --mount is not supported by this builder');
    const shell = this.#shell(state);
    const argv = runArgv(inst, shell);
    const args = this.#runArgs(state);
    const text = formatCreatedBy(inst, { shell, buildArgs: args.recorded.map((kv) => ({ key: kv.slice(0, kv.indexOf('=')), value: kv.slice(kv.indexOf('=') + 1) })) });
    next.key = hash(state.key, 'run', argv, args.recorded, inst.network ?? this.#req.networkMode ?? '', this.#req.extraHosts ?? []);
    const history = { created_by: text };
    const cached = this.#req.noCache ? undefined : this.#cache.get(next.key, (id) => this.#exists(id));
    if (cached) {
      step.cached(cached);
      return { ...next, imageId: cached, pending: [] };
    }
    if (!state.imageId) throw invalidArgument(`failed to run ${JSON.stringify(argv.join(' '))}: the stage has no filesystem yet (FROM scratch)`);
    const req: CreateRequest = {
      Image: state.imageId,
      Cmd: argv,
      Entrypoint: [],
      Env: [...(state.config.Env ?? []), ...args.all],
      WorkingDir: state.config.WorkingDir ?? '',
      User: state.config.User ?? '',
      Labels: {},
      Healthcheck: { Test: ['NONE'] },
      AttachStdout: true,
      AttachStderr: true,
      HostConfig: {
        NetworkMode: inst.network === 'none' ? 'none' : inst.network === 'host' ? 'host' : (this.#req.networkMode ?? 'default'),
        ...(this.#req.extraHosts?.length ? { ExtraHosts: this.#req.extraHosts } : {}),
      },
    } as CreateRequest;
    const id = await this.#withContainer(req, async (cid) => {
      step.runningIn(cid);
      await this.#deps.containers.start(cid);
      const pump = (async () => {
        for await (const entry of this.#deps.containers.logs(cid, { follow: true, stdout: true, stderr: true })) step.output(entry.stream, entry.line);
      })();
      const onAbort = () => void this.#deps.containers.kill(cid, 'KILL').catch(() => {});
      this.#signal.addEventListener('abort', onAbort);
      let result;
      try {
        result = await this.#deps.containers.wait(cid, 'not-running');
        await pump.catch(() => {});
      } finally {
        this.#signal.removeEventListener('abort', onAbort);
      }
      this.#checkAborted();
      if (result.StatusCode !== 0) {
        const err = new BerthError('invalid_argument', `process ${JSON.stringify(argv.join(' '))} did not complete successfully: exit code: ${result.StatusCode}`);
        (err as BerthError & { exitCode?: number }).exitCode = result.StatusCode;
        throw err;
      }
      const src = await this.#deps.containers.commitSource(cid);
      return this.#deps.images.commit({ parent: state.imageId, upperDir: src.upperDir, config: state.config, history, precedingHistory: state.pending });
    }, step);
    this.#cache.put(next.key, id);
    step.done(id);
    return { ...next, imageId: id, pending: [] };
  }

  /**
   * Create a container, run fn with it, and always remove it (with its anonymous
   * volumes). The removal runs while the build goes on; the build waits for it at the end.
   */
  async #withContainer<T>(req: CreateRequest, fn: (id: string) => Promise<T>, step?: StepHandle): Promise<T> {
    const { Id } = await this.#deps.containers.create(req, { name: `berth-build-${randomBytes(6).toString('hex')}` });
    this.#liveContainers.add(Id);
    try {
      return await fn(Id);
    } finally {
      this.#removals.push(
        this.#deps.containers
          .remove(Id, { force: true, volumes: true })
          .then(() => this.#liveContainers.delete(Id))
          .catch((err: unknown) => this.#deps.log.warn('removing a build container', { id: Id, err: String(err) })),
      );
      step?.removed(Id);
    }
  }

  readonly #removals: Promise<unknown>[] = [];

  async #tmp(): Promise<string> {
    const dir = await mkdtemp(join(this.#deps.tmpDir, 'step-'));
    this.#tmpDirs.push(dir);
    return dir;
  }

  async #copy(stage: Stage, state: State, next: State, inst: Extract<Instruction, { kind: 'copy' | 'add' }>, step: StepHandle): Promise<State> {
    if (inst.from !== undefined && inst.kind === 'add') throw invalidArgument('ADD does not support --from');
    const workdir = state.config.WorkingDir || '/';
    const fromIndex = inst.from !== undefined ? this.stageIndex(inst.from) : undefined;
    if (fromIndex !== undefined && fromIndex >= stage.index) throw invalidArgument(`invalid from flag value ${inst.from}: refers to the current or a later stage`);
    // The sources: context files, inline heredocs, downloads, or another stage's / image's files.
    let sourceImage: string | null = null;
    let sourceKey: string;
    const withSources = async <T>(fn: (matches: SourceMatch[]) => Promise<T>): Promise<T> => {
      if (inst.from !== undefined) {
        if (!sourceImage) throw invalidArgument(`COPY --from=${inst.from}: the stage has no files`);
        const view = await this.#deps.images.imageView(sourceImage, await this.#tmp());
        try {
          return await fn(await resolveSources(view.rootfs, inst.sources, { scoped: true, excludes: inst.excludes }));
        } finally {
          view.release();
        }
      }
      return fn(await this.#localSources(inst));
    };
    if (inst.from !== undefined) {
      if (fromIndex !== undefined) sourceImage = (await this.stage(fromIndex)).imageId;
      else sourceImage = await this.#resolveImage(inst.from, false);
      sourceKey = hash('from', sourceImage, inst.sources, inst.excludes);
    } else {
      sourceKey = await checksumSources(await this.#localSources(inst));
    }
    const text = formatCreatedBy(inst, { shell: this.#shell(state) });
    next.key = hash(state.key, inst.kind, inst.dest, workdir, inst.chown ?? '', inst.chmod ?? '', inst.link, sourceKey);
    const cached = this.#req.noCache ? undefined : this.#cache.get(next.key, (id) => this.#exists(id));
    if (cached) {
      step.cached(cached);
      return { ...next, imageId: cached, pending: [] };
    }
    const chmod = inst.chmod !== undefined ? parseChmod(inst.chmod) : undefined;
    const doCopy = async (view: RootfsView) => {
      const target = { ...view, mounts: [] }; // COPY writes the image, even under a VOLUME path
      const owner = inst.chown ? resolveChown(view, inst.chown) : undefined;
      await withSources((matches) => copyInto(target, matches, inst.dest, { workdir, extractArchives: inst.kind === 'add', ...(owner ? { owner } : {}), ...(chmod !== undefined ? { chmod } : {}) }));
    };
    const history = { created_by: text };
    // No container: an overlay over the image (or over nothing, on a bare scratch), then its upper dir is the layer.
    const ws = await this.#deps.images.layerWorkspace(state.imageId, await this.#tmp());
    let id: string;
    try {
      await doCopy({ rootfs: ws.rootfs, mounts: [], running: false });
      ws.unmount();
      id = await this.#deps.images.commit({ parent: state.imageId, upperDir: ws.upperDir, config: state.config, history, precedingHistory: state.pending });
    } finally {
      ws.release();
    }
    this.#cache.put(next.key, id);
    step.done(id);
    return { ...next, imageId: id, pending: [] };
  }

  readonly #localCache = new Map<Instruction, Promise<SourceMatch[]>>();

  /** Context files, here-documents written out, and ADD's downloads, as source matches. */
  #localSources(inst: Extract<Instruction, { kind: 'copy' | 'add' }>): Promise<SourceMatch[]> {
    let p = this.#localCache.get(inst);
    if (!p) {
      p = (async () => {
        const out: SourceMatch[] = [];
        const fromContext: string[] = [];
        for (const doc of inst.heredocs) out.push(await this.#heredocFile(doc));
        for (const s of inst.sources) {
          if (inst.kind === 'add' && /^https?:\/\//.test(s)) {
            const dir = await this.#tmp();
            const f = await fetchUrl(s, dir);
            out.push({ pattern: s, hostPath: f.hostPath, relPath: f.name, isDir: false, wildcard: false });
          } else fromContext.push(s);
        }
        if (fromContext.length) out.push(...(await resolveSources(this.#contextDir, fromContext, { excludes: inst.excludes })));
        return out;
      })();
      this.#localCache.set(inst, p);
    }
    return p;
  }

  async #heredocFile(doc: Heredoc): Promise<SourceMatch> {
    const dir = await this.#tmp();
    await mkdir(dir, { recursive: true });
    const path = join(dir, doc.name);
    await writeFile(path, doc.content, { mode: 0o644 });
    return { pattern: doc.name, hostPath: path, relPath: doc.name, isDir: false, wildcard: false };
  }

  warnUnusedArgs(): void {
    const unused = Object.keys(this.#req.buildArgs).filter((k) => !this.#consumedArgs.has(k) && !PROXY_ARGS.has(k));
    if (unused.length) this.#report.warn(`One or more build-args [${unused.sort().join(' ')}] were not consumed`);
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.#removals);
    for (const id of this.#liveContainers) await this.#deps.containers.remove(id, { force: true, volumes: true }).catch(() => {});
    for (const d of this.#tmpDirs) await rm(d, { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * RUN's argv as BuildKit runs it. A lone here-document with a shebang is a
 * script BuildKit mounts under /dev/pipes; here it is written to a temp file
 * by the shell and run from there.
 */
export function runArgv(inst: Extract<Instruction, { kind: 'run' }>, shell: string[]): string[] {
  const argv = dockerfileRunArgv(inst, shell);
  const script = argv.at(-1) ?? '';
  const doc = inst.heredocs[0];
  if (!doc || !script.startsWith('/dev/pipes/')) return argv;
  const body = doc.content.endsWith('\n') ? doc.content : `${doc.content}\n`;
  return [...shell, `f=$(mktemp) && cat > "$f" <<'BERTH_HEREDOC_END'\n${body}BERTH_HEREDOC_END\nchmod +x "$f"; "$f"; rc=$?; rm -f "$f"; exit $rc`];
}

/** EXPOSE 80 8000-8002/udp → "80/tcp", "8000/udp", ... */
function expandPortSpec(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec.trim());
  if (!m) throw invalidArgument(`invalid containerPort: ${spec}`);
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  if (hi < lo || hi > 65535) throw invalidArgument(`invalid range specified for container port: ${spec}`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  return out;
}

function parseChmod(v: string): number {
  if (!/^[0-7]{1,4}$/.test(v)) throw invalidArgument(`invalid chmod parameter: ${v}`);
  return parseInt(v, 8);
}

export class Builder {
  readonly #deps: BuilderDeps;
  readonly #cache: BuildCache;

  constructor(deps: BuilderDeps) {
    this.#deps = deps;
    this.#cache = new BuildCache(deps.db);
  }

  /** Daemon start: what a crashed build left in tmpDir (mounts, contexts) goes. */
  async init(): Promise<void> {
    await unmountBelow(this.#deps.tmpDir);
    await rm(this.#deps.tmpDir, { recursive: true, force: true });
    await mkdir(this.#deps.tmpDir, { recursive: true, mode: 0o700 });
  }

  /**
   * Build from a context tar; messages go to emit as they happen. Resolves to the
   * image ID; a failure rejects with the step's error (already reported as a record).
   */
  async build(req: BuildRequest, context: Readable, emit: (m: BuildMessage) => void, signal: AbortSignal): Promise<string> {
    if (req.platform && req.platform !== this.#deps.platform && !req.platform.startsWith(`${this.#deps.platform}/`))
      throw invalidArgument(`no match for platform ${req.platform}: this daemon builds for ${this.#deps.platform} only`);
    for (const t of req.tags) parseReference(t); // a bad tag fails before any work
    const ctx = await openContext(context, { tmpDir: this.#deps.tmpDir });
    let run: BuildRun | undefined;
    try {
      const dockerfilePath = join(ctx.dir, posix.normalize(`/${req.dockerfile || 'Dockerfile'}`));
      let text: string;
      try {
        text = await readFile(dockerfilePath, 'utf8');
      } catch {
        throw notFound(`Cannot locate specified Dockerfile: ${req.dockerfile || 'Dockerfile'}`);
      }
      let program: DockerfileProgram;
      try {
        program = buildProgram(parseDockerfile(text));
      } catch (err) {
        if (err instanceof DockerfileError) throw invalidArgument(`dockerfile parse error on line ${err.line}: ${err.message}`);
        throw err;
      }
      let target = program.stages.length - 1;
      if (req.target) {
        const t = program.stages.findIndex((s) => s.name === req.target?.toLowerCase());
        if (t < 0) throw invalidArgument(`target stage "${req.target}" could not be found`);
        target = t;
      }
      const needed = this.#neededStages(program, target);
      const totalSteps = [...needed].reduce((n, i) => n + (program.stages[i]?.instructions.length ?? 0) + 1, 0);
      const report = new Reporter(emit, { quiet: req.quiet, stepRecords: req.stepRecords, totalSteps });
      for (const w of program.warnings) report.warn(w);
      run = new BuildRun(this.#deps, this.#cache, req, program, target, ctx.dir, report, signal);
      // Start every needed stage at once; each waits for the stages it reads from.
      for (const i of needed) run.stage(i);
      const result = await run.stage(target);
      await Promise.all([...needed].map((i) => run?.stage(i)));
      run.warnUnusedArgs();
      let id = result.imageId;
      if (!id) {
        // an empty scratch stage still is an image: no layers, its config
        id = await this.#deps.images.commit({ parent: null, upperDir: '', config: result.config, history: { created_by: '', empty_layer: true } });
      }
      report.text(`Successfully built ${shortHex(id)}\n`);
      for (const t of req.tags) {
        const ref = parseReference(t);
        await this.#deps.images.tag(id, familiarName(ref), ref.tag ?? 'latest');
        report.text(`Successfully tagged ${t.includes(':') && !t.endsWith(']') ? t : `${t}:latest`}\n`);
      }
      emit({ id: 'moby.image.id', aux: { ID: id } });
      // dockerd's -q answer: just the ID, as a stream line the docker CLI prints to stdout
      if (req.quiet) emit({ stream: `${id}\n` });
      return id;
    } finally {
      await run?.cleanup();
      await ctx.close().catch(() => {});
    }
  }

  /** The target and every stage it reads from (FROM a stage, COPY --from a stage). */
  #neededStages(program: DockerfileProgram, target: number): Set<number> {
    const byName = (ref: string): number | undefined => {
      const lower = ref.toLowerCase();
      const s = program.stages.find((st) => st.name === lower);
      if (s) return s.index;
      return /^\d+$/.test(ref) && Number(ref) < program.stages.length ? Number(ref) : undefined;
    };
    const out = new Set<number>();
    const visit = (i: number) => {
      if (out.has(i)) return;
      out.add(i);
      const st = program.stages[i] as Stage;
      const base = byName(st.base);
      if (base !== undefined && base < i) visit(base);
      for (const inst of st.instructions) {
        if ((inst.kind === 'copy' || inst.kind === 'add') && inst.from !== undefined) {
          const dep = byName(inst.from);
          if (dep !== undefined && dep < i) visit(dep);
        }
      }
    };
    visit(target);
    return out;
  }

  /**
   * builder prune: forget cache entries and remove the images only the cache kept
   * (untagged, no children, no containers). Without all, entries whose images are
   * part of a tagged image stay: they cost no space.
   */
  async prune(opts: { all?: boolean; filters?: Record<string, string[]> } = {}): Promise<BuildCachePruneReport> {
    const until = opts.filters?.until?.[0];
    const cutoff = until ? Date.now() - parseDurationMs(until) : Infinity;
    const before = (await this.#deps.images.diskUsage()).LayersSize;
    const deleted: string[] = [];
    for (const entry of this.#cache.all()) {
      if (entry.lastUsed > cutoff) continue;
      let removed = false;
      const tagged = await this.#deps.images.inspect(entry.imageId).then((i) => i.RepoTags.length > 0, () => false);
      try {
        if (tagged) throw new BerthError('conflict', 'tagged');
        await this.#deps.images.remove(entry.imageId, {});
        removed = true;
      } catch (err) {
        if (isCode(err, 'not_found')) removed = true;
        else if (!isCode(err, 'conflict')) throw err;
      }
      if (removed || opts.all) {
        this.#cache.delete([entry.key]);
        deleted.push(entry.key);
      }
    }
    const after = (await this.#deps.images.diskUsage()).LayersSize;
    return { CachesDeleted: deleted.length ? deleted : null, SpaceReclaimed: Math.max(0, before - after) };
  }
}

function parseDurationMs(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v);
  if (!m) throw invalidArgument(`invalid filter 'until=${v}'`);
  return Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as Record<string, number>)[m[2] as string]!;
}
