// cgroup readers for v1 (one hierarchy per controller) and v2 (one unified
// tree), shaped into docker's stats fields the way dockerd does from
// containerd's metrics (daemon/stats_unix.go statsV1/statsV2). Every file is
// optional: a missing controller or file reads as absent, never as an error.
import { readFile, statfs, access } from 'node:fs/promises';
import { join } from 'node:path';
import { CLOCK_TICKS_PER_SECOND } from './proc.js';
import type { BlkioStatEntry, BlkioStats, CPUStats, MemoryStats, PidsStats } from './types.js';

const CGROUP2_SUPER_MAGIC = 0x63677270;
const NANOS_PER_SECOND = 1_000_000_000;

/** The counters one cgroup yields; system CPU time and networks come from procfs. */
export interface CgroupCounters {
  pids_stats: PidsStats;
  blkio_stats: BlkioStats;
  cpu_stats: CPUStats;
  memory_stats: MemoryStats;
}

/** As runc: v2 when the root is a cgroup2 mount (statfs magic) or has cgroup.controllers (a unified tree, e.g. a fixture). */
export async function detectCgroupVersion(root: string): Promise<1 | 2> {
  try {
    if ((await statfs(root)).type === CGROUP2_SUPER_MAGIC) return 2;
  } catch {
    /* not there: decided below */
  }
  try {
    await access(join(root, 'cgroup.controllers'));
    return 2;
  } catch {
    return 1;
  }
}

/** A file's text, or undefined for any failure (absent controller, removed cgroup). */
async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A single number, "max" (no limit) as undefined. */
export function parseNumber(text: string | undefined): number | undefined {
  const s = text?.trim();
  if (!s || s === 'max') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** "key value" lines (memory.stat, cpu.stat, cpuacct.stat, memory.events). */
export function parseKeyValues(text: string | undefined): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && Number.isFinite(Number(value))) values.set(key, Number(value));
  }
  return values;
}

/** blkio.throttle.* files: "8:0 Read 4096" lines; the closing "Total N" line is not a device entry. */
export function parseBlkioV1(text: string | undefined): BlkioStatEntry[] {
  const entries: BlkioStatEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3) continue;
    const [major, minor] = (fields[0] as string).split(':').map(Number);
    const value = Number(fields[2]);
    if (!Number.isFinite(major) || !Number.isFinite(minor) || !Number.isFinite(value)) continue;
    entries.push({ major: major as number, minor: minor as number, op: fields[1] as string, value });
  }
  return entries;
}

/** io.stat: "8:0 rbytes=1 wbytes=2 rios=..." lines -> a read and a write entry per device, as dockerd's statsV2. */
export function parseIoStatV2(text: string | undefined): BlkioStatEntry[] {
  const entries: BlkioStatEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [device, ...pairs] = line.trim().split(/\s+/);
    const [major, minor] = (device ?? '').split(':').map(Number);
    if (!Number.isFinite(major) || !Number.isFinite(minor) || pairs.length === 0) continue;
    const kv = new Map(pairs.map((p) => p.split('=') as [string, string]));
    const m = major as number;
    const n = minor as number;
    entries.push({ major: m, minor: n, op: 'read', value: Number(kv.get('rbytes') ?? 0) || 0 });
    entries.push({ major: m, minor: n, op: 'write', value: Number(kv.get('wbytes') ?? 0) || 0 });
  }
  return entries;
}

/** dockerd: a limit above the machine's memory (v1's huge "unlimited", v2's "max") is reported as the machine's memory. */
function capMemoryLimit(limit: number | undefined, hostMemory: number): number | undefined {
  if (limit === undefined) return hostMemory > 0 ? hostMemory : undefined;
  return limit > hostMemory && hostMemory > 0 ? hostMemory : limit;
}

/** Go's omitempty on the uint64 fields: zero values are left out. */
function withoutZeros<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== 0)) as T;
}

const pick = (values: Map<string, number>, keys: readonly string[]): Record<string, number> =>
  Object.fromEntries(keys.map((k) => [k, values.get(k) ?? 0]));

/** The memory.stat keys dockerd reports on cgroup v1, in its order. */
export const V1_MEMORY_KEYS = [
  'cache', 'rss', 'rss_huge', 'mapped_file', 'dirty', 'writeback', 'pgpgin', 'pgpgout', 'pgfault', 'pgmajfault',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable',
  'hierarchical_memory_limit', 'hierarchical_memsw_limit',
  'total_cache', 'total_rss', 'total_rss_huge', 'total_mapped_file', 'total_dirty', 'total_writeback',
  'total_pgpgin', 'total_pgpgout', 'total_pgfault', 'total_pgmajfault', 'total_inactive_anon', 'total_active_anon',
  'total_inactive_file', 'total_active_file', 'total_unevictable',
] as const;

/** The memory.stat keys dockerd reports on cgroup v2 (not compatible with v1's). */
export const V2_MEMORY_KEYS = [
  'anon', 'file', 'kernel_stack', 'slab', 'sock', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback', 'anon_thp',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'slab_reclaimable', 'slab_unreclaimable',
  'pgfault', 'pgmajfault', 'workingset_refault', 'workingset_activate', 'workingset_nodereclaim', 'pgrefill', 'pgscan',
  'pgsteal', 'pgactivate', 'pgdeactivate', 'pglazyfree', 'pglazyfreed', 'thp_fault_alloc', 'thp_collapse_alloc',
] as const;

