// The Compose engine: a Project made real through the Engine API, with
// docker compose v2's semantics (names, labels, convergence by config hash,
// dependency conditions). Output goes to `out` as compose's plain progress
// lines (stderr) and command results (stdout).
import type { Readable } from 'node:stream';
import { BerthError } from '../../errors/index.js';
import { createContextTar } from '../../build/client.js';
import { LABELS, type EngineApi, type Project, type Service } from '../types.js';
import { containerName, createBody, endpointConfig, networkName, serviceNetworkKeys } from './create.js';
import { fallbackConfigHash, startOrder } from './order.js';
import { LogPrefixer } from './logs.js';

export interface Writer {
  write(text: string): unknown;
}
export interface EngineOutput {
  stdout: Writer;
  stderr: Writer;
  isTTY: boolean;
}
export interface EngineOptions {
  /** The model's serviceConfigHash; a local digest when absent. */
  configHash?: (service: Service, project: Project) => string;
  /** How often health and completion are polled (ms). */
  pollMs?: number;
}

/** A row of GET /containers/json. */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID?: string;
  Command: string;
  Created: number;
  State: string;
  Status: string;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  Labels: Record<string, string>;
}
interface ContainerInspect {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; ExitCode: number; Health?: { Status: string } };
  Config: { Tty?: boolean; Labels?: Record<string, string>; Image?: string };
  Image?: string;
  NetworkSettings?: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> };
}

export interface UpOptions {
  services?: string[];
  detach?: boolean;
  build?: boolean;
  noBuild?: boolean;
  forceRecreate?: boolean;
  noRecreate?: boolean;
  noDeps?: boolean;
  scale?: Record<string, number>;
  wait?: boolean;
  removeOrphans?: boolean;
  /** Ends a foreground `up` (Ctrl-C): its containers are then stopped. */
  signal?: AbortSignal;
}
export interface DownOptions {
  volumes?: boolean;
  rmi?: 'local' | 'all';
  removeOrphans?: boolean;
  timeout?: number;
}
export interface PsOptions {
  all?: boolean;
  quiet?: boolean;
  services?: boolean;
  format?: 'table' | 'json';
  filterServices?: string[];
}
export interface LogsOptions {
  services?: string[];
  follow?: boolean;
  tail?: string;
  timestamps?: boolean;
  noColor?: boolean;
  signal?: AbortSignal;
}
export interface RunOptions {
  service: string;
  command?: string[];
  entrypoint?: string[];
  env?: string[];
  noDeps?: boolean;
  tty: boolean;
  stdinOpen: boolean;
  user?: string;
  workdir?: string;
  autoRemove?: boolean;
}

