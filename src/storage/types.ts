// CONTRACT (implemented in src/storage/). Layer snapshots on overlayfs, keyed
// by chain ID, and the layer applier that turns an OCI layer tar into an
// overlay "diff" directory.
import type { Readable } from 'node:stream';
import type { Digest } from '../util/index.js';

export interface ApplyResult {
  /** sha256 of the uncompressed tar stream (the layer's diff ID). */
  diffId: Digest;
  /** Uncompressed tar bytes read. */
  tarSize: number;
  /** Bytes of file content written to disk (for `size` of images). */
  unpackedSize: number;
  /** Directories created only as parents of entries (see inheritImpliedDirs). */
  impliedDirs: string[];
}

export type Compression = 'gzip' | 'zstd' | 'none';

export interface Snapshot {
  chainId: Digest;
  parent: Digest | null;
  /** The overlay upper/diff directory holding this layer's files. */
  dir: string;
  /** Bytes of this layer's content on disk. */
  size: number;
  createdAt: number;
}

/** A directory to unpack one layer into before it becomes a snapshot. */
export interface StagedLayer {
  readonly dir: string;
  /** Make it the snapshot for chainId (atomic: rename + record). Idempotent if it exists. */
  commit(chainId: Digest, parent: Digest | null, size: number): Promise<Snapshot>;
  abort(): Promise<void>;
}

export interface Mount {
  type: 'overlay' | 'bind';
  source: string;
  options: string[];
}

export interface Snapshotter {
  get(chainId: Digest): Snapshot | undefined;
  list(): Snapshot[];
  stage(): Promise<StagedLayer>;
  /** 'conflict' while another snapshot has it as parent. */
  remove(chainId: Digest): Promise<void>;
  /** The diff directories of chainId and its ancestors, top layer first. */
  chainDirs(chainId: Digest): string[];
  /** The overlay mounts that present chainId's whole filesystem read-only. */
  view(chainId: Digest): Mount[];
  /** A writable overlay over chainId (null: over nothing) with the given upper and work dirs. */
  mountsFor(chainId: Digest | null, upperDir: string, workDir: string): Mount[];
  /** Remove staging directories left by a crash. */
  sweep(): Promise<void>;
}

export interface ApplyOptions {
  /** Compression of `layer`; 'auto' sniffs the magic bytes (gzip, zstd, else plain tar). */
  compression?: Compression | 'auto';
}

/**
 * Unpack one (possibly compressed) OCI layer stream into `dir`: OCI whiteouts
 * (.wh.NAME, .wh..wh..opq) become overlayfs whiteouts (0/0 char devices,
 * trusted.overlay.opaque=y); owners, modes, mtimes, xattrs, hardlinks,
 * symlinks and device nodes are kept. Entries escaping `dir` ('..', absolute
 * paths, through symlinks, hardlinks outside) fail with 'invalid_argument'.
 */
export type LayerApplier = (layer: Readable, dir: string, opts?: ApplyOptions) => Promise<ApplyResult>;
