// Container records in SQLite: one row per container. The merged config and
// the host config are JSON (written at create; update replaces the host config); the state is a JSON
// column too, replaced whole by single-row UPDATEs, so every state change is
// atomic.
import type { Db, Statement } from '../db/index.js';
import { migrate } from '../db/index.js';
import type { ContainerStatus, CreateRequest, HostConfig } from './types.js';
import type { HealthState } from './health.js';

/** The container's Config as docker's inspect shows it (image config merged with the request). */
export type ContainerConfig = Omit<CreateRequest, 'HostConfig' | 'NetworkingConfig'> & { Image: string };

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface ContainerState {
  status: ContainerStatus;
  pid: number;
  exitCode: number;
  error: string;
  startedAt: string;
  finishedAt: string;
  oomKilled: boolean;
  restartCount: number;
  /** stopped by `stop`/`kill`: unless-stopped and the running restart loop leave it alone */
  manuallyStopped: boolean;
  /** the monitor (berth-monitor) of the current run */
  monitorPid: number;
  /** health check results (containers with a HEALTHCHECK) */
  health?: HealthState;
}

/** A volume mounted into the container, resolved at create. */
export interface VolumeMountPoint {
  name: string;
  /** the volume's _data directory */
  source: string;
  destination: string;
  readonly: boolean;
  noCopy: boolean;
  /** created for this container alone (`-v /dst`, image VOLUME): removed by rm -v and --rm */
  anonymous: boolean;
}

export interface ContainerRecord {
  id: string;
  /** "/name" */
  name: string;
  /** the image as given to create */
  image: string;
  imageId: string;
  created: string;
  path: string;
  args: string[];
  config: ContainerConfig;
  hostConfig: HostConfig;
  state: ContainerState;
  volumes?: VolumeMountPoint[];
  /** the networks it joins at start, in order (the first from NetworkMode), with their endpoint options */
  networks?: Record<string, NetworkEndpointConfig>;
}

/** Docker's EndpointSettings as a create request or a connect gives them (the parts berth uses). */
export interface NetworkEndpointConfig {
  Aliases?: string[] | null;
  IPAMConfig?: { IPv4Address?: string } | null;
  MacAddress?: string;
  /** the network's ID when it was joined (inspect shows it for a stopped container) */
  NetworkID?: string;
}

export function initialState(): ContainerState {
  return {
    status: 'created',
    pid: 0,
    exitCode: 0,
    error: '',
    startedAt: ZERO_TIME,
    finishedAt: ZERO_TIME,
    oomKilled: false,
    restartCount: 0,
    manuallyStopped: false,
    monitorPid: 0,
  };
}

interface Row {
  id: string;
  name: string;
  image: string;
  image_id: string;
  created: string;
  path: string;
  args: string;
  config: string;
  host_config: string;
  state: string;
  volumes: string;
  networks: string;
}

function fromRow(r: Row): ContainerRecord {
  return {
    id: r.id,
    name: r.name,
    image: r.image,
    imageId: r.image_id,
    created: r.created,
    path: r.path,
    args: JSON.parse(r.args) as string[],
    config: JSON.parse(r.config) as ContainerConfig,
    hostConfig: JSON.parse(r.host_config) as HostConfig,
    state: { ...initialState(), ...(JSON.parse(r.state) as Partial<ContainerState>) },
    volumes: JSON.parse(r.volumes) as VolumeMountPoint[],
    networks: JSON.parse(r.networks) as Record<string, NetworkEndpointConfig>,
  };
}

export class ContainerRecords {
  readonly #db: Db;

  /** prepared once: preparing costs more than running these small statements */
  readonly #statements = new Map<string, Statement<unknown[]>>();

  #stmt(sql: string): Statement<unknown[]> {
    let st = this.#statements.get(sql);
    if (!st) this.#statements.set(sql, (st = this.#db.prepare<unknown[]>(sql)));
    return st;
  }

  constructor(db: Db) {
    this.#db = db;
    migrate(db, 'containers', [
      `CREATE TABLE containers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        image TEXT NOT NULL,
        image_id TEXT NOT NULL,
        created TEXT NOT NULL,
        path TEXT NOT NULL,
        args TEXT NOT NULL,
        config TEXT NOT NULL,
        host_config TEXT NOT NULL,
        state TEXT NOT NULL
      )`,
      'CREATE INDEX containers_image_id ON containers (image_id)',
      "ALTER TABLE containers ADD COLUMN volumes TEXT NOT NULL DEFAULT '[]'",
      "ALTER TABLE containers ADD COLUMN networks TEXT NOT NULL DEFAULT '{}'",
    ]);
  }

  /** false when the name is taken (the UNIQUE constraint decides, so two creates cannot both win). */
  insert(rec: ContainerRecord): boolean {
    try {
      this.#stmt(
          'INSERT INTO containers (id, name, image, image_id, created, path, args, config, host_config, state, volumes, networks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(rec.id, rec.name, rec.image, rec.imageId, rec.created, rec.path, JSON.stringify(rec.args), JSON.stringify(rec.config), JSON.stringify(rec.hostConfig), JSON.stringify(rec.state), JSON.stringify(rec.volumes ?? []), JSON.stringify(rec.networks ?? {}));
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && /containers\.name/.test(String(err))) return false;
      throw err;
    }
  }

  get(id: string): ContainerRecord | undefined {
    const r = this.#stmt('SELECT * FROM containers WHERE id = ?').get(id) as Row | undefined;
    return r && fromRow(r);
  }

  byName(name: string): ContainerRecord | undefined {
    const r = this.#stmt('SELECT * FROM containers WHERE name = ?').get(name) as Row | undefined;
    return r && fromRow(r);
  }

  idsByPrefix(prefix: string): string[] {
    return (this.#stmt("SELECT id FROM containers WHERE id LIKE ? || '%'").all(prefix) as { id: string }[]).map((r) => r.id);
  }

  all(): ContainerRecord[] {
    return (this.#stmt('SELECT * FROM containers ORDER BY created DESC, rowid DESC').all() as Row[]).map(fromRow);
  }

  setState(id: string, state: ContainerState): void {
    this.#stmt('UPDATE containers SET state = ? WHERE id = ?').run(JSON.stringify(state), id);
  }

  /** network connect/disconnect: the networks joined at the next start. */
  setNetworks(id: string, networks: Record<string, NetworkEndpointConfig>): void {
    this.#stmt('UPDATE containers SET networks = ? WHERE id = ?').run(JSON.stringify(networks), id);
  }

  /** docker update: the new limits and restart policy. */
  setHostConfig(id: string, hostConfig: HostConfig): void {
    this.#stmt('UPDATE containers SET host_config = ? WHERE id = ?').run(JSON.stringify(hostConfig), id);
  }

  /** false when the new name is taken (the UNIQUE constraint decides). */
  rename(id: string, name: string): boolean {
    try {
      this.#stmt('UPDATE containers SET name = ? WHERE id = ?').run(name, id);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && /containers\.name/.test(String(err))) return false;
      throw err;
    }
  }

  delete(id: string): void {
    this.#stmt('DELETE FROM containers WHERE id = ?').run(id);
  }

  /** IDs of the containers that mount volume `name`. */
  usingVolume(name: string): string[] {
    return this.all()
      .filter((r) => (r.volumes ?? []).some((v) => v.name === name))
      .map((r) => r.id);
  }

  usesImage(imageId: string): boolean {
    return this.#stmt('SELECT 1 FROM containers WHERE image_id = ? LIMIT 1').get(imageId) !== undefined;
  }
}
