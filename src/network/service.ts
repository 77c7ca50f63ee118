// The network service: docker's bridge networks built from CNI plugins.
// Records live in SQLite (store.ts), kernel state is made only by the
// plugins (cni.ts), namespaces are files (netns.ts), published ports are
// held sockets plus portmap rules (ports.ts), and each user network gets an
// embedded DNS server on its gateway (dns.ts).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BerthError, conflict, invalidArgument, messageOf, notFound } from '../errors/index.js';
import type { Db } from '../db/index.js';
import { KeyedMutex, limiter, RwLock, Singleflight, type Logger } from '../util/index.js';
import { CNI_VERSION, CniRuntime, type CniConfList, type CniPluginConf, type CniResult, type CniRuntimeConf } from './cni.js';
import { DnsServer, hostResolvers, type Upstream } from './dns.js';
import { ensureMasquerade, removeMasquerade, removeMasqueradeLeftovers } from './iptables.js';
import { contains, defaultPools, formatCidr, formatIp, lastOf, overlaps, parseCidr, parseCidrLoose, parseIp, type Cidr } from './ipnet.js';
import { createNetns, moveNetns, removeNetns } from './netns.js';
import { holdPorts, type HeldPorts } from './ports.js';
import { NetworkRecords, type EndpointRecord, type NetworkRecord } from './store.js';
import type {
  AttachOptions,
  AttachResult,
  IpamConfig,
  NetworkCreateRequest,
  NetworkFilters,
  NetworkInspect,
  NetworkService,
  NetworkSummary,
  PortMap,
} from './types.js';

const execFileP = promisify(execFile);

export interface NetworkServiceDeps {
  db: Db;
  /** daemon root: <root>/netns, <root>/network/{cni-cache,ipam} */
  root: string;
  log: Logger;
  /** the default network's bridge device (several daemons on one host need distinct ones) */
  defaultBridge?: string;
  /** the default network's subnet; default 172.17.0.0/16 unless the host uses it */
  defaultSubnet?: string;
  /** CNI plugin directories, ':'-separated; default /usr/lib/cni:/opt/cni/bin */
  cniPath?: string;
  /** where upstream resolvers come from; default /etc/resolv.conf */
  resolvConf?: string;
  /** the embedded DNS port (53; tests use others) */
  dnsPort?: number;
  /** how many sandboxes wired to the default bridge to keep ready (claimSandbox); default 1, 0 for none */
  sandboxPool?: number;
}

/** A network namespace already joined to a network, waiting for a container to claim it. */
interface PrewiredSandbox {
  /** the CNI container ID it was wired under (also its file's name under netns/) */
  id: string;
  path: string;
  networkId: string;
  ifName: string;
  result: CniResult;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';
const LIST_FILTERS = new Set(['name', 'id', 'label', 'driver', 'type', 'dangling', 'scope']);
const PRUNE_FILTERS = new Set(['until', 'label', 'label!']);

function newId(): string {
  return randomBytes(32).toString('hex');
}

function now(): string {
  return new Date().toISOString();
}

const forbidden = (message: string) => new BerthError('forbidden', message);

/** IPv4 destinations in the host's main routing table (except default). */
async function hostRoutes(): Promise<Cidr[]> {
  try {
    const { stdout } = await execFileP('ip', ['-4', '-j', 'route', 'show']);
    const routes = JSON.parse(stdout) as Array<{ dst?: string }>;
    const out: Cidr[] = [];
    for (const r of routes) {
      if (!r.dst || r.dst === 'default') continue;
      const c = parseCidrLoose(r.dst.includes('/') ? r.dst : `${r.dst}/32`);
      if (c) out.push({ base: c.base, prefix: c.prefix });
    }
    return out;
  } catch {
    return [];
  }
}

export class NetworkServiceImpl implements NetworkService {
  readonly #deps: NetworkServiceDeps;
  readonly #records: NetworkRecords;
  readonly #cni: CniRuntime;
  readonly #ipamDir: string;
  readonly #netnsDir: string;
  // Creating, removing and reconciling networks run alone (exclusive); attaching and
  // detaching endpoints and pre-wiring sandboxes run side by side (shared), each container's
  // one at a time. CNI plugins lock for themselves (host-local its store, iptables its
  // table); what the chain cannot take concurrently is kept apart below: a network's first
  // ADD (the bridge plugin creating the bridge and its address) and portmap's shared chains.
  readonly #lock = new RwLock();
  readonly #perContainer = new KeyedMutex();
  readonly #portmap = limiter(1);
  /** per network, the first ADD of this daemon run: later ADDs wait for it */
  readonly #bridgeUp = new Map<string, Promise<unknown>>();
  /** addresses asked for by attaches in progress (`networkId/ip`) */
  readonly #requestedIps = new Set<string>();
  readonly #masquerading = new Singleflight<void>();
  readonly #dnsStarting = new Singleflight<void>();
  readonly #held = new Map<string, HeldPorts>();
  /** networks whose outbound NAT rule this process has ensured */
  readonly #masqueraded = new Set<string>();
  readonly #dns = new Map<string, DnsServer>();
  #upstreams: Upstream[] = [];
  readonly #pool: PrewiredSandbox[] = [];
  /** a container asked for a pre-wired sandbox: from then on prewarm keeps the pool filled */
  #poolWanted = false;
  /** the refill in progress */
  #refill: Promise<void> | undefined;
  #closed = false;

