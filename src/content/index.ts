// Content-addressed blob storage (OCI image layout). See types.ts for the contract.
export type { BlobInfo, ContentStore, Expected, Ingest } from './types.js';
export { LocalContentStore } from './store.js';
