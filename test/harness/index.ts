// The test harness: a real registry (with optional basic or token auth) and a
// real berth daemon, each started for one test and stopped after it.
export { startRegistry, type Registry, type RegistryOptions, type Credentials, REGISTRY_BIN } from './registry.js';
export { type TokenServer, type TokenRequest } from './token-server.js';
export {
  startDaemon,
  unixRequest,
  type Daemon,
  type DaemonOptions,
  type ApiResponse,
  type CommandOptions,
  BERTH_BIN,
  CLI_MAIN,
  DOCKER_CLI,
  REPO_ROOT,
} from './daemon.js';
export { run, runOk, freePort, Cleanup, type AfterHook, type RunResult, type RunOptions } from './exec.js';
export { daemonWithBusybox, removeContainers } from './containers.js';
