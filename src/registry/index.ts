// Registry access: a Distribution API v2 / OCI distribution client, manifest
// decoding and validation, and platform selection in image indexes.
//
// Scheme choice differs from dockerd on purpose: loopback registries and
// `insecureRegistries` entries are reached over plain HTTP directly, where
// dockerd would try HTTPS (without verification) first. Everything else is
// HTTPS only.
export * from './types.js';
export { createRegistryClient, MAX_MANIFEST_BYTES, DEFAULT_CHUNK_SIZE, type ExtendedRegistryClientOptions } from './client.js';
export {
  parseManifest,
  sniffManifestMediaType,
  INDEX_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  type ParsedManifest,
} from './manifest.js';
export { defaultPlatform, parsePlatform, formatPlatform, normalizePlatform, selectManifest } from './platform.js';
export {
  parseWwwAuthenticate,
  endpointFor,
  isInsecureRegistry,
  normalizeServerAddress,
  type Challenge,
} from './auth.js';
