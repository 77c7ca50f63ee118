// Container resource usage (docker stats) from cgroups v1 or v2 and procfs.
// readStats takes one sample; toDockerStats turns the current and previous
// samples into the Engine API's ContainerStatsResponse. The cgroup and proc
// roots are options so tests can read fixture trees.
export { readStats, toDockerStats, emptySample, nowRfc3339Nano, ZERO_TIME } from './stats.js';
export { detectCgroupVersion } from './cgroup.js';
export type {
  ContainerStatsResponse,
  StatsSample,
  ReadOptions,
  CPUStats,
  MemoryStats,
  PidsStats,
  BlkioStats,
  BlkioStatEntry,
  NetworkStats,
} from './types.js';
