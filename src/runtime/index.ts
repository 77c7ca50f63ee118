// The container runtime's lowest layer: the OCI runtime spec a container gets
// (built like dockerd builds it), bundles on disk, user resolution against the
// image's passwd/group, and the runc driver. Containers' lifecycle is built on
// top of this elsewhere.
export type * from './types.js';
export { buildSpec, buildResources, clampRlimits, rlimitName, cgroupsPathFor, OCI_VERSION, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, DEFAULT_DEVICE_RULES, MIN_MEMORY } from './spec.js';
export { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, normalizeCapability, tweakCapabilities, capabilitiesOfMask, maskOfCapabilities } from './caps.js';
export { seccompFromProfile, parseSeccompProfile, type SeccompContext } from './seccomp.js';
export { DEFAULT_SECCOMP_PROFILE, CLONE_NAMESPACE_FLAGS } from './seccomp-default.js';
export { signalInit, inCgroup } from './signal.js';
export { probeHost, parseProcLimits, cgroupVersionOf, kernelVersionOf } from './host.js';
export { writeBundle, serializeSpec, resolveUser, resolveUserFrom, resolveInRoot, parsePasswd, parseGroup, type PasswdEntry, type GroupEntry } from './bundle.js';
export {
  Runc,
  codeOfRuncMessage,
  startFailureExitCode,
  lastRuncError,
  type RuncOptions,
  type ContainerState,
  type ContainerStatus,
  type CreateOptions,
  type CreateResult,
  type RunResult,
  type StdioSetting,
} from './runc.js';
