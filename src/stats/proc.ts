// procfs text: the host's CPU time (/proc/stat) and a network namespace's
// interface counters (/proc/<pid>/net/dev).
import type { NetworkStats } from './types.js';

const NANOS_PER_SECOND = 1_000_000_000;
/** USER_HZ: the unit of /proc/stat; dockerd uses the same constant rather than sysconf. */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface SystemCpu {
  /** nanoseconds, as dockerd's getSystemCPUUsage: the first 7 fields of the "cpu" line */
  systemUsage: number;
  /** the cpuN lines */
  onlineCpus: number;
}

/** dockerd's getSystemCPUUsage: user+nice+system+idle+iowait+irq+softirq jiffies in nanoseconds, and the number of cpuN lines. */
export function parseProcStat(text: string): SystemCpu {
  let systemUsage = 0;
  let onlineCpus = 0;
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts[0] === 'cpu' && parts.length >= 8) {
      const ticks = parts.slice(1, 8).reduce((sum, v) => sum + (Number(v) || 0), 0);
      systemUsage = (ticks * NANOS_PER_SECOND) / CLOCK_TICKS_PER_SECOND;
    } else if (/^cpu\d+$/.test(parts[0] ?? '')) {
      onlineCpus++;
    }
  }
  return { systemUsage, onlineCpus };
}

/** Per interface except lo: receive bytes/packets/errs/drop are fields 0-3, transmit 8-11. */
export function parseNetDev(text: string): Record<string, NetworkStats> {
  const networks: Record<string, NetworkStats> = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue; // the two header lines have '|' but no ':'
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (!name || name === 'lo' || f.length < 16 || f.some((n) => !Number.isFinite(n))) continue;
    const at = (i: number) => f[i] ?? 0;
    networks[name] = {
      rx_bytes: at(0),
      rx_packets: at(1),
      rx_errors: at(2),
      rx_dropped: at(3),
      tx_bytes: at(8),
      tx_packets: at(9),
      tx_errors: at(10),
      tx_dropped: at(11),
    };
  }
  return networks;
}
