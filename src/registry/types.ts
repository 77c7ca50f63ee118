// CONTRACT (implemented in src/registry/client.ts). A Distribution API v2 /
// OCI distribution client: auth, manifests, blobs.
import type { Readable } from 'node:stream';
import type { Digest } from '../util/index.js';
import type { Reference } from '../reference/types.js';

export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
  subject?: Descriptor;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** Credentials for one registry, as in the X-Registry-Auth header / config.json. */
export interface AuthConfig {
  username?: string;
  password?: string;
  /** A registry token (identitytoken / registrytoken) in place of a password. */
  identitytoken?: string;
  registrytoken?: string;
  serveraddress?: string;
}

export interface FetchedManifest {
  /** As the registry sent it (or the digest-pinned one), verified. */
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
}

export interface BlobStream {
  /** The body; the caller must consume or destroy it. Not yet digest-verified. */
  body: Readable;
  /** Content-Length when the registry sent one. */
  size?: number;
}

/** Opens a blob's bytes from `start` to `end` inclusive (a fresh stream each call: uploads may resend). */
export type BlobSource = (start: number, end: number) => Readable;

export interface PushBlobOptions {
  auth?: AuthConfig;
  signal?: AbortSignal;
  /** Another repository on the same registry that holds the blob: try a cross-repository mount first. */
  mountFrom?: string;
  /** Bytes the registry has accepted so far (for progress bars). */
  onProgress?: (sent: number) => void;
  /** Blobs larger than this are sent in PATCH chunks of this size (default 32 MiB); smaller ones in one PUT. */
  chunkSize?: number;
}

export type PushBlobResult = 'mounted' | 'uploaded';

export interface RegistryClientOptions {
  /** host[:port] (or CIDR-less host names) to reach over plain HTTP. localhost/127.0.0.0/8 are always insecure-allowed like dockerd. */
  insecureRegistries: string[];
  userAgent?: string;
}

export interface RegistryClient {
  /**
   * GET the manifest for ref (by digest if it has one, else by tag), accepting
   * indexes and image manifests. Verifies the bytes against ref.digest or the
   * Docker-Content-Digest header. 'not_found' for an unknown repo or tag,
   * 'unauthorized' when credentials are refused.
   */
  getManifest(ref: Reference, auth?: AuthConfig, signal?: AbortSignal): Promise<FetchedManifest>;
  /** GET a blob, following redirects to blob storage (without leaking the Authorization header). */
  getBlob(ref: Reference, digest: Digest, auth?: AuthConfig, signal?: AbortSignal): Promise<BlobStream>;
  /** HEAD a blob in ref's repository (with a pull,push token, as a push uses). */
  blobExists(ref: Reference, digest: Digest, auth?: AuthConfig, signal?: AbortSignal): Promise<boolean>;
  /**
   * Upload a blob into ref's repository: a cross-repository mount when
   * opts.mountFrom names one and the registry agrees, else POST then PUT
   * (or PATCH chunks following the registry's Location and Range, then PUT).
   * A registry that stores another digest is an 'invalid_argument' error.
   */
  pushBlob(ref: Reference, blob: { digest: Digest; size: number }, source: BlobSource, opts?: PushBlobOptions): Promise<PushBlobResult>;
  /** PUT a manifest under ref's tag (or digest); resolves to its digest, checked against the registry's answer. */
  putManifest(ref: Reference, manifest: { mediaType: string; bytes: Buffer }, auth?: AuthConfig, signal?: AbortSignal): Promise<Digest>;
  /** Check credentials against the registry's /v2/ (the daemon's POST /auth). */
  login(serverAddress: string, auth: AuthConfig): Promise<{ status: string; identityToken?: string }>;
}
