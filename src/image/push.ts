// Pushing images: per tag, the layers (skipped when the registry has them,
// cross-mounted when another repository of the same registry does, else
// uploaded, three at a time), then the config, then the manifest. The
// manifest pushed is the one the store holds for the image when all its blobs
// are here (so a pulled image keeps its digest); images that have none
// (loaded, imported, committed) get one built from their layer blobs, the
// same bytes every time, so their digest is stable.
import { invalidArgument, notFound } from '../errors/index.js';
import { familiarName, fullName, parseNormalizedNamed } from '../reference/index.js';
import type { Reference } from '../reference/types.js';
import { MediaType, parseManifest, sniffManifestMediaType, type Descriptor, type ImageManifest } from '../registry/index.js';
import type { Digest } from '../util/index.js';
import { sha256 } from '../util/index.js';
import { LayerProgress, noProgress } from './progress.js';
import type { ImageStore } from './service.js';
import type { ProgressFn, PushOptions, PushResult } from './types.js';

/** The manifest to push for an image: its bytes and parsed form. */
export interface PushableManifest {
  bytes: Buffer;
  mediaType: string;
  manifest: ImageManifest;
}

/** Docker layer types have OCI equivalents; a built manifest is OCI throughout. */
const OCI_LAYER_TYPE: Record<string, string> = {
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  [MediaType.DockerForeignLayerGzip]: MediaType.OciLayerNondistributableGzip,
};

export async function pushImage(store: ImageStore, name: string, opts: PushOptions): Promise<PushResult[]> {
  const emit = opts.onProgress ?? noProgress;
  let ref = parseNormalizedNamed(name);
  if (ref.digest) throw invalidArgument('cannot push a digest reference');
  if (opts.tag) ref = parseNormalizedNamed(`${fullName(ref)}:${opts.tag}`);
  const repo = fullName(ref);
  const tags = ref.tag
    ? [ref.tag].filter((t) => store.records.tagTarget(`${repo}:${t}`))
    : store.records
        .allTags()
        .map((t) => t.ref)
        .filter((r) => r.slice(0, r.lastIndexOf(':')) === repo)
        .map((r) => r.slice(r.lastIndexOf(':') + 1))
        .sort();
  if (tags.length === 0) throw notFound(`An image does not exist locally with the tag: ${familiarName(ref)}`);
  emit({ status: `The push refers to repository [${repo}]` });
  const results: PushResult[] = [];
  for (const tag of tags) {
    const id = store.records.tagTarget(`${repo}:${tag}`);
    if (!id) throw notFound(`An image does not exist locally with the tag: ${familiarName(ref)}:${tag}`);
    results.push(await pushTag(store, { ...ref, tag, digest: undefined }, id, opts, emit));
  }
  return results;
}

