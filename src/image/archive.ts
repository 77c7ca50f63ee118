// docker save / docker load / docker import.
//
// `save` writes what docker 25+ writes — an OCI image layout (blobs/sha256,
// index.json, oci-layout) plus the legacy manifest.json and repositories —
// which both old and new `docker load` read. Layers go out uncompressed, so
// their digests are the image's diff IDs.
//
// `load` reads that format, the older <id>/layer.tar docker-archive format,
// and plain OCI archives (index.json only).
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join, normalize, dirname, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import { invalidArgument } from '../errors/index.js';
import { decompress, inheritImpliedDirs } from '../storage/index.js';
import { parseReference, familiarString } from '../reference/index.js';
import type { Reference } from '../reference/types.js';
import { parseManifest, selectManifest, defaultPlatform, parsePlatform, MediaType } from '../registry/index.js';
import type { Digest } from '../util/index.js';
import { goArch, hexOf, isDigest } from '../util/index.js';
import { applyChanges, chainIds, parseImageConfig, type ImageConfig } from './config.js';
import type { ImageStore } from './service.js';
import type { LayerBlobRow } from './records.js';
import type { ImportOptions, ProgressFn } from './types.js';

interface SaveItem {
  id: Digest;
  tags: string[]; // familiar "name:tag"
}

const blobPath = (d: Digest) => `blobs/sha256/${hexOf(d)}`;

export async function saveImages(store: ImageStore, items: SaveItem[]): Promise<Readable> {
  // Resolve everything before the first byte goes out, so a bad name is an HTTP error, not a torn tar.
  const images: { id: Digest; tags: string[]; config: ImageConfig; configBytes: Buffer; layers: LayerBlobRow[] }[] = [];
  for (const it of items) {
    const config = await store.config(it.id);
    const configBytes = await store.deps.content.readBytes(it.id);
    const layers = config.rootfs.diff_ids.map((diffId) => {
      const lb = store.records.layerBlob(diffId);
      if (!lb) throw invalidArgument(`layer ${diffId} of image ${it.id} has no stored blob; cannot save it`);
      return lb;
    });
    images.push({ ...it, config, configBytes, layers });
  }
  const pack = tar.pack();
  const out = new PassThrough();
  pack.pipe(out);
  const mtime = new Date(0);
  const entry = (name: string, data: Buffer | string) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, mtime, mode: 0o644 }, data, (err) => (err ? reject(err) : resolve())));
  const dir = (name: string) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, type: 'directory', mtime, mode: 0o755 }, (err) => (err ? reject(err) : resolve())));

  const run = async () => {
    await dir('blobs');
    await dir('blobs/sha256');
    const written = new Set<string>();
    const index: { mediaType: string; digest: Digest; size: number; annotations?: Record<string, string> }[] = [];
    const legacy: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const img of images) {
      const layerDescs = [];
      for (const lb of img.layers) {
        const size = await writeLayer(store, pack, lb, written, mtime);
        layerDescs.push({ mediaType: MediaType.OciLayer, digest: lb.diffId, size });
      }
      if (!written.has(img.id)) {
        await entry(blobPath(img.id), img.configBytes);
        written.add(img.id);
      }
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.OciManifest,
          config: { mediaType: MediaType.OciConfig, digest: img.id, size: img.configBytes.length },
          layers: layerDescs,
        }),
      );
      const mDigest = `sha256:${(await import('node:crypto')).createHash('sha256').update(manifest).digest('hex')}` as Digest;
      if (!written.has(mDigest)) {
        await entry(blobPath(mDigest), manifest);
        written.add(mDigest);
      }
      const desc = { mediaType: MediaType.OciManifest, digest: mDigest, size: manifest.length };
      if (img.tags.length === 0) index.push(desc);
      for (const t of img.tags) {
        const ref = parseReference(t);
        index.push({
          ...desc,
          annotations: {
            'io.containerd.image.name': `${ref.domain}/${ref.path}:${ref.tag ?? 'latest'}`,
            'org.opencontainers.image.ref.name': ref.tag ?? 'latest',
          },
        });
        const name = t.slice(0, t.lastIndexOf(':'));
        const topLayer = img.config.rootfs.diff_ids.at(-1);
        if (topLayer) (repositories[name] ??= {})[ref.tag ?? 'latest'] = hexOf(topLayer);
      }
      legacy.push({ Config: blobPath(img.id), RepoTags: img.tags, Layers: img.layers.map((l: LayerBlobRow) => blobPath(l.diffId)) });
    }
    await entry('index.json', JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: index }));
    await entry('manifest.json', JSON.stringify(legacy));
    await entry('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    if (Object.keys(repositories).length) await entry('repositories', JSON.stringify(repositories));
    pack.finalize();
  };
  run().catch((err: unknown) => {
    out.destroy(err as Error);
    pack.destroy();
  });
  return out;
}

