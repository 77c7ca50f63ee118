// An in-memory Engine API for the engine's tests: containers, networks,
// volumes and images as plain records, label filters as dockerd applies them,
// and a log of every call so tests can check what the engine sent.
import { Readable } from 'node:stream';
import type { EngineApi } from '../types.js';

export interface FakeCall {
  method: string;
  path: string;
  query: Record<string, unknown>;
  body?: unknown;
}
export interface FakeContainerRecord {
  id: string;
  name: string;
  body: Record<string, unknown>;
  labels: Record<string, string>;
  state: 'created' | 'running' | 'exited';
  exitCode: number;
  /** Health statuses reported by successive inspects (the last one sticks). */
  health?: string[];
  networks: string[];
  logs: string;
}

class FakeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class FakeEngineApi implements EngineApi {
  calls: FakeCall[] = [];
  containers = new Map<string, FakeContainerRecord>();
  networks = new Map<string, { Name: string; Labels: Record<string, string>; body: Record<string, unknown> }>();
  volumes = new Map<string, { Name: string; Labels: Record<string, string> }>();
  images = new Map<string, string>([['busybox', 'sha256:' + 'ab'.repeat(32)]]);
  /** Health script for containers created from now on, by service label. */
  healthScripts = new Map<string, string[]>();
  #seq = 0;

