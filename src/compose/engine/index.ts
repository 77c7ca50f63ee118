// The Compose engine: Project → containers, networks and volumes through the
// Engine API (see ../types.ts for the contract).
export { ComposeEngine, listProjects, splitTag, table, humanDuration, formatPorts } from './engine.js';
export type { EngineOutput, EngineOptions, UpOptions, DownOptions, PsOptions, LogsOptions, RunOptions, ContainerSummary, Writer } from './engine.js';
export { createBody, containerName, networkName, serviceNetworkKeys, COMPOSE_VERSION } from './create.js';
export { startOrder } from './order.js';
export { LogPrefixer } from './logs.js';
