// Pulling one image: manifest (index -> platform manifest), config, then all
// layers concurrently. Each layer streams from the registry into the content
// store and, at the same time, through the decompressor into a staged
// snapshot directory; the snapshot is committed only after the blob's digest
// and the layer's diff ID are verified, and only after its parent.
import { once } from 'node:events';
import { PassThrough, Transform, type Readable, type Writable } from 'node:stream';
import { BerthError, invalidArgument } from '../errors/index.js';
import type { ContentStore } from '../content/types.js';
import type { LayerApplier, Snapshotter, ApplyResult, Compression } from '../storage/types.js';
import { inheritImpliedDirs } from '../storage/index.js';
import type { AuthConfig, Descriptor, ImageManifest, RegistryClient } from '../registry/types.js';
import { MediaType } from '../registry/types.js';
import type { Reference } from '../reference/types.js';
import type { Digest, Logger } from '../util/index.js';
import { Singleflight } from '../util/index.js';
import { LayerProgress } from './progress.js';
import type { ProgressFn } from './types.js';

export interface LayerSource {
  ref: Reference;
  auth: AuthConfig | undefined;
  signal: AbortSignal | undefined;
}

export interface LayerJob {
  desc: Descriptor;
  diffId: Digest;
  chainId: Digest;
  parentChainId: Digest | null;
}

export function compressionOf(mediaType: string): Compression | 'auto' {
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.zstd')) return 'zstd';
  if (mediaType.endsWith('gzip')) return 'gzip';
  if (mediaType === MediaType.OciLayer || mediaType.endsWith('.tar')) return 'none';
  return 'auto';
}

const LAYER_TYPES = new Set<string>([
  MediaType.OciLayer,
  MediaType.OciLayerGzip,
  MediaType.OciLayerZstd,
  MediaType.OciLayerNondistributableGzip,
  MediaType.DockerLayerGzip,
  MediaType.DockerForeignLayerGzip,
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

export function checkManifestLayers(m: ImageManifest, diffIds: readonly Digest[]): void {
  if (m.layers.length !== diffIds.length)
    throw invalidArgument(`image manifest has ${m.layers.length} layers but its config lists ${diffIds.length} diff IDs`);
  for (const l of m.layers) {
    if (!LAYER_TYPES.has(l.mediaType)) throw invalidArgument(`unsupported layer media type ${l.mediaType}`);
  }
}

/** Resolves when `stream` drains; rejects when any of `failures` rejects first or the stream errors. */
async function drained(stream: Writable, failures: Promise<unknown>[]): Promise<void> {
  await Promise.race([once(stream, 'drain'), ...failures.map((p) => p.then(() => new Promise<never>(() => {})))]);
}

/** Counts bytes that pass, so extraction progress can be shown. */
function counter(onBytes: (n: number) => void): Transform {
  return new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb) {
      onBytes(chunk.length);
      cb(null, chunk);
    },
  });
}

export interface LayerFetcherDeps {
  content: ContentStore;
  snapshots: Snapshotter;
  registry: RegistryClient;
  applyLayer: LayerApplier;
  log: Logger;
  /** bounded download concurrency shared by all pulls */
  downloads: <T>(task: () => Promise<T>) => Promise<T>;
}

/**
 * Makes sure the snapshot for each job exists, downloading and unpacking what
 * is missing. Concurrent calls for the same chain ID share one piece of work.
 */
export class LayerFetcher {
  readonly #deps: LayerFetcherDeps;
  readonly #flight = new Singleflight<void>();
  constructor(deps: LayerFetcherDeps) {
    this.#deps = deps;
  }

