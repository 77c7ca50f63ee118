// CONTRACT (implemented in src/content/store.ts). Content-addressed blobs in
// an OCI image layout: <root>/blobs/sha256/<hex>, ingests in <root>/ingest/.
import type { Readable, Writable } from 'node:stream';
import type { Digest } from '../util/index.js';

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export interface Expected {
  digest?: Digest;
  size?: number;
}

/**
 * A streaming write of one blob. Bytes go to an ingest file and are hashed as
 * they pass; nothing is visible to readers until `commit` has checked digest
 * and size, fsynced and renamed into place. A mismatch is 'invalid_argument'
 * and removes the ingest. If the blob already exists, commit succeeds.
 */
export interface Ingest {
  /** Write side: a Writable (pipe a download into it). */
  readonly stream: Writable;
  /** Bytes written so far. */
  readonly written: number;
  commit(): Promise<BlobInfo>;
  abort(): Promise<void>;
}

export interface ContentStore {
  readonly root: string;
  /** undefined when absent */
  info(digest: Digest): Promise<BlobInfo | undefined>;
  /** Filesystem path of a committed blob (for zero-copy reads). */
  path(digest: Digest): string;
  /** 'not_found' if absent. `start`/`end` inclusive like fs.createReadStream. */
  read(digest: Digest, range?: { start?: number; end?: number }): Readable;
  readBytes(digest: Digest): Promise<Buffer>;
  /** Small blobs (manifests, configs) in one call; verifies `expected` if given. */
  put(data: Uint8Array, expected?: Expected): Promise<BlobInfo>;
  ingest(expected?: Expected): Promise<Ingest>;
  delete(digest: Digest): Promise<void>;
  walk(): AsyncIterable<BlobInfo>;
}
