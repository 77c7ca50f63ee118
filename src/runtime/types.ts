// Contracts of the runtime module: the parts of the OCI runtime spec
// (config.json, spec 1.0.2 as runc 1.1 reads it) that berth writes, and the
// input from which berth builds one. Field names follow the spec exactly,
// because these objects are serialised as they are.

// ---- OCI runtime spec (config.json) ----

export interface RuntimeSpec {
  ociVersion: string;
  process: Process;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  mounts: SpecMount[];
  annotations?: Record<string, string>;
  linux: Linux;
}

export interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: Capabilities;
  rlimits?: Rlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
}

/** Each set lists names with the CAP_ prefix, as runc wants them. */
export interface Capabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

/** `type` is RLIMIT_<NAME>. */
export interface Rlimit {
  type: string;
  hard: number;
  soft: number;
}

export interface SpecMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';

export interface Namespace {
  type: NamespaceType;
  /** join this namespace (a /proc/<pid>/ns/* or bind-mounted nsfs file) rather than create one */
  path?: string;
}

export interface Linux {
  namespaces: Namespace[];
  devices?: LinuxDevice[];
  cgroupsPath?: string;
  resources?: LinuxResources;
  sysctl?: Record<string, string>;
  seccomp?: LinuxSeccomp;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  rootfsPropagation?: string;
}

export interface LinuxDevice {
  type: 'c' | 'b' | 'u' | 'p';
  path: string;
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface LinuxDeviceCgroup {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  /** absent = any (the "*" of devices.allow) */
  major?: number;
  minor?: number;
  access?: string;
}

export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: {
    limit?: number;
    reservation?: number;
    /** memory + swap, as cgroup v1's memsw; -1 = unlimited */
    swap?: number;
    swappiness?: number;
    disableOOMKiller?: boolean;
  };
  cpu?: {
    shares?: number;
    quota?: number;
    period?: number;
    cpus?: string;
    mems?: string;
  };
  pids?: { limit: number };
  blockIO?: { weight?: number };
  unified?: Record<string, string>;
}

export type SeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG'
  | 'SCMP_ACT_NOTIFY';

export type SeccompOperator =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOperator;
}

export interface LinuxSyscall {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[];
}

export interface LinuxSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls?: LinuxSyscall[];
}

// ---- docker's seccomp profile format (what `--security-opt seccomp=FILE` takes) ----

/** A rule applies only if every `includes` condition holds and no `excludes` one does. */
export interface SeccompFilter {
  /** Go architecture names: amd64, 386, arm64, arm, ... */
  arches?: string[];
  /** CAP_ names */
  caps?: string[];
  /** "major.minor"; the rule applies on this kernel or newer */
  minKernel?: string;
}

export interface SeccompProfileSyscall {
  names?: string[];
  /** legacy single-name form */
  name?: string;
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
  comment?: string;
}

export interface SeccompProfile {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  /** flat list of SCMP_ARCH_ names (used only when archMap is absent) */
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures: string[] }[] | null;
  syscalls?: SeccompProfileSyscall[] | null;
}

// ---- what buildSpec needs to know about the host ----

export interface HostInfo {
  /** 2 when cgroup2 is mounted at /sys/fs/cgroup itself; hybrid and legacy hosts are 1 */
  cgroupVersion: 1 | 2;
  /** the daemon's hard limits by RLIMIT_ name; absent or Infinity = unlimited */
  rlimitHard: Record<string, number>;
  /** CAP_ names in the daemon's bounding set: a container can never get more */
  boundingCaps: string[];
  /** SCMP_ARCH_ name of this machine, e.g. SCMP_ARCH_X86_64 */
  seccompArch: string;
  /** Go architecture name (amd64, arm64), for the profile's arch filters */
  goArch: string;
  /** running kernel as [major, minor] */
  kernel: [number, number];
}

// ---- the input: a container's settings, already resolved ----

export type NamespaceSetting = 'private' | 'host' | { path: string };

export interface BindMount {
  source: string;
  destination: string;
  readonly?: boolean;
  /** rprivate (docker's default), private, rshared, shared, rslave, slave */
  propagation?: string;
  /** false for a plain bind (docker's --mount bind-nonrecursive); default recursive */
  recursive?: boolean;
}

export interface TmpfsMount {
  destination: string;
  /** extra options as docker takes them: size=64m, mode=1777, noexec, ... */
  options?: string[];
}

export interface Ulimit {
  /** nofile, nproc, ... (docker's --ulimit names) or RLIMIT_NOFILE */
  name: string;
  soft: number;
  hard: number;
}

export interface ResourceSettings {
  /** bytes; 0/absent = unlimited */
  memory?: number;
  /** bytes of memory + swap; -1 = unlimited swap; 0/absent with memory set = 2 x memory */
  memorySwap?: number;
  memoryReservation?: number;
  memorySwappiness?: number;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  /** docker's --cpus as nano CPUs (1.5 CPUs = 1.5e9); becomes period 100000 + quota */
  nanoCpus?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  /** >0 limits; 0, -1 or absent = unlimited */
  pidsLimit?: number;
  blkioWeight?: number;
  oomKillDisable?: boolean;
}

export type SeccompSetting = 'default' | 'unconfined' | { profile: SeccompProfile };

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** home directory from passwd ("/" when unknown) */
  home: string;
}

export interface SpecInput {
  rootfs: string;
  args: string[];
  env: string[];
  /** default "/" */
  cwd?: string;
  /** default root */
  user?: Pick<ResolvedUser, 'uid' | 'gid'> & { additionalGids?: number[] };
  hostname?: string;
  terminal?: boolean;
  readonlyRootfs?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  noNewPrivileges?: boolean;
  seccomp?: SeccompSetting;
  tmpfs?: TmpfsMount[];
  binds?: BindMount[];
  ulimits?: Ulimit[];
  resources?: ResourceSettings;
  /** cgroupfs path, e.g. /berth/<id> (see cgroupsPathFor) */
  cgroupsPath?: string;
  namespaces?: Partial<Record<Exclude<NamespaceType, 'user'>, NamespaceSetting>>;
  sysctls?: Record<string, string>;
  oomScoreAdj?: number;
  annotations?: Record<string, string>;
  /** /dev/shm size in bytes; docker's default 64 MiB */
  shmSize?: number;
  /** what buildSpec must know of the host (probeHost()); passed in so buildSpec stays pure */
  host: HostInfo;
}
