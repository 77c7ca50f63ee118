// Network and endpoint records in SQLite (module "networks"). Pure records:
// no kernel state is touched here.
import { migrate, type Db } from '../db/index.js';
import type { IpamConfig, PortMap } from './types.js';

export type NetworkDriver = 'bridge' | 'host' | 'null';

export interface NetworkRecord {
  id: string;
  name: string;
  driver: NetworkDriver;
  /** the Linux bridge device (bridge driver only) */
  bridge: string;
  /** one IPv4 config: Subnet and Gateway always set for bridge networks */
  ipam: IpamConfig[];
  internal: boolean;
  attachable: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** RFC 3339 with nanoseconds */
  created: string;
  /** bridge, host, none */
  builtin: boolean;
}

export interface EndpointRecord {
  id: string;
  containerId: string;
  /** the container ID the CNI plugins know the endpoint by: the container's, or the pre-wired sandbox's it was made in */
  sandboxId: string;
  networkId: string;
  ifName: string;
  name: string;
  aliases: string[];
  /** the requested --ip, if any */
  requestedIp: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  ports: PortMap;
  netns: string;
  created: string;
}

interface NetworkRow {
  id: string;
  name: string;
  driver: string;
  bridge: string;
  ipam: string;
  internal: number;
  attachable: number;
  labels: string;
  options: string;
  created: string;
  builtin: number;
}

interface EndpointRow {
  id: string;
  container_id: string;
  sandbox_id: string;
  network_id: string;
  ifname: string;
  name: string;
  aliases: string;
  requested_ip: string;
  ip: string;
  prefix_len: number;
  gateway: string;
  mac: string;
  ports: string;
  netns: string;
  created: string;
}

export class NetworkRecords {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
    migrate(db, 'networks', [
      `CREATE TABLE networks (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        driver TEXT NOT NULL,
        bridge TEXT NOT NULL,
        ipam TEXT NOT NULL,
        internal INTEGER NOT NULL,
        attachable INTEGER NOT NULL,
        labels TEXT NOT NULL,
        options TEXT NOT NULL,
        created TEXT NOT NULL,
        builtin INTEGER NOT NULL
      )`,
      `CREATE TABLE network_endpoints (
        id TEXT PRIMARY KEY,
        container_id TEXT NOT NULL,
        network_id TEXT NOT NULL REFERENCES networks(id),
        ifname TEXT NOT NULL,
        name TEXT NOT NULL,
        aliases TEXT NOT NULL,
        requested_ip TEXT NOT NULL,
        ip TEXT NOT NULL,
        prefix_len INTEGER NOT NULL,
        gateway TEXT NOT NULL,
        mac TEXT NOT NULL,
        ports TEXT NOT NULL,
        netns TEXT NOT NULL,
        created TEXT NOT NULL,
        UNIQUE (container_id, network_id),
        UNIQUE (container_id, ifname)
      )`,
      // '' for endpoints made before pre-wired sandboxes: the container's own ID
      `ALTER TABLE network_endpoints ADD COLUMN sandbox_id TEXT NOT NULL DEFAULT ''`,
    ]);
  }

  #toNetwork(r: NetworkRow): NetworkRecord {
    return {
      id: r.id,
      name: r.name,
      driver: r.driver as NetworkDriver,
      bridge: r.bridge,
      ipam: JSON.parse(r.ipam) as IpamConfig[],
      internal: r.internal === 1,
      attachable: r.attachable === 1,
      labels: JSON.parse(r.labels) as Record<string, string>,
      options: JSON.parse(r.options) as Record<string, string>,
      created: r.created,
      builtin: r.builtin === 1,
    };
  }

  #toEndpoint(r: EndpointRow): EndpointRecord {
    return {
      id: r.id,
      containerId: r.container_id,
      sandboxId: r.sandbox_id || r.container_id,
      networkId: r.network_id,
      ifName: r.ifname,
      name: r.name,
      aliases: JSON.parse(r.aliases) as string[],
      requestedIp: r.requested_ip,
      ip: r.ip,
      prefixLen: r.prefix_len,
      gateway: r.gateway,
      mac: r.mac,
      ports: JSON.parse(r.ports) as PortMap,
      netns: r.netns,
      created: r.created,
    };
  }

  networks(): NetworkRecord[] {
    return (this.#db.prepare('SELECT * FROM networks ORDER BY created, name').all() as NetworkRow[]).map((r) => this.#toNetwork(r));
  }

  network(id: string): NetworkRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM networks WHERE id = ?').get(id) as NetworkRow | undefined;
    return r && this.#toNetwork(r);
  }

  byName(name: string): NetworkRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM networks WHERE name = ?').get(name) as NetworkRow | undefined;
    return r && this.#toNetwork(r);
  }

  putNetwork(n: NetworkRecord): void {
    this.#db
      .prepare(
        `INSERT INTO networks (id, name, driver, bridge, ipam, internal, attachable, labels, options, created, builtin)
         VALUES (@id, @name, @driver, @bridge, @ipam, @internal, @attachable, @labels, @options, @created, @builtin)
         ON CONFLICT(id) DO UPDATE SET bridge = excluded.bridge, ipam = excluded.ipam`,
      )
      .run({
        ...n,
        ipam: JSON.stringify(n.ipam),
        internal: n.internal ? 1 : 0,
        attachable: n.attachable ? 1 : 0,
        labels: JSON.stringify(n.labels),
        options: JSON.stringify(n.options),
        builtin: n.builtin ? 1 : 0,
      });
  }

  deleteNetwork(id: string): void {
    this.#db.prepare('DELETE FROM networks WHERE id = ?').run(id);
  }

  endpoints(): EndpointRecord[] {
    return (this.#db.prepare('SELECT * FROM network_endpoints ORDER BY created').all() as EndpointRow[]).map((r) => this.#toEndpoint(r));
  }

  endpointsOfNetwork(networkId: string): EndpointRecord[] {
    return (this.#db.prepare('SELECT * FROM network_endpoints WHERE network_id = ? ORDER BY created').all(networkId) as EndpointRow[]).map((r) =>
      this.#toEndpoint(r),
    );
  }

  endpointsOfContainer(containerId: string): EndpointRecord[] {
    return (this.#db.prepare('SELECT * FROM network_endpoints WHERE container_id = ? ORDER BY ifname').all(containerId) as EndpointRow[]).map((r) =>
      this.#toEndpoint(r),
    );
  }

  putEndpoint(e: EndpointRecord): void {
    this.#db
      .prepare(
        `INSERT INTO network_endpoints (id, container_id, sandbox_id, network_id, ifname, name, aliases, requested_ip, ip, prefix_len, gateway, mac, ports, netns, created)
         VALUES (@id, @containerId, @sandboxId, @networkId, @ifName, @name, @aliases, @requestedIp, @ip, @prefixLen, @gateway, @mac, @ports, @netns, @created)`,
      )
      .run({ ...e, aliases: JSON.stringify(e.aliases), ports: JSON.stringify(e.ports) });
  }

  deleteEndpoint(id: string): void {
    this.#db.prepare('DELETE FROM network_endpoints WHERE id = ?').run(id);
  }
}
