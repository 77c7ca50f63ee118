// In-memory stand-ins for the image service and registry client, for tests of
// the HTTP layer (and of real clients against it). Not used by the daemon.
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
  const api = createApiServer({ images, registry, system }, log);
  const socket = join(dir, 'run', 'berth.sock');
  await api.listen(socket);
  return { api, socket, images, registry };
}
