// berth stats: docker's stats table from GET /containers/{id}/stats, with the
// docker CLI's calculations (cli/command/container/stats_helpers.go) and
// columns (formatter_stats.go). --no-stream asks each container for one
// primed sample (stream=0) and prints once; live mode follows each
// container's stream and redraws the table every second.
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerStatsResponse, MemoryStats, BlkioStats, NetworkStats } from '../../stats/index.js';
import { ApiError, jsonStream, type ApiClient } from '../client.js';
import { CliError, bool, str, type CommandContext, type Handler } from '../context.js';
import { bytesSize, context, formatList, humanSizeWithPrecision, TemplateError } from '../format/index.js';

/** What one row shows, before formatting (docker's StatsEntry). */
export interface StatsEntry {
  /** the name or ID the user gave, or the full ID when listing */
  container: string;
  /** with docker's leading slash */
  name: string;
  id: string;
  cpuPercentage: number;
  memory: number;
  memoryLimit: number;
  memoryPercentage: number;
  networkRx: number;
  networkTx: number;
  blockRead: number;
  blockWrite: number;
  pidsCurrent: number;
  /** no usable sample (the stream failed or ended): every column shows "--" */
  invalid: boolean;
}

export const DEFAULT_STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const STATS_HEADERS = {
  Container: 'CONTAINER',
  Name: 'NAME',
  ID: 'CONTAINER ID',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

/** (cpuDelta / systemDelta) * online CPUs * 100, 0 unless both deltas are positive. */
export function cpuPercent(v: ContainerStatsResponse): number {
  const cpuDelta = v.cpu_stats.cpu_usage.total_usage - (v.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (v.cpu_stats.system_cpu_usage ?? 0) - (v.precpu_stats?.system_cpu_usage ?? 0);
  const onlineCpus = v.cpu_stats.online_cpus || (v.cpu_stats.cpu_usage.percpu_usage?.length ?? 0);
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * onlineCpus * 100 : 0;
}

/** Usage without the page cache: v1 total_inactive_file, v2 inactive_file, when below usage. */
export function memUsageNoCache(mem: MemoryStats): number {
  const usage = mem.usage ?? 0;
  const v1 = mem.stats?.total_inactive_file;
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = mem.stats?.inactive_file ?? 0;
  if (v2 < usage) return usage - v2;
  return usage;
}

/** Bytes read and written: entries whose op starts with r/R or w/W. */
export function blockIo(blkio: BlkioStats | undefined): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const e of blkio?.io_service_bytes_recursive ?? []) {
    const op = e.op[0];
    if (op === 'r' || op === 'R') read += e.value;
    else if (op === 'w' || op === 'W') write += e.value;
  }
  return { read, write };
}

export function networkIo(networks: Record<string, NetworkStats> | undefined): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  return { rx, tx };
}

export function emptyEntry(container: string): StatsEntry {
  return {
    container, name: '', id: '', cpuPercentage: 0, memory: 0, memoryLimit: 0, memoryPercentage: 0,
    networkRx: 0, networkTx: 0, blockRead: 0, blockWrite: 0, pidsCurrent: 0, invalid: false,
  };
}

export function entryOf(container: string, v: ContainerStatsResponse): StatsEntry {
  const memory = memUsageNoCache(v.memory_stats ?? {});
  const memoryLimit = v.memory_stats?.limit ?? 0;
  const blk = blockIo(v.blkio_stats);
  const net = networkIo(v.networks);
  return {
    container,
    name: v.name ?? '',
    id: v.id ?? '',
    cpuPercentage: cpuPercent(v),
    memory,
    memoryLimit,
    memoryPercentage: memoryLimit !== 0 ? (memory / memoryLimit) * 100 : 0,
    networkRx: net.rx,
    networkTx: net.tx,
    blockRead: blk.read,
    blockWrite: blk.write,
    pidsCurrent: v.pids_stats?.current ?? 0,
    invalid: false,
  };
}

const percent = (value: number) => `${value.toFixed(2)}%`;
const decimal = (value: number) => humanSizeWithPrecision(value, 3);

/** A row's template fields; keys in Go's sorted map order, so {{json .}} reads like docker's. */
export function statsRow(e: StatsEntry, trunc: boolean) {
  const bad = e.invalid;
  const id = trunc ? e.id.replace(/^[^:]*:/, '').slice(0, 12) : e.id;
  return context({
    BlockIO: bad ? '--' : `${decimal(e.blockRead)} / ${decimal(e.blockWrite)}`,
    CPUPerc: bad ? '--' : percent(e.cpuPercentage),
    Container: e.container,
    ID: id,
    MemPerc: bad ? '--' : percent(e.memoryPercentage),
    MemUsage: bad ? '-- / --' : `${bytesSize(e.memory)} / ${bytesSize(e.memoryLimit)}`,
    Name: e.name.length > 1 ? e.name.slice(1) : '--',
    NetIO: bad ? '--' : `${decimal(e.networkRx)} / ${decimal(e.networkTx)}`,
    PIDs: bad ? '--' : String(e.pidsCurrent),
  });
}

