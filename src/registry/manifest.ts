// Decoding and validating manifests and indexes (OCI image spec and Docker
// Image Manifest v2 schema 2). Callers get typed values or 'invalid_argument'.
import { BerthError } from '../errors/index.js';
import { isDigest } from '../util/index.js';
import { MediaType, type Descriptor, type ImageIndex, type ImageManifest, type Platform } from './types.js';

export type ParsedManifest = { kind: 'index'; index: ImageIndex } | { kind: 'manifest'; manifest: ImageManifest };

const SCHEMA1_TYPES = new Set([
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
]);
export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([MediaType.OciIndex, MediaType.DockerManifestList]);
export const MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([MediaType.OciManifest, MediaType.DockerManifest]);

function bad(why: string): BerthError {
  return new BerthError('invalid_argument', `invalid manifest: ${why}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkStringMap(v: unknown, where: string): void {
  if (v === undefined) return;
  if (!isRecord(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw bad(`${where} must be an object of strings`);
  }
}

function checkPlatform(v: unknown, where: string): asserts v is Platform | undefined {
  if (v === undefined) return;
  if (!isRecord(v) || typeof v['os'] !== 'string' || typeof v['architecture'] !== 'string') {
    throw bad(`${where}.platform must have string os and architecture`);
  }
  if (v['variant'] !== undefined && typeof v['variant'] !== 'string') throw bad(`${where}.platform.variant must be a string`);
}

function checkDescriptor(v: unknown, where: string): asserts v is Descriptor {
  if (!isRecord(v)) throw bad(`${where} must be an object`);
  if (typeof v['mediaType'] !== 'string' || v['mediaType'] === '') throw bad(`${where}.mediaType must be a non-empty string`);
  const digest = v['digest'];
  if (typeof digest !== 'string' || !isDigest(digest)) {
    const alg = typeof digest === 'string' ? digest.split(':')[0] : '';
    if (alg === 'sha384' || alg === 'sha512') throw bad(`${where}.digest: unsupported digest algorithm ${alg}`);
    throw bad(`${where}.digest ${JSON.stringify(digest)} is not a valid sha256 digest`);
  }
  const size = v['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw bad(`${where}.size must be a non-negative integer`);
  }
  const urls = v['urls'];
  if (urls !== undefined && (!Array.isArray(urls) || urls.some((u) => typeof u !== 'string'))) {
    throw bad(`${where}.urls must be an array of strings`);
  }
  checkStringMap(v['annotations'], `${where}.annotations`);
  checkPlatform(v['platform'], where);
}

/**
 * Decode `bytes` as an index or an image manifest. `mediaType` is what the
 * registry or store said (FetchedManifest.mediaType); the document's own
 * `mediaType` field wins when present, and its shape decides when neither is
 * a manifest type.
 */
export function parseManifest(bytes: Uint8Array, mediaType: string): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new BerthError('invalid_argument', `invalid manifest: malformed JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isRecord(doc)) throw bad('not a JSON object');
  const declared = typeof doc['mediaType'] === 'string' ? doc['mediaType'] : undefined;
  if (doc['schemaVersion'] === 1 || SCHEMA1_TYPES.has(declared ?? mediaType)) {
    throw new BerthError(
      'invalid_argument',
      'unsupported manifest schema1: Docker Image manifest version 2, schema 1 is no longer supported; the image must be pushed as schema 2 or OCI',
    );
  }
  if (doc['schemaVersion'] !== 2) throw bad(`unsupported schemaVersion ${JSON.stringify(doc['schemaVersion'])}`);
  if (doc['mediaType'] !== undefined && declared === undefined) throw bad('mediaType must be a string');

  let type = declared ?? mediaType;
  if (!INDEX_MEDIA_TYPES.has(type) && !MANIFEST_MEDIA_TYPES.has(type)) {
    if (Array.isArray(doc['manifests'])) type = MediaType.OciIndex;
    else if (doc['config'] !== undefined) type = MediaType.OciManifest;
    else throw bad(`unsupported media type ${JSON.stringify(declared ?? mediaType)}`);
  }
  checkStringMap(doc['annotations'], 'annotations');

  if (INDEX_MEDIA_TYPES.has(type)) {
    const manifests = doc['manifests'];
    if (!Array.isArray(manifests)) throw bad('index has no manifests array');
    manifests.forEach((d, i) => checkDescriptor(d, `manifests[${i}]`));
    return { kind: 'index', index: doc as unknown as ImageIndex };
  }
  checkDescriptor(doc['config'], 'config');
  const layers = doc['layers'];
  if (!Array.isArray(layers)) throw bad('manifest has no layers array');
  layers.forEach((d, i) => checkDescriptor(d, `layers[${i}]`));
  if (doc['subject'] !== undefined) checkDescriptor(doc['subject'], 'subject');
  return { kind: 'manifest', manifest: doc as unknown as ImageManifest };
}

/** The media type a manifest document declares or implies (for stores that kept only bytes). */
export function sniffManifestMediaType(bytes: Uint8Array, fallback: string): string {
  try {
    const doc: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (!isRecord(doc)) return fallback;
    if (typeof doc['mediaType'] === 'string') return doc['mediaType'];
    if (INDEX_MEDIA_TYPES.has(fallback) || MANIFEST_MEDIA_TYPES.has(fallback)) return fallback;
    if (Array.isArray(doc['manifests'])) return MediaType.OciIndex;
    if (doc['config'] !== undefined) return MediaType.OciManifest;
  } catch {
    /* not JSON: the caller's type stands, parseManifest will say why */
  }
  return fallback;
}
