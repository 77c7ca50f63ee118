// berth's Compose: the model (files → Project) and the engine (Project →
// containers, networks, volumes through the Engine API).
export type * from './types.js';
export { LABELS } from './types.js';
export { loadProject, serializeProject, serviceConfigHash, dependencyOrder, ComposeModelError } from './model/index.js';
export * from './engine/index.js';
