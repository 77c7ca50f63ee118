// buildSpec: a container's resolved settings -> the OCI runtime config.json
// that dockerd would hand runc for the same `docker run` (moby oci/defaults.go
// and daemon/oci_linux.go). Pure: what it must know of the host arrives in
// `input.host` (probeHost()).
import { BerthError } from '../errors/index.js';
import { tweakCapabilities } from './caps.js';
import { seccompFromProfile } from './seccomp.js';
import { DEFAULT_SECCOMP_PROFILE } from './seccomp-default.js';
import type {
  LinuxDeviceCgroup,
  LinuxResources,
  Namespace,
  NamespaceSetting,
  NamespaceType,
  Rlimit,
  RuntimeSpec,
  SpecInput,
  SpecMount,
} from './types.js';

export const OCI_VERSION = '1.0.2-dev';

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const DEFAULT_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
/** docker refuses memory limits under 6 MiB (linuxMinMemory) */
export const MIN_MEMORY = 6 * 1024 * 1024;
const CPU_PERIOD = 100_000;

/** The cgroupfs-driver path of a container: /berth/<id>. */
export function cgroupsPathFor(id: string, parent = '/berth'): string {
  return `${parent.replace(/\/+$/, '')}/${id}`;
}

/** docker's default mounts (moby oci.DefaultLinuxSpec), before per-container tweaks. */
function defaultMounts(shmSize: number): SpecMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    // ipc mode "private" (docker's default): a tmpfs of the container's own.
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', shmSize % 1024 === 0 ? `size=${shmSize / 1024}k` : `size=${shmSize}`],
    },
  ];
}

/**
 * The device cgroup: deny everything, then allow what runc creates in every
 * container's /dev (null, zero, full, random, urandom, tty, console, ptmx,
 * /dev/pts/*, tun) and mknod of any device (opening one still needs a rule).
 */
