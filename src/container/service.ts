// The container service: records in SQLite, one directory per container
// (<root>/containers/<id>: rootfs overlay mount point, diff/work, config.json,
// hostname/hosts/resolv.conf, the json-file log, the monitor's files),
// berth-monitor (src/monitor) as each container's monitor, and a reconcile
// loop over the exit files the monitor writes to <root>/exits (fs.watch plus a
// periodic sweep), which records exits and applies --rm and restart policies.
import { randomBytes } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { BerthError, conflict, invalidArgument, isCode, messageOf, notFound } from '../errors/index.js';
import type { Db } from '../db/index.js';
import { chainIds, type ImageConfig } from '../image/index.js';
import {
  buildResources,
  buildSpec,
  cgroupsPathFor,
  signalInit,
  codeOfRuncMessage,
  probeHost,
  resolveUser,
  Runc,
  writeBundle,
  type NamespaceSetting,
  type SeccompSetting,
  type SpecInput,
} from '../runtime/index.js';
import { mountAll, unmount, type Mount } from '../storage/index.js';
import { KeyedMutex, Phases, type Digest, type Logger } from '../util/index.js';
import { entrypointAndArgs, hostsFile, mergeConfig, resolvConf, signalNumber, statusString, userMounts, volumeMounts } from './config.js';
import { copyUp, removeAnonymous, resolveVolumes, type VolumeProvider } from './volumes.js';
import { type ParsedEntry } from './logs.js';
import { overlayChanges, topOf, treeSize, validatePsArgs } from './changes.js';
import { alive } from './monitor.js';
import { attachStdin, JsonLogReader, resizeTerminal, startMonitor } from '../monitor/index.js';
import { HealthChecker, probeCommand, type HealthStatus, type Prober } from './health.js';
import {
  detachedEndpoint,
  endpointView,
  initialNetworks,
  networkModeOf,
  portMapOf,
  publishedPorts,
  sharesOrNoEndpoints,
  summaryPorts,
  type NetworkProvider,
} from './networking.js';
import type { AttachResult } from '../network/index.js';
import { normalizeName, randomName } from './names.js';
import { ContainerRecords, initialState, ZERO_TIME, type ContainerRecord, type ContainerState, type NetworkEndpointConfig } from './records.js';
import type {
  ContainerService,
  ContainerSummary,
  CreateRequest,
  FilesystemChange,
  CommitSource,
  HostConfig,
  LogEntry,
  RootfsView,
  StatsTarget,
  UpdateRequest,
  LogsOptions,
  PruneReport,
  TopResult,
  WaitCondition,
  WaitResult,
} from './types.js';

export interface ContainerServiceDeps {
  db: Db;
  /** the daemon root */
  root: string;
  images: { resolve(nameOrId: string): { id: string }; config(id: Digest): Promise<ImageConfig> };
  snapshots: { mountsFor(chainId: Digest | null, upperDir: string, workDir: string): Mount[] };
  log: Logger;
  /** default /usr/sbin/runc */
  runtimeBinary?: string;
  /** default: berth-monitor built with the package (build/Release) */
  monitorBinary?: string;
  /** --init's process (docker-init is tini too): default Debian's static tini, /usr/bin/tini-static */
  initBinary?: string;
  /** cgroupfs parent of every container (default /berth); tests use a unique one */
  cgroupParent?: string;
  /** how often the reconcile loop sweeps the exit files besides watching them (ms, default 1000) */
  sweepInterval?: number;
  /** named and anonymous volumes; without it a request for a volume is refused */
  volumes?: VolumeProvider;
  /** networks (CNI); without it containers get a private namespace with no interfaces but lo */
  networks?: NetworkProvider;
}

export type ContainerEvent = {
  action: 'create' | 'start' | 'die' | 'oom' | 'kill' | 'stop' | 'restart' | 'destroy' | 'pause' | 'unpause' | 'rename' | 'update' | `health_status: ${HealthStatus}`;
  id: string;
  exitCode?: number;
  signal?: string;
  /** rename: the name before, without the slash */
  oldName?: string;
};

/** The network of one run: the namespace for the spec, the endpoints made, the container whose namespace is shared. */
interface RunNetwork {
  namespace: NamespaceSetting;
  endpoints: AttachResult[];
  sharedDir?: string;
  /** a sandbox (this path) still to be joined to the container's networks */
  toAttach?: string;
}

const DEFAULT_STOP_TIMEOUT = 10;
const RESTART_BACKOFF_START = 100;
const RESTART_BACKOFF_MAX = 60_000;
const NETWORK_MODES = new Set(['bridge', 'host', 'none']);

const nowIso = () => new Date().toISOString();

