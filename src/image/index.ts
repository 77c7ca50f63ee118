// Images: pull, push, list, inspect, tag, remove, prune, save/load/import.
// The daemon builds one ImageStore with createImageService and reaches every
// image operation through the ImageService interface (src/image/types.ts).
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { ContentStore } from '../content/types.js';
import type { Db } from '../db/index.js';
import type { LayerApplier, Snapshotter } from '../storage/types.js';
import type { RegistryClient } from '../registry/types.js';
import type { Logger } from '../util/index.js';
import { applyLayerInWorker, warmUnpackWorkers } from '../storage/index.js';
import { ImageStore } from './service.js';

export type * from './types.js';
export { ImageStore, type ImageEvent } from './service.js';
export { parseImageConfig, chainIds, applyChanges, mergeCommitConfig, type ImageConfig } from './config.js';
export { humanSize, progressBar } from './progress.js';

export interface CreateImageServiceDeps {
  db: Db;
  content: ContentStore;
  snapshots: Snapshotter;
  registry: RegistryClient;
  log: Logger;
  /** the daemon root; temporary files go to <root>/tmp */
  root: string;
  applyLayer?: LayerApplier;
  maxConcurrentDownloads?: number;
  maxConcurrentUploads?: number;
}

/** Build the image service and clean up what an interrupted run left behind. */
export async function createImageService(deps: CreateImageServiceDeps): Promise<ImageStore> {
  const tmpDir = join(deps.root, 'tmp');
  mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
  const store = new ImageStore({
    db: deps.db,
    content: deps.content,
    snapshots: deps.snapshots,
    registry: deps.registry,
    applyLayer: deps.applyLayer ?? applyLayerInWorker,
    ...(deps.applyLayer ? {} : { warmApplier: warmUnpackWorkers }),
    log: deps.log,
    tmpDir,
    ...(deps.maxConcurrentDownloads ? { maxConcurrentDownloads: deps.maxConcurrentDownloads } : {}),
    ...(deps.maxConcurrentUploads ? { maxConcurrentUploads: deps.maxConcurrentUploads } : {}),
  });
  await store.init();
  return store;
}