/** Directory names a v1 controller may be mounted under (cpu and cpuacct are often co-mounted). */
const V1_MOUNTS: Record<string, readonly string[]> = {
  memory: ['memory'],
  cpu: ['cpu', 'cpu,cpuacct', 'cpuacct,cpu'],
  cpuacct: ['cpuacct', 'cpu,cpuacct', 'cpuacct,cpu'],
  pids: ['pids'],
  blkio: ['blkio'],
};

export async function readCgroupV1(root: string, cgroupsPath: string, hostMemory: number): Promise<CgroupCounters> {
  const read = async (controller: string, file: string): Promise<string | undefined> => {
    for (const mount of V1_MOUNTS[controller] ?? [controller]) {
      const text = await readText(join(root, mount, cgroupsPath, file));
      if (text !== undefined) return text;
    }
    return undefined;
  };
  const [usage, percpu, cpuacctStat, cpuStat, memUsage, memMax, memFailcnt, memLimit, memStat, pidsCurrent, pidsMax, bytesRec, bytes, servicedRec, serviced] =
    await Promise.all([
      read('cpuacct', 'cpuacct.usage'),
      read('cpuacct', 'cpuacct.usage_percpu'),
      read('cpuacct', 'cpuacct.stat'),
      read('cpu', 'cpu.stat'),
      read('memory', 'memory.usage_in_bytes'),
      read('memory', 'memory.max_usage_in_bytes'),
      read('memory', 'memory.failcnt'),
      read('memory', 'memory.limit_in_bytes'),
      read('memory', 'memory.stat'),
      read('pids', 'pids.current'),
      read('pids', 'pids.max'),
      read('blkio', 'blkio.throttle.io_service_bytes_recursive'),
      read('blkio', 'blkio.throttle.io_service_bytes'),
      read('blkio', 'blkio.throttle.io_serviced_recursive'),
      read('blkio', 'blkio.throttle.io_serviced'),
    ]);

  const ticks = parseKeyValues(cpuacctStat);
  const throttling = parseKeyValues(cpuStat);
  const percpuUsage = (percpu ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  const cpu_stats: CPUStats = {
    cpu_usage: {
      total_usage: parseNumber(usage) ?? 0,
      ...(percpuUsage.length ? { percpu_usage: percpuUsage } : {}),
      usage_in_kernelmode: ((ticks.get('system') ?? 0) * NANOS_PER_SECOND) / CLOCK_TICKS_PER_SECOND,
      usage_in_usermode: ((ticks.get('user') ?? 0) * NANOS_PER_SECOND) / CLOCK_TICKS_PER_SECOND,
    },
    throttling_data: {
      periods: throttling.get('nr_periods') ?? 0,
      throttled_periods: throttling.get('nr_throttled') ?? 0,
      throttled_time: throttling.get('throttled_time') ?? 0,
    },
  };

  const memory_stats: MemoryStats =
    memUsage === undefined
      ? {}
      : withoutZeros({
          usage: parseNumber(memUsage),
          max_usage: parseNumber(memMax),
          stats: pick(parseKeyValues(memStat), V1_MEMORY_KEYS),
          failcnt: parseNumber(memFailcnt),
          limit: capMemoryLimit(parseNumber(memLimit), hostMemory),
        });

  return {
    cpu_stats,
    memory_stats,
    pids_stats: withoutZeros({ current: parseNumber(pidsCurrent), limit: parseNumber(pidsMax) }),
    blkio_stats: {
      io_service_bytes_recursive: parseBlkioV1(bytesRec ?? bytes),
      io_serviced_recursive: parseBlkioV1(servicedRec ?? serviced),
      io_queue_recursive: [],
      io_service_time_recursive: [],
      io_wait_time_recursive: [],
      io_merged_recursive: [],
      io_time_recursive: [],
      sectors_recursive: [],
    },
  };
}

export async function readCgroupV2(root: string, cgroupsPath: string, hostMemory: number): Promise<CgroupCounters> {
  const dir = join(root, cgroupsPath);
  const [cpuStat, memCurrent, memMax, memStat, memEvents, pidsCurrent, pidsMax, ioStat] = await Promise.all(
    ['cpu.stat', 'memory.current', 'memory.max', 'memory.stat', 'memory.events', 'pids.current', 'pids.max', 'io.stat'].map((f) =>
      readText(join(dir, f)),
    ),
  );
  const cpu = parseKeyValues(cpuStat);
  const micros = (key: string) => (cpu.get(key) ?? 0) * 1000;
  const io = parseIoStatV2(ioStat);
  return {
    cpu_stats: {
      cpu_usage: { total_usage: micros('usage_usec'), usage_in_kernelmode: micros('system_usec'), usage_in_usermode: micros('user_usec') },
      throttling_data: { periods: cpu.get('nr_periods') ?? 0, throttled_periods: cpu.get('nr_throttled') ?? 0, throttled_time: micros('throttled_usec') },
    },
    memory_stats:
      memCurrent === undefined
        ? {}
        : withoutZeros({
            usage: parseNumber(memCurrent),
            stats: pick(parseKeyValues(memStat), V2_MEMORY_KEYS),
            failcnt: parseKeyValues(memEvents).get('oom'),
            limit: capMemoryLimit(parseNumber(memMax), hostMemory),
          }),
    pids_stats: withoutZeros({ current: parseNumber(pidsCurrent), limit: parseNumber(pidsMax) }),
    blkio_stats: {
      io_service_bytes_recursive: io.length ? io : null,
      io_serviced_recursive: null,
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
    },
  };
}
