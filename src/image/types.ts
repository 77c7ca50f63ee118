// CONTRACT: what the daemon's API layer needs of the image service. Shapes
// follow the Docker Engine API (ImageSummary, ImageInspect, HistoryResponseItem,
// ImageDeleteResponseItem, JSONMessage) so handlers only serialise them.
import type { Readable } from 'node:stream';
import type { AuthConfig } from '../registry/types.js';

/** One line of dockerd's progress stream (the docker CLI's jsonmessage). */
export interface ProgressMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  aux?: unknown;
  error?: string;
  errorDetail?: { message: string; code?: number };
}
export type ProgressFn = (m: ProgressMessage) => void;

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Record<string, string> | null;
  Containers: number;
}

export interface ImageConfigBody {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: unknown;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Shell?: string[];
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: ImageConfigBody;
  Architecture: string;
  Variant?: string;
  Os: string;
  OsVersion?: string;
  Size: number;
  VirtualSize?: number;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
  // Older API versions also carry these; the handler drops them for >= 1.44.
  Container?: string;
  ContainerConfig?: ImageConfigBody;
}

export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export type DeleteItem = { Untagged: string } | { Deleted: string };

export interface PruneReport {
  ImagesDeleted: DeleteItem[] | null;
  SpaceReclaimed: number;
}

/** Docker API filters: {"dangling":["true"],"label":["a=b"],"reference":["busy*"],"before":[..],"since":[..]} */
export type Filters = Record<string, string[]>;

export interface PullOptions {
  /** "os/arch[/variant]"; default: the daemon's platform */
  platform?: string;
  auth?: AuthConfig;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
}

export interface PushOptions {
  /** Push this tag; else the tag in the name; else every tag of the repository. */
  tag?: string;
  auth?: AuthConfig;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  /** Upload blobs larger than this in PATCH chunks of this size (the registry client's default otherwise). */
  chunkSize?: number;
}

/** One pushed tag: what dockerd's aux message {Tag, Digest, Size} carries. */
export interface PushResult {
  tag: string;
  digest: string;
  size: number;
}

export interface ImportOptions {
  repo?: string;
  tag?: string;
  message?: string;
  /** Dockerfile-like changes: CMD, ENTRYPOINT, ENV, EXPOSE, ONBUILD, USER, VOLUME, WORKDIR, LABEL, STOPSIGNAL */
  changes?: string[];
  platform?: string;
  onProgress?: ProgressFn;
}

/** ImageStore.commit: a directory of changes (an overlay upper dir) as a new image on top of `parent`. */
export interface CommitOptions {
  /** the image the changes sit on; null for an image from scratch */
  parent: string | null;
  /** an overlay upper dir (whiteouts as 0/0 char devices, opaque dirs as trusted.overlay.opaque) */
  upperDir: string;
  /** the new image's config (docker's container config for images) */
  config: ImageConfigBody;
  /** the new history entry; empty_layer adds no layer (the builder's metadata-only steps) */
  history: { created_by?: string; comment?: string; author?: string; empty_layer?: boolean };
  /** entries of metadata-only steps since the parent (the builder's ENV, LABEL ...), placed before `history` */
  precedingHistory?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
  author?: string;
  /** the container committed, recorded as the config's "container" */
  container?: string;
  tags?: import('../reference/types.js').Reference[];
}

/** A writable overlay over an image, outside any container (ImageStore.layerWorkspace). */
export interface LayerWorkspace {
  /** the merged tree to write into */
  rootfs: string;
  /** the overlay upper dir: what was written, for commit (after unmount) */
  upperDir: string;
  unmount(): void;
  /** unmount (if still mounted) and release the image's layers */
  release(): void;
}

export interface DiskUsage {
  LayersSize: number;
  Images: ImageSummary[];
}

export interface ImageService {
  /** Pull; progress through opts.onProgress. Resolves to the familiar reference pulled and its digest. */
  pull(ref: string, opts?: PullOptions): Promise<{ reference: string; digest: string; id: string }>;
  /**
   * Push NAME[:TAG] (all local tags of NAME when neither it nor opts.tag has one);
   * progress in dockerd's push messages. 'not_found' when no such tag exists locally.
   * Optional for scripted services.
   */
  push?(name: string, opts?: PushOptions): Promise<PushResult[]>;
  list(opts?: { all?: boolean; filters?: Filters; sharedSize?: boolean }): Promise<ImageSummary[]>;
  inspect(nameOrId: string): Promise<ImageInspect>;
  history(nameOrId: string): Promise<HistoryItem[]>;
  tag(source: string, repo: string, tag?: string): Promise<void>;
  remove(nameOrId: string, opts?: { force?: boolean; noprune?: boolean }): Promise<DeleteItem[]>;
  prune(opts?: { filters?: Filters }): Promise<PruneReport>;
  /** A docker-archive tar (docker save format, with OCI layout files too) of the named images. */
  save(names: string[]): Promise<Readable>;
  /** Load a docker-archive or OCI-archive tar; reports "Loaded image: ..." lines through onProgress. */
  load(tar: Readable, opts?: { onProgress?: ProgressFn; quiet?: boolean }): Promise<string[]>;
  /** A rootfs tarball (plain, gzip or zstd) becomes a one-layer image; returns its ID. */
  import(tar: Readable, opts?: ImportOptions): Promise<string>;
  diskUsage(): Promise<DiskUsage>;
  /** docker commit: a new image from a directory of changes on a parent image; returns its ID. Optional for scripted services. */
  commit?(opts: CommitOptions): Promise<string>;
}
