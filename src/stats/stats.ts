// One sample of a container's counters, and docker's stats JSON from the
// current and previous samples (precpu_stats and preread come from the
// previous one, as dockerd's ContainerStats keeps them between frames).
import { readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import type { StatsTarget } from '../container/types.js';
import { detectCgroupVersion, readCgroupV1, readCgroupV2 } from './cgroup.js';
import { parseNetDev, parseProcStat } from './proc.js';
import type { BlkioStats, ContainerStatsResponse, CPUStats, ReadOptions, StatsSample } from './types.js';

/** Go's zero time.Time, which dockerd sends as read/preread when there is no sample. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Now as Go's RFC3339Nano in UTC: nanosecond fraction without trailing zeros. */
export function nowRfc3339Nano(): string {
  const nanos = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  const seconds = nanos / 1_000_000_000n;
  const fraction = (nanos % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  const whole = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${whole}${fraction ? `.${fraction}` : ''}Z`;
}

const nullBlkio = (): BlkioStats => ({
  io_service_bytes_recursive: null,
  io_serviced_recursive: null,
  io_queue_recursive: null,
  io_service_time_recursive: null,
  io_wait_time_recursive: null,
  io_merged_recursive: null,
  io_time_recursive: null,
  sectors_recursive: null,
});

const zeroCpu = (): CPUStats => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

/** What dockerd publishes for a container that is not running: name and id over Go's zero values. */
export function emptySample(): StatsSample {
  return { read: ZERO_TIME, pids_stats: {}, blkio_stats: nullBlkio(), cpu_stats: zeroCpu(), memory_stats: {} };
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Reads the container's cgroup, the host CPU time and the container's network counters, all in parallel. */
export async function readStats(target: StatsTarget, opts: ReadOptions = {}): Promise<StatsSample> {
  if (!target.running) return emptySample();
  const cgroupRoot = opts.cgroupRoot ?? '/sys/fs/cgroup';
  const procRoot = opts.procRoot ?? '/proc';
  const hostMemory = opts.hostMemory ?? totalmem();
  const version = opts.cgroupVersion ?? (await detectCgroupVersion(cgroupRoot));
  const read = (opts.now ?? nowRfc3339Nano)();
  const [counters, procStat, netDev] = await Promise.all([
    version === 2 ? readCgroupV2(cgroupRoot, target.cgroupsPath, hostMemory) : readCgroupV1(cgroupRoot, target.cgroupsPath, hostMemory),
    readOptional(join(procRoot, 'stat')),
    target.pid > 0 ? readOptional(join(procRoot, String(target.pid), 'net', 'dev')) : Promise.resolve(undefined),
  ]);
  const system = parseProcStat(procStat ?? '');
  const cpu_stats: CPUStats = { ...counters.cpu_stats };
  // omitempty: a zero system usage or CPU count is left out, as dockerd's JSON does.
  if (system.systemUsage) cpu_stats.system_cpu_usage = system.systemUsage;
  if (system.onlineCpus) cpu_stats.online_cpus = system.onlineCpus;
  const sample: StatsSample = { read, ...counters, cpu_stats };
  const networks = netDev === undefined ? {} : parseNetDev(netDev);
  if (Object.keys(networks).length) sample.networks = networks;
  return sample;
}

/** Docker's stats JSON: the current sample, with precpu_stats/preread from the previous one (zero when none). */
export function toDockerStats(current: StatsSample, previous: StatsSample | undefined, target: Pick<StatsTarget, 'id' | 'name'>): ContainerStatsResponse {
  const response: ContainerStatsResponse = {
    name: target.name,
    id: target.id,
    read: current.read,
    preread: previous?.read ?? ZERO_TIME,
    pids_stats: current.pids_stats,
    blkio_stats: current.blkio_stats,
    num_procs: 0,
    storage_stats: {},
    cpu_stats: current.cpu_stats,
    precpu_stats: previous?.cpu_stats ?? zeroCpu(),
    memory_stats: current.memory_stats,
  };
  if (current.networks) response.networks = current.networks;
  return response;
}
