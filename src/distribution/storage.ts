// The registry's filesystem storage under one root:
//
//   blobs/sha256/<hex>                                  content, shared by all repositories
//   uploads/<uuid>/{data,info}                          upload sessions in progress
//   repositories/<name>/_layers/sha256/<hex>            the blob is in this repository (empty file)
//   repositories/<name>/_manifests/revisions/sha256/<hex>  {"mediaType","size"} of a manifest
//   repositories/<name>/_manifests/tags/<tag>           the digest the tag points at
//   repositories/<name>/_referrers/<subject-hex>/<hex>  the descriptor a referrers listing shows
//
// Every commit is a rename inside the root (same filesystem), done only after
// the bytes are fsynced and their digest checked; links are written after the
// content they name. A crash therefore leaves, at worst, an orphan blob (gc's
// business) or a stale upload dir, never a link to missing or partial content.
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { hexOf, KeyedMutex, sha256, syncDir, writeFileAtomic, type Digest } from '../util/index.js';
import { distErr, DistributionError } from './errors.js';
import { parseManifest, MAX_MANIFEST_BYTES, type Descriptor, type ParsedManifest } from './manifest.js';
import { checkName, type ManifestRef } from './names.js';

export interface UploadStatus {
  uuid: string;
  /** Bytes received so far. */
  size: number;
}

export interface ManifestInfo {
  digest: Digest;
  mediaType: string;
  size: number;
}

/** Where a chunk claims to sit in the upload: inclusive byte offsets (the Content-Range header). */
export interface ChunkRange {
  start: number;
  end: number;
}

interface Revision {
  mediaType: string;
  size: number;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const exists = (p: string): Promise<boolean> => stat(p).then(
  () => true,
  () => false,
);

function isNoEnt(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
}

export class RegistryStorage {
  readonly root: string;
  /** Running hashes of uploads this process has seen, so completing one does not re-read it. */
  #hashes = new Map<string, { hash: Hash; size: number }>();
  /** per upload: two PATCHes to one upload never interleave */
  #lock = new KeyedMutex();

  private constructor(root: string) {
    this.root = root;
  }

  static async open(root: string): Promise<RegistryStorage> {
    for (const dir of ['blobs/sha256', 'uploads', 'repositories']) await mkdir(join(root, dir), { recursive: true });
    return new RegistryStorage(root);
  }

  blobPath(digest: Digest): string {
    return join(this.root, 'blobs', 'sha256', hexOf(digest));
  }

  #repo(name: string): string {
    return join(this.root, 'repositories', checkName(name));
  }
  #layerLink(name: string, digest: Digest): string {
    return join(this.#repo(name), '_layers', 'sha256', hexOf(digest));
  }
  #revision(name: string, digest: Digest): string {
    return join(this.#repo(name), '_manifests', 'revisions', 'sha256', hexOf(digest));
  }
  #tag(name: string, tag: string): string {
    return join(this.#repo(name), '_manifests', 'tags', tag);
  }
  #uploadDir(uuid: string): string {
    if (!UUID_RE.test(uuid)) throw distErr('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { uuid });
    return join(this.root, 'uploads', uuid);
  }

  // ---- blobs ----