const enc = encodeURIComponent;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const statusOf = (err: unknown): number | undefined => (err as { status?: unknown }).status as number | undefined;
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const numberOf = (c: ContainerSummary): number => Number(c.Labels[LABELS.number] ?? 0);
const nameOf = (c: ContainerSummary): string => (c.Names[0] ?? '').replace(/^\//, '');

export class ComposeEngine {
  readonly #hash: (service: Service, project: Project) => string;
  readonly #pollMs: number;

  constructor(
    private readonly api: EngineApi,
    readonly project: Project,
    private readonly out: EngineOutput,
    options: EngineOptions = {},
  ) {
    this.#hash = options.configHash ?? ((s) => fallbackConfigHash(s));
    this.#pollMs = options.pollMs ?? 500;
  }

  #progress(kind: string, name: string, what: string): void {
    this.out.stderr.write(`${kind ? `${kind} ` : ''}${name}  ${what}\n`);
  }

  #service(name: string): Service {
    const s = this.project.services.find((x) => x.name === name) ?? this.project.disabledServices.find((x) => x.name === name);
    if (!s) throw new BerthError('not_found', `no such service: ${name}`);
    return s;
  }

  /** The project's containers, by label: one-offs excluded unless asked, sorted by service then number. */
  async containers(opts: { all?: boolean; oneoff?: 'no' | 'yes' | 'any'; services?: readonly string[] } = {}): Promise<ContainerSummary[]> {
    const label = [`${LABELS.project}=${this.project.name}`];
    const oneoff = opts.oneoff ?? 'no';
    if (oneoff !== 'any') label.push(`${LABELS.oneoff}=${oneoff === 'yes' ? 'True' : 'False'}`);
    if (opts.services?.length === 1) label.push(`${LABELS.service}=${opts.services[0]}`);
    const list = await this.api.json<ContainerSummary[]>('GET', '/containers/json', {
      query: { all: opts.all ?? true, filters: JSON.stringify({ label }) },
    });
    return list
      .filter((c) => !opts.services?.length || opts.services.includes(c.Labels[LABELS.service] ?? ''))
      .sort((a, b) => (a.Labels[LABELS.service] ?? '').localeCompare(b.Labels[LABELS.service] ?? '') || numberOf(a) - numberOf(b) || nameOf(a).localeCompare(nameOf(b)));
  }

  // ---- images ----

  /** The image name a service runs: `image`, else the built `${project}-${service}`. */
  imageName(service: Service): string {
    return service.image ?? `${this.project.name}-${service.name}`;
  }

  async #imageId(name: string): Promise<string | undefined> {
    try {
      return (await this.api.json<{ Id: string }>('GET', `/images/${enc(name)}/json`)).Id;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /** Present, built or pulled, as the flags and pull_policy say; returns the image ID. */
  async ensureImage(service: Service, opts: { build?: boolean; noBuild?: boolean } = {}): Promise<string> {
    const name = this.imageName(service);
    const policy = service.pull_policy;
    if (service.build && !opts.noBuild && (opts.build || policy === 'build')) return this.buildService(service);
    if (policy === 'always' && service.image) await this.pullService(service);
    const present = await this.#imageId(name);
    if (present) return present;
    if (service.build && !opts.noBuild) return this.buildService(service);
    if (!service.image || policy === 'never') throw new BerthError('not_found', `service "${service.name}" has neither an image nor a build context specified: image ${name} not found`);
    await this.pullService(service);
    const pulled = await this.#imageId(name);
    if (!pulled) throw new BerthError('not_found', `service "${service.name}": image ${name} not found after pull`);
    return pulled;
  }

  async pullService(service: Service): Promise<void> {
    const image = service.image;
    if (!image) return;
    this.#progress('', service.name, 'Pulling');
    const [fromImage, tag] = splitTag(image);
    try {
      const stream = await this.api.stream('POST', '/images/create', { query: { fromImage, tag } });
      for await (const msg of jsonLines(stream)) {
        const m = msg as { status?: string; id?: string; error?: string; errorDetail?: { message?: string }; progressDetail?: { total?: number } };
        if (m.error || m.errorDetail) throw new Error(m.errorDetail?.message ?? m.error);
        // Layer milestones, not every progress tick.
        if (m.id && m.status && !m.progressDetail?.total) this.out.stderr.write(`  ${m.id} ${m.status}\n`);
      }
    } catch (err) {
      throw new BerthError('internal', `service "${service.name}" failed to pull image "${image}": ${messageOf(err)}`);
    }
    this.#progress('', service.name, 'Pulled');
  }

  async pull(services?: string[]): Promise<void> {
    for (const s of this.#selected(services)) if (s.image) await this.pullService(s);
  }

  async push(services?: string[]): Promise<void> {
    for (const s of this.#selected(services)) {
      if (!s.image) continue;
      this.#progress('', s.name, 'Pushing');
      const [name, tag] = splitTag(s.image);
      try {
        const stream = await this.api.stream('POST', `/images/${enc(name)}/push`, { query: { tag }, headers: { 'X-Registry-Auth': 'e30=' } });
        for await (const msg of jsonLines(stream)) {
          const m = msg as { error?: string; errorDetail?: { message?: string } };
          if (m.error || m.errorDetail) throw new Error(m.errorDetail?.message ?? m.error);
        }
      } catch (err) {
        throw new BerthError('internal', `service "${s.name}" failed to push image "${s.image}": ${messageOf(err)}`);
      }
      this.#progress('', s.name, 'Pushed');
    }
  }

  /** POST /build with the context tar; tags `image` or `${project}-${service}`; returns the image ID. */
  async buildService(service: Service, opts: { noCache?: boolean; pull?: boolean } = {}): Promise<string> {
    const spec = service.build;
    if (!spec) throw new BerthError('invalid_argument', `service "${service.name}" has no build section`);
    const tag = this.imageName(service);
    this.#progress('', service.name, 'Building');
    const args: Record<string, string> = {};
    for (const [k, v] of Object.entries(spec.args)) if (v !== null) args[k] = v;
    let id: string | undefined;
    try {
      const stream = await this.api.stream('POST', '/build', {
        query: {
          t: tag,
          dockerfile: spec.dockerfile,
          buildargs: JSON.stringify(args),
          labels: JSON.stringify(spec.labels),
          target: spec.target,
          nocache: opts.noCache || spec.no_cache ? true : undefined,
          pull: opts.pull || spec.pull ? true : undefined,
          rm: true,
        },
        headers: { 'Content-Type': 'application/x-tar' },
        body: createContextTar(spec.context, { dockerfile: spec.dockerfile }),
      });
      for await (const msg of jsonLines(stream)) {
        const m = msg as { stream?: string; error?: string; errorDetail?: { message?: string }; id?: string; aux?: { ID?: string; name?: string; state?: string; data?: string; vertex?: number } };
        if (m.error || m.errorDetail) throw new Error(m.errorDetail?.message ?? m.error);
        if (m.stream) this.out.stderr.write(m.stream);
        else if (m.id === 'berth.step' && m.aux?.state === 'started') this.out.stderr.write(`#${m.aux.vertex ?? ''} ${m.aux.name ?? ''}\n`);
        else if (m.id === 'berth.log' && m.aux?.data) this.out.stderr.write(m.aux.data);
        if (m.aux?.ID) id = m.aux.ID;
      }
    } catch (err) {
      throw new BerthError('internal', `service "${service.name}" failed to build: ${messageOf(err)}`);
    }
    this.#progress('', service.name, 'Built');
    return (await this.#imageId(tag)) ?? id ?? tag;
  }

  async build(services?: string[], opts: { noCache?: boolean; pull?: boolean } = {}): Promise<void> {
    for (const s of this.#selected(services)) if (s.build) await this.buildService(s, opts);
  }

  #selected(services?: string[]): Service[] {
    return services?.length ? services.map((n) => this.#service(n)) : this.project.services;
  }

  // ---- networks and volumes ----

  async #exists(path: string): Promise<boolean> {
    try {
      await this.api.json('GET', path);
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
  }

  async ensureNetworks(services: Service[]): Promise<void> {
    const keys = new Set(services.flatMap(serviceNetworkKeys));
    for (const key of keys) {
      const spec = this.project.networks[key];
      const name = networkName(this.project, key);
      if (spec?.external) {
        if (!(await this.#exists(`/networks/${enc(name)}`))) throw new BerthError('not_found', `network ${name} declared as external, but could not be found`);
        continue;
      }
      if (await this.#exists(`/networks/${enc(name)}`)) continue;
      this.#progress('Network', name, 'Creating');
      const ipam = spec?.ipam?.length ? { Driver: 'default', Config: spec.ipam.map((c) => ({ ...(c.subnet ? { Subnet: c.subnet } : {}), ...(c.gateway ? { Gateway: c.gateway } : {}) })) } : undefined;
      await this.api.json('POST', '/networks/create', {
        body: JSON.stringify({
          Name: name,
          Driver: spec?.driver ?? 'bridge',
          Internal: spec?.internal ?? false,
          ...(ipam ? { IPAM: ipam } : {}),
          Labels: { ...(spec?.labels ?? {}), [LABELS.project]: this.project.name, [LABELS.network]: key, [LABELS.version]: '2.0.0-berth' },
        }),
      });
      this.#progress('Network', name, 'Created');
    }
  }

  async ensureVolumes(services: Service[]): Promise<void> {
    const keys = new Set(services.flatMap((s) => s.volumes.filter((v) => v.type === 'volume' && v.source && this.project.volumes[v.source]).map((v) => v.source as string)));
    for (const key of keys) {
      const spec = this.project.volumes[key];
      if (!spec) continue;
      if (spec.external) {
        if (!(await this.#exists(`/volumes/${enc(spec.name)}`))) throw new BerthError('not_found', `external volume "${spec.name}" not found`);
        continue;
      }
      if (await this.#exists(`/volumes/${enc(spec.name)}`)) continue;
      this.#progress('Volume', `"${spec.name}"`, 'Creating');
      await this.api.json('POST', '/volumes/create', {
        body: JSON.stringify({
          Name: spec.name,
          Driver: spec.driver ?? 'local',
          Labels: { ...spec.labels, [LABELS.project]: this.project.name, [LABELS.volume]: key, [LABELS.version]: '2.0.0-berth' },
        }),
      });
      this.#progress('Volume', `"${spec.name}"`, 'Created');
    }
  }

  // ---- containers ----

  async #create(service: Service, number: number, imageId: string, hash: string, verb: 'Creat' | 'Recreat'): Promise<string> {
    const name = containerName(this.project, service, number);
    this.#progress('Container', name, verb === 'Creat' ? 'Creating' : 'Recreate');
    let id: string;
    try {
      const body = createBody(this.project, service, { number, configHash: hash, imageId, name });
      id = (await this.api.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body: JSON.stringify(body) })).Id;
      await this.#connectMore(service, id, name);
    } catch (err) {
      throw new BerthError('internal', `service "${service.name}" failed to create container ${name}: ${messageOf(err)}`);
    }
    this.#progress('Container', name, `${verb}ed`);
    return id;
  }

  async #connectMore(service: Service, id: string, name: string): Promise<void> {
    for (const key of serviceNetworkKeys(service).slice(1)) {
      await this.api.json('POST', `/networks/${enc(networkName(this.project, key))}/connect`, {
        body: JSON.stringify({ Container: id, EndpointConfig: endpointConfig(service, key, name) }),
      });
    }
  }

  async #stopRemove(c: ContainerSummary, opts: { timeout?: number; volumes?: boolean; quiet?: boolean } = {}): Promise<void> {
    const name = nameOf(c);
    if (c.State === 'running' || c.State === 'restarting' || c.State === 'paused') {
      if (!opts.quiet) this.#progress('Container', name, 'Stopping');
      await this.api.json('POST', `/containers/${enc(c.Id)}/stop`, { query: { t: opts.timeout } });
      if (!opts.quiet) this.#progress('Container', name, 'Stopped');
    }
    if (!opts.quiet) this.#progress('Container', name, 'Removing');
    await this.api.json('DELETE', `/containers/${enc(c.Id)}`, { query: { force: true, v: opts.volumes ? true : undefined } });
    if (!opts.quiet) this.#progress('Container', name, 'Removed');
  }

  async #startContainer(id: string, name: string): Promise<void> {
    this.#progress('Container', name, 'Starting');
    await this.api.json('POST', `/containers/${enc(id)}/start`);
    this.#progress('Container', name, 'Started');
  }

  /** Waits for a dependency's condition on each of its containers. */
  async #waitCondition(dep: string, condition: string): Promise<void> {
    if (condition === 'service_started') return;
    for (const c of await this.containers({ services: [dep] })) {
      const name = nameOf(c);
      if (condition === 'service_healthy') this.#progress('Container', name, 'Waiting');
      for (;;) {
        const info = await this.api.json<ContainerInspect>('GET', `/containers/${enc(c.Id)}/json`);
        if (condition === 'service_healthy') {
          const health = info.State.Health?.Status;
          if (!health) throw new BerthError('internal', `dependency failed to start: container ${name} has no healthcheck configured`);
          if (health === 'healthy') break;
          if (health === 'unhealthy') throw new BerthError('internal', `dependency failed to start: container ${name} is unhealthy`);
          if (!info.State.Running) throw new BerthError('internal', `dependency failed to start: container ${name} exited (${info.State.ExitCode})`);
        } else {
          if (!info.State.Running && info.State.Status !== 'created') {
            if (info.State.ExitCode !== 0) throw new BerthError('internal', `service "${dep}" didn't complete successfully: exit ${info.State.ExitCode}`);
            break;
          }
        }
        await sleep(this.#pollMs);
      }
      this.#progress('Container', name, condition === 'service_healthy' ? 'Healthy' : 'Exited');
    }
  }

  /** `up`: networks, volumes, images, convergence, start in dependency order; then follow logs or --wait. */
  async up(opts: UpOptions = {}): Promise<number> {
    const services = startOrder(this.project, opts.services, !opts.noDeps);
    await this.ensureNetworks(services);
    await this.ensureVolumes(services);
    const images = new Map<string, string>();
    for (const s of services) images.set(s.name, await this.ensureImage(s, { build: opts.build, noBuild: opts.noBuild }));

    if (opts.removeOrphans) {
      const known = new Set([...this.project.services, ...this.project.disabledServices].map((s) => s.name));
      for (const c of await this.containers()) if (!known.has(c.Labels[LABELS.service] ?? '')) await this.#stopRemove(c);
    }

    const selected = new Set(services.map((s) => s.name));
    for (const service of services) {
      for (const [dep, cond] of Object.entries(service.depends_on)) {
        if (selected.has(dep) || !opts.noDeps) await this.#waitCondition(dep, cond.condition);
      }
      await this.#converge(service, images.get(service.name) as string, opts);
    }

    if (opts.wait) return this.#waitAll(services);
    if (opts.detach) return 0;
    return this.#attachAll(services, opts.signal);
  }

  async #converge(service: Service, imageId: string, opts: UpOptions): Promise<void> {
    const hash = this.#hash(service, this.project);
    const replicas = opts.scale?.[service.name] ?? service.replicas;
    const existing = await this.containers({ services: [service.name] });
    const keep: ContainerSummary[] = [];
    // Scale down: the highest numbers go first.
    const sorted = [...existing].sort((a, b) => numberOf(a) - numberOf(b));
    for (const extra of sorted.slice(replicas)) await this.#stopRemove(extra);
    for (const c of sorted.slice(0, replicas)) {
      const stale = opts.forceRecreate || (!opts.noRecreate && (c.Labels[LABELS.configHash] !== hash || (c.Labels[LABELS.image] ?? imageId) !== imageId));
      if (stale) {
        await this.#stopRemove(c, { quiet: true });
        const id = await this.#create(service, numberOf(c), imageId, hash, 'Recreat');
        await this.#startContainer(id, containerName(this.project, service, numberOf(c)));
      } else keep.push(c);
    }
    for (const c of keep) {
      if (c.State === 'running') this.#progress('Container', nameOf(c), 'Running');
      else await this.#startContainer(c.Id, nameOf(c));
    }
    let next = Math.max(0, ...sorted.slice(0, replicas).map(numberOf)) + 1;
    for (let have = Math.min(sorted.length, replicas); have < replicas; have++, next++) {
      const id = await this.#create(service, next, imageId, hash, 'Creat');
      await this.#startContainer(id, containerName(this.project, service, next));
    }
  }

  async #waitAll(services: Service[]): Promise<number> {
    for (const service of services) {
      for (const c of await this.containers({ services: [service.name] })) {
        const name = nameOf(c);
        for (;;) {
          const info = await this.api.json<ContainerInspect>('GET', `/containers/${enc(c.Id)}/json`);
          const health = info.State.Health?.Status;
          if (!info.State.Running || health === 'unhealthy') {
            this.out.stderr.write(`container ${name} is ${health === 'unhealthy' ? 'unhealthy' : `exited (${info.State.ExitCode})`}\n`);
            return 1;
          }
          if (!health || health === 'healthy') break;
          await sleep(this.#pollMs);
        }
        this.#progress('Container', name, 'Healthy');
      }
    }
    return 0;
  }

  /** Foreground up: logs of every service until they all exit or the signal fires, then stop them. */
  async #attachAll(services: Service[], signal?: AbortSignal): Promise<number> {
    const names = services.map((s) => s.name);
    const containers = await this.containers({ services: names });
    this.out.stdout.write(`Attaching to ${containers.map(nameOf).join(', ')}\n`);
    const streams: Readable[] = [];
    const onAbort = () => {
      for (const s of streams) s.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.logs({ services: names, follow: true, signal, streams });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (signal?.aborted) {
      this.out.stderr.write('Gracefully stopping... (press Ctrl+C again to force)\n');
      await this.stop(names);
      return 130;
    }
    for (const c of containers) {
      const info = await this.api.json<ContainerInspect>('GET', `/containers/${enc(c.Id)}/json`);
      this.out.stdout.write(`${nameOf(c)} exited with code ${info.State.ExitCode}\n`);
    }
    return 0;
  }

  async down(opts: DownOptions = {}): Promise<void> {
    const known = new Set([...this.project.services, ...this.project.disabledServices].map((s) => s.name));
    const all = await this.containers({ oneoff: 'any' });
    const doomed = all.filter((c) => opts.removeOrphans || known.has(c.Labels[LABELS.service] ?? '') || c.Labels[LABELS.oneoff] === 'True');
    const orphans = all.length - doomed.length;
    if (orphans) this.out.stderr.write(`Found orphan containers for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.\n`);
    // Dependents first: the reverse of the start order.
    const rank = new Map(startOrder(this.project, undefined, true).map((s, i) => [s.name, i]));
    doomed.sort((a, b) => (rank.get(b.Labels[LABELS.service] ?? '') ?? -1) - (rank.get(a.Labels[LABELS.service] ?? '') ?? -1));
    for (const c of doomed) await this.#stopRemove(c, { timeout: opts.timeout, volumes: opts.volumes });
    if (orphans === 0 || opts.removeOrphans) {
      for (const [, spec] of Object.entries(this.project.networks)) {
        if (spec.external || !(await this.#exists(`/networks/${enc(spec.name)}`))) continue;
        this.#progress('Network', spec.name, 'Removing');
        await this.api.json('DELETE', `/networks/${enc(spec.name)}`);
        this.#progress('Network', spec.name, 'Removed');
      }
    }
    if (opts.volumes) {
      for (const spec of Object.values(this.project.volumes)) {
        if (spec.external || !(await this.#exists(`/volumes/${enc(spec.name)}`))) continue;
        this.#progress('Volume', spec.name, 'Removing');
        await this.api.json('DELETE', `/volumes/${enc(spec.name)}`);
        this.#progress('Volume', spec.name, 'Removed');
      }
    }
    if (opts.rmi) {
      const names = new Set(this.project.services.filter((s) => opts.rmi === 'all' || !s.image).map((s) => this.imageName(s)));
      for (const image of names) {
        if (!(await this.#imageId(image))) continue;
        this.#progress('Image', image, 'Removing');
        await this.api.json('DELETE', `/images/${enc(image)}`);
        this.#progress('Image', image, 'Removed');
      }
    }
  }

  async start(services?: string[]): Promise<void> {
    for (const s of startOrder(this.project, services, false)) {
      for (const c of await this.containers({ services: [s.name] })) if (c.State !== 'running') await this.#startContainer(c.Id, nameOf(c));
    }
  }

  async stop(services?: string[], timeout?: number): Promise<void> {
    for (const s of startOrder(this.project, services, false).reverse()) {
      for (const c of await this.containers({ services: [s.name] })) {
        if (c.State !== 'running') continue;
        this.#progress('Container', nameOf(c), 'Stopping');
        await this.api.json('POST', `/containers/${enc(c.Id)}/stop`, { query: { t: timeout } });
        this.#progress('Container', nameOf(c), 'Stopped');
      }
    }
  }

  async restart(services?: string[], timeout?: number): Promise<void> {
    for (const s of startOrder(this.project, services, false)) {
      for (const c of await this.containers({ services: [s.name] })) {
        this.#progress('Container', nameOf(c), 'Restarting');
        await this.api.json('POST', `/containers/${enc(c.Id)}/restart`, { query: { t: timeout } });
        this.#progress('Container', nameOf(c), 'Started');
      }
    }
  }

  /** rm: the stopped containers of the services (running ones too when stopFirst). */
  async removable(services?: string[], stopFirst = false): Promise<ContainerSummary[]> {
    const list = await this.containers({ services, oneoff: 'any' });
    return list.filter((c) => stopFirst || c.State !== 'running');
  }

  async remove(containers: ContainerSummary[], opts: { volumes?: boolean } = {}): Promise<void> {
    for (const c of containers) await this.#stopRemove(c, { volumes: opts.volumes });
  }

  // ---- one-offs and exec ----

  /** The container of a service at an index (1 by default), for exec and port. */
  async serviceContainer(service: string, index = 1): Promise<ContainerSummary> {
    this.#service(service);
    const list = await this.containers({ services: [service], all: false });
    const c = list.find((x) => numberOf(x) === index);
    if (!c) throw new BerthError('not_found', `service "${service}" is not running`);
    return c;
  }

  /** run: starts the dependencies (unless noDeps), creates the one-off container; returns its id and name. */
  async createOneOff(opts: RunOptions): Promise<{ id: string; name: string; service: Service }> {
    const service = this.#service(opts.service);
    if (!opts.noDeps && Object.keys(service.depends_on).length) {
      const deps = startOrder(this.project, Object.keys(service.depends_on), true);
      await this.up({ services: deps.map((d) => d.name), detach: true });
      for (const [dep, cond] of Object.entries(service.depends_on)) await this.#waitCondition(dep, cond.condition);
    } else {
      await this.ensureNetworks([service]);
      await this.ensureVolumes([service]);
    }
    const imageId = await this.ensureImage(service);
    const suffix = Array.from({ length: 6 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
    const name = `${this.project.name}-${service.name}-run-${suffix}`;
    const body = createBody(this.project, service, {
      number: 1,
      configHash: this.#hash(service, this.project),
      imageId,
      oneoff: true,
      name,
      command: opts.command?.length ? opts.command : undefined,
      entrypoint: opts.entrypoint,
      env: opts.env,
      tty: opts.tty,
      stdinOpen: opts.stdinOpen,
    });
    // compose run publishes no ports unless --service-ports.
    const hostConfig = body.HostConfig as Record<string, unknown>;
    hostConfig.PortBindings = {};
    hostConfig.AutoRemove = opts.autoRemove ?? false;
    if (opts.user) body.User = opts.user;
    if (opts.workdir) body.WorkingDir = opts.workdir;
    body.AttachStdout = true;
    body.AttachStderr = true;
    body.AttachStdin = opts.stdinOpen;
    body.StdinOnce = opts.stdinOpen;
    let id: string;
    try {
      id = (await this.api.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body: JSON.stringify(body) })).Id;
      await this.#connectMore(service, id, name);
    } catch (err) {
      throw new BerthError('internal', `service "${service.name}" failed to create container ${name}: ${messageOf(err)}`);
    }
    return { id, name, service };
  }

  // ---- listings ----

  async ps(opts: PsOptions = {}): Promise<void> {
    if (opts.services) {
      for (const s of this.project.services) this.out.stdout.write(`${s.name}\n`);
      return;
    }
    const list = await this.containers({ all: opts.all ?? false, services: opts.filterServices });
    if (opts.quiet) {
      for (const c of list) this.out.stdout.write(`${c.Id}\n`);
      return;
    }
    const now = Date.now() / 1000;
    if (opts.format === 'json') {
      for (const c of list) {
        const health = /\((healthy|unhealthy|health: starting)\)/.exec(c.Status)?.[1]?.replace('health: ', '') ?? '';
        const exit = /^Exited \((\d+)\)/.exec(c.Status)?.[1];
        this.out.stdout.write(
          JSON.stringify({
            Command: quoteCommand(c.Command),
            CreatedAt: new Date(c.Created * 1000).toISOString(),
            ExitCode: exit === undefined ? 0 : Number(exit),
            Health: health,
            ID: c.Id,
            Image: c.Image,
            Labels: Object.entries(c.Labels).map(([k, v]) => `${k}=${v}`).join(','),
            Name: nameOf(c),
            Names: nameOf(c),
            Project: this.project.name,
            Publishers: c.Ports.map((p) => ({ URL: p.IP ?? '', TargetPort: p.PrivatePort, PublishedPort: p.PublicPort ?? 0, Protocol: p.Type })),
            Ports: formatPorts(c.Ports),
            RunningFor: `${humanDuration(now - c.Created)} ago`,
            Service: c.Labels[LABELS.service] ?? '',
            State: c.State,
            Status: c.Status,
          }) + '\n',
        );
      }
      return;
    }
    const rows = list.map((c) => [nameOf(c), c.Image, quoteCommand(c.Command), c.Labels[LABELS.service] ?? '', `${humanDuration(now - c.Created)} ago`, c.Status, formatPorts(c.Ports)]);
    this.out.stdout.write(table(['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'], rows));
  }

  /** logs: every container's stream, prefixed; follows until they end (or the signal fires). */
  async logs(opts: LogsOptions & { streams?: Readable[] } = {}): Promise<void> {
    const list = await this.containers({ services: opts.services });
    const prefixer = new LogPrefixer(list.map(nameOf), this.out.stdout, this.out.isTTY && !opts.noColor);
    await Promise.all(
      list.map(async (c) => {
        const info = await this.api.json<ContainerInspect>('GET', `/containers/${enc(c.Id)}/json`);
        const stream = await this.api.stream('GET', `/containers/${enc(c.Id)}/logs`, {
          query: { stdout: true, stderr: true, follow: opts.follow ? true : undefined, tail: opts.tail || undefined, timestamps: opts.timestamps ? true : undefined },
        });
        opts.streams?.push(stream);
        if (opts.signal?.aborted) stream.destroy();
        try {
          await prefixer.pump(stream, nameOf(c), c.Labels[LABELS.service] ?? '', info.Config.Tty === true);
        } catch (err) {
          if (!opts.signal?.aborted) throw err;
        }
      }),
    );
  }

  async images(): Promise<void> {
    const rows: string[][] = [];
    for (const c of await this.containers()) {
      const ref = c.Image;
      const image = await this.api.json<{ Id: string; Size: number; RepoTags?: string[] }>('GET', `/images/${enc(c.ImageID ?? ref)}/json`).catch(() => undefined);
      const [repo, tag] = splitTag(ref.startsWith('sha256:') ? '<none>' : ref);
      rows.push([nameOf(c), repo, tag ?? '', (image?.Id ?? '').replace(/^sha256:/, '').slice(0, 12), image ? humanSize(image.Size) : '']);
    }
    this.out.stdout.write(table(['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'], rows));
  }

  async top(services?: string[]): Promise<void> {
    for (const c of await this.containers({ services, all: false })) {
      const top = await this.api.json<{ Titles: string[]; Processes: string[][] }>('GET', `/containers/${enc(c.Id)}/top`);
      this.out.stdout.write(`${nameOf(c)}\n${table(top.Titles, top.Processes)}\n`);
    }
  }

  async port(service: string, privatePort: string, protocol = 'tcp', index = 1): Promise<string> {
    const c = await this.serviceContainer(service, index);
    const info = await this.api.json<ContainerInspect>('GET', `/containers/${enc(c.Id)}/json`);
    const binding = info.NetworkSettings?.Ports?.[`${privatePort}/${protocol}`]?.[0];
    if (!binding) throw new BerthError('not_found', `no port ${privatePort}/${protocol} for container ${nameOf(c)}`);
    return `${binding.HostIp || '0.0.0.0'}:${binding.HostPort}`;
  }
}

/** ls: the projects seen in container labels. */
export async function listProjects(api: EngineApi, all: boolean): Promise<{ name: string; status: string; configFiles: string }[]> {
  const list = await api.json<ContainerSummary[]>('GET', '/containers/json', { query: { all: true, filters: JSON.stringify({ label: [LABELS.project] }) } });
  const projects = new Map<string, { states: Map<string, number>; configFiles: string }>();
  for (const c of list) {
    const name = c.Labels[LABELS.project];
    if (!name) continue;
    const p = projects.get(name) ?? { states: new Map<string, number>(), configFiles: c.Labels[LABELS.configFiles] ?? '' };
    p.states.set(c.State, (p.states.get(c.State) ?? 0) + 1);
    projects.set(name, p);
  }
  return [...projects.entries()]
    .filter(([, p]) => all || p.states.has('running'))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, p]) => ({
      name,
      status: [...p.states.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}(${n})`).join(', '),
      configFiles: p.configFiles,
    }));
}

export function splitTag(ref: string): [string, string | undefined] {
  if (ref.includes('@')) return [ref, undefined];
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return [ref.slice(0, colon), ref.slice(colon + 1)];
  return [ref, ref === '<none>' ? '<none>' : 'latest'];
}

/** Newline-delimited JSON objects of a response stream. */
export async function* jsonLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<unknown> {
  let buf = '';
  for await (const chunk of stream) {
    buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) yield JSON.parse(line);
    }
  }
  if (buf.trim()) yield JSON.parse(buf);
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3))).join('').trimEnd() + '\n';
  return line(headers) + rows.map(line).join('');
}

function quoteCommand(command: string): string {
  const short = command.length > 20 ? `${command.slice(0, 19)}…` : command;
  return `"${short}"`;
}

export function formatPorts(ports: ContainerSummary['Ports']): string {
  return ports
    .map((p) => (p.PublicPort ? `${p.IP ?? '0.0.0.0'}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`))
    .join(', ');
}

/** docker's units.HumanDuration. */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.round(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.round(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.round(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.round(h / 24 / 30)} months`;
  return `${Math.round(h / 24 / 365)} years`;
}

function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let n = bytes;
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${Number(n.toPrecision(3))}${units[i]}`;
}
