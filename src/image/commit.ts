// docker commit (and the builder's steps): a container's writable layer
// becomes a new layer on top of its image. The upper dir is turned into a tar
// once; that one stream is both stored as the layer blob and applied as the
// new snapshot, so nothing is read twice.
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { layerTarFromDir, inheritImpliedDirs } from '../storage/index.js';
import { MediaType } from '../registry/index.js';
import { goArch, type Digest } from '../util/index.js';
import { chainIds, type HistoryEntry, type ImageConfig } from './config.js';
import type { ImageStore } from './service.js';
import type { CommitOptions } from './types.js';


/** The new layer: stored (uncompressed, so blob digest = diff ID) and unpacked as the snapshot on top of parentChain. */
async function addLayer(store: ImageStore, upperDir: string, parentDiffIds: Digest[]): Promise<{ diffId: Digest; release: () => void }> {
  const { content, snapshots, applyLayer } = store.deps;
  const parentChain = chainIds(parentDiffIds).at(-1) ?? null;
  const tar = layerTarFromDir(upperDir);
  const toBlob = new PassThrough({ highWaterMark: 1 << 20 });
  const toSnapshot = new PassThrough({ highWaterMark: 1 << 20 });
  tar.on('error', (err) => {
    toBlob.destroy(err);
    toSnapshot.destroy(err);
  });
  tar.pipe(toBlob);
  tar.pipe(toSnapshot);
  const ingest = await content.ingest();
  const staged = await snapshots.stage();
  let applied;
  let blob;
  try {
    [applied, blob] = await Promise.all([
      applyLayer(toSnapshot, staged.dir, { compression: 'none' }),
      pipeline(toBlob, ingest.stream).then(() => ingest.commit()),
    ]);
  } catch (err) {
    tar.destroy();
    await staged.abort().catch(() => {});
    await ingest.abort().catch(() => {});
    throw err;
  }
  const diffId = applied.diffId;
  const chainId = chainIds([...parentDiffIds, diffId]).at(-1) as Digest;
  const release = store.lease([diffId, chainId, blob.digest]);
  try {
    if (snapshots.get(chainId)) await staged.abort(); // the same change committed before: share it
    else {
      if (parentChain && applied.impliedDirs.length) inheritImpliedDirs(staged.dir, applied.impliedDirs, snapshots.chainDirs(parentChain));
      await staged.commit(chainId, parentChain, applied.unpackedSize);
    }
    store.records.putLayerBlob({ diffId, blob: blob.digest, mediaType: MediaType.OciLayer, blobSize: blob.size, tarSize: applied.tarSize });
  } catch (err) {
    release();
    await staged.abort().catch(() => {});
    throw err;
  }
  return { diffId, release };
}

export async function commitImage(store: ImageStore, opts: CommitOptions & { parent: Digest | null }): Promise<Digest> {
  const parent = opts.parent ? await store.config(opts.parent) : null;
  const parentDiffIds = parent?.rootfs.diff_ids ?? [];
  const release = store.lease(opts.parent ? [opts.parent, ...chainIds(parentDiffIds)] : []);
  let layer: { diffId: Digest; release: () => void } | undefined;
  try {
    if (!opts.history.empty_layer) layer = await addLayer(store, opts.upperDir, parentDiffIds);
    const created = new Date().toISOString();
    const author = opts.author ?? opts.history.author;
    const entry: HistoryEntry = {
      created,
      ...(author ? { author } : {}),
      ...(opts.history.created_by !== undefined ? { created_by: opts.history.created_by } : {}),
      ...(opts.history.comment ? { comment: opts.history.comment } : {}),
      ...(opts.history.empty_layer ? { empty_layer: true } : {}),
    };
    // An image without history still has layers: describe them so history and layers stay aligned.
    const parentHistory: HistoryEntry[] = parent?.history?.length ? parent.history : parentDiffIds.map(() => ({ created: parent?.created }));
    const config: ImageConfig = {
      architecture: parent?.architecture ?? goArch(),
      os: parent?.os ?? 'linux',
      ...(parent?.variant ? { variant: parent.variant } : {}),
      ...(author ? { author } : {}),
      created,
      ...(opts.history.comment ? { comment: opts.history.comment } : {}),
      ...(opts.container ? { container: opts.container } : {}),
      config: opts.config ?? {},
      rootfs: { type: 'layers', diff_ids: layer ? [...parentDiffIds, layer.diffId] : [...parentDiffIds] },
      history: [...parentHistory, ...(opts.precedingHistory ?? []), entry],
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    await store.deps.content.put(configBytes);
    return store.commitImage({ config, configBytes, tags: opts.tags ?? [], parent: opts.parent });
  } finally {
    layer?.release();
    release();
  }
}
