// The image service: the engine's images, by name and by ID, on top of the
// content store (blobs), the snapshotter (unpacked layers) and SQLite records.
import { BerthError, conflict, invalidArgument, notFound } from '../errors/index.js';
import type { ContentStore } from '../content/types.js';
import type { Db } from '../db/index.js';
import type { LayerApplier, Snapshotter } from '../storage/types.js';
import type { RegistryClient, ImageManifest, ImageIndex } from '../registry/types.js';
import {
  parseReference,
  familiarName,
  familiarString,
  fullName,
} from '../reference/index.js';
import type { Reference } from '../reference/types.js';
import { parseManifest, selectManifest, parsePlatform, defaultPlatform } from '../registry/index.js';
import type { Digest, Logger } from '../util/index.js';
import { isDigest, limiter, sha256, shortId } from '../util/index.js';
import { ImageRecords } from './records.js';
import { chainIds, parseImageConfig, platformOf, unixSeconds, type ImageConfig, type HistoryEntry } from './config.js';
import { LayerFetcher, checkManifestLayers, type LayerJob } from './pull.js';
import { noProgress } from './progress.js';
import type {
  DeleteItem,
  DiskUsage,
  Filters,
  HistoryItem,
  ImageInspect,
  ImageService,
  ImageSummary,
  CommitOptions,
  LayerWorkspace,
  ImportOptions,
  ProgressFn,
  PruneReport,
  PullOptions,
  PushOptions,
  PushResult,
} from './types.js';
import type { Readable } from 'node:stream';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { mountAll, unmount } from '../storage/index.js';

export interface ImageServiceDeps {
  db: Db;
  content: ContentStore;
  snapshots: Snapshotter;
  registry: RegistryClient;
  applyLayer: LayerApplier;
  log: Logger;
  /** Directory for temporary files of this service (same filesystem as the stores). */
  tmpDir: string;
  /** Parallel layer downloads (dockerd's max-concurrent-downloads is 3). */
  maxConcurrentDownloads?: number;
  /** Parallel blob uploads of pushes (dockerd's max-concurrent-uploads is 3). */
  maxConcurrentUploads?: number;
  /** Get the applier ready for n layers (start workers) while a pull fetches metadata. */
  warmApplier?: (n: number) => void;
}

/** A resolved image plus the name it was found by (if any). */
interface Resolved {
  id: Digest;
  /** full "repo:tag" when looked up by tag */
  tagRef?: string;
  /** full repo + digest when looked up by digest */
  digestRef?: { repo: string; digest: Digest };
  /** true when looked up by (short or full) ID */
  byId: boolean;
}

const HEX_PREFIX = /^(sha256:)?([a-f0-9]{6,64})$/;

function tagRefOf(ref: Reference): string {
  return `${fullName(ref)}:${ref.tag ?? 'latest'}`;
}

/** "docker.io/library/busybox:latest" -> "busybox:latest" */
export function familiarOfFull(full: string): string {
  return familiarString(parseReference(full));
}

/** docker's image event actions; id is the Actor.ID docker uses (the reference for pull, else the image ID). */
export type ImageEvent = { action: 'pull' | 'push' | 'tag' | 'untag' | 'delete' | 'import' | 'load'; id: string; name: string };

export class ImageStore implements ImageService {
  readonly records: ImageRecords;
  readonly #deps: ImageServiceDeps;
  readonly #fetcher: LayerFetcher;
  readonly #configs = new Map<Digest, ImageConfig>();
  /** chain IDs and blobs that in-progress operations hold; GC leaves them alone */
  readonly #leases = new Map<string, number>();
  #gcRunning: Promise<unknown> = Promise.resolve();
  #usedBy?: (imageId: Digest) => Promise<{ id: string; running: boolean }[]>;
  readonly #listeners = new Set<(e: ImageEvent) => void>();
  /** Bounded blob uploads shared by all pushes (dockerd's max-concurrent-uploads is 3). */
  readonly uploads: <T>(task: () => Promise<T>) => Promise<T>;

  /** Subscribe to image events (docker's actions); returns the unsubscribe. */
  onEvent(fn: (e: ImageEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(e: ImageEvent): void {
    for (const fn of this.#listeners) {
      try {
        fn(e);
      } catch (err) {
        this.#deps.log.warn('event listener failed', { err });
      }
    }
  }

  constructor(deps: ImageServiceDeps) {
    this.#deps = deps;
    this.records = new ImageRecords(deps.db);
    this.uploads = limiter(deps.maxConcurrentUploads ?? 3);
    this.#fetcher = new LayerFetcher({
      content: deps.content,
      snapshots: deps.snapshots,
      registry: deps.registry,
      applyLayer: deps.applyLayer,
      log: deps.log,
      downloads: limiter(deps.maxConcurrentDownloads ?? 3),
    });
    this.#fetcher.onLayer = (job, result) =>
      this.records.putLayerBlob({
        diffId: job.diffId,
        blob: job.desc.digest,
        mediaType: job.desc.mediaType,
        blobSize: job.desc.size,
        tarSize: result.tarSize,
      });
  }

