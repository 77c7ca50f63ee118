// The build context's contract: the files a build may read (a directory the
// daemon unpacked from the client's tar), which of them a COPY/ADD names, a
// checksum of their content for the cache, and copying them into a rootfs
// with docker's COPY/ADD semantics.
import type { Readable } from 'node:stream';
import type { RootfsView } from '../../container/index.js';

/** A context unpacked on disk. */
export interface BuildContext {
  /** the directory holding the context's files */
  readonly dir: string;
  /** Remove the directory. */
  close(): Promise<void>;
}

export interface OpenContextOptions {
  /** where to unpack (a new directory is made under it) */
  tmpDir: string;
  /** refuse contexts whose unpacked size exceeds this ('invalid_argument'); default unlimited */
  maxBytes?: number;
}

/** One file system entry a COPY/ADD source pattern matched, relative to the context (or a stage's rootfs). */
export interface SourceMatch {
  /** the pattern as written in the Dockerfile ("src/*.ts", "dir/", ".") */
  pattern: string;
  /** absolute host path of the match */
  hostPath: string;
  /** path relative to the source root, '/'-separated, no leading './' ('' for the root itself) */
  relPath: string;
  isDir: boolean;
  /** was the pattern a wildcard (then each match keeps its own base name under the destination) */
  wildcard: boolean;
  /**
   * COPY --exclude patterns (patternmatcher syntax) that resolveSources applied; copyInto and
   * checksumSources skip entries below a directory match that they exclude (matched both
   * relative to the source root and relative to the matched directory)
   */
  excludes?: string[];
}

export interface ResolveSourcesOptions {
  /** .dockerignore-style exclusions to apply (COPY --exclude); the context itself was filtered client-side */
  excludes?: string[];
  /** COPY --from=stage: the root is a stage's rootfs, symlinks resolve inside it */
  scoped?: boolean;
}

export interface CopyOptions {
  /** numeric owner for every copied entry and every directory the copy creates (COPY --chown, resolved by resolveChown) */
  owner?: { uid: number; gid: number };
  /** COPY --chmod: octal (755) for every copied entry */
  chmod?: number;
  /** ADD: local tar archives (plain, gzip, bzip2, xz) are unpacked at the destination instead of copied */
  extractArchives?: boolean;
  /** the stage's WORKDIR, for relative destinations */
  workdir: string;
  /** the instruction named in error messages; default ADD when extractArchives, else COPY */
  instruction?: 'COPY' | 'ADD';
}

/** A file fetched for ADD <url>. */
export interface FetchedFile {
  /** host path of the downloaded file (in tmpDir; the caller removes it) */
  hostPath: string;
  /** the file name docker gives it: the last URL path segment, or "download" */
  name: string;
  /** from Last-Modified, when sent */
  mtime?: Date;
  /** sha256 of the content, "sha256:<hex>" */
  digest: string;
}

export interface ContextApi {
  /** Unpack a context tar (plain, gzip, bzip2 or xz; sniffed) into a new directory; nothing left behind on error. */
  openContext(tar: Readable, opts: OpenContextOptions): Promise<BuildContext>;
  /**
   * The entries COPY/ADD sources name under root, docker's rules: Go filepath.Match
   * wildcards (* ? [..]), paths cleaned and kept inside root, a missing source an
   * error ('not_found', docker's message naming the source).
   */
  resolveSources(root: string, patterns: string[], opts?: ResolveSourcesOptions): Promise<SourceMatch[]>;
  /**
   * A digest of what the matches contain, for the build cache: relative names,
   * types, modes, symlink targets and file content, never mtimes or owners.
   */
  checksumSources(matches: SourceMatch[]): Promise<string>;
  /**
   * Copy matches to dest inside the rootfs view, docker's COPY/ADD rules: a dest
   * ending in '/' or several sources make a directory; a directory source copies
   * its contents; missing parents are created (0755, owner as given, else root);
   * symlinks in dest resolve inside the rootfs.
   */
  copyInto(view: RootfsView, matches: SourceMatch[], dest: string, opts: CopyOptions): Promise<void>;
  /** COPY --chown's "user[:group]" with names looked up in the rootfs' /etc/passwd and /etc/group. */
  resolveChown(view: RootfsView, spec: string): { uid: number; gid: number };
  /** ADD <url>: download into tmpDir ('invalid_argument' for a non-2xx answer). */
  fetchUrl(url: string, tmpDir: string): Promise<FetchedFile>;
}