  /** The blob's path and size, when the repository holds it (BLOB_UNKNOWN otherwise). */
  async blob(name: string, digest: Digest): Promise<{ path: string; size: number }> {
    const linked = (await exists(this.#layerLink(name, digest))) || (await exists(this.#revision(name, digest)));
    if (linked) {
      const path = this.blobPath(digest);
      try {
        return { path, size: (await stat(path)).size };
      } catch (err) {
        if (!isNoEnt(err)) throw err;
      }
    }
    throw distErr('BLOB_UNKNOWN', 'blob unknown to registry', { digest });
  }

  /**
   * Marks the blob as just used. gc keeps blobs younger than its grace period,
   * so a push that checked or mounted a blob cannot lose it to a gc before its
   * manifest lands (see gc.ts).
   */
  async touch(digest: Digest): Promise<void> {
    const now = new Date();
    await utimes(this.blobPath(digest), now, now).catch(() => undefined);
  }

  async #link(name: string, digest: Digest): Promise<void> {
    const link = this.#layerLink(name, digest);
    await mkdir(join(link, '..'), { recursive: true });
    await writeFile(link, '');
  }

  /** Cross-repository mount: links `from`'s blob into `name`; false when `from` does not hold it. */
  async mount(name: string, from: string, digest: Digest): Promise<boolean> {
    checkName(name);
    try {
      await this.blob(from, digest);
    } catch (err) {
      if (err instanceof DistributionError && err.specCode === 'BLOB_UNKNOWN') return false;
      throw err;
    }
    await this.touch(digest);
    await this.#link(name, digest);
    return true;
  }

  /** Unlinks the blob from the repository; the content goes when gc finds nothing referencing it. */
  async deleteBlob(name: string, digest: Digest): Promise<void> {
    const link = this.#layerLink(name, digest);
    if (!(await exists(link))) throw distErr('BLOB_UNKNOWN', 'blob unknown to registry', { digest });
    await rm(link, { force: true });
  }

  // ---- uploads ----

  async startUpload(name: string): Promise<UploadStatus> {
    checkName(name);
    const uuid = randomUUID();
    const dir = this.#uploadDir(uuid);
    await mkdir(dir);
    await writeFile(join(dir, 'data'), '');
    await writeFile(join(dir, 'info'), JSON.stringify({ name, startedAt: new Date().toISOString() }));
    this.#hashes.set(uuid, { hash: createHash('sha256'), size: 0 });
    return { uuid, size: 0 };
  }

  /** The session's status; BLOB_UPLOAD_UNKNOWN if it does not exist or belongs to another repository. */
  async uploadStatus(name: string, uuid: string): Promise<UploadStatus> {
    const dir = this.#uploadDir(uuid);
    let info: { name?: string };
    try {
      info = JSON.parse(await readFile(join(dir, 'info'), 'utf8')) as { name?: string };
    } catch {
      throw distErr('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { uuid });
    }
    if (info.name !== name) throw distErr('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { uuid });
    const { size } = await stat(join(dir, 'data'));
    return { uuid, size };
  }

  /**
   * Appends a chunk. With a range, it must start where the upload ends and
   * the body must fill it exactly; otherwise RANGE_INVALID and the upload is
   * left as it was.
   */
  appendUpload(name: string, uuid: string, body: Readable, range?: ChunkRange): Promise<UploadStatus> {
    return this.#lock.run(uuid, () => this.#append(name, uuid, body, range));
  }

  async #append(name: string, uuid: string, body: Readable, range?: ChunkRange): Promise<UploadStatus> {
    const status = await this.uploadStatus(name, uuid);
    if (range && range.start !== status.size) {
      body.resume();
      throw distErr('RANGE_INVALID', 'chunk does not continue the upload', { expectedStart: status.size, range });
    }
    const data = join(this.#uploadDir(uuid), 'data');
    let running = this.#hashes.get(uuid);
    if (running && running.size !== status.size) running = undefined; // another process wrote here: rehash at the end
    const before = running?.hash.copy();
    let received = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        running?.hash.update(chunk);
        done(null, chunk);
      },
    });
    const rollback = async () => {
      await truncate(data, status.size);
      if (running && before) this.#hashes.set(uuid, { hash: before, size: status.size });
      else this.#hashes.delete(uuid);
    };
    try {
      await pipeline(body, tap, createWriteStream(data, { flags: 'a' }));
    } catch (err) {
      await rollback();
      throw distErr('BLOB_UPLOAD_INVALID', 'chunk upload failed', { reason: (err as Error).message });
    }
    if (range && received !== range.end - range.start + 1) {
      await rollback();
      throw distErr('RANGE_INVALID', 'chunk is shorter or longer than its Content-Range', { range, received });
    }
    const size = status.size + received;
    if (running) this.#hashes.set(uuid, { hash: running.hash, size });
    else this.#hashes.delete(uuid);
    return { uuid, size };
  }