/** Write one uncompressed layer as blobs/sha256/<diffId>; returns its size. */
async function writeLayer(
  store: ImageStore,
  pack: tar.Pack,
  lb: { diffId: Digest; blob: Digest; mediaType: string; tarSize: number },
  written: Set<string>,
  mtime: Date,
): Promise<number> {
  const { content } = store.deps;
  const info = await content.info(lb.blob);
  if (!info) throw invalidArgument(`layer blob ${lb.blob} is missing from the content store`);
  const compressed = lb.blob !== lb.diffId;
  if (written.has(lb.diffId)) return compressed ? lb.tarSize || (await spoolSize(store, lb)) : info.size;
  let size: number;
  let source: Readable;
  let cleanup = async () => {};
  if (!compressed) {
    size = info.size;
    source = content.read(lb.blob);
  } else {
    // Decompress to a temporary file first: a tar header needs the size up front.
    const tmp = await mkdtemp(join(store.deps.tmpDir, 'save-'));
    cleanup = () => rm(tmp, { recursive: true, force: true });
    const file = join(tmp, 'layer.tar');
    await pipeline(decompress(content.read(lb.blob), 'auto'), createWriteStream(file));
    size = (await stat(file)).size;
    source = createReadStream(file);
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const e = pack.entry({ name: blobPath(lb.diffId), size, mtime, mode: 0o644 }, (err) => (err ? reject(err) : resolve()));
      source.on('error', reject);
      source.pipe(e);
    });
  } finally {
    await cleanup();
  }
  written.add(lb.diffId);
  return size;
}

async function spoolSize(store: ImageStore, lb: { blob: Digest }): Promise<number> {
  let n = 0;
  for await (const c of decompress(store.deps.content.read(lb.blob), 'auto') as AsyncIterable<Buffer>) n += c.length;
  return n;
}

// ---- load ---------------------------------------------------------------------

/** Extract the archive's files into `dir`, refusing paths that escape it. Symlinks are kept as a map. */
async function spoolArchive(input: Readable, dir: string): Promise<Map<string, string>> {
  const links = new Map<string, string>();
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const name = normalize(header.name).replace(/^(\.\/)+/, '').replace(/\/+$/, '');
      if (!name || name === '.') {
        stream.resume();
        stream.on('end', next);
        return;
      }
      if (name.startsWith('..') || name.startsWith('/')) {
        stream.resume();
        reject(invalidArgument(`invalid archive: entry ${JSON.stringify(header.name)} escapes the archive`));
        return;
      }
      const target = join(dir, name);
      if (header.type === 'directory') {
        stream.resume();
        mkdir(target, { recursive: true }).then(() => next(), reject);
      } else if (header.type === 'symlink' || header.type === 'link') {
        links.set(name, header.type === 'link' ? '/' + (header.linkname ?? '') : (header.linkname ?? ''));
        stream.resume();
        stream.on('end', next);
      } else if (header.type === 'file' || header.type === 'contiguous-file') {
        mkdir(dirname(target), { recursive: true })
          .then(() => pipeline(stream, createWriteStream(target)))
          .then(() => next(), reject);
      } else {
        stream.resume();
        stream.on('end', next);
      }
    });
    extract.on('finish', resolve);
    extract.on('error', (err: Error) => reject(invalidArgument(`invalid archive: ${err.message}`)));
  });
  input.on('error', (err) => extract.destroy(err));
  input.pipe(extract);
  await done;
  return links;
}

function resolveIn(dir: string, links: Map<string, string>, name: string): string {
  let n = posix.normalize(name).replace(/^(\.\/)+/, '');
  for (let i = 0; i < 16; i++) {
    const t = links.get(n);
    if (t === undefined) break;
    n = t.startsWith('/') ? posix.normalize(t.slice(1)) : posix.normalize(posix.join(posix.dirname(n), t));
  }
  if (n.startsWith('..')) throw invalidArgument(`invalid archive: ${name} points outside the archive`);
  return join(dir, n);
}

