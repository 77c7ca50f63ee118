// VolumeStore: local volumes as SQLite records plus <root>/volumes/<name>/_data.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, conflict, invalidArgument, notFound } from '../errors/index.js';
import { migrate, type Db } from '../db/index.js';
import type { Volume, VolumeCreateOptions, VolumeFilters, VolumeService } from './types.js';

/** docker marks anonymous volumes with this label; prune without all=true removes only these. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const LIST_FILTERS = new Set(['name', 'label', 'dangling', 'driver']);
const PRUNE_FILTERS = new Set(['label', 'label!', 'all']);

/** docker's local driver name rule (volume/local: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`). */
export function validVolumeName(name: string): boolean {
  return NAME.test(name);
}

export interface VolumeStoreDeps {
  db: Db;
  /** the daemon root; volumes live in <root>/volumes */
  root: string;
}

interface Row {
  name: string;
  driver: string;
  labels: string;
  options: string;
  created: string;
}

export class VolumeStore implements VolumeService {
  readonly #db: Db;
  readonly #dir: string;
  #usedBy: (name: string) => string[] = () => [];

  constructor(deps: VolumeStoreDeps) {
    this.#db = deps.db;
    this.#dir = join(deps.root, 'volumes');
    migrate(deps.db, 'volumes', [
      `CREATE TABLE volumes (
        name TEXT PRIMARY KEY,
        driver TEXT NOT NULL,
        labels TEXT NOT NULL,
        options TEXT NOT NULL,
        created TEXT NOT NULL
      )`,
    ]);
  }

  /** Who uses a volume (container IDs); set by composition from the container service. */
  setUsedBy(fn: (name: string) => string[]): void {
    this.#usedBy = fn;
  }

  mountpointOf(name: string): string {
    return join(this.#dir, name, '_data');
  }

  #toVolume(r: Row): Volume {
    return {
      Name: r.name,
      Driver: r.driver,
      Mountpoint: this.mountpointOf(r.name),
      CreatedAt: r.created,
      Labels: JSON.parse(r.labels) as Record<string, string>,
      Scope: 'local',
      Options: JSON.parse(r.options) as Record<string, string> | null,
    };
  }

  #row(name: string): Row | undefined {
    return this.#db.prepare('SELECT * FROM volumes WHERE name = ?').get(name) as Row | undefined;
  }

  /** Create a volume; the same name again returns the existing one, as docker does. */
  async create(opts: VolumeCreateOptions = {}): Promise<Volume> {
    const name = opts.Name || randomBytes(32).toString('hex');
    const driver = opts.Driver || 'local';
    if (driver !== 'local') throw notFound(`plugin "${driver}" not found`);
    if (!validVolumeName(name)) {
      throw invalidArgument(
        `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
    }
    const driverOpts = Object.keys(opts.DriverOpts ?? {});
    if (driverOpts.length > 0) throw invalidArgument(`create ${name}: driver options are not supported by berth's local driver: ${driverOpts.join(', ')}`);
    const existing = this.#row(name);
    if (existing) return this.#toVolume(existing);
    await mkdir(join(this.#dir, name), { recursive: true, mode: 0o701 });
    await mkdir(this.mountpointOf(name), { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    const created = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    // INSERT OR IGNORE: two concurrent creates of one name both end with the one record.
    this.#db
      .prepare('INSERT OR IGNORE INTO volumes (name, driver, labels, options, created) VALUES (?, ?, ?, ?, ?)')
      .run(name, driver, JSON.stringify(opts.Labels ?? {}), JSON.stringify(null), created);
    return this.#toVolume(this.#row(name) as Row);
  }

  get(name: string): Volume {
    const r = this.#row(name);
    if (!r) throw notFound(`get ${name}: no such volume`);
    return this.#toVolume(r);
  }

  #all(): Volume[] {
    return (this.#db.prepare('SELECT * FROM volumes ORDER BY name').all() as Row[]).map((r) => this.#toVolume(r));
  }

  async list(filters: VolumeFilters = {}): Promise<{ Volumes: Volume[]; Warnings: string[] }> {
    for (const key of Object.keys(filters)) if (!LIST_FILTERS.has(key)) throw invalidArgument(`invalid filter '${key}'`);
    const dangling = filters.dangling?.map((v) => {
      if (v === 'true' || v === '1') return true;
      if (v === 'false' || v === '0') return false;
      throw invalidArgument(`invalid filter 'dangling=${v}'`);
    });
    const volumes = this.#all().filter((v) => {
      if (filters.name?.length && !filters.name.some((n) => safeRegex(n).test(v.Name))) return false;
      if (filters.driver?.length && !filters.driver.includes(v.Driver)) return false;
      if (!labelsMatch(v.Labels, filters.label ?? [])) return false;
      if (dangling?.length && !dangling.includes(this.#usedBy(v.Name).length === 0)) return false;
      return true;
    });
    return { Volumes: volumes, Warnings: [] };
  }

  /** Remove a volume; `force` only forgives a missing one (an in-use volume stays, as in docker). */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    if (!this.#row(name)) {
      if (opts.force) return;
      throw notFound(`get ${name}: no such volume`);
    }
    const users = this.#usedBy(name);
    if (users.length > 0) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    // Record first: a crash in between leaves a directory, never a record without data.
    this.#db.prepare('DELETE FROM volumes WHERE name = ?').run(name);
    await rm(join(this.#dir, name), { recursive: true, force: true });
  }

  /** docker 23+: only anonymous volumes unless the filter all=true is given; never a used one. */
  async prune(filters: VolumeFilters = {}): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    for (const key of Object.keys(filters)) if (!PRUNE_FILTERS.has(key)) throw invalidArgument(`invalid filter '${key}'`);
    const allValue = filters.all?.at(-1);
    if (allValue !== undefined && !['true', '1', 'false', '0'].includes(allValue)) throw invalidArgument(`invalid filter 'all=${allValue}'`);
    const all = allValue === 'true' || allValue === '1';
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of this.#all()) {
      if (!all && !(ANONYMOUS_LABEL in v.Labels)) continue;
      if (!labelsMatch(v.Labels, filters.label ?? [])) continue;
      if ((filters['label!'] ?? []).length && labelsMatch(v.Labels, filters['label!'] ?? [], true)) continue;
      if (this.#usedBy(v.Name).length > 0) continue;
      const size = await dirSize(v.Mountpoint);
      try {
        await this.remove(v.Name);
      } catch (err) {
        if (err instanceof BerthError && err.code === 'conflict') continue; // taken into use meanwhile
        throw err;
      }
      deleted.push(v.Name);
      reclaimed += size;
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  /** Every volume with its size and reference count (system df). */
  async usage(): Promise<Volume[]> {
    const out: Volume[] = [];
    for (const v of this.#all()) out.push({ ...v, UsageData: { Size: await dirSize(v.Mountpoint), RefCount: this.#usedBy(v.Name).length } });
    return out;
  }
}

/** label filters: "key" (present) or "key=value"; with `any`, true when one of them matches. */
function labelsMatch(labels: Record<string, string>, wanted: readonly string[], any = false): boolean {
  const hit = (l: string) => {
    const i = l.indexOf('=');
    return i < 0 ? l in labels : labels[l.slice(0, i)] === l.slice(i + 1);
  };
  return any ? wanted.some(hit) : wanted.every(hit);
}

function safeRegex(s: string): RegExp {
  try {
    return new RegExp(s);
  } catch {
    return new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  }
}

/** Bytes of the regular files under `dir` (symlinks not followed). */
async function dirSize(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else total += (await lstat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