export function renderStats(entries: readonly StatsEntry[], format: string, trunc: boolean): string {
  try {
    return formatList(
      entries.map((e) => statsRow(e, trunc)),
      { format, defaultTable: DEFAULT_STATS_TABLE, headers: STATS_HEADERS },
    );
  } catch (err) {
    if (err instanceof TemplateError) throw new CliError(err.message, 1);
    throw err;
  }
}

/** docker's live redraw: cursor home, each line followed by erase-to-end-of-line, then erase below. */
export function redraw(table: string): string {
  const lines = table.endsWith('\n') ? table.slice(0, -1).split('\n') : table.split('\n');
  return '\x1b[H' + lines.map((l) => `${l}\x1b[K\n`).join('') + '\x1b[J';
}

export interface StatsOptions {
  all: boolean;
  noStream: boolean;
  noTrunc: boolean;
  format: string;
  /** as given; empty means every running container (every container with all) */
  containers: string[];
  /** between redraws in live mode */
  refreshMs?: number;
}

const statsPath = (container: string) => `/containers/${encodeURIComponent(container)}/stats`;
const daemonError = (err: ApiError) => `Error response from daemon: ${err.message}`;

async function listContainers(client: ApiClient, all: boolean): Promise<string[]> {
  const listed = (await client.json<{ Id: string }[] | null>('GET', '/containers/json', { query: { all: all || undefined } })) ?? [];
  return listed.map((c) => c.Id);
}

/** One container followed in live mode: its latest entry, and how to stop following. */
class Follower {
  entry: StatsEntry;
  error: string | undefined;
  readonly first: Promise<void>;
  #response: IncomingMessage | undefined;
  #stopped = false;

  constructor(client: ApiClient, readonly container: string) {
    this.entry = emptyEntry(container);
    this.first = this.#follow(client);
  }

  /** Resolves at the first sample, or when the stream fails or ends; keeps updating the entry after that. */
  #follow(client: ApiClient): Promise<void> {
    return new Promise<void>((settle) => {
      const run = async () => {
        try {
          const res = await client.request('GET', statsPath(this.container), { query: { stream: true } });
          this.#response = res;
          if (this.#stopped) res.destroy();
          for await (const v of jsonStream<ContainerStatsResponse>(res)) {
            this.entry = entryOf(this.container, v);
            settle();
          }
        } catch (err) {
          if (this.#stopped) return;
          if (err instanceof ApiError) this.error = daemonError(err);
          else if (!(err instanceof Error && 'code' in err && err.code === 'ECONNRESET')) this.error = err instanceof Error ? err.message : String(err);
        } finally {
          if (!this.#stopped) this.entry = { ...this.entry, invalid: true };
          settle();
        }
      };
      void run();
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#response?.destroy();
  }
}

/** The stats command's body; live mode runs until `signal` aborts (the process is normally ended by a signal). */
export async function runStats(ctx: CommandContext, opts: StatsOptions, signal?: AbortSignal): Promise<number> {
  const client = ctx.client();
  const trunc = !opts.noTrunc;
  renderStats([], opts.format, trunc); // a bad template fails before any request, as docker's does
  const listing = opts.containers.length === 0;

  if (opts.noStream) {
    const names = listing ? await listContainers(client, opts.all) : opts.containers;
    const results = await Promise.all(
      names.map(async (name): Promise<StatsEntry | string | undefined> => {
        try {
          return entryOf(name, await client.json<ContainerStatsResponse>('GET', statsPath(name), { query: { stream: false } }));
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          return listing && err.status === 404 ? undefined : daemonError(err); // a listed container may be gone already
        }
      }),
    );
    const errors = results.filter((r): r is string => typeof r === 'string');
    if (errors.length) throw new CliError(errors.join('\n'), 1);
    ctx.stdout.write(renderStats(results.filter((r): r is StatsEntry => typeof r === 'object'), opts.format, trunc));
    return 0;
  }

  const followers = new Map<string, Follower>();
  const sync = async (names: string[]) => {
    for (const name of names) if (!followers.has(name)) followers.set(name, new Follower(client, name));
    if (!listing) return;
    for (const [name, f] of followers) {
      if (!names.includes(name)) {
        f.stop();
        followers.delete(name);
      }
    }
  };
  try {
    await sync(listing ? await listContainers(client, opts.all) : opts.containers);
    await Promise.all([...followers.values()].map((f) => f.first));
    const errors = [...followers.values()].map((f) => f.error).filter((e): e is string => e !== undefined);
    if (errors.length && !listing) throw new CliError(errors.join('\n'), 1);
    const tty = ctx.stdout.isTTY === true;
    while (!signal?.aborted) {
      const table = renderStats([...followers.values()].map((f) => f.entry), opts.format, trunc);
      ctx.stdout.write(tty ? redraw(table) : table);
      try {
        await sleep(opts.refreshMs ?? 1000, undefined, signal ? { signal } : {});
      } catch {
        break; // aborted
      }
      if (listing) await sync(await listContainers(client, opts.all));
    }
    return 0;
  } finally {
    for (const f of followers.values()) f.stop();
  }
}

export const stats: Handler = async (ctx, { flags, args }) =>
  runStats(ctx, {
    all: bool(flags, 'all'),
    noStream: bool(flags, 'no-stream'),
    noTrunc: bool(flags, 'no-trunc'),
    format: str(flags, 'format'),
    containers: args,
  });
