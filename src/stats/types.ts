// Docker's stats JSON (the ContainerStatsResponse schema of the Engine API,
// moby's api/types/container StatsResponse). Field names and omissions follow
// Go's encoding of those structs: `omitempty` fields are left out when zero.

export interface BlkioStatEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/** v1 fills the first two arrays (and [] for the rest); v2 only io_service_bytes_recursive; a stopped container has all null. */
export interface BlkioStats {
  io_service_bytes_recursive: BlkioStatEntry[] | null;
  io_serviced_recursive: BlkioStatEntry[] | null;
  io_queue_recursive: BlkioStatEntry[] | null;
  io_service_time_recursive: BlkioStatEntry[] | null;
  io_wait_time_recursive: BlkioStatEntry[] | null;
  io_merged_recursive: BlkioStatEntry[] | null;
  io_time_recursive: BlkioStatEntry[] | null;
  sectors_recursive: BlkioStatEntry[] | null;
}

export interface CPUUsage {
  /** nanoseconds */
  total_usage: number;
  /** cgroup v1 only (cpuacct.usage_percpu) */
  percpu_usage?: number[];
  usage_in_kernelmode: number;
  usage_in_usermode: number;
}

export interface ThrottlingData {
  periods: number;
  throttled_periods: number;
  /** nanoseconds */
  throttled_time: number;
}

export interface CPUStats {
  cpu_usage: CPUUsage;
  /** host CPU time in nanoseconds, from /proc/stat (omitted when 0) */
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: ThrottlingData;
}

export interface MemoryStats {
  usage?: number;
  /** cgroup v1 only */
  max_usage?: number;
  stats?: Record<string, number>;
  failcnt?: number;
  limit?: number;
}

export interface PidsStats {
  current?: number;
  /** 0 (omitted) means no limit */
  limit?: number;
}

export interface NetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

export interface ContainerStatsResponse {
  name?: string;
  id?: string;
  /** RFC 3339 with nanoseconds; 0001-01-01T00:00:00Z for a container that is not running */
  read: string;
  preread: string;
  pids_stats: PidsStats;
  blkio_stats: BlkioStats;
  /** Windows only: always 0 */
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CPUStats;
  precpu_stats: CPUStats;
  memory_stats: MemoryStats;
  networks?: Record<string, NetworkStats>;
}

/** One reading of a container's counters: the parts of a response that do not depend on the previous reading. */
export interface StatsSample {
  read: string;
  pids_stats: PidsStats;
  blkio_stats: BlkioStats;
  cpu_stats: CPUStats;
  memory_stats: MemoryStats;
  networks?: Record<string, NetworkStats>;
}

export interface ReadOptions {
  /** where the cgroup hierarchies are mounted (default /sys/fs/cgroup) */
  cgroupRoot?: string;
  /** procfs (default /proc): stat for the host CPU time, <pid>/net/dev for the container's network */
  procRoot?: string;
  /** 1 or 2; detected from cgroupRoot when absent */
  cgroupVersion?: 1 | 2;
  /** the cap for "no limit" memory, as dockerd's machineMemory (default os.totalmem()) */
  hostMemory?: number;
  /** the sample's time (default now) */
  now?: () => string;
}
