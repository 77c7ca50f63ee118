// Image metadata in SQLite: images (by config digest), tags and repo digests
// pointing at them, and which blob holds each layer. Multi-row changes run in
// one transaction, so a killed daemon leaves either the old or the new state.
import type { Db } from '../db/index.js';
import { migrate } from '../db/index.js';
import type { Digest } from '../util/index.js';

export interface ImageRow {
  id: Digest; // config digest
  created: number; // unix seconds, from the config
  size: number; // bytes of all layers unpacked
  lastTagTime: string; // ISO time, '' when never tagged
  platform: string; // os/arch[/variant]
  parent: string; // the image it was committed on (docker commit, build steps), '' when pulled/loaded
}

export interface LayerBlobRow {
  diffId: Digest;
  blob: Digest;
  mediaType: string;
  blobSize: number;
  tarSize: number;
}

export interface ManifestRow {
  imageId: Digest;
  repo: string; // full repository name, docker.io/library/busybox
  digest: Digest; // manifest digest
  mediaType: string;
}

const SCHEMA = [
  `CREATE TABLE images (
     id TEXT PRIMARY KEY,
     created INTEGER NOT NULL,
     size INTEGER NOT NULL,
     last_tag_time TEXT NOT NULL DEFAULT '',
     platform TEXT NOT NULL DEFAULT ''
   );
   CREATE TABLE tags (
     ref TEXT PRIMARY KEY,            -- full name:tag, docker.io/library/busybox:latest
     image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
   );
   CREATE INDEX tags_image ON tags(image_id);
   CREATE TABLE manifests (
     image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
     repo TEXT NOT NULL,
     digest TEXT NOT NULL,
     media_type TEXT NOT NULL,
     PRIMARY KEY (repo, digest)
   );
   CREATE INDEX manifests_image ON manifests(image_id);
   CREATE TABLE layer_blobs (
     diff_id TEXT PRIMARY KEY,
     blob TEXT NOT NULL,
     media_type TEXT NOT NULL,
     blob_size INTEGER NOT NULL,
     tar_size INTEGER NOT NULL
   );`,
  // Which repositories of which registries hold a blob (pulled from or pushed to): a push
  // mounts from one of them instead of uploading, as dockerd's v2 metadata service does.
  `CREATE TABLE blob_sources (
     digest TEXT NOT NULL,
     domain TEXT NOT NULL,
     repo TEXT NOT NULL,          -- the repository path on that registry, library/busybox
     seen INTEGER NOT NULL,       -- unix ms, newest first when choosing
     PRIMARY KEY (digest, domain, repo)
   );`,
  // Local parentage, as dockerd keeps it: built and committed images know the image they
  // were made on, so intermediate build images hide from `images` and prune with their child.
  `ALTER TABLE images ADD COLUMN parent TEXT NOT NULL DEFAULT '';
   CREATE INDEX images_parent ON images(parent);`,
];