async function pushTag(store: ImageStore, ref: Reference, id: Digest, opts: PushOptions, emit: ProgressFn): Promise<PushResult> {
  const { registry, content } = store.deps;
  const target = await manifestFor(store, id);
  const { manifest } = target;
  const release = store.lease([id, sha256(target.bytes), ...manifest.layers.map((l) => l.digest)]);
  try {
    const pushBlob = async (desc: Descriptor, progress?: LayerProgress): Promise<void> => {
      if (await registry.blobExists(ref, desc.digest, opts.auth, opts.signal)) {
        progress?.status('Layer already exists');
      } else {
        const mountFrom = store.records.blobSources(desc.digest, ref.domain).find((r) => r !== ref.path);
        const result = await registry.pushBlob(ref, { digest: desc.digest, size: desc.size }, (start, end) => content.read(desc.digest, { start, end }), {
          ...(opts.auth ? { auth: opts.auth } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(mountFrom ? { mountFrom } : {}),
          ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
          onProgress: (sent) => progress?.progress('Pushing', sent, desc.size),
        });
        if (result === 'mounted') progress?.status(`Mounted from ${mountFrom}`);
        else {
          progress?.progress('Pushing', desc.size, desc.size, true);
          progress?.status('Pushed');
        }
      }
      store.records.addBlobSource(desc.digest, ref.domain, ref.path);
    };

    // Layers: dockerd lists them top first.
    const layers = [...manifest.layers].reverse();
    const progress = layers.map((l) => new LayerProgress(l.digest, emit));
    for (const p of progress) p.status('Preparing');
    const started = layers.map(() => false);
    const tasks = layers.map((desc, i) =>
      store.uploads(() => {
        started[i] = true;
        return pushBlob(desc, progress[i]);
      }),
    );
    layers.forEach((_, i) => {
      if (!started[i]) progress[i]?.status('Waiting');
    });
    // Wait for all (nothing left uploading) and report the first failure.
    const settled = await Promise.allSettled(tasks);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await pushBlob(manifest.config);

    const digest = await registry.putManifest(ref, { mediaType: target.mediaType, bytes: target.bytes }, opts.auth, opts.signal);
    await content.put(target.bytes, { digest });
    store.records.putManifest({ imageId: id, repo: fullName(ref), digest, mediaType: target.mediaType });
    const tag = ref.tag as string;
    emit({ status: `${tag}: digest: ${digest} size: ${target.bytes.length}` });
    emit({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: target.bytes.length } });
    return { tag, digest, size: target.bytes.length };
  } finally {
    release();
  }
}

/**
 * The manifest to push for image `id`: a stored one whose config is the image
 * and whose blobs are all in the content store, else one built from the
 * image's layer blobs.
 */
export async function manifestFor(store: ImageStore, id: Digest): Promise<PushableManifest> {
  const { content } = store.deps;
  const read = async (digest: Digest, hint: string): Promise<PushableManifest | undefined> => {
    let bytes: Buffer;
    try {
      bytes = await content.readBytes(digest);
    } catch {
      return undefined;
    }
    const mediaType = sniffManifestMediaType(bytes, hint);
    const parsed = parseManifest(bytes, mediaType);
    if (parsed.kind === 'manifest') return { bytes, mediaType, manifest: parsed.manifest };
    for (const child of parsed.index.manifests) {
      const found = await read(child.digest, child.mediaType);
      if (found && found.manifest.config.digest === id) return found;
    }
    return undefined;
  };
  for (const row of store.records.manifestsOf(id)) {
    const found = await read(row.digest, row.mediaType).catch(() => undefined);
    if (!found || found.manifest.config.digest !== id) continue;
    const blobs = [found.manifest.config, ...found.manifest.layers];
    const present = await Promise.all(blobs.map(async (d) => (await content.info(d.digest))?.size === d.size));
    if (present.every(Boolean)) return found;
  }
  return buildManifest(store, id);
}

/** An OCI manifest from the image's config and layer blob records: the same bytes for the same image. */
async function buildManifest(store: ImageStore, id: Digest): Promise<PushableManifest> {
  const { content } = store.deps;
  const configInfo = await content.info(id);
  if (!configInfo) throw invalidArgument(`image ${id} has no stored config; cannot push it`);
  const config = await store.config(id);
  const layers: Descriptor[] = [];
  for (const diffId of config.rootfs.diff_ids) {
    const lb = store.records.layerBlob(diffId);
    const info = lb ? await content.info(lb.blob) : undefined;
    if (!lb || !info) throw invalidArgument(`layer ${diffId} of image ${id} has no stored blob; cannot push it`);
    const mediaType = lb.blob === diffId ? MediaType.OciLayer : (OCI_LAYER_TYPE[lb.mediaType] ?? lb.mediaType);
    layers.push({ mediaType, digest: lb.blob, size: info.size });
  }
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: id, size: configInfo.size },
    layers,
  };
  return { bytes: Buffer.from(JSON.stringify(manifest)), mediaType: MediaType.OciManifest, manifest };
}
