// Garbage collection: mark every blob a stored manifest references (config,
// layers, index children, recursively; manifests themselves), sweep the rest.
//
// The rule that makes it safe against a concurrent push: gc never removes a
// blob modified less than `minAge` ago (default one hour), and the registry
// refreshes a blob's mtime whenever it commits it, mounts it, answers a HEAD
// for it, or accepts a manifest that references it. A push that uploads or
// checks its blobs and then puts its manifest within `minAge` therefore keeps
// them, even if gc's mark phase ran before the manifest arrived. Upload
// sessions live in uploads/, which gc never touches.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { nullLogger, type Digest, type Logger } from '../util/index.js';
import { readFile } from 'node:fs/promises';
import { parseManifest } from './manifest.js';
import type { RegistryStorage } from './storage.js';

export const DEFAULT_GC_MIN_AGE_MS = 60 * 60 * 1000;

export interface GcOptions {
  /** Report what would go, remove nothing. */
  dryRun?: boolean;
  /** Unreferenced blobs younger than this are kept (ms). */
  minAgeMs?: number;
  log?: Logger;
}

export interface GcResult {
  /** Blobs some manifest references. */
  marked: Digest[];
  /** Unreferenced blobs removed (or, in a dry run, that would be). */
  removed: Digest[];
  /** Unreferenced blobs kept because they are younger than minAge. */
  keptYoung: Digest[];
}

export async function collectGarbage(storage: RegistryStorage, opts: GcOptions = {}): Promise<GcResult> {
  const log = opts.log ?? nullLogger;
  const minAge = opts.minAgeMs ?? DEFAULT_GC_MIN_AGE_MS;
  const marked = new Set<Digest>();

  const markManifest = async (digest: Digest): Promise<void> => {
    if (marked.has(digest)) return;
    marked.add(digest);
    let body: Buffer;
    try {
      body = await readFile(storage.blobPath(digest));
    } catch {
      return; // a revision whose content is gone marks nothing more
    }
    try {
      const parsed = parseManifest(body, undefined);
      for (const d of parsed.blobs) marked.add(d);
      for (const d of parsed.manifests) await markManifest(d);
    } catch (err) {
      log.warn('gc: unreadable manifest, keeping only itself', { digest, err });
    }
  };

  const repos = await storage.repositories();
  for (const repo of repos) {
    for (const digest of await storage.manifestRevisions(repo)) await markManifest(digest);
  }

  const removed: Digest[] = [];
  const keptYoung: Digest[] = [];
  const dir = join(storage.root, 'blobs', 'sha256');
  for (const name of (await readdir(dir)).sort()) {
    const isBlob = /^[a-f0-9]{64}$/.test(name);
    const digest = `sha256:${name}` as Digest;
    if (isBlob && marked.has(digest)) continue;
    const path = join(dir, name);
    let mtime: number;
    try {
      mtime = (await stat(path)).mtimeMs;
    } catch {
      continue;
    }
    if (Date.now() - mtime < minAge) {
      if (isBlob) keptYoung.push(digest);
      continue;
    }
    if (!isBlob) {
      // a temp file left by a crash mid-write
      if (!opts.dryRun) await rm(path, { force: true });
      continue;
    }
    removed.push(digest);
    if (!opts.dryRun) await rm(path, { force: true });
    log.info(opts.dryRun ? 'gc: would remove blob' : 'gc: removed blob', { digest });
  }

  if (!opts.dryRun && removed.length > 0) {
    const gone = new Set(removed);
    for (const repo of repos) {
      for (const d of await storage.layerLinks(repo)) if (gone.has(d)) await storage.removeLayerLink(repo, d);
    }
  }
  return { marked: [...marked].sort(), removed, keptYoung };
}
