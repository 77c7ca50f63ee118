// Container logs: docker's json-file format, written by berth-monitor and read
// (across rotations) by src/monitor's JsonLogReader. A parsed entry carries
// its time as unix seconds too, for --since/--until.
import type { LogEntry } from './types.js';

export interface ParsedEntry extends LogEntry {
  /** unix seconds with the fraction (for since/until) */
  seconds: number;
}
