// Build: Dockerfiles into images. The daemon makes one Builder and serves
// POST /build and /build/prune with it; the CLI uses the context helpers to
// send a directory as docker's CLI does.
export type * from './types.js';
export { Builder, type BuilderDeps, type BuilderImages, type BuilderContainers } from './builder/builder.js';
export { createContextTar, readDockerignore, createIgnoreMatcher } from './client.js';