  async ensureAll(jobs: LayerJob[], source: LayerSource, emit: ProgressFn): Promise<void> {
    const { snapshots } = this.#deps;
    const progress = jobs.map((j) => new LayerProgress(j.desc.digest, emit));
    const missing = jobs.map((j) => !snapshots.get(j.chainId));
    jobs.forEach((_, i) => {
      const p = progress[i] as LayerProgress;
      p.status(missing[i] ? 'Pulling fs layer' : 'Already exists');
    });
    const committed: Promise<void>[] = [];
    jobs.forEach((job, i) => {
      const parentDone = i === 0 ? Promise.resolve() : (committed[i - 1] as Promise<void>);
      committed.push(
        missing[i]
          ? this.#flight.do(job.chainId, () => this.#fetchOne(job, source, progress[i] as LayerProgress, parentDone))
          : Promise.resolve(),
      );
    });
    // Wait for all (so no task is left writing) and report the first failure.
    const results = await Promise.allSettled(committed);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async #fetchOne(job: LayerJob, source: LayerSource, p: LayerProgress, parentDone: Promise<void>): Promise<void> {
    const { content, snapshots } = this.#deps;
    if (snapshots.get(job.chainId)) return; // someone else finished it meanwhile
    const staged = await snapshots.stage();
    try {
      const have = await content.info(job.desc.digest);
      let result: ApplyResult;
      if (have) {
        p.status('Extracting');
        result = await this.#deps.applyLayer(content.read(job.desc.digest), staged.dir, { compression: compressionOf(job.desc.mediaType) });
      } else {
        result = await this.#deps.downloads(() => this.#download(job, source, p, staged.dir));
      }
      if (result.diffId !== job.diffId)
        throw invalidArgument(`layer ${job.desc.digest}: diff ID ${result.diffId} does not match ${job.diffId} in the image config`);
      await parentDone;
      if (job.parentChainId && result.impliedDirs.length)
        inheritImpliedDirs(staged.dir, result.impliedDirs, snapshots.chainDirs(job.parentChainId));
      await staged.commit(job.chainId, job.parentChainId, result.unpackedSize);
      p.status('Pull complete');
      this.onLayer?.(job, result);
    } catch (err) {
      await staged.abort().catch(() => {});
      throw err;
    }
  }

  /** Called once a layer is committed (records which blob holds it). */
  onLayer?: (job: LayerJob, result: ApplyResult) => void;

  async #download(job: LayerJob, source: LayerSource, p: LayerProgress, dir: string): Promise<ApplyResult> {
    const { content, registry } = this.#deps;
    const { desc } = job;
    const ingest = await content.ingest({ digest: desc.digest, size: desc.size });
    let body: Readable | undefined;
    const pass = new PassThrough({ highWaterMark: 1 << 20 });
    let extracted = 0;
    const applying = this.#deps.applyLayer(
      pass.pipe(counter((n) => (extracted += n))),
      dir,
      { compression: compressionOf(desc.mediaType) },
    );
    applying.catch(() => {}); // observed below; avoid an unhandled rejection meanwhile
    const ingestFailed = new Promise<never>((_, reject) => ingest.stream.once('error', reject));
    ingestFailed.catch(() => {});
    const started = performance.now();
    try {
      ({ body } = await registry.getBlob(source.ref, desc.digest, source.auth, source.signal));
      let received = 0;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > desc.size) throw invalidArgument(`blob ${desc.digest} is larger than the ${desc.size} bytes its descriptor says`);
        p.progress('Downloading', received, desc.size);
        ingest.stream.write(chunk);
        pass.write(chunk);
        // Check needDrain at each wait: one stream may drain while we wait on the other.
        if (ingest.stream.writableNeedDrain) await drained(ingest.stream, [applying, ingestFailed]);
        if (pass.writableNeedDrain) await drained(pass, [applying, ingestFailed]);
      }
      p.progress('Downloading', received, desc.size, true);
      pass.end();
      const downloaded = performance.now();
      p.status('Verifying Checksum');
      await ingest.commit(); // digest and size checked here
      p.status('Download complete');
      this.#deps.log.debug('layer downloaded', { digest: desc.digest, ms: Math.round(downloaded - started), commitMs: Math.round(performance.now() - downloaded) });
      const timer = setInterval(() => p.progress('Extracting', Math.min(extracted, desc.size), desc.size), 100);
      try {
        const r = await applying;
        this.#deps.log.debug('layer unpacked', { digest: desc.digest, ms: Math.round(performance.now() - started) });
        return r;
      } finally {
        clearInterval(timer);
      }
    } catch (err) {
      body?.destroy();
      pass.destroy();
      await ingest.abort().catch(() => {});
      await applying.catch(() => {});
      if (err instanceof BerthError) throw err;
      throw new BerthError('unavailable', `failed to download layer ${desc.digest}: ${(err as Error).message}`, { cause: err });
    }
  }
}