async function readJson<T>(file: string, what: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw invalidArgument(`invalid archive: ${what} is missing`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw invalidArgument(`invalid archive: ${what} is not valid JSON: ${(err as Error).message}`);
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** Unpack a layer file into a snapshot (if missing) and store it as a blob; checks its diff ID. */
async function loadLayer(store: ImageStore, file: string, diffId: Digest, chainId: Digest, parent: Digest | null, mediaType?: string): Promise<void> {
  const { snapshots, content, applyLayer } = store.deps;
  let blobDigest: Digest;
  let blobSize: number;
  {
    const ingest = await content.ingest();
    try {
      await pipeline(createReadStream(file), ingest.stream);
      const info = await ingest.commit();
      blobDigest = info.digest;
      blobSize = info.size;
    } catch (err) {
      await ingest.abort().catch(() => {});
      throw err;
    }
  }
  let tarSize = blobDigest === diffId ? blobSize : 0;
  if (!snapshots.get(chainId)) {
    const staged = await snapshots.stage();
    try {
      const r = await applyLayer(createReadStream(file), staged.dir, { compression: 'auto' });
      if (r.diffId !== diffId) throw invalidArgument(`invalid archive: layer ${file.split('/').slice(-3).join('/')} has diff ID ${r.diffId}, the config says ${diffId}`);
      tarSize = r.tarSize;
      if (parent && r.impliedDirs.length) inheritImpliedDirs(staged.dir, r.impliedDirs, snapshots.chainDirs(parent));
      await staged.commit(chainId, parent, r.unpackedSize);
    } catch (err) {
      await staged.abort().catch(() => {});
      throw err;
    }
  }
  store.records.putLayerBlob({
    diffId,
    blob: blobDigest,
    mediaType: mediaType ?? (blobDigest === diffId ? MediaType.OciLayer : MediaType.OciLayerGzip),
    blobSize,
    tarSize,
  });
}

async function loadImage(store: ImageStore, dir: string, links: Map<string, string>, configPath: string, layerPaths: string[], layerTypes: (string | undefined)[], tags: Reference[], emit: ProgressFn): Promise<Digest> {
  const configBytes = await readFile(resolveIn(dir, links, configPath)).catch(() => {
    throw invalidArgument(`invalid archive: config ${configPath} is missing`);
  });
  const config: ImageConfig = parseImageConfig(configBytes);
  if (config.rootfs.diff_ids.length !== layerPaths.length)
    throw invalidArgument(`invalid archive: ${layerPaths.length} layers but the config lists ${config.rootfs.diff_ids.length}`);
  const chains = chainIds(config.rootfs.diff_ids);
  const release = store.lease([...chains, ...config.rootfs.diff_ids]);
  try {
    for (let i = 0; i < layerPaths.length; i++) {
      const file = resolveIn(dir, links, layerPaths[i] as string);
      if (!(await exists(file))) throw invalidArgument(`invalid archive: layer ${layerPaths[i]} is missing`);
      await loadLayer(store, file, config.rootfs.diff_ids[i] as Digest, chains[i] as Digest, i ? (chains[i - 1] as Digest) : null, layerTypes[i]);
    }
    await store.deps.content.put(configBytes);
    return store.commitImage({
      config,
      configBytes,
      tags,
      onRetag: (tag, prev) =>
        emit({ stream: `The image ${tag} already exists, renaming the old one with ID ${prev} to empty string\n` }),
    });
  } finally {
    release();
  }
}

export async function loadArchive(store: ImageStore, input: Readable, emit: ProgressFn): Promise<string[]> {
  const tmp = await mkdtemp(join(store.deps.tmpDir, 'load-'));
  try {
    const links = await spoolArchive(input, tmp);
    const loaded: string[] = [];
    const report = (tags: Reference[], id: Digest) => {
      if (tags.length === 0) {
        emit({ stream: `Loaded image ID: ${id}\n` });
        loaded.push(id);
      }
      for (const t of tags) {
        const s = familiarString(t);
        emit({ stream: `Loaded image: ${s}\n` });
        loaded.push(s);
      }
    };
    if (await exists(join(tmp, 'manifest.json'))) {
      const manifest = await readJson<{ Config: string; RepoTags?: string[] | null; Layers: string[] }[]>(join(tmp, 'manifest.json'), 'manifest.json');
      if (!Array.isArray(manifest)) throw invalidArgument('invalid archive: manifest.json is not a list');
      for (const m of manifest) {
        if (typeof m?.Config !== 'string' || !Array.isArray(m.Layers)) throw invalidArgument('invalid archive: manifest.json entry lacks Config or Layers');
        const tags = (m.RepoTags ?? []).map((t) => parseReference(t));
        const id = await loadImage(store, tmp, links, m.Config, m.Layers, [], tags, emit);
        report(tags, id);
      }
      return loaded;
    }
    if (await exists(join(tmp, 'index.json'))) {
      const index = await readJson<{ manifests?: { mediaType: string; digest: string; annotations?: Record<string, string> }[] }>(join(tmp, 'index.json'), 'index.json');
      if (!Array.isArray(index.manifests)) throw invalidArgument('invalid archive: index.json has no manifests');
      for (const d of index.manifests) {
        if (!isDigest(d.digest)) throw invalidArgument(`invalid archive: bad digest ${JSON.stringify(d.digest)} in index.json`);
        let bytes = await readFile(join(tmp, blobPath(d.digest))).catch(() => {
          throw invalidArgument(`invalid archive: blob ${d.digest} is missing`);
        });
        let parsed = parseManifest(bytes, d.mediaType);
        if (parsed.kind === 'index') {
          const chosen = selectManifest(parsed.index, defaultPlatform());
          bytes = await readFile(join(tmp, blobPath(chosen.digest))).catch(() => {
            throw invalidArgument(`invalid archive: blob ${chosen.digest} is missing`);
          });
          parsed = parseManifest(bytes, chosen.mediaType);
        }
        if (parsed.kind !== 'manifest') throw invalidArgument('invalid archive: nested index');
        const mf = parsed.manifest;
        // io.containerd.image.name is a full name; an OCI ref.name may be only a tag ("latest"),
        // which names no repository: such an image loads untagged, by ID.
        const refName = d.annotations?.['org.opencontainers.image.ref.name'];
        const name = d.annotations?.['io.containerd.image.name'] ?? (refName && /[/:]/.test(refName) ? refName : undefined);
        const tags: Reference[] = [];
        if (name) {
          try {
            tags.push(parseReference(name));
          } catch {
            /* a bare tag like "latest" names no repository: load untagged */
          }
        }
        const id = await loadImage(store, tmp, links, blobPath(mf.config.digest), mf.layers.map((l) => blobPath(l.digest)), mf.layers.map((l) => l.mediaType), tags, emit);
        report(tags, id);
      }
      return loaded;
    }
    throw invalidArgument('invalid archive: neither manifest.json nor index.json found (not a docker or OCI image archive)');
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

// ---- import -------------------------------------------------------------------


export async function importRootfs(store: ImageStore, input: Readable, opts: ImportOptions): Promise<string> {
  const { content, snapshots, applyLayer } = store.deps;
  const plat = opts.platform ? parsePlatform(opts.platform) : { os: 'linux', architecture: goArch() };
  const tags: Reference[] = [];
  if (opts.repo) {
    const ref = parseReference(opts.tag ? `${opts.repo}:${opts.tag}` : opts.repo);
    if (ref.digest) throw invalidArgument('cannot import with a digest reference');
    tags.push(ref);
  }
  const changes = applyChanges({}, opts.changes ?? []);
  const ingest = await content.ingest();
  let blob;
  try {
    await pipeline(input, ingest.stream);
    blob = await ingest.commit();
  } catch (err) {
    await ingest.abort().catch(() => {});
    throw err;
  }
  const release = store.lease([blob.digest]);
  try {
    const staged = await snapshots.stage();
    let r;
    try {
      r = await applyLayer(content.read(blob.digest), staged.dir, { compression: 'auto' });
    } catch (err) {
      await staged.abort().catch(() => {});
      throw err;
    }
    const releaseLayer = store.lease([r.diffId]);
    try {
      if (snapshots.get(r.diffId)) await staged.abort();
      else await staged.commit(r.diffId, null, r.unpackedSize);
      store.records.putLayerBlob({
        diffId: r.diffId,
        blob: blob.digest,
        mediaType: blob.digest === r.diffId ? MediaType.OciLayer : MediaType.OciLayerGzip,
        blobSize: blob.size,
        tarSize: r.tarSize,
      });
      const created = new Date().toISOString();
      const config: ImageConfig = {
        architecture: plat.architecture,
        os: plat.os,
        ...(plat.variant ? { variant: plat.variant } : {}),
        created,
        config: changes,
        rootfs: { type: 'layers', diff_ids: [r.diffId] },
        history: [{ created, comment: opts.message || 'Imported from -' }],
      };
      const configBytes = Buffer.from(JSON.stringify(config));
      await content.put(configBytes);
      const id = store.commitImage({ config, configBytes, tags });
      return id;
    } finally {
      releaseLayer();
    }
  } finally {
    release();
  }
}
