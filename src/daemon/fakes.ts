// In-memory stand-ins for the image service and registry client, for tests of
// the HTTP layer (and of real clients against it). Not used by the daemon.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { BerthError } from '../errors/index.js';
import type {
  DeleteItem,
  Filters,
  HistoryItem,
  ImageInspect,
  ImageService,
  ImageSummary,
  ImportOptions,
  ProgressFn,
  PullOptions,
} from '../image/types.js';
import type { AuthConfig, RegistryClient } from '../registry/types.js';
import type {
  ContainerService,
  ContainerStatus,
  ContainerSummary,
  CreateRequest,
  LogEntry,
  LogsOptions,
  WaitCondition,
  WaitResult,
} from '../container/types.js';
import { join } from 'node:path';
import { nullLogger, type Logger } from '../util/index.js';
import { createApiServer } from './server.js';
import { createSystemInfo } from './sysinfo.js';

const hex = (c: string) => c.repeat(64);
/** Familiar form of a name, enough for the fake: "docker.io/library/x" -> "x". */
const familiar = (name: string) => name.replace(/^docker\.io\//, '').replace(/^library\//, '');

export interface FakeImage {
  id: string;
  tags: string[];
  size: number;
  created: number;
}

/** Records every call so tests can assert what the handler passed. */
export class FakeImageService implements ImageService {
  images: FakeImage[] = [
    { id: `sha256:${hex('a')}`, tags: ['busybox:latest'], size: 4_261_574, created: 1_700_000_000 },
    { id: `sha256:${hex('b')}`, tags: ['localhost:5000/ns/app:1'], size: 1000, created: 1_700_000_100 },
  ];
  calls: { method: string; args: unknown[] }[] = [];
  /** Set to make pull fail before (`before`) or after (`after`) its first progress message. */
  pullFailure: 'before' | 'after' | undefined;
  lastPullAuth: AuthConfig | undefined;
  /** Set to make pull wait after its first message until its signal aborts; resolves when it did. */
  pullHangs = false;
  pullAborted: Promise<void> | undefined;

  #find(nameIn: string): FakeImage {
    const name = familiar(nameIn);
    const withTag = /:[^/]+$/.test(name) || name.startsWith('sha256:') ? name : `${name}:latest`;
    const img = this.images.find((i) => i.tags.includes(withTag) || i.id === name || i.id.startsWith(`sha256:${name}`));
    if (!img) throw new BerthError('not_found', `No such image: ${name}`);
    return img;
  }

  async pull(ref: string, opts: PullOptions = {}) {
    this.calls.push({ method: 'pull', args: [ref, { platform: opts.platform, auth: opts.auth }] });
    this.lastPullAuth = opts.auth;
    const emit: ProgressFn = opts.onProgress ?? (() => {});
    if (this.pullFailure === 'before') throw new BerthError('not_found', `pull access denied for ${ref}, repository does not exist`);
    const short = familiar(ref);
    const tag = short.includes(':') ? short : `${short}:latest`;
    emit({ status: `Pulling from ${ref.split(':')[0]}`, id: 'latest' });
    emit({ status: 'Pulling fs layer', id: 'c0ffee000001' });
    if (this.pullHangs) {
      const signal = opts.signal;
      if (!signal) throw new Error('pull without an AbortSignal');
      this.pullAborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      await this.pullAborted;
      throw signal.reason;
    }
    emit({ status: 'Downloading', id: 'c0ffee000001', progressDetail: { current: 512, total: 1024 }, progress: '[=====>     ]' });
    if (this.pullFailure === 'after') throw new BerthError('internal', 'layer download failed: connection reset');
    emit({ status: 'Pull complete', id: 'c0ffee000001' });
    const digest = `sha256:${hex('d')}`;
    emit({ status: `Digest: ${digest}` });
    emit({ status: `Status: Downloaded newer image for ${tag}` });
    const id = `sha256:${hex('c')}`;
    this.images.push({ id, tags: [tag], size: 2048, created: 1_700_000_200 });
    return { reference: tag, digest, id };
  }

  async list(opts: { all?: boolean; filters?: Filters; sharedSize?: boolean } = {}): Promise<ImageSummary[]> {
    this.calls.push({ method: 'list', args: [opts] });
    return this.images.map((i) => ({
      Id: i.id,
      ParentId: '',
      RepoTags: i.tags,
      RepoDigests: [],
      Created: i.created,
      Size: i.size,
      SharedSize: -1,
      Labels: null,
      Containers: -1,
    }));
  }

  async inspect(name: string): Promise<ImageInspect> {
    this.calls.push({ method: 'inspect', args: [name] });
    const i = this.#find(name);
    return {
      Id: i.id,
      RepoTags: i.tags,
      RepoDigests: [],
      Parent: '',
      Comment: '',
      Created: new Date(i.created * 1000).toISOString(),
      DockerVersion: '',
      Author: '',
      Config: { Env: ['PATH=/bin'], Cmd: ['sh'] },
      Architecture: 'amd64',
      Os: 'linux',
      Size: i.size,
      GraphDriver: { Name: 'overlay2', Data: null },
      RootFS: { Type: 'layers', Layers: [`sha256:${hex('e')}`] },
      Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
      Container: 'old-container-field',
      ContainerConfig: { Cmd: ['old'] },
    };
  }

  async history(name: string): Promise<HistoryItem[]> {
    const i = this.#find(name);
    return [{ Id: i.id, Created: i.created, CreatedBy: '/bin/sh -c #(nop) CMD ["sh"]', Tags: i.tags, Size: i.size, Comment: '' }];
  }

  async tag(source: string, repo: string, tag?: string): Promise<void> {
    this.calls.push({ method: 'tag', args: [source, repo, tag] });
    this.#find(source).tags.push(`${familiar(repo)}:${tag ?? 'latest'}`);
  }

  async remove(name: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<DeleteItem[]> {
    this.calls.push({ method: 'remove', args: [name, opts] });
    const i = this.#find(name);
    const short = familiar(name);
    const tag = i.tags.find((t) => t === short || t === `${short}:latest`);
    if (tag && i.tags.length > 1) {
      i.tags = i.tags.filter((t) => t !== tag);
      return [{ Untagged: tag }];
    }
    this.images = this.images.filter((x) => x !== i);
    return [...i.tags.map((t) => ({ Untagged: t })), { Deleted: i.id }];
  }

  async prune(opts: { filters?: Filters } = {}) {
    this.calls.push({ method: 'prune', args: [opts] });
    return { ImagesDeleted: null, SpaceReclaimed: 0 };
  }

  async save(names: string[]): Promise<Readable> {
    this.calls.push({ method: 'save', args: [names] });
    for (const n of names) this.#find(n);
    return Readable.from([Buffer.from(`tar of ${names.join(',')}`)]);
  }

  async load(tar: Readable, opts: { onProgress?: ProgressFn; quiet?: boolean } = {}): Promise<string[]> {
    let bytes = 0;
    for await (const chunk of tar) bytes += (chunk as Buffer).length;
    this.calls.push({ method: 'load', args: [bytes, opts.quiet] });
    if (bytes === 0) throw new BerthError('invalid_argument', 'unexpected EOF');
    opts.onProgress?.({ stream: 'Loaded image: loaded:latest\n' });
    return ['loaded:latest'];
  }

  async import(tar: Readable, opts: ImportOptions = {}): Promise<string> {
    let bytes = 0;
    for await (const chunk of tar) bytes += (chunk as Buffer).length;
    this.calls.push({ method: 'import', args: [bytes, { repo: opts.repo, tag: opts.tag, message: opts.message, changes: opts.changes }] });
    return `sha256:${hex('f')}`;
  }

  async diskUsage() {
    return { LayersSize: 5000, Images: await this.list() };
  }
}

export class FakeRegistry implements Pick<RegistryClient, 'login'> {
  logins: { server: string; auth: AuthConfig }[] = [];
  async login(server: string, auth: AuthConfig) {
    this.logins.push({ server, auth });
    if (auth.username === 'user' && auth.password === 'secret') return { status: 'Login Succeeded' };
    throw new BerthError(
      'unauthorized',
      `Get "http://${server}/v2/": unauthorized: incorrect username or password`,
    );
  }
}

/** Serve fake services on a fresh unix socket under `dir`; the caller closes it. */
export async function serveFakes(dir: string, log: Logger = nullLogger) {
  const images = new FakeImageService();
  const registry = new FakeRegistry();
  const system = createSystemInfo({ root: dir, insecureRegistries: ['localhost:5000', '10.0.0.0/8'], images });
  const containers = new FakeContainerService(images);
  const api = createApiServer({ images, containers, registry, system }, log);
  const socket = join(dir, 'run', 'berth.sock');
  await api.listen(socket);
  return { api, socket, images, registry, containers };
}

// ---------------------------------------------------------------- containers

interface FakeContainer {
  id: string;
  name: string;
  req: CreateRequest;
  created: number;
  status: ContainerStatus;
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  logs: LogEntry[];
  /** Resolved on every exit, then replaced. */
  exited: Deferred<void>;
  removed: Deferred<void>;
  /** Wakes followers when a line is written or the container stops. */
  changed: Deferred<void>;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const ZERO_TIME = '0001-01-01T00:00:00Z';
/** RFC 3339 with nanoseconds; a counter keeps lines written in the same millisecond distinct and ordered. */
let nanoTick = 0;
function nowNano(): string {
  const ms = Date.now();
  nanoTick = (nanoTick + 1) % 1_000_000;
  const base = new Date(ms).toISOString().slice(0, 19);
  return `${base}.${String(ms % 1000).padStart(3, '0')}${String(nanoTick).padStart(6, '0')}Z`;
}

/**
 * A scripted ContainerService: "running" a container interprets its command.
 * `echo WORDS` prints; `sh -c 'A; B'` runs steps: `echo X` (>&2 for stderr),
 * `exit N`, `sleep N` (keeps running until stopped or killed). A command
 * named `nosuchcmd` fails to start like a missing executable.
 */
export class FakeContainerService implements ContainerService {
  containers: FakeContainer[] = [];
  calls: { method: string; args: unknown[] }[] = [];
  #seq = 0;

  constructor(private readonly images: Pick<ImageService, 'inspect'>) {}

  #find(idOrName: string): FakeContainer {
    const key = idOrName.replace(/^\//, '');
    const c =
      this.containers.find((x) => x.id === key || x.name === key) ??
      (key.length >= 1 ? this.containers.filter((x) => x.id.startsWith(key)) : []).at(0);
    if (!c) throw new BerthError('not_found', `No such container: ${idOrName}`);
    return c;
  }

  async create(req: CreateRequest, opts: { name?: string; platform?: string } = {}) {
    this.calls.push({ method: 'create', args: [req, opts] });
    await this.images.inspect(req.Image); // not_found: "No such image: x"
    if (opts.name && this.containers.some((c) => c.name === opts.name)) {
      throw new BerthError('conflict', `Conflict. The container name "/${opts.name}" is already in use by container "${this.containers.find((c) => c.name === opts.name)?.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    this.#seq++;
    const id = createHash('sha256').update(`fake-container-${this.#seq}-${Date.now()}`).digest('hex');
    this.containers.push({
      id,
      name: opts.name ?? `fake_container_${this.#seq}`,
      req,
      created: Math.floor(Date.now() / 1000),
      status: 'created',
      exitCode: 0,
      startedAt: ZERO_TIME,
      finishedAt: ZERO_TIME,
      logs: [],
      exited: deferred(),
      removed: deferred(),
      changed: deferred(),
    });
    return { Id: id, Warnings: [] };
  }

  #write(c: FakeContainer, stream: 'stdout' | 'stderr', text: string): void {
    c.logs.push({ stream, time: nowNano(), line: Buffer.from(text) });
    this.#wake(c);
  }

  #wake(c: FakeContainer): void {
    const old = c.changed;
    c.changed = deferred();
    old.resolve();
  }

  #exit(c: FakeContainer, code: number): void {
    if (c.status !== 'running') return;
    c.status = 'exited';
    c.exitCode = code;
    c.finishedAt = new Date().toISOString();
    const old = c.exited;
    c.exited = deferred();
    this.#wake(c);
    old.resolve();
    if (c.req.HostConfig?.AutoRemove) this.#drop(c);
  }

  #drop(c: FakeContainer): void {
    this.containers = this.containers.filter((x) => x !== c);
    c.removed.resolve();
  }

  #command(c: FakeContainer): string[] {
    return [...(c.req.Entrypoint ?? []), ...(c.req.Cmd ?? ['sh'])];
  }

  async start(idOrName: string): Promise<void> {
    this.calls.push({ method: 'start', args: [idOrName] });
    const c = this.#find(idOrName);
    if (c.status === 'running') throw new BerthError('not_modified', 'container already started');
    const cmd = this.#command(c);
    if (cmd[0] === 'nosuchcmd') {
      // dockerd removes an AutoRemove container whose start failed; `docker run --rm` waits for that.
      if (c.req.HostConfig?.AutoRemove) this.#drop(c);
      throw new BerthError(
        'not_found',
        'failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH: unknown',
      );
    }
    c.status = 'running';
    c.startedAt = new Date().toISOString();
    const steps: string[] =
      cmd[0] === 'sh' && cmd[1] === '-c' ? (cmd[2] ?? '').split(';').map((s) => s.trim()) : cmd[0] === 'echo' ? [cmd.join(' ')] : [];
    // The "process" runs after start returns, as a real one would.
    setImmediate(() => {
      for (const step of steps) {
        if (c.status !== 'running') return;
        const echo = /^echo\s*(.*?)(\s*>&2)?$/.exec(step);
        if (echo) this.#write(c, echo[2] ? 'stderr' : 'stdout', `${(echo[1] ?? '').replace(/^'(.*)'$/, '$1')}\n`);
        else if (/^exit\s+\d+$/.test(step)) return this.#exit(c, Number(step.split(/\s+/)[1]));
        else if (/^sleep\b/.test(step)) return; // runs until stop/kill
      }
      this.#exit(c, 0);
    });
  }

  async stop(idOrName: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    this.calls.push({ method: 'stop', args: [idOrName, opts] });
    const c = this.#find(idOrName);
    if (c.status !== 'running') throw new BerthError('not_modified', 'container already stopped');
    this.#exit(c, 143);
  }

  async restart(idOrName: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    this.calls.push({ method: 'restart', args: [idOrName, opts] });
    const c = this.#find(idOrName);
    this.#exit(c, 143);
    await this.start(idOrName);
  }

  async kill(idOrName: string, signal?: string): Promise<void> {
    this.calls.push({ method: 'kill', args: [idOrName, signal] });
    const c = this.#find(idOrName);
    if (c.status !== 'running') throw new BerthError('conflict', `cannot kill container: ${idOrName}: container ${c.id} is not running`);
    this.#exit(c, 137);
  }

  async remove(idOrName: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    this.calls.push({ method: 'remove', args: [idOrName, opts] });
    const c = this.#find(idOrName);
    if (c.status === 'running') {
      if (!opts.force) {
        throw new BerthError('conflict', `cannot remove container "${idOrName}": container is running: stop the container before removing or force remove`);
      }
      c.req = { ...c.req, HostConfig: { ...c.req.HostConfig, AutoRemove: false } };
      this.#exit(c, 137);
    }
    this.#drop(c);
  }

  async wait(idOrName: string, condition: WaitCondition = 'not-running', signal?: AbortSignal): Promise<WaitResult> {
    this.calls.push({ method: 'wait', args: [idOrName, condition] });
    const c = this.#find(idOrName);
    const aborted = new Promise<never>((_, reject) => {
      if (signal?.aborted) reject(signal.reason);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    aborted.catch(() => undefined);
    if (condition === 'removed') await Promise.race([c.removed.promise, aborted]);
    else if (condition === 'next-exit' || c.status === 'running') await Promise.race([c.exited.promise, aborted]);
    return { StatusCode: c.exitCode };
  }

  #statusText(c: FakeContainer): string {
    if (c.status === 'running') return 'Up Less than a second';
    if (c.status === 'exited') return `Exited (${c.exitCode}) Less than a second ago`;
    return 'Created';
  }

  async list(opts: { all?: boolean; limit?: number; size?: boolean; filters?: Record<string, string[]> } = {}): Promise<ContainerSummary[]> {
    this.calls.push({ method: 'list', args: [opts] });
    let list = [...this.containers].reverse().filter((c) => opts.all || c.status === 'running');
    const names = opts.filters?.name;
    if (names) list = list.filter((c) => names.some((n) => c.name.includes(n)));
    const statuses = opts.filters?.status;
    if (statuses) list = list.filter((c) => statuses.includes(c.status));
    if (opts.limit) list = list.slice(0, opts.limit);
    return list.map((c) => ({
      Id: c.id,
      Names: [`/${c.name}`],
      Image: c.req.Image,
      ImageID: `sha256:${hex('a')}`,
      Command: this.#command(c).join(' '),
      Created: c.created,
      Ports: [],
      Labels: c.req.Labels ?? {},
      State: c.status,
      Status: this.#statusText(c),
      HostConfig: { NetworkMode: c.req.HostConfig?.NetworkMode || 'bridge' },
      NetworkSettings: { Networks: {} },
      Mounts: [],
      ...(opts.size ? { SizeRw: 12, SizeRootFs: 4_261_586 } : {}),
    }));
  }

  async inspect(idOrName: string, opts: { size?: boolean } = {}): Promise<Record<string, unknown>> {
    const c = this.#find(idOrName);
    const [path, ...args] = this.#command(c);
    return {
      Id: c.id,
      Created: new Date(c.created * 1000).toISOString(),
      Path: path,
      Args: args,
      State: {
        Status: c.status,
        Running: c.status === 'running',
        Paused: false,
        Restarting: false,
        OOMKilled: false,
        Dead: false,
        Pid: c.status === 'running' ? 4242 : 0,
        ExitCode: c.exitCode,
        Error: '',
        StartedAt: c.startedAt,
        FinishedAt: c.finishedAt,
      },
      Image: `sha256:${hex('a')}`,
      Name: `/${c.name}`,
      RestartCount: 0,
      Driver: 'overlay2',
      Platform: 'linux',
      HostConfig: { NetworkMode: 'bridge', ...c.req.HostConfig },
      Config: { Image: c.req.Image, Cmd: c.req.Cmd ?? null, Entrypoint: c.req.Entrypoint ?? null, Env: c.req.Env ?? [], Tty: c.req.Tty === true, Labels: c.req.Labels ?? {} },
      Mounts: [],
      NetworkSettings: { Networks: {} },
      ...(opts.size ? { SizeRw: 12, SizeRootFs: 4_261_586 } : {}),
    };
  }

  async *logs(idOrName: string, opts: LogsOptions = {}): AsyncIterable<LogEntry> {
    this.calls.push({ method: 'logs', args: [idOrName, { ...opts, signal: undefined }] });
    const c = this.#find(idOrName);
    const want = (e: LogEntry) => {
      if (e.stream === 'stdout' ? !opts.stdout : !opts.stderr) return false;
      const t = Date.parse(e.time) / 1000;
      if (opts.since !== undefined && t < Math.floor(opts.since * 1000) / 1000) return false;
      if (opts.until !== undefined && t > opts.until) return false;
      return true;
    };
    let backlog = c.logs.filter(want);
    if (opts.tail !== undefined) backlog = opts.tail === 0 ? [] : backlog.slice(-opts.tail);
    let sent = c.logs.length;
    yield* backlog;
    // A follow of a container that has not run yet lasts through its first run (attach before
    // start relies on it); of a running one, until it stops; of a stopped one, not at all.
    while (opts.follow && (c.status === 'running' || c.status === 'created') && !opts.signal?.aborted) {
      const aborted = new Promise<void>((resolve) => opts.signal?.addEventListener('abort', () => resolve(), { once: true }));
      await Promise.race([c.changed.promise, aborted]);
      const fresh = c.logs.slice(sent).filter(want);
      sent = c.logs.length;
      yield* fresh;
    }
  }

  imageInUse(imageId: string): boolean {
    return this.containers.some((c) => c.req.Image === imageId);
  }

  async restore(): Promise<void> {}

  async close(): Promise<void> {}
}
