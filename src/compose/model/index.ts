// The Compose model: Compose files → a validated, normalized Project
// (src/compose/types.ts). No engine or API here; the engine consumes Projects.
export { loadProject, normalizeProjectName } from './load.js';
export { ComposeModelError } from './errors.js';
export { serializeProject, serviceConfigHash } from './output.js';
export { dependencyOrder } from './order.js';
export { interpolate, parseDotenv, splitShellWords, parseDuration, parseBytes } from './text.js';