export const DEFAULT_DEVICE_RULES: readonly LinuxDeviceCgroup[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

/** docker --ulimit names -> RLIMIT_ names. */
const ULIMIT_NAMES: Record<string, string> = {
  core: 'RLIMIT_CORE',
  cpu: 'RLIMIT_CPU',
  data: 'RLIMIT_DATA',
  fsize: 'RLIMIT_FSIZE',
  locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK',
  msgqueue: 'RLIMIT_MSGQUEUE',
  nice: 'RLIMIT_NICE',
  nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC',
  rss: 'RLIMIT_RSS',
  rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING',
  stack: 'RLIMIT_STACK',
  as: 'RLIMIT_AS',
};

export function rlimitName(name: string): string {
  const lower = name.toLowerCase().replace(/^rlimit_/, '');
  const mapped = ULIMIT_NAMES[lower];
  if (!mapped) throw new BerthError('invalid_argument', `invalid ulimit type: ${name}`);
  return mapped;
}

/**
 * The user's ulimits, clamped to the daemon's own hard limits: without
 * CAP_SYS_RESOURCE (absent on these hosts) runc's setrlimit above the hard
 * limit it inherited fails with EPERM and the container never starts, so a
 * request above it gets the highest value that works (nofile is hard-limited
 * to 20000 on our hosts). We clamp even when the daemon could raise it: the
 * daemon's limit is the operator's ceiling. docker passes no rlimits unless
 * asked, so neither do we.
 */
export function clampRlimits(ulimits: SpecInput['ulimits'], hardLimits: Record<string, number>): Rlimit[] {
  const out: Rlimit[] = [];
  for (let u of ulimits ?? []) {
    const type = rlimitName(u.name);
    // -1 asks for unlimited (RLIM_INFINITY); Infinity is serialised as such by writeBundle.
    const asked = (v: number) => (v < 0 ? Infinity : v);
    u = { ...u, soft: asked(u.soft), hard: asked(u.hard) };
    if (u.soft > u.hard) throw new BerthError('invalid_argument', `ulimit soft limit must be less than or equal to hard limit: ${u.soft} > ${u.hard}`);
    const hard = Math.min(u.hard, hardLimits[type] ?? Infinity);
    out.push({ type, hard, soft: Math.min(u.soft, hard) });
  }
  return out;
}

/** docker's memory/swap/cpu/pids rules -> linux.resources (v1 terms; runc converts for v2). */
export function buildResources(input: SpecInput): LinuxResources {
  const r = input.resources ?? {};
  const out: LinuxResources = { devices: input.privileged ? [{ allow: true, access: 'rwm' }] : DEFAULT_DEVICE_RULES.map((d) => ({ ...d })) };
  const memory: NonNullable<LinuxResources['memory']> = {};
  const mem = r.memory ?? 0;
  const swap = r.memorySwap ?? 0;
  if (mem < 0) throw new BerthError('invalid_argument', 'Invalid memory limit: must be positive');
  if (mem > 0 && mem < MIN_MEMORY) throw new BerthError('invalid_argument', 'Minimum memory limit allowed is 6MB');
  if (mem === 0 && swap > 0) {
    throw new BerthError('invalid_argument', 'You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (mem > 0) {
    memory.limit = mem;
    if (swap === -1) memory.swap = -1;
    else if (swap === 0) memory.swap = 2 * mem; // docker: unset swap = as much swap as memory
    else if (swap < mem) throw new BerthError('invalid_argument', 'Minimum memoryswap limit should be larger than memory limit, see usage');
    else memory.swap = swap;
  }
  if (r.memoryReservation) {
    if (mem > 0 && r.memoryReservation > mem) {
      throw new BerthError('invalid_argument', 'Minimum memory limit can not be less than memory reservation limit, see usage');
    }
    memory.reservation = r.memoryReservation;
  }
  if (r.memorySwappiness !== undefined && r.memorySwappiness !== -1) {
    if (r.memorySwappiness < 0 || r.memorySwappiness > 100) {
      throw new BerthError('invalid_argument', `Invalid value: ${r.memorySwappiness}, valid memory swappiness range is 0-100`);
    }
    memory.swappiness = r.memorySwappiness;
  }
  if (r.oomKillDisable) memory.disableOOMKiller = true;
  if (Object.keys(memory).length) out.memory = memory;

  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (r.nanoCpus && (r.cpuQuota || r.cpuPeriod)) {
    throw new BerthError('invalid_argument', 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
  }
  if (r.cpuShares) cpu.shares = r.cpuShares;
  if (r.nanoCpus) {
    if (r.nanoCpus < 0) throw new BerthError('invalid_argument', 'Range of CPUs is from 0.01 to the number of CPUs available');
    cpu.period = CPU_PERIOD;
    cpu.quota = Math.floor((r.nanoCpus * CPU_PERIOD) / 1e9);
  }
  if (r.cpuPeriod) cpu.period = r.cpuPeriod;
  if (r.cpuQuota) cpu.quota = r.cpuQuota;
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  if (Object.keys(cpu).length) out.cpu = cpu;

  if (r.pidsLimit && r.pidsLimit > 0) out.pids = { limit: r.pidsLimit };
  if (r.blkioWeight) out.blockIO = { weight: r.blkioWeight };
  return out;
}

const NAMESPACE_ORDER: Exclude<NamespaceType, 'user'>[] = ['mount', 'network', 'uts', 'pid', 'ipc', 'cgroup'];

function buildNamespaces(input: SpecInput): Namespace[] {
  const out: Namespace[] = [];
  for (const type of NAMESPACE_ORDER) {
    // docker's cgroupns default: private on v2, host on v1.
    const fallback: NamespaceSetting = type === 'cgroup' && input.host.cgroupVersion === 1 ? 'host' : 'private';
    const setting = input.namespaces?.[type] ?? fallback;
    if (setting === 'host') {
      if (type === 'mount') throw new BerthError('invalid_argument', 'a container cannot share the host mount namespace');
      continue;
    }
    out.push(setting === 'private' ? { type } : { type, path: setting.path });
  }
  return out;
}

/** Namespaced sysctls docker accepts (moby opts.ValidateSysctl), with the namespace each needs. */
function validateSysctls(sysctls: Record<string, string>, ns: Namespace[]): void {
  const has = (t: NamespaceType) => ns.some((n) => n.type === t);
  const ipc = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);
  for (const key of Object.keys(sysctls)) {
    let needs: NamespaceType | undefined;
    if (ipc.has(key) || key.startsWith('fs.mqueue.')) needs = 'ipc';
    else if (key.startsWith('net.')) needs = 'network';
    else if (key === 'kernel.domainname' || key === 'kernel.hostname') needs = 'uts';
    if (!needs) throw new BerthError('invalid_argument', `sysctl '${key}' is not allowed`);
    if (!has(needs)) throw new BerthError('invalid_argument', `sysctl '${key}' is not allowed in the host ${needs} namespace`);
  }
}

const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);

function userMounts(input: SpecInput): SpecMount[] {
  const out: SpecMount[] = [];
  for (const b of input.binds ?? []) {
    if (!b.destination.startsWith('/')) throw new BerthError('invalid_argument', `invalid mount config: mount path must be absolute: ${b.destination}`);
    const propagation = b.propagation ?? 'rprivate';
    if (!PROPAGATIONS.has(propagation)) throw new BerthError('invalid_argument', `invalid propagation mode: ${propagation}`);
    out.push({
      destination: b.destination,
      type: 'bind',
      source: b.source,
      options: [b.recursive === false ? 'bind' : 'rbind', b.readonly ? 'ro' : 'rw', propagation],
    });
  }
  for (const t of input.tmpfs ?? []) {
    if (!t.destination.startsWith('/')) throw new BerthError('invalid_argument', `invalid mount config: mount path must be absolute: ${t.destination}`);
    // docker's tmpfs defaults, which the user's options follow (and so override).
    out.push({ destination: t.destination, type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', ...(t.options ?? [])] });
  }
  const seen = new Set<string>();
  for (const m of out) {
    if (seen.has(m.destination)) throw new BerthError('invalid_argument', `Duplicate mount point: ${m.destination}`);
    seen.add(m.destination);
  }
  return out;
}

export function buildSpec(input: SpecInput): RuntimeSpec {
  if (!input.args.length) throw new BerthError('invalid_argument', 'no command specified');
  const host = input.host;
  const namespaces = buildNamespaces(input);
  const caps = tweakCapabilities({ add: input.capAdd, drop: input.capDrop, privileged: input.privileged, available: host.boundingCaps });

  // Mounts: defaults, minus any the user mounts over, then the user's.
  const mine = userMounts(input);
  const userDestinations = new Set(mine.map((m) => m.destination));
  const defaults = defaultMounts(input.shmSize ?? DEFAULT_SHM_SIZE).filter((m) => !userDestinations.has(m.destination));
  for (const m of defaults) {
    const clearRo = input.privileged && (m.destination === '/sys' || m.type === 'cgroup');
    if (clearRo) m.options = (m.options ?? []).filter((o) => o !== 'ro');
    // A read-only rootfs makes the remaining default mounts read-only too (docker: all but /proc and /dev*).
    if (input.readonlyRootfs && !['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue'].includes(m.destination) && !m.options?.includes('ro')) {
      m.options = [...(m.options ?? []), 'ro'];
    }
  }
  // With the network namespace of the host, /sys can't be a fresh sysfs (it would be the host's): bind it like docker.
  if (!namespaces.some((n) => n.type === 'network')) {
    const sys = defaults.find((m) => m.destination === '/sys');
    if (sys) Object.assign(sys, { type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', ...(input.privileged ? [] : ['ro'])] });
  }

  const sysctl = input.sysctls ?? {};
  validateSysctls(sysctl, namespaces);

  let seccomp: RuntimeSpec['linux']['seccomp'];
  const setting = input.seccomp ?? 'default';
  // A privileged container runs unconfined unless given a profile of its own (docker does the same).
  if (setting !== 'unconfined' && !(input.privileged && setting === 'default')) {
    const profile = setting === 'default' ? DEFAULT_SECCOMP_PROFILE : setting.profile;
    seccomp = seccompFromProfile(profile, { caps, host });
  }

  const user = input.user ?? { uid: 0, gid: 0 };
  const spec: RuntimeSpec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: !!input.terminal,
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids?.length ? { additionalGids: [...user.additionalGids] } : {}) },
      args: [...input.args],
      env: [...input.env],
      cwd: input.cwd || '/',
      // docker 20.10+: no inheritable or ambient capabilities.
      capabilities: { bounding: caps, effective: [...caps], permitted: [...caps] },
      noNewPrivileges: !!input.noNewPrivileges,
      oomScoreAdj: input.oomScoreAdj ?? 0,
    },
    root: { path: input.rootfs, readonly: !!input.readonlyRootfs },
    mounts: [...defaults, ...mine],
    linux: {
      namespaces,
      resources: buildResources(input),
      maskedPaths: input.privileged ? [] : [...DEFAULT_MASKED_PATHS],
      readonlyPaths: input.privileged ? [] : [...DEFAULT_READONLY_PATHS],
    },
  };
  const rlimits = clampRlimits(input.ulimits, host.rlimitHard);
  if (rlimits.length) spec.process.rlimits = rlimits;
  if (input.hostname && namespaces.some((n) => n.type === 'uts')) spec.hostname = input.hostname;
  if (input.annotations && Object.keys(input.annotations).length) spec.annotations = { ...input.annotations };
  if (input.cgroupsPath) spec.linux.cgroupsPath = input.cgroupsPath;
  if (Object.keys(sysctl).length) spec.linux.sysctl = { ...sysctl };
  if (seccomp) spec.linux.seccomp = seccomp;
  return spec;
}