export class ContainerStore implements ContainerService {
  readonly records: ContainerRecords;
  readonly runc: Runc;
  readonly #deps: ContainerServiceDeps;
  readonly #root: string;
  readonly #exitDir: string;
  readonly #cgroupParent: string;
  /** per-container operation chain: start, exit handling and removal never interleave */
  readonly #locks = new KeyedMutex();
  readonly #exitWaiters = new Map<string, Set<(r: WaitResult) => void>>();
  readonly #removeWaiters = new Map<string, Set<(r: WaitResult) => void>>();
  readonly #restartTimers = new Map<string, NodeJS.Timeout>();
  /** docker's restart manager backoff per container (in memory, like dockerd's) */
  readonly #backoff = new Map<string, number>();
  readonly #listeners = new Set<(e: ContainerEvent) => void>();
  /** temporary users of a container's rootfs mount (cp, export): the last one unmounts a stopped container's */
  readonly #rootfsUsers = new Map<string, number>();
  readonly #health: HealthChecker;
  #prober: Prober | undefined;
  #watcher: FSWatcher | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(deps: ContainerServiceDeps) {
    this.#deps = deps;
    this.#root = deps.root;
    this.#exitDir = join(deps.root, 'exits');
    this.#cgroupParent = deps.cgroupParent ?? '/berth';
    this.records = new ContainerRecords(deps.db);
    this.runc = new Runc({ root: join(deps.root, 'runc'), logDir: join(deps.root, 'runc-log'), binary: deps.runtimeBinary ?? '/usr/sbin/runc' });
    this.#health = new HealthChecker({
      probe: (id, cmd, timeout) => {
        if (!this.#prober) throw new BerthError('unavailable', 'health checks need exec');
        return this.#prober(id, cmd, timeout);
      },
      current: (id) => {
        const r = this.records.get(id);
        return r && { health: r.state.health, startedAt: r.state.startedAt, running: r.state.status === 'running' };
      },
      save: (id, health) => {
        if (this.records.get(id)) this.#setState(id, { health });
      },
      changed: (id, status) => this.#emit({ action: `health_status: ${status}`, id }),
    });
  }

  /** Health checks run as execs; the daemon wires the exec manager in here. */
  setHealthProber(prober: Prober): void {
    this.#prober = prober;
  }

  /** Subscribe to lifecycle events (docker's event actions); returns the unsubscribe. */
  onEvent(fn: (e: ContainerEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(e: ContainerEvent): void {
    for (const fn of this.#listeners) {
      try {
        fn(e);
      } catch (err) {
        this.#deps.log.warn('event listener failed', { err });
      }
    }
  }

  dirOf(id: string): string {
    return join(this.#root, 'containers', id);
  }

  /** Start the reconcile loop (restore() calls it). */
  async #startLoop(): Promise<void> {
    if (this.#watcher || this.#closed) return;
    await mkdir(this.#exitDir, { recursive: true, mode: 0o700 });
    this.#watcher = watch(this.#exitDir, (_event, file) => {
      if (file && /^[0-9a-f]{64}$/.test(file)) void this.#reconcile(file);
    });
    this.#watcher.on('error', (err) => this.#deps.log.warn('exit dir watch failed', { err }));
    this.#sweeper = setInterval(() => void this.#sweep(), this.#deps.sweepInterval ?? 1000);
    this.#sweeper.unref();
  }

  // ---- lookups --------------------------------------------------------------

  #find(idOrName: string): ContainerRecord {
    const s = idOrName.trim();
    const byId = /^[0-9a-f]{64}$/.test(s) ? this.records.get(s) : undefined;
    if (byId) return byId;
    if (/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(s)) {
      const byName = this.records.byName(s.startsWith('/') ? s : `/${s}`);
      if (byName) return byName;
    }
    if (/^[0-9a-f]+$/.test(s)) {
      const ids = this.records.idsByPrefix(s);
      if (ids.length > 1) throw invalidArgument(`multiple IDs found with provided prefix: ${s}`);
      const rec = ids[0] !== undefined ? this.records.get(ids[0]) : undefined;
      if (rec) return rec;
    }
    throw notFound(`No such container: ${s}`);
  }

  #setState(id: string, patch: Partial<ContainerState>): ContainerState {
    const rec = this.records.get(id);
    if (!rec) throw notFound(`No such container: ${id}`);
    const state = { ...rec.state, ...patch };
    this.records.setState(id, state);
    return state;
  }

  #locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.#locks.run(id, fn);
  }

  // ---- create -----------------------------------------------------------------

  async create(req: CreateRequest, opts: { name?: string; platform?: string } = {}): Promise<{ Id: string; Warnings: string[] }> {
    if (!req.Image) throw invalidArgument('No image specified');
    const image = this.#deps.images.resolve(req.Image);
    const imageConfig = await this.#deps.images.config(image.id as Digest);
    const hostConfig = this.#validateHostConfig(req.HostConfig ?? {});
    const config = mergeConfig(req, imageConfig.config);
    const { path, args } = entrypointAndArgs(config);
    const warnings: string[] = [];
    const id = randomBytes(32).toString('hex');
    const networks = await this.#resolveNetworks(hostConfig, req);
    const shared = hostConfig.NetworkMode?.startsWith('container:') ? this.records.get(hostConfig.NetworkMode.slice('container:'.length)) : undefined;
    if (shared && req.Hostname) throw invalidArgument('conflicting options: hostname and the network mode');
    if (!config.Hostname) config.Hostname = hostConfig.NetworkMode === 'host' ? osHostname() : shared ? (shared.config.Hostname ?? id.slice(0, 12)) : id.slice(0, 12);

    const rec: ContainerRecord = {
      id,
      name: '',
      image: req.Image,
      imageId: image.id,
      created: nowIso(),
      path,
      args,
      config,
      hostConfig,
      state: initialState(),
      volumes: await resolveVolumes(this.#deps.volumes, volumeMounts(hostConfig, config.Volumes)),
      networks,
    };
    try {
      this.#insert(rec, opts.name);
    } catch (err) {
      await removeAnonymous(this.#deps.volumes, rec.volumes ?? []);
      throw err;
    }
    await mkdir(this.dirOf(id), { recursive: true, mode: 0o710 });
    // The log exists from create on (the monitor appends to it), so an attach made before
    // start holds it open and reads every line even if --rm removes the directory.
    await writeFile(logPathOf(this.dirOf(id), id), '', { flag: 'a', mode: 0o600 });
    this.#emit({ action: 'create', id });
    return { Id: id, Warnings: warnings };
  }

  /** The networks of a new container, by name, each checked to exist (docker: 404 "network X not found"). */
  async #resolveNetworks(hc: HostConfig, req: CreateRequest): Promise<Record<string, NetworkEndpointConfig>> {
    const wanted = initialNetworks(networkModeOf(hc), req);
    const net = this.#deps.networks;
    if (!net) return wanted;
    const out: Record<string, NetworkEndpointConfig> = {};
    for (const [nameOrId, cfg] of Object.entries(wanted)) {
      // 400, not dockerd's 404 at start: a 404 from create makes docker clients pull the image instead
      const info = await net.inspect(nameOrId).catch((err: unknown) => {
        throw isCode(err, 'not_found') ? invalidArgument(messageOf(err)) : err;
      });
      if (info.Name === 'host' || info.Name === 'none') throw invalidArgument(`container cannot be connected to network ${info.Name} together with others`);
      out[info.Name] = { ...cfg, NetworkID: info.Id };
    }
    // NetworkMode names the first network by its canonical name
    const first = Object.keys(out)[0];
    if (first && hc.NetworkMode && !sharesOrNoEndpoints(networkModeOf(hc))) hc.NetworkMode = first;
    return out;
  }

  /** docker network connect: joins now when running, else at the next start. */
  async connect(idOrName: string, network: string, config: NetworkEndpointConfig = {}): Promise<void> {
    const net = this.#need();
    const rec = this.#find(idOrName);
    const info = await net.inspect(network);
    await this.#locked(rec.id, async () => {
      const cur = this.records.get(rec.id);
      if (!cur) throw notFound(`No such container: ${idOrName}`);
      const mode = networkModeOf(cur.hostConfig);
      if (sharesOrNoEndpoints(mode)) throw invalidArgument(`container sharing network namespace with another container or host cannot be connected to any other network`);
      if (info.Name === 'host' || info.Name === 'none') throw invalidArgument(`container cannot be disconnected from host network or connected to host network`);
      const networks = { ...(cur.networks ?? {}) };
      if (networks[info.Name]) throw new BerthError('forbidden', `endpoint with name ${cur.name.slice(1)} already exists in network ${info.Name}`);
      const cfg: NetworkEndpointConfig = { NetworkID: info.Id };
      if (config.Aliases?.length) cfg.Aliases = [...config.Aliases];
      if (config.IPAMConfig?.IPv4Address) cfg.IPAMConfig = { IPv4Address: config.IPAMConfig.IPv4Address };
      if (config.MacAddress) cfg.MacAddress = config.MacAddress;
      if (cur.state.status === 'running' || cur.state.status === 'paused') {
        await net.attach(cur.id, join(this.#root, 'netns', cur.id), info.Name, this.#attachOptions(cur, cfg, undefined));
      }
      networks[info.Name] = cfg;
      this.records.setNetworks(cur.id, networks);
    });
  }

  /** docker network disconnect. */
  async disconnect(idOrName: string, network: string, force = false): Promise<void> {
    const net = this.#need();
    const rec = this.#find(idOrName);
    let name = network;
    try {
      name = (await net.inspect(network)).Name;
    } catch (err) {
      if (!force) throw err;
    }
    await this.#locked(rec.id, async () => {
      const cur = this.records.get(rec.id);
      if (!cur) throw notFound(`No such container: ${idOrName}`);
      const networks = { ...(cur.networks ?? {}) };
      if (!networks[name]) {
        if (sharesOrNoEndpoints(networkModeOf(cur.hostConfig))) throw invalidArgument(`container cannot be disconnected from host network or connected to host network`);
        throw new BerthError('forbidden', `container ${cur.id} is not connected to network ${name}`);
      }
      if (cur.state.status === 'running' || cur.state.status === 'paused') await net.detach(cur.id, name);
      delete networks[name];
      this.records.setNetworks(cur.id, networks);
    });
  }

  #need(): NetworkProvider {
    if (!this.#deps.networks) throw new BerthError('not_implemented', 'networking is not available');
    return this.#deps.networks;
  }

  #attachOptions(rec: ContainerRecord, cfg: NetworkEndpointConfig, ports: ReturnType<typeof publishedPorts> | undefined): Parameters<NetworkProvider['attach']>[3] {
    const opts: Parameters<NetworkProvider['attach']>[3] = { name: rec.name.slice(1), aliases: cfg.Aliases ?? [] };
    if (cfg.IPAMConfig?.IPv4Address) opts.ipv4Address = cfg.IPAMConfig.IPv4Address;
    if (cfg.MacAddress) opts.macAddress = cfg.MacAddress;
    if (ports && Object.keys(ports).length) opts.portBindings = ports;
    return opts;
  }

  /**
   * The container's network namespace for this run: the host's, another container's,
   * or its own sandbox, which #attachNetworks then joins to its networks (CNI).
   * Undone by #tearDownNetwork.
   */
  async #networkSandbox(rec: ContainerRecord): Promise<RunNetwork> {
    const mode = networkModeOf(rec.hostConfig);
    if (mode === 'host') return { namespace: 'host', endpoints: [] };
    if (mode.startsWith('container:')) {
      const other = this.records.get(mode.slice('container:'.length));
      if (!other || (other.state.status !== 'running' && other.state.status !== 'paused') || other.state.pid <= 0) {
        throw conflict(`cannot join network of a non running container: ${mode.slice('container:'.length)}`);
      }
      return { namespace: { path: `/proc/${other.state.pid}/ns/net` }, endpoints: [], sharedDir: this.dirOf(other.id) };
    }
    const net = this.#deps.networks;
    if (!net) return { namespace: 'private', endpoints: [] };
    const networks = Object.entries(rec.networks ?? { [mode]: {} });
    if (mode !== 'none' && networks.length === 1) {
      // one network: a sandbox wired ahead of time may fit (the default bridge, no ports)
      const [name, cfg] = networks[0] as [string, NetworkEndpointConfig];
      const ports = publishedPorts(rec.hostConfig, rec.config.ExposedPorts);
      const claimed = await net.claimSandbox(rec.id, name, this.#attachOptions(rec, cfg, ports));
      if (claimed) return { namespace: { path: claimed.path }, endpoints: [claimed.endpoint] };
    }
    const path = await net.createSandbox(rec.id);
    return { namespace: { path }, endpoints: [], ...(mode !== 'none' ? { toAttach: path } : {}) };
  }

  /** Join the sandbox at `path` to the container's networks, the first with the published ports. */
  async #attachNetworks(rec: ContainerRecord, path: string): Promise<AttachResult[]> {
    const net = this.#deps.networks;
    if (!net) return [];
    const ports = publishedPorts(rec.hostConfig, rec.config.ExposedPorts);
    const endpoints: AttachResult[] = [];
    let first = true;
    for (const [name, cfg] of Object.entries(rec.networks ?? { [networkModeOf(rec.hostConfig)]: {} })) {
      endpoints.push(await net.attach(rec.id, path, name, this.#attachOptions(rec, cfg, first ? ports : undefined)));
      first = false;
    }
    return endpoints;
  }

  async #tearDownNetwork(rec: ContainerRecord): Promise<void> {
    const mode = networkModeOf(rec.hostConfig);
    if (!this.#deps.networks || mode === 'host' || mode.startsWith('container:')) return;
    await this.#deps.networks.destroySandbox(rec.id).catch((err: unknown) => this.#deps.log.warn('network teardown failed', { id: rec.id, err }));
  }

  /** Insert the record under the given name, or a random unused one. */
  #insert(rec: ContainerRecord, name: string | undefined): void {
    if (name) {
      rec.name = normalizeName(name);
      if (!this.records.insert(rec)) {
        const other = this.records.byName(rec.name);
        throw conflict(
          `Conflict. The container name "${rec.name}" is already in use by container "${other?.id ?? ''}". You have to remove (or rename) that container to be able to reuse that name.`,
        );
      }
    } else {
      for (let attempt = 0; ; attempt++) {
        rec.name = `/${randomName(attempt)}`;
        if (this.records.insert(rec)) break;
        if (attempt > 20) throw new BerthError('internal', 'could not generate a unique container name');
      }
    }
  }

  /** IDs of the containers that mount volume `name` (the volume service's usedBy). */
  volumeUsers(name: string): string[] {
    return this.records.usingVolume(name);
  }

  #validateHostConfig(hc: HostConfig): HostConfig {
    const out: HostConfig = { ...hc };
    const mode = networkModeOf(hc);
    // Legacy links: on a user-defined network containers already find each other by name
    // (docker-compose 1.29's `run` sends links there), so they are accepted; on the default
    // bridge they would be the only way to resolve a name, so they are refused by name.
    const links = (hc as { Links?: string[] | null }).Links;
    if (links?.length && (mode === 'default' || mode === 'bridge'))
      throw invalidArgument('links (--link) are not supported on the default bridge network: put the containers on a user-defined network, where they find each other by name');
    if (mode.startsWith('container:')) {
      const other = this.#find(mode.slice('container:'.length));
      out.NetworkMode = `container:${other.id}`;
    } else if (!NETWORK_MODES.has(mode) && !this.#deps.networks) throw notFound(`network ${mode} not found`);
    else out.NetworkMode = mode;
    const policy = hc.RestartPolicy?.Name ?? '';
    if (!['', 'no', 'always', 'unless-stopped', 'on-failure'].includes(policy)) throw invalidArgument(`invalid restart policy '${policy}'`);
    const max = hc.RestartPolicy?.MaximumRetryCount ?? 0;
    if (max < 0) throw invalidArgument('invalid restart policy: maximum retry count cannot be negative');
    if (max > 0 && policy !== 'on-failure') throw invalidArgument(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
    if (hc.AutoRemove && policy !== '' && policy !== 'no') throw invalidArgument("can't create 'AutoRemove' container with restart policy");
    out.RestartPolicy = { Name: policy === '' ? 'no' : policy, MaximumRetryCount: max };
    // Resource rules (memory minimum, swap vs memory...) fail at create, as in docker.
    // buildResources reads only `resources` and `privileged`; the host is not needed for these checks.
    buildResources({ rootfs: '', args: ['x'], env: [], host: undefined as never, resources: resourcesOf(hc) });
    userMounts(hc);
    out.LogConfig = validLogConfig(hc.LogConfig);
    return out;
  }

  // ---- start ------------------------------------------------------------------

  async start(idOrName: string): Promise<void> {
    await this.#startLoop();
    const rec = this.#find(idOrName);
    await this.#locked(rec.id, async () => {
      const cur = this.records.get(rec.id);
      if (!cur) throw notFound(`No such container: ${idOrName}`);
      if (cur.state.status === 'running' || cur.state.status === 'paused') throw new BerthError('not_modified', 'container already started');
      if (cur.state.status === 'removing') throw conflict(`cannot start container ${cur.id}: container is marked for removal`);
      this.#cancelRestart(cur.id);
      await this.#run(cur, { manual: true });
    }).catch(async (err: unknown) => {
      // --rm covers a container that could not start too (docker run --rm waits for the removal)
      const cur = this.records.get(rec.id);
      if (cur?.hostConfig.AutoRemove && cur.state.status === 'exited') {
        await this.remove(rec.id, { force: true }).catch((e: unknown) => this.#deps.log.warn('auto-remove after a failed start failed', { id: rec.id, err: e }));
      }
      throw err;
    });
  }

  /** Mount, spec, monitor + runc create, runc start. On failure the container is left exited with docker's code. */
  async #run(rec: ContainerRecord, opts: { manual: boolean }): Promise<void> {
    const id = rec.id;
    const dir = this.dirOf(id);
    const phases = new Phases();
    try {
      await this.#cleanRuntime(id);
      phases.mark('cleanMs');
      // Independent steps run in pairs; both settle before a failure is handled (the catch undoes both).
      const [mounted, joined] = await Promise.allSettled([phases.time('mountMs', this.#mountRootfs(rec)), phases.time('sandboxMs', this.#networkSandbox(rec))]);
      phases.mark('mountAndSandboxMs');
      if (mounted.status === 'rejected') throw mounted.reason;
      if (joined.status === 'rejected') throw joined.reason;
      const rootfs = mounted.value;
      const network = joined.value;
      // The sandbox is wired (CNI) while the bundle is written: the spec needs only its path, the
      // hosts file its address (rewritten below). runc starts the process once its network is up,
      // as docker does. (Wiring it during `runc create` instead is slower here: the two contend.)
      const [bundled, attached] = await Promise.allSettled([
        phases.time('bundleMs', this.#specInput(rec, rootfs, network).then((input) => writeBundle(dir, buildSpec(input)))),
        phases.time('networkMs', network.toAttach === undefined ? Promise.resolve([]) : this.#attachNetworks(rec, network.toAttach)),
      ]);
      if (bundled.status === 'rejected') throw bundled.reason;
      if (attached.status === 'rejected') throw attached.reason;
      if (network.toAttach !== undefined) {
        network.endpoints = attached.value;
        await this.#writeHostsFile(rec, network);
      }
      phases.mark('bundleAndNetworkMs');
      const log = logOptions(rec.hostConfig);
      // `runc run --detach`: create and start in one runc process
      const created = await startMonitor({
        ...(this.#deps.monitorBinary ? { binary: this.#deps.monitorBinary } : {}),
        runtimeBinary: this.runc.binary,
        runtimeRoot: this.runc.root,
        id,
        bundle: dir,
        runtimeLog: join(dir, 'runc-create.log'),
        logPath: log.driver === 'none' ? join(dir, ATTACH_BUFFER) : logPathOf(dir, id),
        logMaxSize: log.maxSize,
        logMaxFiles: log.maxFiles,
        exitFiles: [join(this.#exitDir, id), join(dir, 'exit')],
        containerPidFile: join(dir, 'pidfile'),
        monitorPidFile: join(dir, 'monitor.pid'),
        terminal: !!rec.config.Tty,
        stdin: !!rec.config.OpenStdin,
        stdinOnce: !!rec.config.StdinOnce,
        start: true,
      });
      phases.mark('runtimeMs');
      this.#setState(id, {
        status: 'running',
        pid: created.pid,
        monitorPid: created.monitorPid,
        exitCode: 0,
        error: '',
        oomKilled: false,
        startedAt: nowIso(),
        ...(opts.manual ? { manuallyStopped: false, restartCount: 0 } : {}),
      });
      this.#emit({ action: 'start', id });
      this.#health.start(id, rec.config.Healthcheck, { fresh: true });
      phases.mark('stateMs');
      this.#deps.log.debug('container started', { id: id.slice(0, 12), ...phases.fields() });
      // the reply is on its way: wire the next container's sandbox while the daemon is idle
      void this.#deps.networks?.prewarm();
    } catch (err) {
      const message = messageOf(err);
      // docker: 127 when the executable is missing, 126 when it cannot be run, else 128.
      const code = /executable file not found|no such file or directory/i.test(message) ? 127 : /permission denied/i.test(message) ? 126 : 128;
      await this.runc.delete(id, { force: true }).catch(() => undefined);
      await this.#tearDownNetwork(rec);
      await this.#unmountRootfs(id);
      if (this.records.get(id)) {
        this.#setState(id, { status: 'exited', pid: 0, exitCode: code, error: message, finishedAt: nowIso() });
      }
      this.#notifyExit(id, { StatusCode: code, Error: { Message: message } });
      const text = `failed to create task for container: ${message}: unknown`;
      if (err instanceof BerthError) {
        const kind = err.code === 'internal' ? codeOfRuncMessage(message) : err.code;
        throw new BerthError(kind, kind === 'not_modified' ? message : text, { cause: err });
      }
      throw new BerthError('internal', text, { cause: err });
    }
  }

  /**
   * /etc/hosts of a container with a network namespace of its own (or the host's): its
   * address once attached. Written in place, so a rewrite after `runc create` is seen
   * through the bind mount.
   */
  async #writeHostsFile(rec: ContainerRecord, network: RunNetwork): Promise<void> {
    const hc = rec.hostConfig;
    const path = join(this.dirOf(rec.id), 'hosts');
    if (hc.NetworkMode === 'host') return writeFile(path, await readFile('/etc/hosts', 'utf8').catch(() => ''));
    const primary = network.endpoints[0];
    const hostsOpts: { ip?: string; hostGateway?: string } = {};
    if (primary?.IPAddress) hostsOpts.ip = primary.IPAddress;
    if (primary?.Gateway) hostsOpts.hostGateway = primary.Gateway;
    await writeFile(path, hostsFile(rec.config.Hostname || rec.id.slice(0, 12), hc.ExtraHosts ?? [], hostsOpts));
  }

  async #specInput(rec: ContainerRecord, rootfs: string, network: RunNetwork): Promise<SpecInput> {
    const hc = rec.hostConfig;
    const cfg = rec.config;
    const dir = this.dirOf(rec.id);
    const hostNet = hc.NetworkMode === 'host';
    const hostname = cfg.Hostname || rec.id.slice(0, 12);
    await writeFile(join(dir, 'hostname'), `${hostname}\n`);
    if (network.sharedDir) {
      // container:<id> mode: the other container's view of the network
      for (const f of ['hosts', 'resolv.conf']) await writeFile(join(dir, f), await readFile(join(network.sharedDir, f)).catch(() => ''));
    } else {
      await this.#writeHostsFile(rec, network);
      const hostResolv = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
      // On a user-defined network the embedded DNS (on the network's gateway) resolves
      // container names and forwards the rest, as docker's 127.0.0.11 does.
      const resolver = !hc.Dns?.length ? Object.keys(rec.networks ?? {}).map((n) => this.#deps.networks?.resolverFor(n)).find((r) => r) : undefined;
      await writeFile(
        join(dir, 'resolv.conf'),
        resolvConf(hostResolv, { dns: resolver ? [resolver] : (hc.Dns ?? []), search: hc.DnsSearch ?? [], keepLoopback: hostNet, ...(resolver ? { options: ['ndots:0'] } : {}) }),
      );
    }

    const user = await resolveUser(rootfs, cfg.User ?? '', hc.GroupAdd ?? []);
    const env = [...(cfg.Env ?? [])];
    const has = (k: string) => env.some((e) => e.startsWith(`${k}=`));
    // dockerd's daemon-side environment: PATH, HOSTNAME, TERM for a tty, HOME from passwd.
    if (!has('PATH')) env.unshift('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    if (!has('HOSTNAME')) env.push(`HOSTNAME=${hostname}`);
    if (cfg.Tty && !has('TERM')) env.push('TERM=xterm');
    if (!has('HOME')) env.push(`HOME=${user.home}`);

    const { binds, tmpfs } = userMounts(hc);
    for (const b of binds) await mkdir(b.source, { recursive: true }).catch(() => undefined);
    for (const v of rec.volumes ?? []) {
      await copyUp(rootfs, v);
      binds.push({ source: v.source, destination: v.destination, readonly: v.readonly });
    }
    const etc = (name: string, destination: string) => ({ source: join(dir, name), destination, recursive: false });
    const taken = new Set(binds.map((b) => b.destination));
    for (const [name, dest] of [['hostname', '/etc/hostname'], ['hosts', '/etc/hosts'], ['resolv.conf', '/etc/resolv.conf']] as const) {
      if (!taken.has(dest)) binds.push(etc(name, dest));
    }

    let seccomp: SeccompSetting = 'default';
    let noNewPrivileges = false;
    for (const opt of hc.SecurityOpt ?? []) {
      const [key = '', value = ''] = opt.includes('=') ? opt.split(/=(.*)/s) : opt.split(/:(.*)/s);
      if (key === 'no-new-privileges') noNewPrivileges = value === '' || value === 'true';
      else if (key === 'seccomp') seccomp = value === 'unconfined' ? 'unconfined' : { profile: JSON.parse(value) as never };
      else if (key === 'label' || key === 'apparmor') continue; // no LSM on these hosts
      else throw invalidArgument(`invalid --security-opt: ${opt}`);
    }
    let args = [rec.path, ...rec.args];
    if (hc.Init) {
      // docker: its init (tini) bind-mounted at /sbin/docker-init runs the entrypoint as its child
      const init = this.#deps.initBinary ?? '/usr/bin/tini-static';
      if (!(await stat(init).then((st) => st.isFile(), () => false))) throw invalidArgument(`exec: "docker-init": executable file not found in $PATH (${init} is missing: install tini)`);
      binds.push({ source: init, destination: '/sbin/docker-init', readonly: true, recursive: false });
      args = ['/sbin/docker-init', '--', ...args];
    }
    const input: SpecInput = {
      rootfs,
      args,
      env,
      cwd: cfg.WorkingDir || '/',
      user,
      hostname,
      terminal: !!cfg.Tty,
      readonlyRootfs: !!hc.ReadonlyRootfs,
      capAdd: hc.CapAdd ?? [],
      capDrop: hc.CapDrop ?? [],
      privileged: !!hc.Privileged,
      noNewPrivileges,
      seccomp,
      tmpfs,
      binds,
      ulimits: (hc.Ulimits ?? []).map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })),
      resources: resourcesOf(hc),
      cgroupsPath: cgroupsPathFor(rec.id, this.#cgroupParent),
      namespaces: { network: network.namespace },
      sysctls: hc.Sysctls ?? {},
      oomScoreAdj: hc.OomScoreAdj ?? 0,
      host: await probeHost(),
    };
    if (hc.ShmSize) input.shmSize = hc.ShmSize;
    return input;
  }

  async #mountRootfs(rec: ContainerRecord): Promise<string> {
    const dir = this.dirOf(rec.id);
    const rootfs = join(dir, 'rootfs');
    if (await isMountPoint(rootfs)) return rootfs;
    const imageConfig = await this.#deps.images.config(rec.imageId as Digest);
    const top = chainIds(imageConfig.rootfs.diff_ids).at(-1) ?? null;
    for (const d of ['rootfs', 'diff', 'work']) await mkdir(join(dir, d), { recursive: true, mode: 0o755 });
    mountAll(this.#deps.snapshots.mountsFor(top, join(dir, 'diff'), join(dir, 'work')), rootfs);
    return rootfs;
  }

  async #unmountRootfs(id: string): Promise<void> {
    if ((this.#rootfsUsers.get(id) ?? 0) > 0) return; // the last cp/export user unmounts
    const rootfs = join(this.dirOf(id), 'rootfs');
    if (!(await isMountPoint(rootfs))) return;
    try {
      unmount(rootfs);
    } catch {
      unmount(rootfs, { detach: true }); // still busy (a process holding a cwd there): detach
    }
  }

  /** runc keeps a state dir per container; without one there is nothing to delete (and a runc exec is saved). */
  #hasRuncState(id: string): Promise<boolean> {
    return stat(join(this.runc.root, id)).then(() => true, () => false);
  }

  /** Whatever a previous run left in runc and the exit files. */
  async #cleanRuntime(id: string): Promise<void> {
    if (await this.#hasRuncState(id)) await this.runc.delete(id, { force: true }).catch(() => undefined);
    const dir = this.dirOf(id);
    await Promise.all([join(this.#exitDir, id), join(dir, 'exit')].map((p) => rm(p, { force: true })));
  }

  // ---- exits and restart policies ------------------------------------------------

  async #sweep(): Promise<void> {
    if (this.#closed) return;
    try {
      const files = new Set(await readdir(this.#exitDir).catch(() => [] as string[]));
      for (const rec of this.records.all()) {
        if (files.has(rec.id)) await this.#reconcile(rec.id);
        else if ((rec.state.status === 'running' || rec.state.status === 'paused') && rec.state.monitorPid && !alive(rec.state.monitorPid)) await this.#reconcile(rec.id);
      }
    } catch (err) {
      this.#deps.log.warn('exit sweep failed', { err });
    }
  }

  /** Level-triggered: compare what runc and the monitor say with the record, and record an exit if there was one. */
  #reconcile(id: string): Promise<void> {
    return this.#locked(id, async () => {
      if (this.#closed) return;
      const rec = this.records.get(id);
      if (!rec) return;
      const exitFile = join(this.#exitDir, id);
      const text = await readFile(exitFile, 'utf8').catch(() => undefined);
      if (rec.state.status !== 'running' && rec.state.status !== 'paused') {
        if (text !== undefined) await rm(exitFile, { force: true });
        return;
      }
      let exitCode: number;
      let error = '';
      if (text !== undefined) {
        if (!/^-?\d+$/.test(text.trim())) return; // still being written; the next event or sweep sees it
        exitCode = Number(text.trim());
      } else {
        if (alive(rec.state.monitorPid)) return;
        const st = await this.runc.state(id).catch(() => undefined);
        if (st && st.status !== 'stopped') return; // monitor gone but container alive: leave it (nothing can report its exit)
        exitCode = 255;
        error = 'container monitor exited without recording the exit status';
      }
      await this.#recordExit(rec, exitCode, error);
    });
  }

  async #recordExit(rec: ContainerRecord, exitCode: number, error: string): Promise<void> {
    const id = rec.id;
    this.#health.stop(id);
    const dir = this.dirOf(id);
    const oomKilled = (await this.#cgroupOomKills(id)) > 0;
    const finishedAt = nowIso();
    const restart = this.#shouldRestart(rec, exitCode, finishedAt);
    // Waiters learn of the exit first (docker run --rm, a build's RUN return at once); the
    // teardown below still runs under this container's lock, so a start or remove waits for it.
    this.#setState(id, { status: restart === undefined ? 'exited' : 'restarting', pid: 0, exitCode, error, oomKilled, finishedAt });
    if (oomKilled) this.#emit({ action: 'oom', id });
    this.#emit({ action: 'die', id, exitCode });
    this.#notifyExit(id, { StatusCode: exitCode, Error: error ? { Message: error } : null });
    const phases = new Phases();
    // Independent: runc's state and cgroup, and the network (docker releases addresses and ports when a container stops).
    await Promise.all([
      this.runc.delete(id, { force: true }).catch((err: unknown) => {
        if (!isCode(err, 'not_found')) this.#deps.log.warn('runc delete failed', { id, err });
      }),
      this.#tearDownNetwork(rec),
    ]);
    phases.mark('runcAndNetworkMs');
    await Promise.all([join(this.#exitDir, id), join(dir, 'exit')].map((p) => rm(p, { force: true })));
    await this.#unmountRootfs(id);
    phases.mark('filesMs');
    this.#deps.log.debug('container exit recorded', { id: id.slice(0, 12), ...phases.fields() });
    if (restart !== undefined) this.#scheduleRestart(id, restart);
    else if (rec.hostConfig.AutoRemove) void this.remove(id, { force: true }).catch((err: unknown) => this.#deps.log.warn('auto-remove failed', { id, err }));
  }

  /** The memory cgroup's oom_kill count (cgroup v1 memory.oom_control, v2 memory.events); read before runc delete removes it. */
  async #cgroupOomKills(id: string): Promise<number> {
    const path = cgroupsPathFor(id, this.#cgroupParent);
    for (const file of [join('/sys/fs/cgroup/memory', path, 'memory.oom_control'), join('/sys/fs/cgroup', path, 'memory.events')]) {
      const text = await readFile(file, 'utf8').catch(() => undefined);
      const m = text && /^oom_kill (\d+)$/m.exec(text);
      if (m) return Number(m[1]);
    }
    return 0;
  }

  /** docker's restart manager: the delay before the next start, or undefined for no restart. */
  #shouldRestart(rec: ContainerRecord, exitCode: number, finishedAt: string): number | undefined {
    if (rec.state.manuallyStopped || this.#closed) return undefined;
    const policy = rec.hostConfig.RestartPolicy ?? {};
    let restart = false;
    if (policy.Name === 'always' || policy.Name === 'unless-stopped') restart = true;
    else if (policy.Name === 'on-failure') {
      const max = policy.MaximumRetryCount ?? 0;
      restart = exitCode !== 0 && (max === 0 || rec.state.restartCount < max);
    }
    if (!restart) return undefined;
    // Backoff: 100ms doubling up to a minute; reset when the run lasted 10s or more.
    const ran = Date.parse(finishedAt) - Date.parse(rec.state.startedAt);
    const prev = ran >= 10_000 ? 0 : (this.#backoff.get(rec.id) ?? 0);
    const delay = Math.min(prev === 0 ? RESTART_BACKOFF_START : prev * 2, RESTART_BACKOFF_MAX);
    this.#backoff.set(rec.id, delay);
    return delay;
  }

  #scheduleRestart(id: string, delay: number): void {
    this.#cancelRestart(id);
    const timer = setTimeout(() => {
      this.#restartTimers.delete(id);
      void this.#locked(id, async () => {
        const rec = this.records.get(id);
        if (!rec || rec.state.status !== 'restarting' || this.#closed) return;
        this.#setState(id, { restartCount: rec.state.restartCount + 1 });
        this.#emit({ action: 'restart', id });
        await this.#run({ ...rec, state: { ...rec.state, restartCount: rec.state.restartCount + 1 } }, { manual: false });
      }).catch((err: unknown) => this.#deps.log.warn('restart failed', { id, err }));
    }, delay);
    this.#restartTimers.set(id, timer);
  }

  #cancelRestart(id: string): void {
    const t = this.#restartTimers.get(id);
    if (t) clearTimeout(t);
    this.#restartTimers.delete(id);
  }

  #notifyExit(id: string, result: WaitResult): void {
    const waiters = this.#exitWaiters.get(id);
    this.#exitWaiters.delete(id);
    for (const w of waiters ?? []) w(result);
  }

  #nextExit(id: string, signal?: AbortSignal): Promise<WaitResult> {
    return waitOn(this.#exitWaiters, id, signal);
  }

  // ---- stop / kill / restart ------------------------------------------------------

  async stop(idOrName: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    const rec = this.#find(idOrName);
    if (rec.state.status === 'restarting') {
      this.#cancelRestart(rec.id);
      this.#setState(rec.id, { status: 'exited', manuallyStopped: true });
      this.#emit({ action: 'stop', id: rec.id });
      return;
    }
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') throw new BerthError('not_modified', 'container already stopped');
    this.#setState(rec.id, { manuallyStopped: true });
    const signal = opts.signal || rec.config.StopSignal || 'SIGTERM';
    const timeout = opts.timeout ?? rec.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT;
    await this.#terminate(rec, signal, timeout);
    this.#emit({ action: 'stop', id: rec.id });
  }

  /** Send `signal`; after `timeout` seconds (negative = forever) SIGKILL; resolve when the exit is recorded. */
  async #terminate(rec: ContainerRecord, signal: string, timeout: number): Promise<void> {
    const exited = this.#nextExit(rec.id);
    const now = this.records.get(rec.id)?.state.status;
    if (now !== 'running' && now !== 'paused') return; // its exit was recorded before we began waiting
    if (rec.state.status === 'paused') await this.runc.resume(rec.id).catch(() => undefined);
    const n = signalNumber(signal);
    await this.#signal(rec.id, n);
    if (n === 9) return void (await exited);
    if (timeout !== 0) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = timeout < 0 ? new Promise<never>(() => undefined) : new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeout * 1000)));
      const first = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (first !== 'timeout') return;
    }
    await this.#signal(rec.id, 9);
    await exited;
  }

  /**
   * Signal the container's init straight from here (a pidfd, no runc process);
   * in its own PID namespace a SIGKILL of init takes every other process along.
   */
  async #signal(id: string, signal: number): Promise<'sent' | 'gone'> {
    const rec = this.records.get(id);
    const outcome = rec ? await signalInit(rec.state.pid, cgroupsPathFor(id, this.#cgroupParent), signal) : 'gone';
    // Gone already or not: the exit file (or the sweep) will tell.
    void this.#reconcile(id);
    return outcome;
  }

  async kill(idOrName: string, signal = 'SIGKILL'): Promise<void> {
    const rec = this.#find(idOrName);
    const n = signalNumber(signal);
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') throw conflict(`Container ${rec.id} is not running`);
    // Like dockerd: a kill with the stop signal or SIGKILL keeps restart policies from bringing it back.
    if (n === 9 || n === signalNumber(rec.config.StopSignal || 'SIGTERM')) this.#setState(rec.id, { manuallyStopped: true });
    if ((await this.#signal(rec.id, n)) === 'gone') throw conflict(`Container ${rec.id} is not running`);
    this.#emit({ action: 'kill', id: rec.id, signal: String(n) });
  }

  async restart(idOrName: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    const rec = this.#find(idOrName);
    try {
      await this.stop(rec.id, opts);
    } catch (err) {
      if (!isCode(err, 'not_modified')) throw err;
    }
    await this.start(rec.id);
    this.#emit({ action: 'restart', id: rec.id });
  }

  // ---- remove ---------------------------------------------------------------------

  async remove(idOrName: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const rec = this.#find(idOrName);
    const running = rec.state.status === 'running' || rec.state.status === 'paused';
    if (running && !opts.force) {
      throw conflict(`You cannot remove a running container ${rec.id}. Stop the container before attempting removal or force remove`);
    }
    this.#cancelRestart(rec.id);
    this.#health.stop(rec.id);
    if (rec.state.status === 'removing') throw conflict(`removal of container ${rec.id} is already in progress`);
    const phases = new Phases();
    if (running) {
      this.#setState(rec.id, { manuallyStopped: true });
      await this.#terminate(rec, 'SIGKILL', 0);
      phases.mark('killMs');
    }
    await this.#locked(rec.id, async () => {
      phases.mark('lockMs');
      const cur = this.records.get(rec.id);
      if (!cur) return;
      this.#setState(rec.id, { status: 'removing' });
      // an exited container's runc state went with its exit (#recordExit); this is for the rest
      if (await this.#hasRuncState(rec.id)) await this.runc.delete(rec.id, { force: true }).catch(() => undefined);
      phases.mark('runcMs');
      this.#rootfsUsers.delete(rec.id); // a cp still reading loses its mount: the container is going
      await this.#tearDownNetwork(cur);
      phases.mark('networkMs');
      await this.#unmountRootfs(rec.id);
      await rm(join(this.#exitDir, rec.id), { force: true });
      await rm(this.dirOf(rec.id), { recursive: true, force: true });
      phases.mark('filesMs');
      this.records.delete(rec.id);
      this.#deps.log.debug('container removed', { id: rec.id.slice(0, 12), ...phases.fields() });
      // docker: rm -v and --rm take the container's anonymous volumes along
      if (opts.volumes || cur.hostConfig.AutoRemove) await removeAnonymous(this.#deps.volumes, cur.volumes ?? []);
      this.#backoff.delete(rec.id);
      this.#emit({ action: 'destroy', id: rec.id });
      const waiters = this.#removeWaiters.get(rec.id);
      this.#removeWaiters.delete(rec.id);
      for (const w of waiters ?? []) w({ StatusCode: cur.state.exitCode, Error: cur.state.error ? { Message: cur.state.error } : null });
    });
  }

  // ---- pause / unpause / rename / top / changes / prune ------------------------------

  async pause(idOrName: string): Promise<void> {
    const rec = this.#find(idOrName);
    await this.#locked(rec.id, async () => {
      const cur = this.records.get(rec.id);
      if (!cur) throw notFound(`No such container: ${idOrName}`);
      if (cur.state.status === 'paused') throw conflict(`Container ${cur.id} is already paused`);
      if (cur.state.status === 'restarting') throw conflict(`Container ${cur.id} is restarting, wait until the container is running`);
      if (cur.state.status !== 'running') throw conflict(`Container ${cur.id} is not running`);
      await this.runc.pause(cur.id);
      this.#setState(cur.id, { status: 'paused' });
      this.#emit({ action: 'pause', id: cur.id });
    });
  }

  async unpause(idOrName: string): Promise<void> {
    const rec = this.#find(idOrName);
    await this.#locked(rec.id, async () => {
      const cur = this.records.get(rec.id);
      if (!cur) throw notFound(`No such container: ${idOrName}`);
      if (cur.state.status !== 'paused') throw conflict(`Container ${cur.id} is not paused`);
      await this.runc.resume(cur.id);
      this.#setState(cur.id, { status: 'running' });
      this.#emit({ action: 'unpause', id: cur.id });
    });
  }

  async rename(idOrName: string, newName: string): Promise<void> {
    const rec = this.#find(idOrName);
    if (!newName.trim()) throw invalidArgument('Neither old nor new names may be empty');
    const name = normalizeName(newName.trim());
    if (name === rec.name) throw invalidArgument('Renaming a container with the same name as its current name');
    if (!this.records.rename(rec.id, name)) {
      const other = this.records.byName(name);
      throw conflict(
        `Conflict. The container name "${name}" is already in use by container "${other?.id ?? ''}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    this.#emit({ action: 'rename', id: rec.id, oldName: rec.name.slice(1) });
  }

  async top(idOrName: string, psArgs = ''): Promise<TopResult> {
    const args = psArgs.trim() || '-ef';
    validatePsArgs(args);
    const rec = this.#find(idOrName);
    if (rec.state.status === 'restarting') throw conflict(`Container ${rec.id} is restarting, wait until the container is running`);
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') throw conflict(`Container ${rec.id} is not running`);
    const pids = await this.runc.ps(rec.id);
    return topOf(pids, args);
  }

  // ---- stdin and the terminal (attach, resize) --------------------------------------------

  async resize(idOrName: string, height: number, width: number): Promise<void> {
    const rec = this.#find(idOrName);
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') throw conflict(`Container ${rec.id} is not running`);
    if (!rec.config.Tty) return; // docker clients resize only terminals; nothing to do for pipes
    if (!(height > 0 && width > 0)) throw invalidArgument('invalid terminal size');
    await resizeTerminal(this.dirOf(rec.id), height, width);
  }

  async attachStdin(idOrName: string, signal?: AbortSignal): Promise<Writable> {
    const rec = this.#find(idOrName);
    if (!rec.config.OpenStdin) throw conflict(`container ${rec.id} was not created with stdin open (-i)`);
    // docker run attaches before start: the monitor (and its socket) exists once the container runs
    const started = new Promise<void>((resolve, reject) => {
      const off = this.onEvent((e) => {
        if (e.id !== rec.id) return;
        if (e.action === 'start') resolve();
        else if (e.action === 'destroy') reject(notFound(`No such container: ${rec.id}`));
        else return;
        off();
      });
      signal?.addEventListener('abort', () => {
        off();
        reject(new BerthError('unavailable', 'attach ended'));
      }, { once: true });
      const now = this.records.get(rec.id)?.state.status;
      if (now === 'running' || now === 'paused') {
        off();
        resolve();
      }
    });
    await started;
    return attachStdin(this.dirOf(rec.id));
  }

  // ---- rootfs access (cp, export, commit), stats, update --------------------------------

  async withRootfs<T>(idOrName: string, fn: (view: RootfsView) => Promise<T>): Promise<T> {
    const id = this.#find(idOrName).id;
    const rootfs = await this.#locked(id, async () => {
      const cur = this.records.get(id);
      if (!cur) throw notFound(`No such container: ${idOrName}`);
      if (cur.state.status === 'removing' || cur.state.status === 'dead') throw conflict(`container ${id} is marked for removal and cannot be accessed`);
      const path = await this.#mountRootfs(cur);
      this.#rootfsUsers.set(id, (this.#rootfsUsers.get(id) ?? 0) + 1);
      return path;
    });
    try {
      const cur = this.records.get(id);
      if (!cur) throw notFound(`No such container: ${idOrName}`);
      const running = cur.state.status === 'running' || cur.state.status === 'paused';
      return await fn({ rootfs, mounts: this.#mountView(cur, running), running });
    } finally {
      await this.#locked(id, async () => {
        const left = (this.#rootfsUsers.get(id) ?? 1) - 1;
        if (left > 0) {
          this.#rootfsUsers.set(id, left);
          return;
        }
        this.#rootfsUsers.delete(id);
        const cur = this.records.get(id);
        if (cur && cur.state.status !== 'running' && cur.state.status !== 'paused') await this.#unmountRootfs(id);
      });
    }
  }

  /** The container's volume, bind and tmpfs mounts as host paths (a tmpfs is reachable only while the container runs). */
  #mountView(r: ContainerRecord, running: boolean): RootfsView['mounts'] {
    const out: RootfsView['mounts'] = [];
    const { binds, tmpfs } = userMounts(r.hostConfig);
    for (const b of binds) out.push({ destination: b.destination, source: b.source, readOnly: !!b.readonly, type: 'bind' });
    for (const v of r.volumes ?? []) out.push({ destination: v.destination, source: v.source, readOnly: v.readonly, type: 'volume' });
    if (running && r.state.pid > 0) {
      for (const t of tmpfs) out.push({ destination: t.destination, source: `/proc/${r.state.pid}/root${t.destination}`, readOnly: false, type: 'tmpfs' });
    }
    return out;
  }

  async commitSource(idOrName: string): Promise<CommitSource> {
    const r = this.#find(idOrName);
    const { Image: _image, ...config } = r.config;
    return {
      id: r.id,
      name: r.name,
      imageId: r.imageId,
      config: { ...config, Image: r.imageId },
      upperDir: join(this.dirOf(r.id), 'diff'),
      running: r.state.status === 'running' || r.state.status === 'paused',
      paused: r.state.status === 'paused',
    };
  }

  async statsTarget(idOrName: string): Promise<StatsTarget> {
    const r = this.#find(idOrName);
    const running = r.state.status === 'running' || r.state.status === 'paused';
    return { id: r.id, name: r.name, running, pid: running ? r.state.pid : 0, cgroupsPath: cgroupsPathFor(r.id, this.#cgroupParent) };
  }

  async update(idOrName: string, update: UpdateRequest): Promise<{ Warnings: string[] }> {
    const rec = this.#find(idOrName);
    return this.#locked(rec.id, async () => {
      const cur = this.records.get(rec.id);
      if (!cur) throw notFound(`No such container: ${idOrName}`);
      if (cur.state.status === 'removing' || cur.state.status === 'dead') throw conflict(`Container ${cur.id} is marked for removal and cannot be "update"`);
      const hc: HostConfig = { ...cur.hostConfig };
      const keys = ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems', 'PidsLimit'] as const;
      for (const k of keys) {
        const v = update[k];
        if (v !== undefined && v !== null && v !== 0 && v !== '') (hc as Record<string, unknown>)[k] = v;
      }
      if (update.NanoCpus && (hc.CpuQuota || hc.CpuPeriod) && (update.CpuQuota || update.CpuPeriod)) {
        throw invalidArgument('Conflicting options: Nano CPUs and CPU Period cannot both be set');
      }
      // docker: raising memory above the old swap limit needs a new swap limit too
      if (update.Memory && !update.MemorySwap && cur.hostConfig.MemorySwap && cur.hostConfig.MemorySwap > 0 && update.Memory > cur.hostConfig.MemorySwap) {
        throw invalidArgument('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
      }
      if (update.RestartPolicy?.Name !== undefined) {
        const name = update.RestartPolicy.Name || 'no';
        if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(name)) throw invalidArgument(`invalid restart policy '${name}'`);
        if (cur.hostConfig.AutoRemove && name !== 'no') throw invalidArgument('Restart policy cannot be updated because AutoRemove is enabled for the container');
        hc.RestartPolicy = { Name: name, MaximumRetryCount: update.RestartPolicy.MaximumRetryCount ?? 0 };
      }
      const resources = buildResources({ rootfs: '', args: ['x'], env: [], host: undefined as never, resources: resourcesOf(hc) });
      if (cur.state.status === 'running' || cur.state.status === 'paused') {
        delete resources.devices; // runc update leaves device rules alone; only limits change
        await this.runc.update(cur.id, resources);
      }
      this.records.setHostConfig(cur.id, hc);
      this.#emit({ action: 'update', id: cur.id });
      return { Warnings: [] };
    });
  }

  async changes(idOrName: string): Promise<FilesystemChange[]> {
    const rec = this.#find(idOrName);
    const lower = await this.#lowerDirs(rec);
    return overlayChanges(join(this.dirOf(rec.id), 'diff'), lower ? lower.split(':') : []);
  }

  /** The overlay lowerdir option of the container's image ('' when the image is gone). */
  async #lowerDirs(r: ContainerRecord): Promise<string> {
    const dir = this.dirOf(r.id);
    try {
      const cfg = await this.#deps.images.config(r.imageId as Digest);
      const top = chainIds(cfg.rootfs.diff_ids).at(-1) ?? null;
      const overlay = this.#deps.snapshots.mountsFor(top, join(dir, 'diff'), join(dir, 'work'))[0];
      return overlay?.options.find((o) => o.startsWith('lowerdir='))?.slice('lowerdir='.length) ?? '';
    } catch {
      return ''; // the image is gone (rmi -f): no lower dirs
    }
  }

  async prune(filters: Record<string, string[]> = {}): Promise<PruneReport> {
    for (const key of Object.keys(filters)) if (!['until', 'label', 'label!'].includes(key)) throw invalidArgument(`invalid filter '${key}'`);
    const until = filters.until?.length ? untilCutoff(filters.until) : undefined;
    const report: PruneReport = { ContainersDeleted: [], SpaceReclaimed: 0 };
    for (const rec of this.records.all()) {
      const st = rec.state.status;
      if (st === 'running' || st === 'paused' || st === 'restarting' || st === 'removing') continue;
      if (until !== undefined && Date.parse(rec.created) >= until) continue;
      if (!labelsMatch(rec.config.Labels ?? {}, filters.label ?? [], filters['label!'] ?? [])) continue;
      const size = await treeSize(join(this.dirOf(rec.id), 'diff'));
      try {
        await this.remove(rec.id);
      } catch (err) {
        if (isCode(err, 'not_found') || isCode(err, 'conflict')) continue; // removed or started meanwhile
        throw err;
      }
      report.ContainersDeleted.push(rec.id);
      report.SpaceReclaimed += size;
    }
    return report;
  }

  // ---- wait -----------------------------------------------------------------------

  async wait(idOrName: string, condition: WaitCondition = 'not-running', signal?: AbortSignal): Promise<WaitResult> {
    const rec = this.#find(idOrName);
    const result = (s: ContainerState): WaitResult => ({ StatusCode: s.exitCode, Error: s.error ? { Message: s.error } : null });
    if (condition === 'removed') {
      const removed = waitOn(this.#removeWaiters, rec.id, signal);
      return removed;
    }
    if (condition === 'next-exit') return this.#nextExit(rec.id, signal);
    const s = rec.state.status;
    if (s !== 'running' && s !== 'paused' && s !== 'restarting') return result(rec.state);
    return this.#nextExit(rec.id, signal);
  }

  // ---- list / inspect -----------------------------------------------------------------

  async list(opts: { all?: boolean; limit?: number; size?: boolean; filters?: Record<string, string[]> } = {}): Promise<ContainerSummary[]> {
    const filters = opts.filters ?? {};
    const known = new Set(['status', 'name', 'id', 'label', 'exited', 'ancestor', 'before', 'since', 'network', 'volume', 'health', 'isolation', 'is-task', 'publish', 'expose']);
    for (const key of Object.keys(filters)) if (!known.has(key)) throw invalidArgument(`invalid filter '${key}'`);
    for (const s of filters.status ?? []) {
      if (!['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'].includes(s)) {
        throw invalidArgument(`invalid filter 'status=${s}'`);
      }
    }
    const ancestors = new Set<string>();
    for (const a of filters.ancestor ?? []) {
      try {
        ancestors.add(this.#deps.images.resolve(a).id);
      } catch {
        ancestors.add(a);
      }
    }
    let recs = this.records.all();
    const boundary = (key: 'before' | 'since') => {
      const v = filters[key]?.[0];
      return v === undefined ? undefined : this.#find(v);
    };
    const before = boundary('before');
    const since = boundary('since');
    if (before) recs = recs.filter((r) => r.created < before.created);
    if (since) recs = recs.filter((r) => r.created > since.created);
    const all = opts.all || (opts.limit ?? 0) > 0 || !!filters.status?.length || !!filters.exited?.length || !!before || !!since;
    recs = recs.filter((r) => {
      const st = r.state.status;
      if (!all && st !== 'running' && st !== 'paused' && st !== 'restarting') return false;
      if (filters.status?.length && !filters.status.includes(st)) return false;
      if (filters.id?.length && !filters.id.some((p) => r.id.startsWith(p))) return false;
      if (filters.name?.length && !filters.name.some((n) => safeRegex(n).test(r.name) || safeRegex(n).test(r.name.slice(1)))) return false;
      if (filters.exited?.length && (st !== 'exited' || !filters.exited.includes(String(r.state.exitCode)))) return false;
      if (filters.ancestor?.length && !ancestors.has(r.imageId) && !ancestors.has(r.image)) return false;
      const labels = r.config.Labels ?? {};
      for (const l of filters.label ?? []) {
        const i = l.indexOf('=');
        if (i < 0 ? !(l in labels) : labels[l.slice(0, i)] !== l.slice(i + 1)) return false;
      }
      if (filters.network?.length && !filters.network.some((n) => n === (r.hostConfig.NetworkMode ?? 'bridge') || n in (r.networks ?? {}) || Object.values(r.networks ?? {}).some((c) => c.NetworkID?.startsWith(n)))) return false;
      if (filters.health?.length) {
        const h = probeCommand(r.config.Healthcheck) && r.state.health && st === 'running' ? r.state.health.Status : 'none';
        if (!filters.health.includes(h)) return false;
      }
      return true;
    });
    if (opts.limit && opts.limit > 0) recs = recs.slice(0, opts.limit);
    return recs.map((r) => this.#summary(r));
  }

  /** The endpoints of a running container (none otherwise). */
  #endpoints(r: ContainerRecord): AttachResult[] {
    const running = r.state.status === 'running' || r.state.status === 'paused';
    return running && this.#deps.networks && !sharesOrNoEndpoints(networkModeOf(r.hostConfig)) ? this.#deps.networks.endpointsOf(r.id) : [];
  }

  /** NetworkSettings.Networks: each joined network, with its addresses while running. */
  #networksView(r: ContainerRecord, endpoints: readonly AttachResult[]): Record<string, unknown> {
    const mode = networkModeOf(r.hostConfig);
    if (sharesOrNoEndpoints(mode)) return mode.startsWith('container:') ? {} : { [mode]: detachedEndpoint({}, '') };
    const out: Record<string, unknown> = {};
    for (const [name, cfg] of Object.entries(r.networks ?? { [mode]: {} })) {
      const ep = endpoints.find((e) => cfg.NetworkID && e.NetworkID === cfg.NetworkID);
      out[name] = ep ? endpointView(ep) : detachedEndpoint(cfg, cfg.NetworkID ?? '');
    }
    return out;
  }

  #summary(r: ContainerRecord): ContainerSummary {
    const mode = r.hostConfig.NetworkMode ?? 'bridge';
    const endpoints = this.#endpoints(r);
    return {
      Id: r.id,
      Names: [r.name],
      Image: r.image,
      ImageID: r.imageId,
      Command: [r.path, ...r.args].join(' '),
      Created: Math.floor(Date.parse(r.created) / 1000),
      Ports: summaryPorts(endpoints, r.config.ExposedPorts),
      Labels: r.config.Labels ?? {},
      State: r.state.status,
      Status: statusString(r.state),
      HostConfig: { NetworkMode: mode },
      NetworkSettings: { Networks: this.#networksView(r, endpoints) },
      Mounts: mountsOf(r),
    };
  }

  /** inspect's NetworkSettings, with docker's top-level fields from the default bridge network. */
  #networkSettings(r: ContainerRecord): Record<string, unknown> {
    const endpoints = this.#endpoints(r);
    const running = r.state.status === 'running' || r.state.status === 'paused';
    const mode = networkModeOf(r.hostConfig);
    const sandboxed = running && this.#deps.networks && !mode.startsWith('container:') && mode !== 'host';
    const bridge = endpoints.find((e) => e.NetworkID === r.networks?.bridge?.NetworkID);
    return {
      Bridge: '',
      SandboxID: sandboxed ? r.id : '',
      SandboxKey: sandboxed ? join(this.#root, 'netns', r.id) : '',
      Ports: running ? portMapOf(endpoints, r.config.ExposedPorts) : {},
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      EndpointID: bridge?.EndpointID ?? '',
      Gateway: bridge?.Gateway ?? '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: bridge?.IPAddress ?? '',
      IPPrefixLen: bridge?.IPPrefixLen ?? 0,
      IPv6Gateway: '',
      MacAddress: bridge?.MacAddress ?? '',
      Networks: this.#networksView(r, endpoints),
    };
  }

  async inspect(idOrName: string): Promise<Record<string, unknown>> {
    const r = this.#find(idOrName);
    const s = r.state;
    const dir = this.dirOf(r.id);
    const lower = await this.#lowerDirs(r);
    return {
      Id: r.id,
      Created: r.created,
      Path: r.path,
      Args: r.args,
      State: {
        Status: s.status,
        Running: s.status === 'running' || s.status === 'paused' || s.status === 'restarting',
        Paused: s.status === 'paused',
        Restarting: s.status === 'restarting',
        OOMKilled: s.oomKilled,
        Dead: s.status === 'dead',
        Pid: s.pid,
        ExitCode: s.exitCode,
        Error: s.error,
        StartedAt: s.startedAt,
        FinishedAt: s.finishedAt,
        ...(s.health && probeCommand(r.config.Healthcheck) ? { Health: s.health } : {}),
      },
      Image: r.imageId,
      ResolvConfPath: join(dir, 'resolv.conf'),
      HostnamePath: join(dir, 'hostname'),
      HostsPath: join(dir, 'hosts'),
      LogPath: r.hostConfig.LogConfig?.Type === 'none' ? '' : logPathOf(dir, r.id),
      Name: r.name,
      RestartCount: s.restartCount,
      Driver: 'overlay2',
      Platform: 'linux',
      MountLabel: '',
      ProcessLabel: '',
      AppArmorProfile: '',
      ExecIDs: null,
      HostConfig: r.hostConfig,
      GraphDriver: {
        Name: 'overlay2',
        Data: { LowerDir: lower, UpperDir: join(dir, 'diff'), WorkDir: join(dir, 'work'), MergedDir: join(dir, 'rootfs') },
      },
      Mounts: mountsOf(r),
      Config: r.config,
      NetworkSettings: this.#networkSettings(r),
    };
  }

  // ---- logs -------------------------------------------------------------------------

  async *logs(idOrName: string, opts: LogsOptions = {}): AsyncIterable<LogEntry> {
    const rec = this.#find(idOrName);
    const wantStdout = opts.stdout ?? true;
    const wantStderr = opts.stderr ?? true;
    const keep = (e: ParsedEntry) =>
      (e.stream === 'stdout' ? wantStdout : wantStderr) &&
      (opts.since === undefined || opts.since <= 0 || e.seconds >= opts.since) &&
      (opts.until === undefined || opts.until <= 0 || e.seconds <= opts.until);
    const out = (e: ParsedEntry): LogEntry => ({ stream: e.stream, time: e.time, line: e.line });
    const log = logOptions(rec.hostConfig);
    if (log.driver === 'none' && !opts.attach) throw new BerthError('not_implemented', 'configured logging driver does not support reading');
    const path = log.driver === 'none' ? join(this.dirOf(rec.id), ATTACH_BUFFER) : logPathOf(this.dirOf(rec.id), rec.id);
    // One reader for the whole read: it holds the open file, so an --rm container's
    // last lines stay readable after its directory is removed, and it follows rotations.
    const reader = new JsonLogReader(path, { maxFiles: log.maxFiles });
    const readMore = async (): Promise<ParsedEntry[]> => reader.readMore();
    // Attach before start: a created container counts as live until its first run ends.
    let awaitingStart = !!opts.waitStart && rec.state.status === 'created';
    const running = () => {
      const s = this.records.get(rec.id)?.state.status;
      if (awaitingStart && s === 'created') return true;
      if (s !== 'created') awaitingStart = false;
      return s === 'running' || s === 'paused' || s === 'restarting';
    };
    try {
      yield* this.#followLog(rec.id, path, opts, keep, out, readMore, running);
    } finally {
      await reader.close();
    }
  }

  async *#followLog(
    id: string,
    path: string,
    opts: LogsOptions,
    keep: (e: ParsedEntry) => boolean,
    out: (e: ParsedEntry) => LogEntry,
    readMore: () => Promise<ParsedEntry[]>,
    running: () => boolean,
  ): AsyncIterable<LogEntry> {
    const rec = { id };
    // Decide "still running" before reading, so an exit in between is followed by one more read.
    let live = !!opts.follow && running();
    let first = (await readMore()).filter(keep);
    if (opts.tail !== undefined && opts.tail >= 0) first = opts.tail === 0 ? [] : first.slice(-opts.tail);
    for (const e of first) yield out(e);
    while (live && !opts.signal?.aborted) {
      // One waiter per round, dropped at its end (a long follow must not pile up listeners).
      const round = new AbortController();
      const stop = () => round.abort();
      opts.signal?.addEventListener('abort', stop, { once: true });
      const exited = this.#nextExit(rec.id, round.signal).then(
        () => 'exit',
        () => 'abort',
      );
      let watcher: FSWatcher | undefined;
      const changed = new Promise<string>((resolve) => {
        try {
          // the directory, not the file: a rotation replaces the file under the same name
          watcher = watch(dirname(path), (_event, name) => {
            if (!name || String(name).startsWith(basename(path))) resolve('change');
          });
          watcher.on('error', () => setTimeout(() => resolve('change'), 50));
        } catch {
          setTimeout(() => resolve('change'), 50); // no file to watch: poll, never spin
        }
      });
      // Polling too, in case a change event is lost between reads.
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<string>((r) => (timer = setTimeout(() => r('tick'), 500)));
      live = running();
      if (live) await Promise.race([exited, changed, tick]);
      watcher?.close();
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', stop);
      round.abort();
      live = live && running();
      const more = (await readMore()).filter(keep);
      for (const e of more) yield out(e);
    }
  }

  imageInUse(imageId: string): boolean {
    return this.records.usesImage(imageId);
  }

  // ---- daemon start / stop ------------------------------------------------------------------

  async restore(): Promise<void> {
    await this.#startLoop();
    for (const rec of this.records.all()) {
      try {
        await this.#restoreOne(rec);
      } catch (err) {
        this.#deps.log.warn('restore failed', { id: rec.id, err });
      }
    }
  }

  async #restoreOne(rec: ContainerRecord): Promise<void> {
    const s = rec.state.status;
    if (s === 'removing') {
      // The daemon died half-way through a removal: finish it.
      this.#setState(rec.id, { status: 'dead' });
      await this.remove(rec.id, { force: true });
      return;
    }
    if (s === 'running' || s === 'paused') {
      await this.#reconcile(rec.id); // alive: re-adopted as is; exited while we were down: recorded (and restarted per policy)
      const cur = this.records.get(rec.id);
      if (cur?.state.status === 'running' || cur?.state.status === 'paused') this.#health.start(rec.id, cur.config.Healthcheck, { fresh: false });
      return;
    }
    const policy = rec.hostConfig.RestartPolicy?.Name;
    const everStarted = rec.state.startedAt !== ZERO_TIME;
    const bringBack =
      s === 'restarting' ||
      (s === 'exited' && everStarted && (policy === 'always' || (policy === 'unless-stopped' && !rec.state.manuallyStopped)));
    if (bringBack) {
      await this.#locked(rec.id, async () => {
        const cur = this.records.get(rec.id);
        if (cur) await this.#run(cur, { manual: false });
      }).catch((err: unknown) => this.#deps.log.warn('restart on restore failed', { id: rec.id, err }));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#health.close();
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#sweeper) clearInterval(this.#sweeper);
    for (const t of this.#restartTimers.values()) clearTimeout(t);
    this.#restartTimers.clear();
    await this.#locks.idle();
  }
}

function resourcesOf(hc: HostConfig): SpecInput['resources'] {
  const r: NonNullable<SpecInput['resources']> = {};
  if (hc.Memory) r.memory = hc.Memory;
  if (hc.MemorySwap) r.memorySwap = hc.MemorySwap;
  if (hc.MemoryReservation) r.memoryReservation = hc.MemoryReservation;
  if (hc.NanoCpus) r.nanoCpus = hc.NanoCpus;
  if (hc.CpuShares) r.cpuShares = hc.CpuShares;
  if (hc.CpuPeriod) r.cpuPeriod = hc.CpuPeriod;
  if (hc.CpuQuota) r.cpuQuota = hc.CpuQuota;
  if (hc.CpusetCpus) r.cpusetCpus = hc.CpusetCpus;
  if (hc.CpusetMems) r.cpusetMems = hc.CpusetMems;
  if (hc.PidsLimit) r.pidsLimit = hc.PidsLimit;
  if (hc.OomKillDisable) r.oomKillDisable = true;
  return r;
}


function mountsOf(r: ContainerRecord): unknown[] {
  const hc = r.hostConfig;
  let binds: ReturnType<typeof userMounts>['binds'] = [];
  try {
    binds = userMounts(hc).binds;
  } catch {
    /* validated at create */
  }
  return binds.map((b) => ({
    Type: 'bind',
    Source: b.source,
    Destination: b.destination,
    Mode: b.readonly ? 'ro' : '',
    RW: !b.readonly,
    Propagation: b.propagation ?? 'rprivate',
  })).concat(
    (r.volumes ?? []).map((v) => ({
      Type: 'volume',
      Name: v.name,
      Source: v.source,
      Destination: v.destination,
      Driver: 'local',
      Mode: v.readonly ? 'ro' : 'z',
      RW: !v.readonly,
      Propagation: '',
    })),
  );
}

/** prune's until: unix seconds (fraction allowed), an RFC 3339 time, or a Go duration ago ("24h", "10m30s"); ms since the epoch. */
function untilCutoff(values: string[], now = Date.now()): number {
  const v = (values[0] ?? '').trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length && parts.map((p) => p[0]).join('') === v) {
    return now - parts.reduce((sum, p) => sum + Number(p[1]) * (units[p[2] as string] ?? 0), 0);
  }
  const parsed = Date.parse(v);
  if (Number.isNaN(parsed)) throw invalidArgument(`failed to parse value as time or duration: "${v}"`);
  return parsed;
}

/** label=k / label=k=v must all match; label!=k / label!=k=v must all not. */
function labelsMatch(labels: Record<string, string>, want: string[], notWant: string[]): boolean {
  const has = (l: string) => {
    const i = l.indexOf('=');
    return i < 0 ? l in labels : labels[l.slice(0, i)] === l.slice(i + 1);
  };
  return want.every(has) && !notWant.some(has);
}

function safeRegex(s: string): RegExp {
  try {
    return new RegExp(s);
  } catch {
    return new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  }
}

function waitOn(map: Map<string, Set<(r: WaitResult) => void>>, id: string, signal?: AbortSignal): Promise<WaitResult> {
  return new Promise<WaitResult>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    let set = map.get(id);
    if (!set) map.set(id, (set = new Set()));
    const done = (r: WaitResult) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const onAbort = () => {
      map.get(id)?.delete(done);
      reject(signal?.reason);
    };
    set.add(done);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function isMountPoint(path: string): Promise<boolean> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').some((l) => l.split(' ')[4]?.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))) === path);
}

/** docker's json-file log name: <dir>/<id>-json.log */
function logPathOf(dir: string, id: string): string {
  return join(dir, `${id}-json.log`);
}

/** docker's size strings for --log-opt max-size ("10m", "1k", "100") -> bytes. */
export function parseLogSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(v.trim());
  if (!m) throw invalidArgument(`failed to parse max-size: ${v}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

/** HostConfig.LogConfig as docker accepts it for the drivers berth has: json-file (the default) and none. */
function validLogConfig(cfg: HostConfig['LogConfig']): NonNullable<HostConfig['LogConfig']> {
  const type = cfg?.Type || 'json-file';
  const config = { ...(cfg?.Config ?? {}) };
  if (type === 'none') return { Type: 'none', Config: config };
  if (type !== 'json-file') throw invalidArgument(`failed to create logger: logger: no log driver named '${type}' is registered`);
  for (const key of Object.keys(config)) {
    if (!['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag'].includes(key)) throw invalidArgument(`unknown log opt '${key}' for json-file log driver`);
  }
  const maxSize = config['max-size'] !== undefined ? parseLogSize(config['max-size']) : 0;
  if (config['max-file'] !== undefined) {
    const n = Number(config['max-file']);
    if (!Number.isInteger(n) || n < 1) throw invalidArgument(`invalid value for max-file: ${config['max-file']}`);
    if (n > 1 && maxSize <= 0) throw invalidArgument("max-file can only be set when max-size is set");
  }
  if (config.compress === 'true') throw invalidArgument('compress is not supported by berth\'s json-file logs');
  return { Type: 'json-file', Config: config };
}

/**
 * With the "none" driver the output still passes through a small rotated file,
 * because attached clients follow the output there; `docker logs` refuses it.
 */
const ATTACH_BUFFER = 'attach-buffer.log';

function logOptions(hc: HostConfig): { driver: string; maxSize: number; maxFiles: number } {
  const cfg = hc.LogConfig ?? {};
  const c = cfg.Config ?? {};
  if (cfg.Type === 'none') return { driver: 'none', maxSize: 1024 * 1024, maxFiles: 2 };
  return {
    driver: cfg.Type === 'none' ? 'none' : 'json-file',
    maxSize: c['max-size'] ? parseLogSize(c['max-size']) : 0,
    maxFiles: c['max-file'] ? Number(c['max-file']) : 1,
  };
}
