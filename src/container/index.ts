// Containers: records in SQLite, an overlay rootfs per container, OCI bundles
// for runc, and Debian's conmon as each container's monitor, so containers
// outlive the daemon (conmon plays containerd's shim).
//
// Departures from dockerd, and why:
// - Logs: conmon has no json-file driver. It writes the CRI "k8s-file"
//   format (`<RFC3339Nano> <stdout|stderr> <F|P> <content>`), and logs() converts
//   on read (partial lines joined, UTC times); HostConfig.LogConfig.Type is
//   recorded as "k8s-file".
// - Networking: none yet (CNI comes later). bridge/default and none get a
//   private network namespace whose loopback stays down (bringing lo up needs
//   netlink, which Node lacks and we have no tool for); host shares the host's.
// - OOM: conmon's <persist-dir>/oom file, and the memory cgroup's oom_kill
//   count read before `runc delete` removes it.
// - Exit files: conmon writes <root>/exits/<id>; the reconcile loop (fs.watch +
//   a periodic sweep) records exits and runs --rm and restart policies, with
//   dockerd's backoff (100ms doubling, reset after a 10s run).
import type { ContainerServiceDeps } from './service.js';
import { ContainerStore } from './service.js';

export type * from './types.js';
export { ContainerStore, type ContainerServiceDeps, type ContainerEvent } from './service.js';
export type { ContainerConfig, ContainerRecord, ContainerState } from './records.js';
export { mergeConfig, entrypointAndArgs, humanDuration, statusString, signalNumber, hostsFile, resolvConf } from './config.js';
export { K8sLogParser, parseLogTime } from './logs.js';
export { normalizeName, randomName } from './names.js';

/** Build the container service; call restore() once the daemon is up to re-adopt running containers. */
export function createContainerService(deps: ContainerServiceDeps): ContainerStore {
  return new ContainerStore(deps);
}
export { execProber, probeCommand, type HealthState, type HealthStatus, type HealthLogEntry } from './health.js';
export { ExecManager, type ExecManagerDeps, type ExecCreateRequest, type ExecInspect, type ExecSession } from './exec.js';
