// The registry server behind `berth registry serve` and `berth registry gc`:
// an OCI distribution-spec registry on the filesystem. Its own module, not
// part of src/registry (the client side): it shares no state with the
// daemon and runs as its own process.
export { serveRegistry, parseAddr, type ServeOptions, type RunningRegistry } from './server.js';
export { RegistryStorage, type UploadStatus, type ManifestInfo, type ChunkRange } from './storage.js';
export { createRegistryHandler, accessFor, type HandlerOptions } from './http.js';
export { collectGarbage, DEFAULT_GC_MIN_AGE_MS, type GcOptions, type GcResult } from './gc.js';
export { Htpasswd } from './auth.js';
export { TokenAuth, libtrustKeyId, parseCertBundle, type Access, type TokenAuthOptions, type TokenDecision } from './token.js';
export { DistributionError, type SpecErrorCode } from './errors.js';
export { MediaTypes, MAX_MANIFEST_BYTES, parseManifest, type Descriptor, type ParsedManifest } from './manifest.js';
export { isValidName } from './names.js';