  /**
   * Closes the session: optional final chunk, fsync, digest check, rename
   * into blobs/. A wrong digest cancels the session and stores nothing.
   */
  completeUpload(name: string, uuid: string, digest: Digest, body?: Readable, range?: ChunkRange): Promise<{ digest: Digest; size: number }> {
    return this.#lock.run(uuid, async () => {
      if (body) await this.#append(name, uuid, body, range);
      else await this.uploadStatus(name, uuid);
      const dir = this.#uploadDir(uuid);
      const data = join(dir, 'data');
      const fh = await open(data, 'r+');
      let size: number;
      try {
        await fh.sync();
        size = (await fh.stat()).size;
      } finally {
        await fh.close();
      }
      const running = this.#hashes.get(uuid);
      const actual: Digest = running && running.size === size ? `sha256:${running.hash.digest('hex')}` : await hashFile(data);
      this.#hashes.delete(uuid);
      if (actual !== digest) {
        await rm(dir, { recursive: true, force: true });
        throw distErr('DIGEST_INVALID', 'provided digest did not match uploaded content', { expected: digest, actual });
      }
      // If the blob is already there, the same bytes replace it: harmless, and a concurrent reader keeps its open file.
      await rename(data, this.blobPath(digest));
      await syncDir(join(this.root, 'blobs', 'sha256'));
      await this.#link(name, digest);
      await rm(dir, { recursive: true, force: true });
      return { digest, size };
    });
  }

  async cancelUpload(name: string, uuid: string): Promise<void> {
    await this.uploadStatus(name, uuid);
    this.#hashes.delete(uuid);
    await rm(this.#uploadDir(uuid), { recursive: true, force: true });
  }

  /** A monolithic upload: one body, one digest. */
  async putBlob(name: string, digest: Digest, body: Readable): Promise<{ digest: Digest; size: number }> {
    const { uuid } = await this.startUpload(name);
    try {
      return await this.completeUpload(name, uuid, digest, body);
    } finally {
      this.#hashes.delete(uuid);
      await rm(join(this.root, 'uploads', uuid), { recursive: true, force: true });
    }
  }

  // ---- manifests ----

  async #resolve(name: string, ref: ManifestRef): Promise<Digest> {
    if ('digest' in ref) return ref.digest;
    try {
      return (await readFile(this.#tag(name, ref.tag), 'utf8')).trim() as Digest;
    } catch (err) {
      if (!isNoEnt(err)) throw err;
      if (!(await exists(this.#repo(name)))) throw distErr('NAME_UNKNOWN', 'repository name not known to registry', { name });
      throw distErr('MANIFEST_UNKNOWN', 'manifest unknown', { tag: ref.tag });
    }
  }

  async statManifest(name: string, ref: ManifestRef): Promise<ManifestInfo> {
    const digest = await this.#resolve(name, ref);
    let rev: Revision;
    try {
      rev = JSON.parse(await readFile(this.#revision(name, digest), 'utf8')) as Revision;
    } catch (err) {
      if (!isNoEnt(err)) throw err;
      throw distErr('MANIFEST_UNKNOWN', 'manifest unknown', { digest });
    }
    return { digest, mediaType: rev.mediaType, size: rev.size };
  }

  async getManifest(name: string, ref: ManifestRef): Promise<ManifestInfo & { body: Buffer }> {
    const info = await this.statManifest(name, ref);
    try {
      return { ...info, body: await readFile(this.blobPath(info.digest)) };
    } catch (err) {
      if (!isNoEnt(err)) throw err;
      throw distErr('MANIFEST_UNKNOWN', 'manifest unknown', { digest: info.digest });
    }
  }

  /**
   * Stores a manifest after checking it: valid JSON of a known type, every
   * referenced blob (and index child) present in this repository, and the
   * digest matching when pushed by digest. Nothing is written until all checks pass.
   */
  async putManifest(name: string, ref: ManifestRef, body: Buffer, contentType: string | undefined): Promise<{ digest: Digest; parsed: ParsedManifest }> {
    checkName(name);
    if (body.length > MAX_MANIFEST_BYTES) throw distErr('SIZE_INVALID', 'manifest too big', { size: body.length, limit: MAX_MANIFEST_BYTES });
    const parsed = parseManifest(body, contentType);
    const digest = sha256(body);
    if ('digest' in ref && ref.digest !== digest) {
      throw distErr('DIGEST_INVALID', 'provided digest did not match uploaded content', { expected: ref.digest, actual: digest });
    }
    const missing: Digest[] = [];
    for (const d of parsed.blobs) {
      if (!(await exists(this.#layerLink(name, d))) || !(await exists(this.blobPath(d)))) missing.push(d);
    }
    for (const d of parsed.manifests) {
      if (!(await exists(this.#revision(name, d)))) missing.push(d);
    }
    if (missing.length > 0) {
      throw distErr('MANIFEST_BLOB_UNKNOWN', 'manifest references a manifest or blob unknown to registry', { digests: missing });
    }
    for (const d of parsed.blobs) await this.touch(d);

    const path = this.blobPath(digest);
    if (!(await exists(path))) await writeFileAtomic(path, body);
    else await this.touch(digest);
    const revision = this.#revision(name, digest);
    await mkdir(join(revision, '..'), { recursive: true });
    await writeFileAtomic(revision, JSON.stringify({ mediaType: parsed.mediaType, size: body.length } satisfies Revision));
    if (parsed.subject) {
      const entry: Descriptor = { mediaType: parsed.mediaType, digest, size: body.length };
      if (parsed.artifactType) entry.artifactType = parsed.artifactType;
      if (parsed.annotations) entry.annotations = parsed.annotations;
      const dir = join(this.#repo(name), '_referrers', hexOf(parsed.subject.digest));
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(join(dir, hexOf(digest)), JSON.stringify(entry));
    }
    if ('tag' in ref) {
      const tag = this.#tag(name, ref.tag);
      await mkdir(join(tag, '..'), { recursive: true });
      await writeFileAtomic(tag, digest);
    }
    return { digest, parsed };
  }

  /** By tag: removes the tag. By digest: removes the manifest, every tag pointing at it, and its referrer entry. */
  async deleteManifest(name: string, ref: ManifestRef): Promise<void> {
    if ('tag' in ref) {
      await this.#resolve(name, ref);
      await rm(this.#tag(name, ref.tag), { force: true });
      return;
    }
    const { digest } = await this.statManifest(name, ref);
    for (const tag of await this.tags(name)) {
      if ((await this.#resolve(name, { tag }).catch(() => undefined)) === digest) await rm(this.#tag(name, tag), { force: true });
    }
    try {
      const parsed = parseManifest(await readFile(this.blobPath(digest)), undefined);
      if (parsed.subject) await rm(join(this.#repo(name), '_referrers', hexOf(parsed.subject.digest), hexOf(digest)), { force: true });
    } catch {
      /* an unreadable body has no referrer entry to remove */
    }
    await rm(this.#revision(name, digest), { force: true });
  }

  // ---- listings ----

  async tags(name: string): Promise<string[]> {
    const repo = this.#repo(name);
    if (!(await exists(repo))) throw distErr('NAME_UNKNOWN', 'repository name not known to registry', { name });
    const names = await readdir(join(repo, '_manifests', 'tags')).catch((err: unknown) => {
      if (isNoEnt(err)) return [] as string[];
      throw err;
    });
    return names.filter((t) => !t.endsWith('.tmp')).sort();
  }

  /** Every repository, sorted: a directory under repositories/ that holds _manifests or _layers. */
  async repositories(): Promise<string[]> {
    const found: string[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      if (entries.some((e) => e.name === '_manifests' || e.name === '_layers')) found.push(prefix);
      for (const e of entries) {
        if (e.isDirectory() && !e.name.startsWith('_')) await walk(join(dir, e.name), prefix ? `${prefix}/${e.name}` : e.name);
      }
    };
    await walk(join(this.root, 'repositories'), '');
    return found.filter(Boolean).sort();
  }

  /** Manifests in the repository whose subject is `digest`, optionally only those of one artifactType. */
  async referrers(name: string, digest: Digest, artifactType?: string): Promise<Descriptor[]> {
    const dir = join(this.#repo(name), '_referrers', hexOf(digest));
    const files = await readdir(dir).catch(() => [] as string[]);
    const out: Descriptor[] = [];
    for (const f of files.filter((n) => /^[a-f0-9]{64}$/.test(n)).sort()) {
      const d = JSON.parse(await readFile(join(dir, f), 'utf8')) as Descriptor;
      if (artifactType === undefined || d.artifactType === artifactType) out.push(d);
    }
    return out;
  }

  /** Stored manifest digests per repository (revisions), for gc. */
  async manifestRevisions(name: string): Promise<Digest[]> {
    const dir = join(this.#repo(name), '_manifests', 'revisions', 'sha256');
    const files = await readdir(dir).catch(() => [] as string[]);
    return files.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((h) => `sha256:${h}` as Digest);
  }

  /** Blob links of a repository, for gc. */
  async layerLinks(name: string): Promise<Digest[]> {
    const dir = join(this.#repo(name), '_layers', 'sha256');
    const files = await readdir(dir).catch(() => [] as string[]);
    return files.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((h) => `sha256:${h}` as Digest);
  }

  async removeLayerLink(name: string, digest: Digest): Promise<void> {
    await rm(this.#layerLink(name, digest), { force: true });
  }
}

async function hashFile(path: string): Promise<Digest> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}
