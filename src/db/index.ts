// The daemon's embedded metadata store: one SQLite file (better-sqlite3,
// synchronous, WAL). Each module creates and owns its own tables through
// `migrate`, so no module reaches into another's schema.
import Database from 'better-sqlite3';

export type Db = Database.Database;
export type { Statement } from 'better-sqlite3';

export function openDatabase(path: string): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL'); // WAL + NORMAL: durable at checkpoints, never corrupt
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/**
 * Apply a module's schema steps once each, tracked by (module, step) in
 * `schema_migrations`. Steps run in one transaction with their bookkeeping.
 */
export function migrate(db: Db, module: string, steps: readonly string[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (module TEXT NOT NULL, step INTEGER NOT NULL, PRIMARY KEY (module, step))');
  const done = new Set(
    (db.prepare('SELECT step FROM schema_migrations WHERE module = ?').all(module) as { step: number }[]).map((r) => r.step),
  );
  const record = db.prepare('INSERT INTO schema_migrations (module, step) VALUES (?, ?)');
  db.transaction(() => {
    steps.forEach((sql, i) => {
      if (done.has(i)) return;
      db.exec(sql);
      record.run(module, i);
    });
  })();
}
