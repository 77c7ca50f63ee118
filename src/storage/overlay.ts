// Layer snapshots for overlayfs. Each committed layer lives in
// <root>/snapshots/<n>/fs with a short integer <n> (so lowerdir= strings stay
// short); layers being unpacked live in <root>/staging/<random>/fs. A row in
// SQLite makes a snapshot exist: commit renames the directory first and
// inserts the row second, so a crash leaves at worst a directory without a
// row, which `sweep` removes.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, conflict, notFound } from '../errors/index.js';
import { migrate, type Db } from '../db/index.js';
import { syncDir, type Digest } from '../util/index.js';
import type { Mount, Snapshot, Snapshotter, StagedLayer } from './types.js';

interface Row {
  chain_id: string;
  id: number;
  parent: string | null;
  size: number;
  created_at: number;
}

const SCHEMA = [
  `CREATE TABLE overlay_snapshots (
     chain_id TEXT PRIMARY KEY,
     id INTEGER NOT NULL UNIQUE,
     parent TEXT,
     size INTEGER NOT NULL,
     created_at INTEGER NOT NULL
   )`,
  'CREATE INDEX overlay_snapshots_parent ON overlay_snapshots(parent)',
];

export class OverlaySnapshotter implements Snapshotter {
  readonly #snapshots: string;
  readonly #staging: string;
  readonly #empty: string;
  readonly #staged = new Set<string>(); // staging dirs in use by this process
  readonly #committing = new Set<number>(); // snapshot ids renamed into place, row not yet inserted
  #nextId = 1;

  private constructor(
    readonly root: string,
    private readonly db: Db,
  ) {
    this.#snapshots = join(root, 'snapshots');
    this.#staging = join(root, 'staging');
    this.#empty = join(root, 'empty');
  }

