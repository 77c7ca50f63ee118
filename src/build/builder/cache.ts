// The build cache: which image a step produced, by the step's cache key (a
// chain hash of the base image, every instruction before it with its args,
// and the content it read). The images themselves live in the image store;
// a key whose image is gone (image prune, rmi) is a miss and is forgotten.
import type { Db } from '../../db/index.js';
import { migrate } from '../../db/index.js';

const SCHEMA = [
  `CREATE TABLE build_cache (
     key TEXT PRIMARY KEY,        -- sha256 hex of the step's cache chain
     image_id TEXT NOT NULL,      -- the image the step committed
     created INTEGER NOT NULL,    -- unix ms
     last_used INTEGER NOT NULL   -- unix ms, for prune --filter until
   );
   CREATE INDEX build_cache_image ON build_cache(image_id);`,
];

export interface CacheEntry {
  key: string;
  imageId: string;
  created: number;
  lastUsed: number;
}

export class BuildCache {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
    migrate(db, 'build', SCHEMA);
  }

  /** The image recorded for key, if `exists` still finds it; a stale entry is dropped. */
  get(key: string, exists: (imageId: string) => boolean): string | undefined {
    const row = this.#db.prepare('SELECT image_id AS imageId FROM build_cache WHERE key = ?').get(key) as { imageId: string } | undefined;
    if (!row) return undefined;
    if (!exists(row.imageId)) {
      this.#db.prepare('DELETE FROM build_cache WHERE key = ?').run(key);
      return undefined;
    }
    this.#db.prepare('UPDATE build_cache SET last_used = ? WHERE key = ?').run(Date.now(), key);
    return row.imageId;
  }

  put(key: string, imageId: string): void {
    const now = Date.now();
    this.#db
      .prepare('INSERT INTO build_cache (key, image_id, created, last_used) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET image_id = excluded.image_id, last_used = excluded.last_used')
      .run(key, imageId, now, now);
  }

  all(): CacheEntry[] {
    return this.#db
      .prepare('SELECT key, image_id AS imageId, created, last_used AS lastUsed FROM build_cache ORDER BY created DESC')
      .all() as CacheEntry[];
  }

  delete(keys: string[]): void {
    const del = this.#db.prepare('DELETE FROM build_cache WHERE key = ?');
    this.#db.transaction(() => {
      for (const k of keys) del.run(k);
    })();
  }
}