  #find(ref: string): FakeContainerRecord {
    const c = [...this.containers.values()].find((x) => x.id === ref || x.name === ref);
    if (!c) throw new FakeApiError(404, `No such container: ${ref}`);
    return c;
  }

  #image(name: string): string | undefined {
    return this.images.get(name) ?? this.images.get(name.replace(/:latest$/, ''));
  }

  /** Names of calls, "METHOD /path", in order. */
  log(): string[] {
    return this.calls.map((c) => `${c.method} ${c.path}`);
  }

  async json<T>(method: string, path: string, options: { query?: Record<string, unknown>; body?: string } = {}): Promise<T> {
    const body = options.body ? (JSON.parse(options.body) as Record<string, unknown>) : undefined;
    this.calls.push({ method, path, query: options.query ?? {}, body });
    return this.#route(method, decodeURIComponent(path), options.query ?? {}, body) as T;
  }

  async stream(method: string, path: string, options: { query?: Record<string, unknown>; body?: unknown } = {}): Promise<Readable> {
    this.calls.push({ method, path, query: options.query ?? {} });
    if (options.body instanceof Readable) options.body.resume();
    const q = options.query ?? {};
    if (method === 'POST' && path === '/images/create') {
      const ref = `${q.fromImage as string}${q.tag ? `:${q.tag as string}` : ''}`;
      if (String(q.fromImage).includes('broken')) return Readable.from([JSON.stringify({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' }) + '\n']);
      this.images.set(ref, 'sha256:' + (++this.#seq).toString(16).padStart(64, '0'));
      return Readable.from([JSON.stringify({ status: 'Pulling fs layer', id: 'aaaaaaaaaaaa' }) + '\r\n', JSON.stringify({ status: 'Pull complete', id: 'aaaaaaaaaaaa' }) + '\r\n']);
    }
    if (method === 'POST' && path === '/build') {
      const id = 'sha256:' + (++this.#seq).toString(16).padStart(64, 'b');
      this.images.set(q.t as string, id);
      return Readable.from([JSON.stringify({ stream: 'Step 1/1 : FROM busybox\n' }) + '\r\n', JSON.stringify({ aux: { ID: id } }) + '\r\n']);
    }
    const logs = /^\/containers\/([^/]+)\/logs$/.exec(path);
    if (logs) {
      const c = this.#find(decodeURIComponent(logs[1] as string));
      const frame = (text: string, kind = 1) => {
        const header = Buffer.alloc(8);
        header[0] = kind;
        header.writeUInt32BE(Buffer.byteLength(text), 4);
        return Buffer.concat([header, Buffer.from(text)]);
      };
      return Readable.from(c.body.Tty ? [Buffer.from(c.logs)] : [frame(c.logs)]);
    }
    throw new FakeApiError(404, `page not found: ${method} ${path}`);
  }

  #route(method: string, path: string, q: Record<string, unknown>, body?: Record<string, unknown>): unknown {
    if (method === 'GET' && path === '/containers/json') {
      const want = ((JSON.parse((q.filters as string) ?? '{}') as { label?: string[] }).label ?? []).map((l) => l.split('='));
      return [...this.containers.values()]
        .filter((c) => q.all || c.state === 'running')
        .filter((c) => want.every(([k, v]) => (v === undefined ? k! in c.labels : c.labels[k!] === v)))
        .map((c) => ({
          Id: c.id,
          Names: [`/${c.name}`],
          Image: c.body.Image,
          Command: [...((c.body.Entrypoint as string[]) ?? []), ...((c.body.Cmd as string[]) ?? ['sh'])].join(' '),
          Created: 1_700_000_000,
          State: c.state,
          Status: c.state === 'running' ? 'Up 5 seconds' : c.state === 'exited' ? `Exited (${c.exitCode}) 2 seconds ago` : 'Created',
          Ports: Object.keys((c.body.HostConfig as { PortBindings?: object }).PortBindings ?? {}).map((k) => {
            const [port, type] = k.split('/');
            const hb = ((c.body.HostConfig as { PortBindings: Record<string, { HostPort: string }[]> }).PortBindings[k] ?? [])[0];
            return { IP: '0.0.0.0', PrivatePort: Number(port), PublicPort: hb?.HostPort ? Number(hb.HostPort) : undefined, Type: type };
          }),
          Labels: c.labels,
        }));
    }
    if (method === 'POST' && path === '/containers/create') {
      const name = q.name as string;
      if ([...this.containers.values()].some((c) => c.name === name)) throw new FakeApiError(409, `Conflict. The container name "/${name}" is already in use`);
      if (!this.#image(body?.Image as string)) throw new FakeApiError(404, `No such image: ${body?.Image as string}`);
      const labels = (body?.Labels as Record<string, string>) ?? {};
      const net = (body?.HostConfig as { NetworkMode?: string }).NetworkMode;
      const id = (++this.#seq).toString(16).padStart(64, 'c');
      this.containers.set(id, { id, name, body: body ?? {}, labels, state: 'created', exitCode: 0, health: this.healthScripts.get(labels['com.docker.compose.service'] ?? ''), networks: net ? [net] : [], logs: `hello from ${name}\n` });
      return { Id: id, Warnings: [] };
    }
    const ctr = /^\/containers\/([^/]+)(?:\/(json|start|stop|restart|kill|wait|top))?$/.exec(path);
    if (ctr) {
      const c = this.#find(ctr[1] as string);
      switch (`${method} ${ctr[2] ?? ''}`) {
        case 'GET json': {
          const health = c.health?.length ? (c.health.length > 1 ? c.health.shift() : c.health[0]) : undefined;
          return {
            Id: c.id,
            Name: `/${c.name}`,
            State: { Status: c.state, Running: c.state === 'running', ExitCode: c.exitCode, ...(health ? { Health: { Status: health } } : {}) },
            Config: { Tty: c.body.Tty === true, Labels: c.labels, Image: c.body.Image },
            NetworkSettings: { Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] } },
          };
        }
        case 'POST start':
          c.state = 'running';
          return undefined;
        case 'POST stop':
        case 'POST kill':
          c.state = 'exited';
          return undefined;
        case 'POST restart':
          c.state = 'running';
          return undefined;
        case 'POST wait':
          return { StatusCode: c.exitCode };
        case 'GET top':
          return { Titles: ['PID', 'CMD'], Processes: [['1', 'sh']] };
        case 'DELETE ':
          if (c.state === 'running' && !q.force) throw new FakeApiError(409, 'container is running');
          this.containers.delete(c.id);
          return undefined;
      }
    }
    const net = /^\/networks\/([^/]+)(?:\/(connect))?$/.exec(path);
    if (method === 'POST' && path === '/networks/create') {
      this.networks.set(body?.Name as string, { Name: body?.Name as string, Labels: (body?.Labels as Record<string, string>) ?? {}, body: body ?? {} });
      return { Id: body?.Name };
    }
    if (net) {
      const n = this.networks.get(net[1] as string);
      if (!n) throw new FakeApiError(404, `network ${net[1] as string} not found`);
      if (method === 'GET') return n;
      if (method === 'DELETE') return void this.networks.delete(n.Name);
      if (net[2] === 'connect') return void this.#find((body?.Container as string) ?? '').networks.push(n.Name);
    }
    if (method === 'POST' && path === '/volumes/create') {
      this.volumes.set(body?.Name as string, { Name: body?.Name as string, Labels: (body?.Labels as Record<string, string>) ?? {} });
      return this.volumes.get(body?.Name as string);
    }
    const vol = /^\/volumes\/([^/]+)$/.exec(path);
    if (vol) {
      const v = this.volumes.get(vol[1] as string);
      if (!v) throw new FakeApiError(404, `get ${vol[1] as string}: no such volume`);
      if (method === 'DELETE') return void this.volumes.delete(v.Name);
      return v;
    }
    const img = /^\/images\/(.+)\/json$/.exec(path);
    if (img) {
      const id = this.#image(img[1] as string);
      if (!id) throw new FakeApiError(404, `No such image: ${img[1] as string}`);
      return { Id: id, Size: 4_000_000 };
    }
    const delImg = /^\/images\/(.+)$/.exec(path);
    if (delImg && method === 'DELETE') {
      this.images.delete(delImg[1] as string);
      return [{ Untagged: delImg[1] }];
    }
    throw new FakeApiError(404, `page not found: ${method} ${path}`);
  }
}
