// Manifest and index documents: which media types the registry accepts, how
// a pushed body is checked, and which blobs and manifests it references
// (for MANIFEST_BLOB_UNKNOWN on push and for gc's mark phase).
import { isDigest, type Digest } from '../util/index.js';
import { distErr } from './errors.js';

export const MediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

const INDEX_TYPES = new Set<string>([MediaTypes.ociIndex, MediaTypes.dockerManifestList]);
const MANIFEST_TYPES = new Set<string>([MediaTypes.ociManifest, MediaTypes.dockerManifest]);

/** The spec's limit on manifests a registry must accept; larger ones get 413. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ParsedManifest {
  mediaType: string;
  kind: 'manifest' | 'index';
  /** Blobs that must be in the repository: config and layers (foreign layers excepted). */
  blobs: Digest[];
  /** Manifests that must be in the repository: an index's children. */
  manifests: Digest[];
  subject?: Descriptor;
  /** What a referrers listing shows for this manifest. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function descriptor(v: unknown, where: string): Descriptor {
  if (!isObject(v)) throw distErr('MANIFEST_INVALID', `${where} is not a descriptor`);
  const { mediaType, digest, size } = v;
  if (typeof mediaType !== 'string' || mediaType === '') throw distErr('MANIFEST_INVALID', `${where} has no mediaType`);
  if (typeof digest !== 'string' || !isDigest(digest)) throw distErr('MANIFEST_INVALID', `${where} has an invalid digest`, { digest });
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw distErr('MANIFEST_INVALID', `${where} has an invalid size`);
  const d: Descriptor = { mediaType, digest, size };
  if (Array.isArray(v.urls)) d.urls = v.urls.filter((u): u is string => typeof u === 'string');
  if (typeof v.artifactType === 'string') d.artifactType = v.artifactType;
  if (isObject(v.annotations)) d.annotations = v.annotations as Record<string, string>;
  return d;
}

/** Layers a registry is not expected to hold (docker foreign layers, OCI non-distributable ones). */
const isForeign = (d: Descriptor): boolean => /foreign|nondistributable/.test(d.mediaType) && (d.urls?.length ?? 0) > 0;

/**
 * Checks a pushed manifest body. `contentType` is the request's Content-Type;
 * the stored media type is the body's `mediaType` when present (they must
 * agree), else the Content-Type, else inferred from the document's shape.
 */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw distErr('MANIFEST_INVALID', 'manifest is not valid JSON', { reason: (err as Error).message });
  }
  if (!isObject(doc)) throw distErr('MANIFEST_INVALID', 'manifest is not a JSON object');
  if (doc.schemaVersion !== 2) throw distErr('MANIFEST_INVALID', 'unsupported schemaVersion', { schemaVersion: doc.schemaVersion });
  const ct = contentType?.split(';')[0]?.trim();
  const known = (t: string | undefined) => !!t && (INDEX_TYPES.has(t) || MANIFEST_TYPES.has(t));
  const bodyType = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  if (bodyType !== undefined && !known(bodyType)) throw distErr('MANIFEST_INVALID', 'unsupported manifest media type', { mediaType: bodyType });
  if (bodyType && known(ct) && ct !== bodyType) {
    throw distErr('MANIFEST_INVALID', 'mediaType in manifest does not match Content-Type', { mediaType: bodyType, contentType: ct });
  }
  const mediaType = bodyType ?? (known(ct) ? (ct as string) : Array.isArray(doc.manifests) ? MediaTypes.ociIndex : MediaTypes.ociManifest);

  const parsed: ParsedManifest = { mediaType, kind: INDEX_TYPES.has(mediaType) ? 'index' : 'manifest', blobs: [], manifests: [] };
  if (doc.subject !== undefined) parsed.subject = descriptor(doc.subject, 'subject');
  if (typeof doc.artifactType === 'string') parsed.artifactType = doc.artifactType;
  if (isObject(doc.annotations)) parsed.annotations = doc.annotations as Record<string, string>;

  if (parsed.kind === 'index') {
    if (!Array.isArray(doc.manifests)) throw distErr('MANIFEST_INVALID', 'index has no manifests array');
    parsed.manifests = doc.manifests.map((m, i) => descriptor(m, `manifests[${i}]`).digest);
    return parsed;
  }
  const config = descriptor(doc.config, 'config');
  if (!Array.isArray(doc.layers)) throw distErr('MANIFEST_INVALID', 'manifest has no layers array');
  const layers = doc.layers.map((l, i) => descriptor(l, `layers[${i}]`));
  // The referrers API shows a manifest's artifactType, else its config's media type (distribution spec).
  if (!parsed.artifactType) parsed.artifactType = config.mediaType;
  parsed.blobs = [config.digest, ...layers.filter((l) => !isForeign(l)).map((l) => l.digest)];
  return parsed;
}