  static async open(root: string, db: Db): Promise<OverlaySnapshotter> {
    migrate(db, 'overlay-snapshots', SCHEMA);
    const s = new OverlaySnapshotter(root, db);
    await mkdir(s.#snapshots, { recursive: true });
    await mkdir(s.#staging, { recursive: true });
    await mkdir(s.#empty, { recursive: true });
    await s.sweep();
    return s;
  }

  get(chainId: Digest): Snapshot | undefined {
    const row = this.db.prepare('SELECT * FROM overlay_snapshots WHERE chain_id = ?').get(chainId) as Row | undefined;
    return row && this.#toSnapshot(row);
  }

  list(): Snapshot[] {
    return (this.db.prepare('SELECT * FROM overlay_snapshots ORDER BY id').all() as Row[]).map((r) => this.#toSnapshot(r));
  }

  async stage(): Promise<StagedLayer> {
    const holder = join(this.#staging, randomBytes(8).toString('hex'));
    const dir = join(holder, 'fs');
    await mkdir(dir, { recursive: true, mode: 0o755 });
    this.#staged.add(holder);
    let settled = false;
    const release = async () => {
      settled = true;
      this.#staged.delete(holder);
      await rm(holder, { recursive: true, force: true });
    };
    return {
      dir,
      commit: async (chainId, parent, size) => {
        if (settled) throw new BerthError('conflict', 'staged layer already committed or aborted');
        try {
          return await this.#commit(holder, chainId, parent, size);
        } finally {
          await release();
        }
      },
      abort: async () => {
        if (!settled) await release();
      },
    };
  }

  async #commit(holder: string, chainId: Digest, parent: Digest | null, size: number): Promise<Snapshot> {
    const existing = this.get(chainId);
    if (existing) return existing;
    if (parent !== null && !this.get(parent)) throw notFound(`snapshot ${parent}: not found`);
    const id = this.#nextId++;
    const target = join(this.#snapshots, String(id));
    const row: Row = { chain_id: chainId, id, parent, size, created_at: Date.now() };
    this.#committing.add(id);
    try {
      await rename(holder, target);
      await syncDir(this.#snapshots);
      this.db
        .prepare('INSERT INTO overlay_snapshots (chain_id, id, parent, size, created_at) VALUES (@chain_id, @id, @parent, @size, @created_at)')
        .run(row);
    } catch (err) {
      // A concurrent commit of the same chain won: its snapshot is ours too.
      await rm(target, { recursive: true, force: true });
      const winner = this.get(chainId);
      if (winner) return winner;
      throw err;
    } finally {
      this.#committing.delete(id);
    }
    return this.#toSnapshot(row);
  }

  async remove(chainId: Digest): Promise<void> {
    const row = this.#row(chainId);
    const child = this.db.prepare('SELECT chain_id FROM overlay_snapshots WHERE parent = ? LIMIT 1').get(chainId) as { chain_id: string } | undefined;
    if (child) throw conflict(`snapshot ${chainId} is the parent of ${child.chain_id}`);
    // Row first: a crash before the directory is gone leaves an orphan directory for sweep.
    this.db.prepare('DELETE FROM overlay_snapshots WHERE chain_id = ?').run(chainId);
    await rm(join(this.#snapshots, String(row.id)), { recursive: true, force: true });
  }

  /** Dirs of the chain, top layer first. */
  chainDirs(chainId: Digest): string[] {
    const dirs: string[] = [];
    let current: string | null = chainId;
    while (current !== null) {
      const row = this.#row(current as Digest);
      dirs.push(this.#fsDir(row.id));
      current = row.parent;
    }
    return dirs;
  }

  view(chainId: Digest): Mount[] {
    const dirs = this.chainDirs(chainId);
    if (dirs.length === 1) return [{ type: 'bind', source: dirs[0]!, options: ['rbind', 'ro'] }];
    return [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${dirs.join(':')}`] }];
  }

  /** A writable overlay over chainId (or over nothing, for an image from scratch). */
  mountsFor(chainId: Digest | null, upperDir: string, workDir: string): Mount[] {
    const lower = chainId === null ? [this.#empty] : this.chainDirs(chainId);
    return [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${lower.join(':')}`, `upperdir=${upperDir}`, `workdir=${workDir}`] }];
  }

  async sweep(): Promise<void> {
    for (const name of await readdir(this.#staging)) {
      const holder = join(this.#staging, name);
      if (!this.#staged.has(holder)) await rm(holder, { recursive: true, force: true });
    }
    const rows = this.db.prepare('SELECT * FROM overlay_snapshots').all() as Row[];
    const ids = new Set(rows.map((r) => r.id));
    let maxId = 0;
    for (const name of await readdir(this.#snapshots)) {
      const id = /^\d+$/.test(name) ? Number(name) : NaN;
      if (ids.has(id) || this.#committing.has(id)) maxId = Math.max(maxId, id);
      else await rm(join(this.#snapshots, name), { recursive: true, force: true });
    }
    // Rows whose directory is gone, and then their descendants, whose chains are broken.
    const gone = new Set<string>();
    for (const r of rows) if (!(await stat(this.#fsDir(r.id)).catch(() => undefined))) gone.add(r.chain_id);
    for (let grew = true; grew; ) {
      grew = false;
      for (const r of rows) {
        if (r.parent !== null && gone.has(r.parent) && !gone.has(r.chain_id)) {
          gone.add(r.chain_id);
          grew = true;
        }
      }
    }
    const del = this.db.prepare('DELETE FROM overlay_snapshots WHERE chain_id = ?');
    this.db.transaction(() => gone.forEach((c) => del.run(c)))();
    for (const r of rows) if (gone.has(r.chain_id)) await rm(join(this.#snapshots, String(r.id)), { recursive: true, force: true });
    for (const r of rows) maxId = Math.max(maxId, r.id);
    this.#nextId = Math.max(this.#nextId, maxId + 1);
  }

  #row(chainId: Digest): Row {
    const row = this.db.prepare('SELECT * FROM overlay_snapshots WHERE chain_id = ?').get(chainId) as Row | undefined;
    if (!row) throw notFound(`snapshot ${chainId}: not found`);
    return row;
  }

  #fsDir(id: number): string {
    return join(this.#snapshots, String(id), 'fs');
  }

  #toSnapshot(r: Row): Snapshot {
    return { chainId: r.chain_id as Digest, parent: r.parent as Digest | null, dir: this.#fsDir(r.id), size: r.size, createdAt: r.created_at };
  }
}