export class ImageRecords {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
    migrate(db, 'images', SCHEMA);
  }

  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  getImage(id: string): ImageRow | undefined {
    const r = this.#db
      .prepare('SELECT id, created, size, last_tag_time AS lastTagTime, platform, parent FROM images WHERE id = ?')
      .get(id) as ImageRow | undefined;
    return r;
  }

  allImages(): ImageRow[] {
    return this.#db
      .prepare('SELECT id, created, size, last_tag_time AS lastTagTime, platform, parent FROM images ORDER BY created DESC')
      .all() as ImageRow[];
  }

  /** IDs starting with a hex prefix (no 'sha256:'). */
  imagesByPrefix(hexPrefix: string): Digest[] {
    return (
      this.#db.prepare("SELECT id FROM images WHERE id >= ? AND id < ? LIMIT 2").all(
        `sha256:${hexPrefix}`,
        `sha256:${hexPrefix}\u{10FFFF}`,
      ) as { id: Digest }[]
    ).map((r) => r.id);
  }

  putImage(row: ImageRow): void {
    this.#db
      .prepare(
        `INSERT INTO images (id, created, size, last_tag_time, platform, parent) VALUES (@id, @created, @size, @lastTagTime, @platform, @parent)
         ON CONFLICT(id) DO UPDATE SET size = excluded.size`,
      )
      .run(row);
  }

  /** Images committed on top of id. */
  childrenOf(id: Digest): Digest[] {
    return (this.#db.prepare('SELECT id FROM images WHERE parent = ?').all(id) as { id: Digest }[]).map((r) => r.id);
  }

  /** IDs of images that are some image's parent. */
  parentIds(): Set<string> {
    return new Set((this.#db.prepare("SELECT DISTINCT parent FROM images WHERE parent != ''").all() as { parent: string }[]).map((r) => r.parent));
  }

  deleteImage(id: Digest): void {
    this.#db.prepare('DELETE FROM images WHERE id = ?').run(id);
  }

  touchTagTime(id: Digest, time: string): void {
    this.#db.prepare('UPDATE images SET last_tag_time = ? WHERE id = ?').run(time, id);
  }

  /** Points ref at id; returns the image it pointed at before (if another). */
  setTag(ref: string, id: Digest): Digest | undefined {
    const prev = this.tagTarget(ref);
    this.#db.prepare('INSERT INTO tags (ref, image_id) VALUES (?, ?) ON CONFLICT(ref) DO UPDATE SET image_id = excluded.image_id').run(ref, id);
    return prev && prev !== id ? prev : undefined;
  }

  tagTarget(ref: string): Digest | undefined {
    return (this.#db.prepare('SELECT image_id FROM tags WHERE ref = ?').get(ref) as { image_id: Digest } | undefined)?.image_id;
  }

  deleteTag(ref: string): void {
    this.#db.prepare('DELETE FROM tags WHERE ref = ?').run(ref);
  }

  tagsOf(id: Digest): string[] {
    return (this.#db.prepare('SELECT ref FROM tags WHERE image_id = ? ORDER BY ref').all(id) as { ref: string }[]).map((r) => r.ref);
  }

  allTags(): { ref: string; imageId: Digest }[] {
    return this.#db.prepare('SELECT ref, image_id AS imageId FROM tags').all() as { ref: string; imageId: Digest }[];
  }

  putManifest(row: ManifestRow): void {
    this.#db
      .prepare(
        `INSERT INTO manifests (image_id, repo, digest, media_type) VALUES (@imageId, @repo, @digest, @mediaType)
         ON CONFLICT(repo, digest) DO UPDATE SET image_id = excluded.image_id, media_type = excluded.media_type`,
      )
      .run(row);
  }

  manifestsOf(id: Digest): ManifestRow[] {
    return this.#db
      .prepare('SELECT image_id AS imageId, repo, digest, media_type AS mediaType FROM manifests WHERE image_id = ? ORDER BY repo')
      .all(id) as ManifestRow[];
  }

  manifestByRepoDigest(repo: string, digest: string): ManifestRow | undefined {
    return this.#db
      .prepare('SELECT image_id AS imageId, repo, digest, media_type AS mediaType FROM manifests WHERE repo = ? AND digest = ?')
      .get(repo, digest) as ManifestRow | undefined;
  }

  deleteManifestsOfRepo(id: Digest, repo: string): ManifestRow[] {
    const rows = this.manifestsOf(id).filter((m) => m.repo === repo);
    this.#db.prepare('DELETE FROM manifests WHERE image_id = ? AND repo = ?').run(id, repo);
    return rows;
  }

  allManifests(): ManifestRow[] {
    return this.#db.prepare('SELECT image_id AS imageId, repo, digest, media_type AS mediaType FROM manifests').all() as ManifestRow[];
  }

  putLayerBlob(row: LayerBlobRow): void {
    this.#db
      .prepare(
        `INSERT INTO layer_blobs (diff_id, blob, media_type, blob_size, tar_size) VALUES (@diffId, @blob, @mediaType, @blobSize, @tarSize)
         ON CONFLICT(diff_id) DO NOTHING`,
      )
      .run(row);
  }

  layerBlob(diffId: Digest): LayerBlobRow | undefined {
    return this.#db
      .prepare('SELECT diff_id AS diffId, blob, media_type AS mediaType, blob_size AS blobSize, tar_size AS tarSize FROM layer_blobs WHERE diff_id = ?')
      .get(diffId) as LayerBlobRow | undefined;
  }

  allLayerBlobs(): LayerBlobRow[] {
    return this.#db
      .prepare('SELECT diff_id AS diffId, blob, media_type AS mediaType, blob_size AS blobSize, tar_size AS tarSize FROM layer_blobs')
      .all() as LayerBlobRow[];
  }

  addBlobSource(digest: Digest, domain: string, repo: string): void {
    this.#db
      .prepare('INSERT INTO blob_sources (digest, domain, repo, seen) VALUES (?, ?, ?, ?) ON CONFLICT(digest, domain, repo) DO UPDATE SET seen = excluded.seen')
      .run(digest, domain, repo, Date.now());
  }

  /** Repositories on `domain` known to hold `digest`, most recently seen first. */
  blobSources(digest: Digest, domain: string): string[] {
    return (
      this.#db.prepare('SELECT repo FROM blob_sources WHERE digest = ? AND domain = ? ORDER BY seen DESC, repo').all(digest, domain) as { repo: string }[]
    ).map((r) => r.repo);
  }

  deleteLayerBlob(diffId: Digest): void {
    this.#db.prepare('DELETE FROM layer_blobs WHERE diff_id = ?').run(diffId);
  }
}