  /**
   * Tell the image service which containers use an image (set once the container
   * service exists; it depends on images, so this cannot be a constructor argument).
   */
  setImageUsers(fn: (imageId: Digest) => Promise<{ id: string; running: boolean }[]>): void {
    this.#usedBy = fn;
  }

  get deps(): ImageServiceDeps {
    return this.#deps;
  }

  /** Start-up: drop what an interrupted operation left (unreferenced snapshots and blobs). */
  async init(): Promise<void> {
    await this.#deps.snapshots.sweep();
    await this.gc();
  }

  // ---- leases -------------------------------------------------------------

  lease(keys: string[]): () => void {
    for (const k of keys) this.#leases.set(k, (this.#leases.get(k) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const k of keys) {
        const n = (this.#leases.get(k) ?? 1) - 1;
        if (n <= 0) this.#leases.delete(k);
        else this.#leases.set(k, n);
      }
    };
  }

  // ---- lookups --------------------------------------------------------------

  async config(id: Digest): Promise<ImageConfig> {
    let c = this.#configs.get(id);
    if (!c) {
      c = parseImageConfig(await this.#deps.content.readBytes(id));
      this.#configs.set(id, c);
    }
    return c;
  }

  /** Find an image by name[:tag], name@digest, full ID or unique ID prefix, like dockerd. */
  resolve(nameOrId: string): Resolved {
    const s = nameOrId.trim();
    const hex = HEX_PREFIX.exec(s);
    if (hex && (hex[1] || (hex[2] as string).length === 64)) {
      // an explicit sha256: prefix or a full 64-hex string is always an ID
      const id = this.#byIdPrefix(hex[2] as string, s);
      if (id) return { id, byId: true };
      throw notFound(`No such image: ${s}`);
    }
    let ref: Reference | undefined;
    try {
      ref = parseReference(s);
    } catch (err) {
      if (!hex) throw err;
    }
    if (ref) {
      if (ref.digest) {
        const m = this.records.manifestByRepoDigest(fullName(ref), ref.digest);
        if (m) return { id: m.imageId, digestRef: { repo: m.repo, digest: ref.digest }, byId: false };
      } else {
        const tagRef = tagRefOf(ref);
        const id = this.records.tagTarget(tagRef);
        if (id) return { id, tagRef, byId: false };
      }
    }
    if (hex) {
      const id = this.#byIdPrefix(hex[2] as string, s);
      if (id) return { id, byId: true };
    }
    throw notFound(`No such image: ${s}`);
  }

  #byIdPrefix(hexPrefix: string, original: string): Digest | undefined {
    const ids = this.records.imagesByPrefix(hexPrefix);
    if (ids.length > 1) throw invalidArgument(`ambiguous image ID prefix: ${original}`);
    return ids[0];
  }

  repoTags(id: Digest): string[] {
    return this.records.tagsOf(id).map(familiarOfFull);
  }

  repoDigests(id: Digest): string[] {
    return this.records.manifestsOf(id).map((m) => `${familiarName(parseReference(m.repo))}@${m.digest}`);
  }

  // ---- pull -----------------------------------------------------------------

  async pull(refStr: string, opts: PullOptions = {}): Promise<{ reference: string; digest: string; id: string }> {
    const emit = opts.onProgress ?? noProgress;
    const ref = parseReference(refStr);
    const { registry } = this.#deps;
    const wantPlatform = opts.platform ? parsePlatform(opts.platform) : defaultPlatform();
    const started = performance.now();
    this.#deps.warmApplier?.(1);
    const top = await registry.getManifest(ref, opts.auth, opts.signal);
    emit({ status: `Pulling from ${familiarName(ref)}`, id: ref.digest ?? ref.tag ?? 'latest' });
    const leased: string[] = [top.digest];
    const release = this.lease(leased);
    try {
      let manifestBytes = top.bytes;
      let manifestDigest = top.digest;
      let manifestType = top.mediaType;
      let indexToStore: { bytes: Buffer; digest: Digest } | undefined;
      let parsed = parseManifest(top.bytes, top.mediaType);
      if (parsed.kind === 'index') {
        const chosen = selectManifest(parsed.index as ImageIndex, wantPlatform);
        const m = await registry.getManifest({ ...ref, tag: undefined, digest: chosen.digest }, opts.auth, opts.signal);
        indexToStore = { bytes: top.bytes, digest: top.digest };
        manifestBytes = m.bytes;
        manifestDigest = m.digest;
        manifestType = m.mediaType;
        parsed = parseManifest(m.bytes, m.mediaType);
        if (parsed.kind !== 'manifest') throw invalidArgument(`manifest ${m.digest} in the index is itself an index`);
      }
      const manifest = (parsed as { kind: 'manifest'; manifest: ImageManifest }).manifest;
      const cfgDesc = manifest.config;
      if (cfgDesc.mediaType !== 'application/vnd.oci.image.config.v1+json' && cfgDesc.mediaType !== 'application/vnd.docker.container.image.v1+json')
        throw invalidArgument(`${familiarString(ref)} is not a container image (config media type ${cfgDesc.mediaType})`);
      leased.push(manifestDigest, cfgDesc.digest);
      const releaseMore = this.lease([manifestDigest, cfgDesc.digest, ...manifest.layers.map((l) => l.digest)]);
      try {
        const configBytes = await this.#fetchSmallBlob(ref, cfgDesc.digest, cfgDesc.size, opts);
        const config = parseImageConfig(configBytes);
        checkManifestLayers(manifest, config.rootfs.diff_ids);
        const chains = chainIds(config.rootfs.diff_ids);
        const missing = chains.filter((c) => !this.#deps.snapshots.get(c)).length;
        if (missing > 1) this.#deps.warmApplier?.(Math.min(missing, this.#deps.maxConcurrentDownloads ?? 3));
        const releaseChains = this.lease(chains);
        try {
          const jobs: LayerJob[] = manifest.layers.map((desc, i) => ({
            desc,
            diffId: config.rootfs.diff_ids[i] as Digest,
            chainId: chains[i] as Digest,
            parentChainId: i > 0 ? (chains[i - 1] as Digest) : null,
          }));
          // Layers that are already unpacked may still lack their blob record (e.g. loaded images).
          await this.#fetcher.ensureAll(jobs, { ref, auth: opts.auth, signal: opts.signal }, emit);
          for (const j of jobs) {
            if (!this.records.layerBlob(j.diffId) && (await this.#deps.content.info(j.desc.digest))) {
              this.records.putLayerBlob({ diffId: j.diffId, blob: j.desc.digest, mediaType: j.desc.mediaType, blobSize: j.desc.size, tarSize: 0 });
            }
          }
          // Where these blobs live, so a later push to this registry can mount instead of upload.
          for (const d of [cfgDesc.digest, ...manifest.layers.map((l) => l.digest)]) this.records.addBlobSource(d, ref.domain, ref.path);
          await this.#deps.content.put(manifestBytes, { digest: manifestDigest });
          if (indexToStore) await this.#deps.content.put(indexToStore.bytes, { digest: indexToStore.digest });
          const id = cfgDesc.digest;
          const size = this.#chainSize(chains);
          const repo = fullName(ref);
          let previous: Digest | undefined;
          let already = false;
          this.records.transaction(() => {
            already = ref.tag ? this.records.tagTarget(tagRefOf(ref)) === id : this.records.manifestByRepoDigest(repo, top.digest)?.imageId === id;
            this.records.putImage({ id, created: unixSeconds(config.created), size, lastTagTime: '', platform: platformOf(config), parent: '' });
            this.records.putManifest({ imageId: id, repo, digest: top.digest, mediaType: indexToStore ? (top.mediaType) : manifestType });
            if (ref.tag) {
              previous = this.records.setTag(tagRefOf(ref), id);
              this.records.touchTagTime(id, new Date().toISOString());
            }
          });
          this.#configs.set(id, config);
          this.#deps.log.debug('pull done', { ref: familiarString(ref), ms: Math.round(performance.now() - started) });
          emit({ status: `Digest: ${top.digest}` });
          const shown = familiarString(ref);
          emit({ status: already ? `Status: Image is up to date for ${shown}` : `Status: Downloaded newer image for ${shown}` });
          if (previous) this.#deps.log.debug('tag moved; previous image may now be dangling', { previous });
          this.#emit({ action: 'pull', id: shown, name: familiarName(ref) });
          return { reference: shown, digest: top.digest, id };
        } finally {
          releaseChains();
        }
      } finally {
        releaseMore();
      }
    } finally {
      release();
    }
  }

  // ---- push -----------------------------------------------------------------

  async push(name: string, opts: PushOptions = {}): Promise<PushResult[]> {
    const { pushImage } = await import('./push.js');
    const results = await pushImage(this, name, opts);
    for (const r of results) {
      const ref = parseReference(name);
      this.#emit({ action: 'push', id: `${familiarName(ref)}:${r.tag}`, name: familiarName(ref) });
    }
    return results;
  }

  async #fetchSmallBlob(ref: Reference, digest: Digest, size: number, opts: PullOptions): Promise<Buffer> {
    const { content, registry } = this.#deps;
    if (await content.info(digest)) return content.readBytes(digest);
    if (size > 8 << 20) throw invalidArgument(`config blob ${digest} is too large (${size} bytes)`);
    const { body } = await registry.getBlob(ref, digest, opts.auth, opts.signal);
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of body as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > size) {
        body.destroy();
        throw invalidArgument(`blob ${digest} is larger than the ${size} bytes its descriptor says`);
      }
      chunks.push(c);
    }
    const bytes = Buffer.concat(chunks);
    await content.put(bytes, { digest, size }); // verifies digest and size
    return bytes;
  }

  #chainSize(chains: Digest[]): number {
    let total = 0;
    for (const c of chains) total += this.#deps.snapshots.get(c)?.size ?? 0;
    return total;
  }

  // ---- listing and inspection -----------------------------------------------

  async #summary(id: Digest, containers = -1): Promise<ImageSummary> {
    const row = this.records.getImage(id);
    if (!row) throw notFound(`No such image: ${id}`);
    const config = await this.config(id);
    const tags = this.repoTags(id);
    const digests = this.repoDigests(id);
    return {
      Id: id,
      ParentId: row.parent,
      RepoTags: tags,
      RepoDigests: digests,
      Created: row.created,
      Size: row.size,
      SharedSize: -1,
      Labels: config.config?.Labels ?? null,
      Containers: containers,
    };
  }

  async list(opts: { all?: boolean; filters?: Filters; sharedSize?: boolean } = {}): Promise<ImageSummary[]> {
    const filters = opts.filters ?? {};
    for (const k of Object.keys(filters)) {
      if (!['dangling', 'label', 'before', 'since', 'reference', 'until'].includes(k)) throw invalidArgument(`invalid filter '${k}'`);
    }
    let rows = this.records.allImages();
    // Like dockerd: untagged images that others were built on (intermediate build steps)
    // show only with -a; the dangling filter looks at images nothing was built on.
    const parents = this.records.parentIds();
    const danglingFilter = filters.dangling?.[0] === 'true' || filters.dangling?.[0] === '1';
    if (!opts.all || danglingFilter) rows = rows.filter((r) => !parents.has(r.id) || !this.#isUntagged(r.id));
    let out: ImageSummary[] = [];
    for (const r of rows) out.push(await this.#summary(r.id));
    out = await this.#applyFilters(out, filters);
    if (opts.sharedSize) await this.#fillSharedSize(out);
    return out;
  }

  async #applyFilters(list: ImageSummary[], f: Filters): Promise<ImageSummary[]> {
    let out = list;
    const dangling = f.dangling?.[0];
    if (dangling !== undefined) {
      if (!['true', 'false', '1', '0'].includes(dangling)) throw invalidArgument(`invalid filter 'dangling=${dangling}'`);
      const want = dangling === 'true' || dangling === '1';
      out = out.filter((i) => (i.RepoTags.length === 0) === want);
    }
    for (const l of f.label ?? []) {
      const [k, v] = l.split('=', 2) as [string, string | undefined];
      out = out.filter((i) => i.Labels && k in i.Labels && (v === undefined || i.Labels[k] === v));
    }
    const createdOf = async (s: string) => (await this.#summary(this.resolve(s).id)).Created;
    for (const b of f.before ?? []) {
      const t = await createdOf(b);
      out = out.filter((i) => i.Created < t);
    }
    for (const s of f.since ?? []) {
      const t = await createdOf(s);
      out = out.filter((i) => i.Created > t);
    }
    for (const u of f.until ?? []) {
      const t = parseUntil(u);
      out = out.filter((i) => i.Created < t);
    }
    const refs = f.reference ?? [];
    if (refs.length) {
      out = out
        .map((i) => ({
          ...i,
          RepoTags: i.RepoTags.filter((t) => refs.some((p) => matchReference(p, t))),
          // digests match by repository name, as dockerd filters them
          RepoDigests: i.RepoDigests.filter((r) => refs.some((p) => matchReference(p, r.replace(/@sha256:[a-f0-9]+$/, ':')))),
        }))
        .filter((i) => i.RepoTags.length > 0 || i.RepoDigests.length > 0);
    }
    return out;
  }

  async #fillSharedSize(list: ImageSummary[]): Promise<void> {
    const use = new Map<Digest, number>();
    const chainsOf = new Map<string, Digest[]>();
    for (const r of this.records.allImages()) {
      const chains = chainIds((await this.config(r.id)).rootfs.diff_ids);
      chainsOf.set(r.id, chains);
      for (const c of new Set(chains)) use.set(c, (use.get(c) ?? 0) + 1);
    }
    for (const i of list) {
      i.SharedSize = (chainsOf.get(i.Id) ?? [])
        .filter((c) => (use.get(c) ?? 0) > 1)
        .reduce((n, c) => n + (this.#deps.snapshots.get(c)?.size ?? 0), 0);
    }
  }

  async inspect(nameOrId: string): Promise<ImageInspect> {
    const { id } = this.resolve(nameOrId);
    const row = this.records.getImage(id);
    if (!row) throw notFound(`No such image: ${nameOrId}`);
    const c = await this.config(id);
    const chains = chainIds(c.rootfs.diff_ids);
    const dirs = chains.map((ch) => this.#deps.snapshots.get(ch)?.dir).filter((d): d is string => !!d);
    const upper = dirs.pop();
    const lastComment = [...(c.history ?? [])].reverse().find((h) => h.comment)?.comment;
    return {
      Id: id,
      RepoTags: this.repoTags(id),
      RepoDigests: this.repoDigests(id),
      Parent: this.records.getImage(id)?.parent ?? '',
      Comment: c.comment ?? lastComment ?? '',
      Created: c.created ?? '0001-01-01T00:00:00Z',
      DockerVersion: c.docker_version ?? '',
      Author: c.author ?? '',
      Config: c.config ?? {},
      Architecture: c.architecture,
      ...(c.variant ? { Variant: c.variant } : {}),
      Os: c.os,
      ...(c['os.version'] ? { OsVersion: c['os.version'] } : {}),
      Size: row.size,
      VirtualSize: row.size,
      GraphDriver: {
        Name: 'overlay2',
        Data: upper
          ? {
              ...(dirs.length ? { LowerDir: dirs.reverse().join(':') } : {}),
              UpperDir: upper,
              MergedDir: upper.replace(/\/fs$/, '/merged'),
              WorkDir: upper.replace(/\/fs$/, '/work'),
            }
          : null,
      },
      RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
      Metadata: { LastTagTime: row.lastTagTime || '0001-01-01T00:00:00Z' },
      Container: c.container ?? '',
      ContainerConfig: c.container_config ?? {},
    };
  }

  async history(nameOrId: string): Promise<HistoryItem[]> {
    const { id } = this.resolve(nameOrId);
    const c = await this.config(id);
    const chains = chainIds(c.rootfs.diff_ids);
    const sizes = chains.map((ch) => this.#deps.snapshots.get(ch)?.size ?? 0);
    const hist: HistoryEntry[] = c.history?.length ? c.history : c.rootfs.diff_ids.map(() => ({ created: c.created }));
    let layer = 0;
    const items: HistoryItem[] = hist.map((h) => {
      const size = h.empty_layer ? 0 : (sizes[layer++] ?? 0);
      return {
        Id: '<missing>',
        Created: unixSeconds(h.created),
        CreatedBy: h.created_by ?? '',
        Tags: null,
        Size: size,
        Comment: h.comment ?? '',
      };
    });
    items.reverse();
    const first = items[0];
    if (first) {
      first.Id = id;
      const tags = this.repoTags(id);
      first.Tags = tags.length ? tags : null;
    }
    return items;
  }

  // ---- tags and removal -------------------------------------------------------

  async tag(source: string, repo: string, tag?: string): Promise<void> {
    const { id } = this.resolve(source);
    const target = parseReference(tag ? `${repo}:${tag}` : repo);
    if (target.digest) throw invalidArgument('refusing to create a tag with a digest reference');
    this.records.transaction(() => {
      this.records.setTag(tagRefOf(target), id);
      this.records.touchTagTime(id, new Date().toISOString());
    });
    this.#emit({ action: 'tag', id, name: familiarString(target) });
  }

  async remove(nameOrId: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<DeleteItem[]> {
    const id = this.resolve(nameOrId).id;
    const out = await this.#remove(nameOrId, opts);
    for (const item of out) {
      if ('Untagged' in item) this.#emit({ action: 'untag', id, name: id });
      else if (item.Deleted === id) this.#emit({ action: 'delete', id, name: id });
    }
    return out;
  }

  async #remove(nameOrId: string, opts: { force?: boolean; noprune?: boolean }): Promise<DeleteItem[]> {
    const r = this.resolve(nameOrId);
    const out: DeleteItem[] = [];
    const tags = this.records.tagsOf(r.id);
    const manifests = this.records.manifestsOf(r.id);
    const names = tags.length + manifests.length;
    // Containers pin their image, as in dockerd: removing its last name (or the image itself)
    // is refused while a container uses it; -f then only untags an image of stopped containers.
    const users = (await this.#usedBy?.(r.id)) ?? [];
    const running = users.find((u) => u.running);
    const lastName = !r.byId && names <= 1;
    if (running && (r.byId || lastName))
      throw conflict(`conflict: unable to ${r.byId ? `delete ${shortId(r.id)}` : `remove repository reference "${nameOrId}"`} (cannot be forced) - image is being used by running container ${shortId(running.id)}`);
    if (r.byId && this.records.childrenOf(r.id).length && !(names > 0 && opts.force))
      throw conflict(`conflict: unable to delete ${shortId(r.id)} (cannot be forced) - image has dependent child images`);
    const stopped = users[0];
    if (stopped && (r.byId || lastName) && !opts.force)
      throw conflict(
        r.byId
          ? `conflict: unable to delete ${shortId(r.id)} (must be forced) - image is being used by stopped container ${shortId(stopped.id)}`
          : `conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${shortId(stopped.id)} is using its referenced image ${shortId(r.id)}`,
      );
    if (!r.byId) {
      // Untag the name it was found by (and its repo digests when it was the repo's last tag).
      this.records.transaction(() => {
        if (r.tagRef) {
          this.records.deleteTag(r.tagRef);
          out.push({ Untagged: familiarOfFull(r.tagRef) });
          const repo = r.tagRef.slice(0, r.tagRef.lastIndexOf(':'));
          const repoHasOtherTags = tags.some((t) => t !== r.tagRef && t.slice(0, t.lastIndexOf(':')) === repo);
          if (!repoHasOtherTags) {
            for (const m of this.records.deleteManifestsOfRepo(r.id, repo)) out.push({ Untagged: `${familiarName(parseReference(m.repo))}@${m.digest}` });
          }
        } else if (r.digestRef) {
          const d = r.digestRef;
          for (const m of this.records.deleteManifestsOfRepo(r.id, d.repo)) {
            if (m.digest === d.digest) out.push({ Untagged: `${familiarName(parseReference(m.repo))}@${m.digest}` });
          }
        }
      });
      const stillNamed = this.records.tagsOf(r.id).length > 0 || this.records.manifestsOf(r.id).length > 0;
      if (stillNamed) return out;
    } else {
      const repos = new Set([...tags.map((t) => t.slice(0, t.lastIndexOf(':'))), ...manifests.map((m) => m.repo)]);
      if (repos.size > 1 && !opts.force)
        throw conflict(`conflict: unable to delete ${shortId(r.id)} (must be forced) - image is referenced in multiple repositories`);
      this.records.transaction(() => {
        for (const t of tags) {
          this.records.deleteTag(t);
          out.push({ Untagged: familiarOfFull(t) });
        }
        for (const m of manifests) out.push({ Untagged: `${familiarName(parseReference(m.repo))}@${m.digest}` });
        for (const repo of repos) this.records.deleteManifestsOfRepo(r.id, repo);
      });
    }
    if (users.length) return out; // forced: untagged, but the image stays for its containers
    if (this.records.childrenOf(r.id).length) return out; // untagged; its children keep it
    out.push(...(await this.#deleteImage(r.id, !opts.noprune)));
    return out;
  }

  #isUntagged(id: Digest): boolean {
    return this.records.tagsOf(id).length === 0 && this.records.manifestsOf(id).length === 0;
  }

  /**
   * dockerd's implicit parent removal: after an image goes, its parent goes too while it
   * is untagged, has no other children and no container uses it (build steps' images).
   */
  async #deleteUntaggedAncestors(parent: Digest | ''): Promise<DeleteItem[]> {
    const out: DeleteItem[] = [];
    let id = parent;
    while (id) {
      const row = this.records.getImage(id);
      if (!row || !this.#isUntagged(id) || this.records.childrenOf(id).length) break;
      if (((await this.#usedBy?.(id)) ?? []).length) break;
      this.records.deleteImage(id);
      this.#configs.delete(id);
      out.push({ Deleted: id });
      id = row.parent as Digest | '';
    }
    return out;
  }

  async #deleteImage(id: Digest, prune: boolean): Promise<DeleteItem[]> {
    const out: DeleteItem[] = [{ Deleted: id }];
    const parent = this.records.getImage(id)?.parent as Digest | '' | undefined;
    this.records.deleteImage(id);
    this.#configs.delete(id);
    if (prune && parent) out.push(...(await this.#deleteUntaggedAncestors(parent)));
    if (prune) {
      const { snapshots } = await this.gc();
      for (const s of snapshots) out.push({ Deleted: s });
    }
    return out;
  }

  async prune(opts: { filters?: Filters } = {}): Promise<PruneReport> {
    const f = { ...(opts.filters ?? {}) };
    for (const k of Object.keys(f)) if (!['dangling', 'label', 'label!', 'until'].includes(k)) throw invalidArgument(`invalid filter '${k}'`);
    const danglingOnly = !f.dangling || f.dangling.some((v) => v === 'true' || v === '1');
    const labelNot = f['label!'] ?? [];
    delete f['label!'];
    delete f.dangling;
    // children before parents (newest first), so a build's chain goes in one prune
    let candidates = (await this.list({ filters: f, all: !danglingOnly })).sort((a, b) => b.Created - a.Created);
    if (danglingOnly) candidates = candidates.filter((i) => i.RepoTags.length === 0);
    candidates = candidates.filter((i) => !labelNot.some((l) => {
      const [k, v] = l.split('=', 2) as [string, string | undefined];
      return i.Labels && k in i.Labels && (v === undefined || i.Labels[k] === v);
    }));
    const before = this.#layersSize();
    const deleted: DeleteItem[] = [];
    for (const img of candidates) {
      if (((await this.#usedBy?.(img.Id as Digest)) ?? []).length) continue; // containers keep their images
      if (!this.records.getImage(img.Id as Digest)) continue;
      if (this.records.childrenOf(img.Id as Digest).length) continue; // still a parent of a kept image
      for (const t of this.records.tagsOf(img.Id as Digest)) deleted.push({ Untagged: familiarOfFull(t) });
      for (const m of this.records.manifestsOf(img.Id as Digest)) deleted.push({ Untagged: `${familiarName(parseReference(m.repo))}@${m.digest}` });
      this.records.deleteImage(img.Id as Digest);
      this.#configs.delete(img.Id as Digest);
      deleted.push({ Deleted: img.Id });
      deleted.push(...(await this.#deleteUntaggedAncestors(img.ParentId as Digest)));
    }
    const { snapshots } = await this.gc();
    for (const s of snapshots) deleted.push({ Deleted: s });
    return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: Math.max(0, before - this.#layersSize()) };
  }

  #layersSize(): number {
    return this.#deps.snapshots.list().reduce((n, s) => n + s.size, 0);
  }

  /**
   * Remove snapshots and blobs no image references and no operation leases.
   * Serialised: one sweep at a time.
   */
  gc(): Promise<{ snapshots: Digest[]; blobs: Digest[] }> {
    const run = this.#gcRunning.then(() => this.#gc());
    this.#gcRunning = run.catch(() => {});
    return run;
  }

  async #gc(): Promise<{ snapshots: Digest[]; blobs: Digest[] }> {
    const { content, snapshots } = this.#deps;
    const liveChains = new Set<string>(this.#leases.keys());
    const liveBlobs = new Set<string>(this.#leases.keys());
    const liveDiffIds = new Set<string>();
    for (const img of this.records.allImages()) {
      liveBlobs.add(img.id);
      let c: ImageConfig;
      try {
        c = await this.config(img.id);
      } catch (err) {
        this.#deps.log.warn('image config unreadable; keeping its layers', { image: img.id, err });
        continue;
      }
      for (const ch of chainIds(c.rootfs.diff_ids)) liveChains.add(ch);
      for (const d of c.rootfs.diff_ids) liveDiffIds.add(d);
    }
    for (const m of this.records.allManifests()) liveBlobs.add(m.digest);
    for (const lb of this.records.allLayerBlobs()) {
      if (liveDiffIds.has(lb.diffId)) liveBlobs.add(lb.blob);
      else if (!this.#leases.has(lb.diffId)) this.records.deleteLayerBlob(lb.diffId);
    }
    // Index blobs of pulled images: keep any blob that is an index listing a live manifest is not
    // tracked separately; manifests table holds the digest users pulled by (index or manifest).
    const removedSnapshots: Digest[] = [];
    // Children first: repeat while something can go.
    for (;;) {
      const all = snapshots.list();
      const parents = new Set(all.map((s) => s.parent).filter(Boolean));
      const victims = all.filter((s) => !liveChains.has(s.chainId) && !parents.has(s.chainId));
      if (!victims.length) break;
      for (const v of victims) {
        await snapshots.remove(v.chainId);
        removedSnapshots.push(v.chainId);
      }
    }
    const removedBlobs: Digest[] = [];
    const manifestChildren = new Set<string>();
    for (const m of this.records.allManifests()) {
      // keep the platform manifest an index points at, as well as the index
      try {
        const parsed = parseManifest(await content.readBytes(m.digest), m.mediaType);
        if (parsed.kind === 'index') for (const d of parsed.index.manifests) manifestChildren.add(d.digest);
      } catch {
        /* missing or unreadable: nothing to keep through it */
      }
    }
    for await (const b of content.walk()) {
      if (liveBlobs.has(b.digest) || manifestChildren.has(b.digest)) continue;
      await content.delete(b.digest);
      removedBlobs.push(b.digest);
    }
    return { snapshots: removedSnapshots, blobs: removedBlobs };
  }

  // ---- archives ---------------------------------------------------------------

  async save(names: string[]): Promise<Readable> {
    if (!names.length) throw invalidArgument('no images specified');
    const items = names.map((n) => {
      const r = this.resolve(n);
      let tags: string[];
      if (r.tagRef) tags = [familiarOfFull(r.tagRef)];
      else if (r.byId) tags = [];
      else tags = this.repoTags(r.id);
      return { id: r.id, tags };
    });
    // archive code (and tar-stream) loads on first use: most daemons never save or load
    const { saveImages } = await import('./archive.js');
    return saveImages(this, items);
  }

  async load(tar: Readable, opts: { onProgress?: ProgressFn; quiet?: boolean } = {}): Promise<string[]> {
    const { loadArchive } = await import('./archive.js');
    const loaded = await loadArchive(this, tar, opts.onProgress ?? noProgress);
    for (const name of loaded) {
      const id = this.resolve(name).id;
      this.#emit({ action: 'load', id, name: id });
    }
    return loaded;
  }

  async import(tar: Readable, opts: ImportOptions = {}): Promise<string> {
    const { importRootfs } = await import('./archive.js');
    const id = await importRootfs(this, tar, opts);
    this.#emit({ action: 'import', id, name: id });
    return id;
  }

  /**
   * A writable overlay over an image's layers (null: over nothing) mounted at
   * `<dir>/rootfs`, without a container: the builder's COPY/ADD write into it,
   * then commit its upper dir after `unmount()`. The layers are leased until
   * `release()`, which also unmounts; `dir` (new, the caller's) holds it all.
   */
  async layerWorkspace(imageId: string | null, dir: string): Promise<LayerWorkspace> {
    const chain = imageId ? (chainIds((await this.config(this.resolve(imageId).id)).rootfs.diff_ids).at(-1) ?? null) : null;
    const release = this.lease(chain ? [chain] : []);
    const rootfs = join(dir, 'rootfs');
    const upperDir = join(dir, 'upper');
    const workDir = join(dir, 'work');
    await Promise.all([mkdir(rootfs, { recursive: true }), mkdir(upperDir, { recursive: true }), mkdir(workDir, { recursive: true })]);
    let mounted = false;
    const unmountIt = () => {
      if (!mounted) return;
      unmount(rootfs);
      mounted = false;
    };
    try {
      mountAll(this.#deps.snapshots.mountsFor(chain, upperDir, workDir), rootfs);
      mounted = true;
    } catch (err) {
      release();
      throw err;
    }
    return {
      rootfs,
      upperDir,
      unmount: unmountIt,
      release: () => {
        try {
          unmountIt();
        } finally {
          release();
        }
      },
    };
  }

  /** An image's files, read-only at `<dir>/rootfs` (COPY --from); `release()` unmounts. */
  async imageView(imageId: string, dir: string): Promise<{ rootfs: string; release: () => void }> {
    const diffIds = (await this.config(this.resolve(imageId).id)).rootfs.diff_ids;
    const chain = chainIds(diffIds).at(-1);
    const rootfs = join(dir, 'rootfs');
    await mkdir(rootfs, { recursive: true });
    if (!chain) return { rootfs, release: () => {} }; // no layers: an empty tree
    const release = this.lease([chain]);
    try {
      mountAll(this.#deps.snapshots.view(chain), rootfs);
    } catch (err) {
      release();
      throw err;
    }
    return {
      rootfs,
      release: () => {
        try {
          unmount(rootfs);
        } finally {
          release();
        }
      },
    };
  }

  /** A new image from a directory of changes (docker commit, builder steps). No image event: dockerd emits none. */
  async commit(opts: CommitOptions): Promise<Digest> {
    const parent = opts.parent === null ? null : this.resolve(opts.parent).id;
    const { commitImage } = await import('./commit.js');
    return commitImage(this, { ...opts, parent });
  }

  /** Record an image whose layers are all committed snapshots (load, import). */
  commitImage(args: {
    config: ImageConfig;
    configBytes: Buffer;
    tags: Reference[];
    manifest?: { repo: string; digest: Digest; mediaType: string };
    onRetag?: (tag: string, previous: Digest) => void;
    /** the local image this one was committed on (docker commit, build steps) */
    parent?: Digest | null;
  }): Digest {
    const { config } = args;
    const id = sha256(args.configBytes);
    const chains = chainIds(config.rootfs.diff_ids);
    for (const ch of chains) if (!this.#deps.snapshots.get(ch)) throw new BerthError('internal', `layer ${ch} is not unpacked`);
    this.records.transaction(() => {
      this.records.putImage({ id, created: unixSeconds(config.created), size: this.#chainSize(chains), lastTagTime: '', platform: platformOf(config), parent: args.parent ?? '' });
      for (const t of args.tags) {
        const prev = this.records.setTag(tagRefOf(t), id);
        if (prev) args.onRetag?.(familiarString(t), prev);
      }
      if (args.tags.length) this.records.touchTagTime(id, new Date().toISOString());
      if (args.manifest) this.records.putManifest({ imageId: id, ...args.manifest });
    });
    this.#configs.set(id, config);
    return id;
  }

  async diskUsage(): Promise<DiskUsage> {
    const images = await this.list({ sharedSize: true });
    for (const i of images) i.Containers = 0;
    return { LayersSize: this.#layersSize(), Images: images };
  }
}


/** Docker's `until` filter: a timestamp (RFC 3339 or unix) or a duration like 24h. */
export function parseUntil(v: string): number {
  const dur = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(v);
  if (dur) {
    const mult: Record<string, number> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
    return Math.floor(Date.now() / 1000 - Number(dur[1]) * (mult[dur[2] as string] as number));
  }
  if (/^\d+(\.\d+)?$/.test(v)) return Math.floor(Number(v));
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw invalidArgument(`invalid filter 'until=${v}'`);
  return Math.floor(ms / 1000);
}

/** docker's reference filter: a glob against "name:tag" (or just the name). */
export function matchReference(pattern: string, familiar: string): boolean {
  const toRe = (p: string) => new RegExp('^' + p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*') + '$');
  const name = familiar.slice(0, familiar.lastIndexOf(':'));
  return pattern.includes(':') ? toRe(pattern).test(familiar) : toRe(pattern).test(name);
}

export { isDigest };