  constructor(deps: NetworkServiceDeps) {
    this.#deps = deps;
    this.#records = new NetworkRecords(deps.db);
    this.#cni = new CniRuntime({
      pluginDirs: (deps.cniPath ?? '/usr/lib/cni:/opt/cni/bin').split(':').filter(Boolean),
      cacheDir: join(deps.root, 'network', 'cni-cache'),
    });
    this.#ipamDir = join(deps.root, 'network', 'ipam');
    this.#netnsDir = join(deps.root, 'netns');
  }

  /** Create the predefined networks (bridge, host, none) and read the host's resolvers. */
  async init(): Promise<void> {
    await mkdir(join(this.#deps.root, 'network'), { recursive: true, mode: 0o700 });
    await mkdir(this.#netnsDir, { recursive: true, mode: 0o711 });
    this.#upstreams = await hostResolvers(this.#deps.resolvConf);
    const bridgeName = this.#deps.defaultBridge ?? 'berth0';
    if (bridgeName.length > 15 || !/^[A-Za-z0-9_.-]+$/.test(bridgeName)) throw invalidArgument(`invalid bridge name ${bridgeName}`);
    const existing = this.#records.byName('bridge');
    let subnet: Cidr;
    if (this.#deps.defaultSubnet) subnet = parseCidr(this.#deps.defaultSubnet);
    else if (existing?.ipam[0]?.Subnet) subnet = parseCidr(existing.ipam[0].Subnet);
    else subnet = await this.#freeSubnet(new Set(['bridge']));
    const ipam: IpamConfig[] = [{ Subnet: formatCidr(subnet), Gateway: formatIp(subnet.base + 1) }];
    const base = { internal: false, attachable: false, labels: {}, created: now(), builtin: true };
    this.#records.putNetwork({
      ...base,
      id: existing?.id ?? newId(),
      created: existing?.created ?? base.created,
      name: 'bridge',
      driver: 'bridge',
      bridge: bridgeName,
      ipam,
      options: {
        'com.docker.network.bridge.default_bridge': 'true',
        'com.docker.network.bridge.enable_icc': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
        'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
        [BRIDGE_NAME_OPTION]: bridgeName,
        'com.docker.network.driver.mtu': '1500',
      },
    });
    for (const [name, driver] of [
      ['host', 'host'],
      ['none', 'null'],
    ] as const) {
      if (!this.#records.byName(name)) this.#records.putNetwork({ ...base, id: newId(), name, driver, bridge: '', ipam: [], options: {} });
    }
  }

  // ---- lookup ----

  #find(idOrName: string): NetworkRecord {
    const all = this.#records.networks();
    const exact = all.find((n) => n.id === idOrName) ?? all.find((n) => n.name === idOrName);
    if (exact) return exact;
    const byPrefix = idOrName ? all.filter((n) => n.id.startsWith(idOrName)) : [];
    if (byPrefix.length === 1) return byPrefix[0] as NetworkRecord;
    if (byPrefix.length > 1) throw invalidArgument(`network ${idOrName} is ambiguous (${byPrefix.length} matches found based on ID prefix)`);
    throw notFound(`network ${idOrName} not found`);
  }

  #toInspect(n: NetworkRecord, withContainers: boolean): NetworkInspect {
    const containers: NetworkInspect['Containers'] = {};
    if (withContainers) {
      for (const e of this.#records.endpointsOfNetwork(n.id)) {
        containers[e.containerId] = { Name: e.name, EndpointID: e.id, MacAddress: e.mac, IPv4Address: `${e.ip}/${e.prefixLen}`, IPv6Address: '' };
      }
    }
    return {
      Name: n.name,
      Id: n.id,
      Created: n.created,
      Scope: 'local',
      Driver: n.driver,
      EnableIPv4: true,
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: n.builtin ? null : {}, Config: n.ipam.map((c) => ({ ...c })) },
      Internal: n.internal,
      Attachable: n.attachable,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: containers,
      Options: { ...n.options },
      Labels: { ...n.labels },
    };
  }

  async list(filters: NetworkFilters = {}): Promise<NetworkSummary[]> {
    for (const key of Object.keys(filters)) if (!LIST_FILTERS.has(key)) throw invalidArgument(`invalid filter '${key}'`);
    for (const t of filters.type ?? []) if (t !== 'custom' && t !== 'builtin') throw invalidArgument(`invalid filter: 'type'='${t}'`);
    const dangling = (filters.dangling ?? []).map((v) => {
      if (v === 'true' || v === '1') return true;
      if (v === 'false' || v === '0') return false;
      throw invalidArgument(`invalid filter 'dangling=${v}'`);
    });
    return this.#records
      .networks()
      .filter((n) => {
        if (filters.name?.length && !filters.name.some((v) => n.name.includes(v))) return false;
        if (filters.id?.length && !filters.id.some((v) => n.id.startsWith(v))) return false;
        if (filters.driver?.length && !filters.driver.includes(n.driver)) return false;
        if (filters.scope?.length && !filters.scope.includes('local')) return false;
        if (filters.type?.length && !filters.type.includes(n.builtin ? 'builtin' : 'custom')) return false;
        if (!labelsMatch(n.labels, filters.label ?? [])) return false;
        if (dangling.length) {
          // docker: dangling = a custom network without containers; builtin ones never dangle
          const isDangling = !n.builtin && this.#records.endpointsOfNetwork(n.id).length === 0;
          if (!dangling.includes(isDangling)) return false;
        }
        return true;
      })
      .map((n) => this.#toInspect(n, false));
  }

  async inspect(idOrName: string): Promise<NetworkInspect> {
    return this.#toInspect(this.#find(idOrName), true);
  }

  // ---- create / remove ----

  async #freeSubnet(excludeNames: Set<string> = new Set()): Promise<Cidr> {
    const used = [
      ...(await hostRoutes()),
      ...this.#records
        .networks()
        .filter((n) => !excludeNames.has(n.name))
        .flatMap((n) => n.ipam.map((c) => c.Subnet).filter((s): s is string => !!s).map((s) => parseCidr(s))),
    ];
    for (const pool of defaultPools()) if (!used.some((u) => overlaps(u, pool))) return pool;
    throw forbidden('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
  }

  create(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    return this.#lock.exclusive(async () => this.#create(req));
  }

  async #create(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    const name = req.Name ?? '';
    if (!name) throw invalidArgument('network name is required');
    if (!NAME.test(name)) throw invalidArgument(`invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (this.#records.byName(name)) throw conflict(`network with name ${name} already exists`);
    const driver = req.Driver || 'bridge';
    if (driver === 'host' || driver === 'null') throw forbidden(`only one instance of "${driver}" network is allowed`);
    if (driver !== 'bridge') throw notFound(`plugin "${driver}" not found`);
    if (req.Scope && req.Scope !== 'local') throw invalidArgument(`scope "${req.Scope}" is not supported: berth networks are local`);
    if (req.EnableIPv6) throw new BerthError('not_implemented', 'IPv6 networks are not supported by berth');
    if (req.Ingress) throw forbidden('ingress networks are not supported by berth (no swarm)');
    if (req.ConfigOnly || req.ConfigFrom?.Network) throw new BerthError('not_implemented', 'config-only networks are not supported by berth');
    if (req.IPAM?.Driver && req.IPAM.Driver !== 'default') throw notFound(`plugin "${req.IPAM.Driver}" not found`);
    const configs = req.IPAM?.Config ?? [];
    const v4 = configs.filter((c) => !c.Subnet?.includes(':'));
    if (configs.length !== v4.length) throw new BerthError('not_implemented', 'IPv6 subnets are not supported by berth');
    if (v4.length > 1) throw new BerthError('not_implemented', 'berth supports one IPv4 subnet per network');
    const wanted = v4[0] ?? {};
    const others = this.#records.networks().flatMap((n) => n.ipam.map((c) => c.Subnet).filter((s): s is string => !!s));

    let subnet: Cidr;
    if (wanted.Subnet) {
      subnet = parseCidr(wanted.Subnet);
      if (others.some((s) => overlaps(parseCidr(s), subnet))) throw forbidden('invalid pool request: Pool overlaps with other one on this address space');
    } else {
      if (wanted.IPRange || wanted.Gateway) throw invalidArgument('ip-range and gateway can only be used with a subnet (--subnet)');
      subnet = await this.#freeSubnet();
    }
    if (subnet.prefix > 30) throw invalidArgument(`invalid subnet ${formatCidr(subnet)}: too small for a bridge network`);
    const ipamConfig: IpamConfig = { Subnet: formatCidr(subnet) };
    if (wanted.IPRange) {
      const range = parseCidr(wanted.IPRange, 'ip-range');
      if (!contains(subnet, range.base) || !contains(subnet, lastOf(range))) {
        throw invalidArgument(`invalid ip-range ${wanted.IPRange}: it must be a subset of subnet ${formatCidr(subnet)}`);
      }
      ipamConfig.IPRange = formatCidr(range);
    }
    let gateway = subnet.base + 1;
    if (wanted.Gateway) {
      const gw = parseIp(wanted.Gateway);
      if (gw === undefined) throw invalidArgument(`invalid gateway ${wanted.Gateway}: ParseAddr("${wanted.Gateway}"): unable to parse IP`);
      if (!contains(subnet, gw) || gw === subnet.base || gw === lastOf(subnet)) {
        throw invalidArgument(`invalid gateway ${wanted.Gateway}: it must be in subnet ${formatCidr(subnet)}`);
      }
      gateway = gw;
    }
    ipamConfig.Gateway = formatIp(gateway);
    if (wanted.AuxiliaryAddresses && Object.keys(wanted.AuxiliaryAddresses).length) {
      throw new BerthError('not_implemented', 'auxiliary addresses are not supported by berth');
    }
    const id = newId();
    const options = { ...(req.Options ?? {}) };
    const bridge = options[BRIDGE_NAME_OPTION] || `br-${id.slice(0, 12)}`;
    if (bridge.length > 15 || !/^[A-Za-z0-9_.-]+$/.test(bridge)) throw invalidArgument(`invalid bridge name ${bridge}`);
    if (this.#records.networks().some((n) => n.bridge === bridge)) throw conflict(`bridge name ${bridge} is already used by another network`);
    this.#records.putNetwork({
      id,
      name,
      driver: 'bridge',
      bridge,
      ipam: [ipamConfig],
      internal: !!req.Internal,
      attachable: !!req.Attachable,
      labels: { ...(req.Labels ?? {}) },
      options,
      created: now(),
      builtin: false,
    });
    this.#deps.log.info('network created', { network: name, id, subnet: ipamConfig.Subnet });
    return { Id: id, Warning: '' };
  }

  /** Remove a network's outbound NAT rule (network removal, teardown). */
  async dropMasquerade(networkId: string): Promise<void> {
    const n = this.#records.network(networkId);
    if (n) await this.#dropMasquerade(n);
  }

  async #dropMasquerade(n: NetworkRecord): Promise<void> {
    if (n.driver !== 'bridge' || !n.ipam[0]?.Subnet) return;
    await removeMasquerade(formatCidr(parseCidr(n.ipam[0].Subnet)), n.bridge, n.id.slice(0, 12)).catch(() => undefined);
    this.#masqueraded.delete(n.id);
  }

  remove(idOrName: string): Promise<void> {
    return this.#lock.exclusive(async () => this.#remove(this.#find(idOrName)));
  }

  async #remove(n: NetworkRecord): Promise<void> {
    if (n.builtin) throw forbidden(`${n.name} is a pre-defined network and cannot be removed`);
    if (this.#records.endpointsOfNetwork(n.id).length > 0) {
      throw forbidden(`error while removing network: network ${n.name} id ${n.id} has active endpoints`);
    }
    await this.#stopDns(n.id);
    this.#records.deleteNetwork(n.id);
    this.#bridgeUp.delete(n.id);
    // The bridge plugin never deletes its bridge; docker removes a network's bridge with it.
    await execFileP('ip', ['link', 'del', 'dev', n.bridge]).catch(() => undefined);
    await this.#dropMasquerade(n);
    await rm(join(this.#ipamDir, cniName(n)), { recursive: true, force: true });
    this.#deps.log.info('network removed', { network: n.name, id: n.id });
  }

  async prune(filters: NetworkFilters = {}): Promise<{ NetworksDeleted: string[] }> {
    for (const key of Object.keys(filters)) if (!PRUNE_FILTERS.has(key)) throw invalidArgument(`invalid filter '${key}'`);
    const until = filters.until?.length ? parseUntil(filters.until.at(-1) as string) : undefined;
    const deleted: string[] = [];
    await this.#lock.exclusive(async () => {
      for (const n of this.#records.networks()) {
        if (n.builtin || this.#records.endpointsOfNetwork(n.id).length > 0) continue;
        if (until !== undefined && Date.parse(n.created) >= until) continue;
        if (!labelsMatch(n.labels, filters.label ?? [])) continue;
        if ((filters['label!'] ?? []).length && labelsMatch(n.labels, filters['label!'] ?? [], true)) continue;
        await this.#remove(n);
        deleted.push(n.name);
      }
    });
    return { NetworksDeleted: deleted };
  }

  // ---- sandboxes and endpoints ----

  netnsPath(containerId: string): string {
    return join(this.#netnsDir, containerId);
  }

  async createSandbox(containerId: string): Promise<string> {
    if (!/^[A-Za-z0-9_.-]+$/.test(containerId)) throw invalidArgument(`invalid container id ${containerId}`);
    const path = this.netnsPath(containerId);
    // loopback comes up with the namespace (the native addon does what CNI's loopback plugin would)
    await createNetns(path);
    return path;
  }

  destroySandbox(containerId: string): Promise<void> {
    return this.#perContainer.run(containerId, async () => {
      for (const e of this.#records.endpointsOfContainer(containerId)) {
        await this.#lock.shared(async () => this.#detach(e));
      }
      await rm(join(this.#deps.root, 'network', 'cni-cache', 'results', `berth-loopback-${containerId}-lo`), { force: true });
      await removeNetns(this.netnsPath(containerId));
    });
  }

  #conflist(n: NetworkRecord, withPorts: boolean): CniConfList {
    const cfg = n.ipam[0] ?? {};
    const subnet = parseCidr(cfg.Subnet as string);
    const rangeSet: Record<string, string> = { subnet: formatCidr(subnet), gateway: cfg.Gateway as string };
    if (cfg.IPRange) {
      const r = parseCidr(cfg.IPRange);
      rangeSet.rangeStart = formatIp(Math.max(r.base, subnet.base + 1));
      rangeSet.rangeEnd = formatIp(Math.min(lastOf(r), lastOf(subnet) - 1));
    }
    const plugins: CniPluginConf[] = [
      {
        type: 'bridge',
        bridge: n.bridge,
        isGateway: true,
        ipMasq: false, // one masquerade rule per network instead (ensureMasquerade)
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: this.#ipamDir,
          ranges: [[rangeSet]],
          // internal networks get no default route: nothing outside the subnet is reachable
          routes: n.internal ? [] : [{ dst: '0.0.0.0/0' }],
        },
      },
    ];
    if (withPorts) plugins.push({ type: 'portmap', capabilities: { portMappings: true }, snat: true });
    return { cniVersion: CNI_VERSION, name: cniName(n), plugins };
  }

  attach(containerId: string, netnsPath: string, network: string, opts: AttachOptions): Promise<AttachResult> {
    return this.#perContainer.run(containerId, () => this.#lock.shared(async () => this.#attach(containerId, netnsPath, network, opts)));
  }

  async #attach(containerId: string, netnsPath: string, network: string, opts: AttachOptions): Promise<AttachResult> {
    const n = this.#find(network);
    if (n.driver !== 'bridge') throw forbidden(`container cannot be connected to the "${n.name}" network: it needs no endpoint`);
    const mine = this.#records.endpointsOfContainer(containerId);
    if (mine.some((e) => e.networkId === n.id)) throw forbidden(`endpoint with name ${opts.name} already exists in network ${n.name}`);
    const subnet = parseCidr(n.ipam[0]?.Subnet as string);
    let requested = '';
    if (opts.ipv4Address) {
      if (n.builtin) throw invalidArgument('user specified IP address is supported on user defined networks only');
      const ip = parseIp(opts.ipv4Address);
      if (ip === undefined) throw invalidArgument(`invalid IPv4 address: ${opts.ipv4Address}`);
      if (!contains(subnet, ip) || ip === subnet.base || ip === lastOf(subnet)) {
        throw invalidArgument(`invalid endpoint settings:\nno configured subnet contains IP address ${opts.ipv4Address}`);
      }
      const taken = formatIp(ip) === n.ipam[0]?.Gateway || this.#requestedIps.has(`${n.id}/${formatIp(ip)}`);
      if (taken || this.#records.endpointsOfNetwork(n.id).some((e) => e.ip === formatIp(ip))) {
        throw conflict(`Address already in use: ${opts.ipv4Address}`);
      }
      requested = formatIp(ip);
    }
    if (opts.macAddress && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(opts.macAddress)) throw invalidArgument(`invalid MAC address: ${opts.macAddress}`);
    const usedIfs = new Set(mine.map((e) => e.ifName));
    let ifIndex = 0;
    while (usedIfs.has(`eth${ifIndex}`)) ifIndex++;
    const ifName = `eth${ifIndex}`;
    // Attaches run side by side: a requested address is held from its check (above, in the
    // same synchronous run) until its endpoint is recorded or its ADD has failed.
    const key = `${n.id}/${requested}`;
    if (requested) this.#requestedIps.add(key);
    try {
      return await this.#wire(containerId, netnsPath, n, opts, requested, ifName);
    } finally {
      if (requested) this.#requestedIps.delete(key);
    }
  }

  /** CNI ADD of a checked endpoint, then its record. */
  async #wire(containerId: string, netnsPath: string, n: NetworkRecord, opts: AttachOptions, requested: string, ifName: string): Promise<AttachResult> {
    const held = opts.portBindings && Object.keys(opts.portBindings).length ? await holdPorts(opts.portBindings) : undefined;
    const withPorts = !!held && held.mappings.length > 0;
    const list = this.#conflist(n, withPorts);
    const args: Array<[string, string]> = [];
    if (requested) args.push(['IP', requested]);
    if (opts.macAddress) args.push(['MAC', opts.macAddress]);
    await this.#ensureMasquerade(n);
    const rt = { containerId, netns: netnsPath, ifName, args, capabilityArgs: withPorts ? { portMappings: held?.mappings ?? [] } : {} };
    let result: CniResult;
    try {
      result = await this.#add(n, list, rt);
    } catch (err) {
      await held?.release();
      throw err;
    }
    const record: EndpointRecord = {
      ...this.#endpointOf(n, containerId, result, ifName),
      name: opts.name,
      aliases: [...new Set(opts.aliases ?? [])],
      requestedIp: requested,
      ports: held?.ports ?? {},
      netns: netnsPath,
    };
    this.#records.putEndpoint(record);
    if (held) this.#held.set(record.id, held);
    if (!n.builtin) await this.#ensureDns(n);
    this.#deps.log.debug('endpoint attached', { container: containerId, network: n.name, ip: record.ip, ifName });
    return this.#toSettings(record, n);
  }

  /** The network's outbound NAT rule (one per network), once per daemon run. */
  async #ensureMasquerade(n: NetworkRecord): Promise<void> {
    if (n.internal || this.#masqueraded.has(n.id)) return;
    // concurrent attaches share one check-and-insert (two would insert the rule twice)
    await this.#masquerading.do(n.id, async () => {
      await ensureMasquerade(formatCidr(parseCidr(n.ipam[0]?.Subnet as string)), n.bridge, n.id.slice(0, 12));
      this.#masqueraded.add(n.id);
    });
  }

  /** CNI ADD of the network's chain; a failed chain is undone (DEL), as CNI asks of runtimes. */
  async #add(n: NetworkRecord, list: CniConfList, rt: CniRuntimeConf): Promise<CniResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#cniAdd(n, list, rt);
      } catch (err) {
        // A failed chain leaves what the earlier plugins did (veth, lease): DEL undoes it.
        await this.#withChains(list, () => this.#cni.del(list, rt)).catch(() => undefined);
        // portmap's shared chains can vanish under us when another runtime on the host removes them idle: once more
        if (attempt === 0 && /No chain\/target\/match/.test(messageOf(err))) continue;
        // the pool's pre-wired sandboxes hold addresses of this network: give them back and try once more
        if (attempt === 0 && this.#pool.some((p) => p.networkId === n.id)) {
          await this.#drainPool(n.id);
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * CNI ADD, kept apart where the chain cannot run concurrently: a network's first ADD of
   * this daemon run (it creates the bridge and its address) runs before any other on that
   * network, and chains with portmap run one at a time (see #lock).
   */
  async #cniAdd(n: NetworkRecord, list: CniConfList, rt: CniRuntimeConf): Promise<CniResult> {
    for (;;) {
      const first = this.#bridgeUp.get(n.id);
      if (!first) break; // none yet, or the first failed: this one goes first
      if (await first) return this.#withChains(list, () => this.#cni.add(list, rt));
    }
    const added = this.#withChains(list, () => this.#cni.add(list, rt));
    this.#bridgeUp.set(
      n.id,
      added.then(
        () => true,
        () => {
          this.#bridgeUp.delete(n.id);
          return false;
        },
      ),
    );
    return added;
  }

  /** Runs a CNI operation on `list`: one at a time when the chain has portmap (its shared chains are made check-then-create). */
  #withChains<T>(list: CniConfList, op: () => Promise<T>): Promise<T> {
    return list.plugins.some((p) => p.type === 'portmap') ? this.#portmap(op) : op();
  }

  /** The record of an endpoint made by CNI ADD under `sandboxId`, before its container-side fields. */
  #endpointOf(n: NetworkRecord, sandboxId: string, result: CniResult, ifName: string): EndpointRecord {
    const ipConf = result.ips?.[0];
    const [ip = '', prefix = '0'] = (ipConf?.address ?? '').split('/');
    return {
      id: newId(),
      containerId: sandboxId,
      sandboxId,
      networkId: n.id,
      ifName,
      name: '',
      aliases: [],
      requestedIp: '',
      ip,
      prefixLen: Number(prefix),
      gateway: ipConf?.gateway ?? n.ipam[0]?.Gateway ?? '',
      mac: result.interfaces?.find((i) => i.name === ifName && i.sandbox)?.mac ?? '',
      ports: {},
      netns: '',
      created: now(),
    };
  }

  // ---- pre-wired sandboxes ----
  //
  // Wiring a namespace to the default bridge (the bridge and host-local plugins) is a third
  // of a container start here. The commonest start — default bridge, no published ports, no
  // fixed address — can instead take a namespace wired ahead of time, while the daemon was
  // otherwise idle (prewarm, after each start). The pool lives in memory only: after a
  // crash, reconcile finds its namespaces and CNI cache entries unclaimed and removes them.

  /**
   * A sandbox already joined to `network`, now at this container's netns path with its
   * endpoint recorded as the container's; undefined when none is ready or none fits (only
   * the default bridge, without ports, a fixed address or MAC: those go through attach).
   */
  async claimSandbox(containerId: string, network: string, opts: AttachOptions): Promise<{ path: string; endpoint: AttachResult } | undefined> {
    const n = this.#find(network);
    if (!n.builtin || n.driver !== 'bridge' || opts.ipv4Address || opts.macAddress || opts.aliases?.length) return undefined;
    if (opts.portBindings && Object.keys(opts.portBindings).length) return undefined;
    if ((this.#deps.sandboxPool ?? 1) <= 0) return undefined;
    this.#poolWanted = true;
    // taken synchronously: no lock, so a refill in progress does not hold this start up
    const i = this.#pool.findIndex((p) => p.networkId === n.id);
    if (i < 0) return undefined;
    const [p] = this.#pool.splice(i, 1) as [PrewiredSandbox];
    const path = this.netnsPath(containerId);
    try {
      await moveNetns(p.path, path);
    } catch (err) {
      this.#deps.log.warn('pre-wired sandbox could not be moved', { sandbox: p.id, err: messageOf(err) });
      await this.#lock.shared(async () => this.#discard(p));
      return undefined;
    }
    const record: EndpointRecord = { ...this.#endpointOf(n, p.id, p.result, p.ifName), containerId, name: opts.name, netns: path };
    try {
      this.#records.putEndpoint(record);
    } catch (err) {
      await this.#lock.shared(async () => this.#discard({ ...p, path }));
      throw err;
    }
    this.#deps.log.debug('endpoint attached', { container: containerId, network: n.name, ip: record.ip, ifName: record.ifName, sandbox: p.id });
    return { path, endpoint: this.#toSettings(record, n) };
  }

  /**
   * Tops the pool up in the background, once a container has asked for it. Call when a start
   * is done; the promise (never rejected: a failure is logged) is for tests and shutdown.
   */
  prewarm(): Promise<void> {
    const size = this.#deps.sandboxPool ?? 1;
    if (!this.#poolWanted || this.#closed || this.#pool.length >= size) return this.#refill ?? Promise.resolve();
    this.#refill ??= this.#lock.shared(async () => {
      while (!this.#closed && this.#pool.length < size) await this.#prewire();
    })
      .catch((err: unknown) => this.#deps.log.warn('pre-wiring a sandbox failed', { err: messageOf(err) }))
      .finally(() => {
        this.#refill = undefined;
      });
    return this.#refill;
  }

  /** One namespace joined to the default bridge, into the pool. Under the shared lock. */
  async #prewire(): Promise<void> {
    const n = this.#records.byName('bridge');
    if (!n || n.driver !== 'bridge') return;
    const id = `sandbox-${randomBytes(12).toString('hex')}`;
    const path = this.netnsPath(id);
    await createNetns(path);
    try {
      await this.#ensureMasquerade(n);
      const result = await this.#cniAdd(n, this.#conflist(n, false), { containerId: id, netns: path, ifName: 'eth0', args: [], capabilityArgs: {} });
      this.#pool.push({ id, path, networkId: n.id, ifName: 'eth0', result });
      this.#deps.log.debug('sandbox pre-wired', { sandbox: id, network: n.name, ip: result.ips?.[0]?.address ?? '' });
    } catch (err) {
      await this.#cni.del(this.#conflist(n, false), { containerId: id, netns: path, ifName: 'eth0' }).catch(() => undefined);
      await removeNetns(path).catch(() => undefined);
      throw err;
    }
  }

  /** CNI DEL and namespace removal of an unclaimed sandbox. Under the lock. */
  async #discard(p: PrewiredSandbox): Promise<void> {
    await this.#cniDel(p.networkId, p.id, p.ifName, p.path, false).catch((err: unknown) =>
      this.#deps.log.warn('pre-wired sandbox: CNI DEL failed', { sandbox: p.id, err: messageOf(err) }),
    );
    await removeNetns(p.path).catch((err: unknown) => this.#deps.log.warn('pre-wired sandbox: namespace removal failed', { sandbox: p.id, err: messageOf(err) }));
  }

  /** Discard the pool's sandboxes (of one network, or all). Under the lock. */
  async #drainPool(networkId?: string): Promise<void> {
    for (const p of this.#pool.filter((x) => networkId === undefined || x.networkId === networkId)) {
      // a start may have claimed it while an earlier one was being discarded
      const i = this.#pool.indexOf(p);
      if (i < 0) continue;
      this.#pool.splice(i, 1);
      await this.#discard(p);
    }
  }

  #toSettings(e: EndpointRecord, n: NetworkRecord): AttachResult {
    return {
      IPAMConfig: e.requestedIp ? { IPv4Address: e.requestedIp } : null,
      Links: null,
      Aliases: e.aliases.length ? [...e.aliases] : null,
      MacAddress: e.mac,
      DriverOpts: null,
      NetworkID: n.id,
      EndpointID: e.id,
      Gateway: e.gateway,
      IPAddress: e.ip,
      IPPrefixLen: e.prefixLen,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      DNSNames: n.builtin ? null : [e.name, ...e.aliases, e.containerId.slice(0, 12)],
      Ports: structuredClone(e.ports),
      InterfaceName: e.ifName,
    };
  }

  detach(containerId: string, network: string): Promise<void> {
    return this.#perContainer.run(containerId, () =>
      this.#lock.shared(async () => {
        const n = this.#find(network);
        const e = this.#records.endpointsOfContainer(containerId).find((x) => x.networkId === n.id);
        if (!e) throw notFound(`container ${containerId} is not connected to network ${n.name}`);
        await this.#detach(e);
      }),
    );
  }

  /** CNI DEL of the endpoint `sandboxId` made: with the cached config and result, else with the network's chain. */
  async #cniDel(networkId: string, sandboxId: string, ifName: string, netns: string, withPorts: boolean): Promise<void> {
    const n = this.#records.network(networkId);
    const cached = await this.#cni.cached(n ? cniName(n) : '', sandboxId, ifName);
    if (cached) await this.#withChains(cached.config, () => this.#cni.delCached(cached, netns));
    else if (n) {
      const list = this.#conflist(n, withPorts);
      await this.#withChains(list, () => this.#cni.del(list, { containerId: sandboxId, netns, ifName }));
    }
  }

  /** CNI DEL (cached config and result), release ports, forget the record. */
  async #detach(e: EndpointRecord): Promise<void> {
    await this.#cniDel(e.networkId, e.sandboxId, e.ifName, e.netns, Object.keys(e.ports).length > 0);
    await this.#held.get(e.id)?.release();
    this.#held.delete(e.id);
    this.#records.deleteEndpoint(e.id);
    // portmap's shared top-level chains stay while the daemon runs (removing them idle races other
    // runtimes adding a mapping); reconcile at start and teardownNetworking remove them when idle.
  }

  endpointsOf(containerId: string): AttachResult[] {
    return this.#records.endpointsOfContainer(containerId).flatMap((e) => {
      const n = this.#records.network(e.networkId);
      return n ? [this.#toSettings(e, n)] : [];
    });
  }

  resolverFor(network: string): string | undefined {
    let n: NetworkRecord;
    try {
      n = this.#find(network);
    } catch {
      return undefined;
    }
    return !n.builtin && n.driver === 'bridge' ? n.ipam[0]?.Gateway : undefined;
  }

  // ---- DNS ----

  #recordsFor(networkId: string) {
    const entries = () => this.#records.endpointsOfNetwork(networkId);
    return {
      lookup: (name: string) => {
        const key = name.replace(/\.$/, '').toLowerCase();
        return entries()
          .filter((e) => e.name.toLowerCase() === key || e.aliases.some((a) => a.toLowerCase() === key) || (key.length >= 12 && e.containerId.startsWith(key) && key.length <= 64))
          .map((e) => e.ip);
      },
      reverse: (ip: string) => {
        const e = entries().find((x) => x.ip === ip);
        const n = this.#records.network(networkId);
        return e && n ? `${e.name}.${n.name}` : undefined;
      },
    };
  }

  async #ensureDns(n: NetworkRecord): Promise<void> {
    if (this.#dns.has(n.id)) return;
    const gateway = n.ipam[0]?.Gateway;
    if (!gateway) return;
    // concurrent attaches start one server (a second would find its address taken)
    await this.#dnsStarting.do(n.id, async () => {
      const server = new DnsServer({
        address: gateway,
        port: this.#deps.dnsPort ?? 53,
        records: this.#recordsFor(n.id),
        upstreams: this.#upstreams,
      });
      try {
        await server.start();
        this.#dns.set(n.id, server);
      } catch (err) {
        this.#deps.log.warn('embedded DNS server not started', { network: n.name, address: gateway, err: messageOf(err) });
      }
    });
  }

  async #stopDns(networkId: string): Promise<void> {
    const s = this.#dns.get(networkId);
    this.#dns.delete(networkId);
    await s?.close();
  }

  /** The DNS server of a network, if running (tests and diagnostics). */
  dnsServerOf(network: string): DnsServer | undefined {
    return this.#dns.get(this.#find(network).id);
  }

  // ---- restart ----

  async reconcile(live: Set<string>): Promise<void> {
    await this.#lock.exclusive(async () => {
      await this.#drainPool();
      for (const e of this.#records.endpoints()) {
        if (live.has(e.containerId)) continue;
        try {
          await this.#detach(e);
        } catch (err) {
          this.#deps.log.warn('reconcile: endpoint teardown failed', { container: e.containerId, err: messageOf(err) });
          this.#records.deleteEndpoint(e.id);
        }
      }
      // cache entries without a record: an ADD interrupted by a crash
      const recorded = new Set(this.#records.endpoints().map((e) => `${e.sandboxId}/${e.ifName}`));
      for (const entry of await this.#cni.allCached()) {
        if (recorded.has(`${entry.containerId}/${entry.ifName}`)) continue;
        if (live.has(entry.containerId) && entry.ifName === 'lo') continue;
        if (entry.ifName === 'lo') {
          await rm(join(this.#deps.root, 'network', 'cni-cache', 'results', `${entry.networkName}-${entry.containerId}-lo`), { force: true });
          continue;
        }
        await this.#cni.delCached(entry).catch((err: unknown) => this.#deps.log.warn('reconcile: CNI DEL failed', { container: entry.containerId, err: messageOf(err) }));
        await removeMasqueradeLeftovers(entry.networkName, entry.containerId);
      }
      for (const name of await readdir(this.#netnsDir).catch(() => [] as string[])) {
        if (live.has(name)) continue;
        await removeNetns(join(this.#netnsDir, name)).catch((err: unknown) => this.#deps.log.warn('reconcile: netns removal failed', { netns: name, err: messageOf(err) }));
      }
      // running containers keep their ports: hold them again
      for (const e of this.#records.endpoints()) {
        if (this.#held.has(e.id) || !hasBindings(e.ports)) continue;
        try {
          this.#held.set(e.id, await holdPorts(e.ports));
        } catch (err) {
          this.#deps.log.warn('reconcile: could not re-reserve published ports', { container: e.containerId, err: messageOf(err) });
        }
      }
    });
    for (const n of this.#records.networks()) {
      if (!n.builtin && n.driver === 'bridge' && this.#records.endpointsOfNetwork(n.id).length > 0) await this.#ensureDns(n);
    }
  }

  /** Also removes the pool's unclaimed sandboxes. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#lock.exclusive(async () => this.#drainPool());
    for (const id of [...this.#dns.keys()]) await this.#stopDns(id);
    for (const h of this.#held.values()) await h.release();
    this.#held.clear();
  }
}

function hasBindings(ports: PortMap): boolean {
  return Object.values(ports).some((b) => (b ?? []).length > 0);
}

/** The CNI network name: stable per network record, unique across re-creations of a name. */
function cniName(n: NetworkRecord): string {
  return `berth-${n.id.slice(0, 12)}`;
}

/** label filters: "key" (present) or "key=value"; with `any`, true when one matches. */
function labelsMatch(labels: Record<string, string>, wanted: readonly string[], any = false): boolean {
  const hit = (l: string) => {
    const i = l.indexOf('=');
    return i < 0 ? l in labels : labels[l.slice(0, i)] === l.slice(i + 1);
  };
  return any ? wanted.some(hit) : wanted.every(hit);
}

/** docker's `until`: a Unix timestamp, an RFC 3339 date, or a duration before now (10m, 24h). */
function parseUntil(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const d = /^(\d+)(ms|s|m|h)$/.exec(v);
  if (d) return Date.now() - Number(d[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[d[2] as 'ms' | 's' | 'm' | 'h'];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalidArgument(`invalid filter 'until=${v}'`);
  return t;
}

export async function createNetworkService(deps: NetworkServiceDeps): Promise<NetworkServiceImpl> {
  const s = new NetworkServiceImpl(deps);
  await s.init();
  return s;
}
