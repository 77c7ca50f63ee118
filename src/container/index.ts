// Containers: records in SQLite, an overlay rootfs per container, OCI bundles
// for runc, and berth-monitor (src/monitor, our own small C monitor) as each
// container's parent, so containers outlive the daemon (it plays containerd's
// shim / podman's conmon).
//
// Departures from dockerd, and why:
// - Monitor: Debian's conmon was the first choice, but it has no docker
//   json-file log driver nor max-file rotation, and its attach socket is
//   SOCK_SEQPACKET, which Node cannot open; berth-monitor writes json-file
//   with rotation and takes stdin on a stream socket.
// - Log drivers: json-file (default, max-size/max-file; no compress) and none.
// - Networking: none yet (CNI comes later). bridge/default and none get a
//   private network namespace whose loopback stays down; host shares the host's.
// - OOM: the memory cgroup's oom_kill count, read before `runc delete` removes it.
// - Exit files: the monitor writes <root>/exits/<id>; the reconcile loop
//   (fs.watch + a periodic sweep) records exits and runs --rm and restart
//   policies, with dockerd's backoff (100ms doubling, reset after a 10s run).
import type { ContainerServiceDeps } from './service.js';
import { ContainerStore } from './service.js';

export type * from './types.js';
export { ContainerStore, type ContainerServiceDeps, type ContainerEvent } from './service.js';
export type { ContainerConfig, ContainerRecord, ContainerState } from './records.js';
export { mergeConfig, entrypointAndArgs, humanDuration, statusString, signalNumber, hostsFile, resolvConf } from './config.js';
export { normalizeName, randomName } from './names.js';

/** Build the container service; call restore() once the daemon is up to re-adopt running containers. */
export function createContainerService(deps: ContainerServiceDeps): ContainerStore {
  return new ContainerStore(deps);
}
export { execProber, probeCommand, type HealthState, type HealthStatus, type HealthLogEntry } from './health.js';
export { ExecManager, type ExecManagerDeps, type ExecCreateRequest, type ExecInspect, type ExecSession } from './exec.js';
export * from './archive.js';
