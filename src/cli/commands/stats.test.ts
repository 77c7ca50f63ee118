// berth stats against a tiny fake engine in this file: docker's calculations
// and size units, the --no-stream table, --format, the error for a missing
// container, and live mode's redraws and stream cleanup.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { ContainerStatsResponse } from '../../stats/index.js';
import { tempRoot } from '../../testing/index.js';
import { ApiClient } from '../client.js';
import { CliError, type CommandContext } from '../context.js';
import { blockIo, cpuPercent, entryOf, memUsageNoCache, networkIo, redraw, runStats, statsRow, type StatsOptions } from './stats.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const ID_WEB = 'a'.repeat(64);
const ID_DB = 'b'.repeat(64);
const ZERO = '0001-01-01T00:00:00Z';
const zeroCpu = () => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});
const nullBlkio = {
  io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null,
  io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
};

/** A running container's sample: 0.5 s of CPU over 2 s of host time on 2 CPUs is 50 %. */
const WEB: ContainerStatsResponse = {
  name: '/web',
  id: ID_WEB,
  read: '2025-01-16T13:55:22.165243637Z',
  preread: '2025-01-16T13:55:21.160452595Z',
  pids_stats: { current: 3, limit: 100 },
  blkio_stats: {
    ...nullBlkio,
    io_service_bytes_recursive: [
      { major: 8, minor: 0, op: 'Read', value: 4096 },
      { major: 8, minor: 0, op: 'Write', value: 8192 },
      { major: 8, minor: 0, op: 'Total', value: 12288 },
    ],
  },
  num_procs: 0,
  storage_stats: {},
  cpu_stats: { ...zeroCpu(), cpu_usage: { total_usage: 1_500_000_000, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 20e9, online_cpus: 2 },
  precpu_stats: { ...zeroCpu(), cpu_usage: { total_usage: 1_000_000_000, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 18e9, online_cpus: 2 },
  memory_stats: { usage: 10 * MiB, limit: 8 * GiB, stats: { total_inactive_file: 2 * MiB, inactive_file: MiB } },
  networks: {
    eth0: { rx_bytes: 1234, rx_packets: 1, rx_errors: 0, rx_dropped: 0, tx_bytes: 648, tx_packets: 1, tx_errors: 0, tx_dropped: 0 },
    eth1: { rx_bytes: 1000, rx_packets: 1, rx_errors: 0, rx_dropped: 0, tx_bytes: 0, tx_packets: 0, tx_errors: 0, tx_dropped: 0 },
  },
};
const DB: ContainerStatsResponse = {
  name: '/db', id: ID_DB, read: ZERO, preread: ZERO, pids_stats: {}, blkio_stats: nullBlkio, num_procs: 0, storage_stats: {},
  cpu_stats: zeroCpu(), precpu_stats: zeroCpu(), memory_stats: {},
};

test('docker\'s calculations: CPU %, memory without cache (v1 and v2), block and network I/O', () => {
  assert.equal(cpuPercent(WEB), 50);
  // no online_cpus: the length of percpu_usage counts, as docker's CLI does for older daemons
  const noOnline = { ...WEB, cpu_stats: { ...WEB.cpu_stats, online_cpus: undefined, cpu_usage: { ...WEB.cpu_stats.cpu_usage, percpu_usage: [1, 2, 3, 4] } } };
  assert.equal(cpuPercent(noOnline), 100);
  assert.equal(cpuPercent({ ...WEB, precpu_stats: WEB.cpu_stats }), 0); // no delta, no percentage
  assert.equal(memUsageNoCache({ usage: 10 * MiB, stats: { total_inactive_file: 2 * MiB, inactive_file: MiB } }), 8 * MiB); // v1 first
  assert.equal(memUsageNoCache({ usage: 10 * MiB, stats: { inactive_file: MiB } }), 9 * MiB); // v2
  assert.equal(memUsageNoCache({ usage: MiB, stats: { total_inactive_file: 2 * MiB } }), MiB); // cache above usage: usage as is
  assert.equal(memUsageNoCache({}), 0);
  assert.deepEqual(blockIo(WEB.blkio_stats), { read: 4096, write: 8192 });
  assert.deepEqual(blockIo({ ...nullBlkio, io_service_bytes_recursive: [{ major: 8, minor: 0, op: 'read', value: 5 }, { major: 8, minor: 0, op: 'write', value: 7 }] }), { read: 5, write: 7 });
  assert.deepEqual(networkIo(WEB.networks), { rx: 2234, tx: 648 });
});

test('row fields in docker\'s units: binary memory (BytesSize), 3-digit decimal I/O, two-decimal percentages', () => {
  const entry = entryOf('web', WEB);
  assert.equal(entry.memoryPercentage, ((8 * MiB) / (8 * GiB)) * 100);
  assert.deepEqual({ ...statsRow(entry, true) }, {
    BlockIO: '4.1kB / 8.19kB',
    CPUPerc: '50.00%',
    Container: 'web',
    ID: 'aaaaaaaaaaaa',
    MemPerc: '0.10%',
    MemUsage: '8MiB / 8GiB',
    Name: 'web',
    NetIO: '2.23kB / 648B',
    PIDs: '3',
  });
  const big = entryOf('x', { ...WEB, memory_stats: { usage: 1.5 * GiB + 123 * MiB, limit: 7.6 * GiB }, networks: { eth0: { ...WEB.networks!.eth0!, rx_bytes: 123_456_789, tx_bytes: 9_999 } } });
  assert.equal(statsRow(big, false).MemUsage, '1.62GiB / 7.6GiB');
  assert.equal(statsRow(big, false).NetIO, '123MB / 10kB');
  assert.equal(statsRow(big, false).ID, ID_WEB);
  assert.deepEqual({ ...statsRow({ ...entry, invalid: true, name: '' }, true) }, {
    BlockIO: '--', CPUPerc: '--', Container: 'web', ID: 'aaaaaaaaaaaa', MemPerc: '--', MemUsage: '-- / --', Name: '--', NetIO: '--', PIDs: '--',
  });
});

test('live redraw: cursor home, erase to the end of each line, erase below', () => {
  assert.equal(redraw('A   B\n1   2\n'), '\x1b[HA   B\x1b[K\n1   2\x1b[K\n\x1b[J');
});

interface Fake {
  socket: string;
  listed: string[];
  listedAll: string[];
  openStreams: Set<ServerResponse>;
  queries: string[];
}

async function fakeEngine(t: TestContext): Promise<Fake> {
  const dir = await tempRoot(t, 'berth-stats-cli-');
  const fake: Fake = { socket: join(dir, 'engine.sock'), listed: [ID_WEB], listedAll: [ID_WEB, ID_DB], openStreams: new Set(), queries: [] };
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.50' });
    res.end(JSON.stringify(body) + '\n');
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://engine');
    const path = url.pathname.replace(/^\/v1\.\d+/, '');
    if (path === '/_ping') {
      res.writeHead(200, { 'Api-Version': '1.50' }).end('OK');
      return;
    }
    if (path === '/containers/json') {
      send(res, 200, (url.searchParams.get('all') === '1' ? fake.listedAll : fake.listed).map((Id) => ({ Id })));
      return;
    }
    const m = /^\/containers\/([^/]+)\/stats$/.exec(path);
    if (!m) return send(res, 404, { message: 'page not found' });
    const name = decodeURIComponent(m[1] as string);
    fake.queries.push(`${name}?${url.searchParams.toString()}`);
    const sample = name === 'web' || name === ID_WEB ? WEB : name === 'db' || name === ID_DB ? DB : undefined;
    if (!sample) return send(res, 404, { message: `No such container: ${name}` });
    if (url.searchParams.get('stream') === '0') return send(res, 200, sample);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    fake.openStreams.add(res);
    const tick = () => res.write(JSON.stringify(sample) + '\n');
    tick();
    const timer = setInterval(tick, 20);
    res.on('close', () => {
      clearInterval(timer);
      fake.openStreams.delete(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(fake.socket, resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return fake;
}

function cliContext(t: TestContext, socket: string, tty = false) {
  const out: string[] = [];
  const client = new ApiClient(`unix://${socket}`);
  t.after(() => client.close());
  const listeners: ((text: string) => void)[] = [];
  const ctx: CommandContext = {
    host: `unix://${socket}`,
    configDir: '/nonexistent',
    logLevel: 'info',
    stdout: {
      isTTY: tty,
      write: (text) => {
        out.push(String(text));
        listeners.forEach((l) => l(String(text)));
        return true;
      },
    },
    stderr: { write: () => true },
    stdin: process.stdin,
    client: () => client,
  };
  return { ctx, out, onWrite: (fn: (text: string) => void) => listeners.push(fn) };
}

const opts = (over: Partial<StatsOptions>): StatsOptions => ({ all: false, noStream: true, noTrunc: false, format: '', containers: [], ...over });

const HEADER = ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'];
/** docker's tabwriter: each column as wide as its widest cell plus 3, at least 10. */
function table(rows: string[][]): string {
  const widths = HEADER.map((_, i) => Math.max(10, ...rows.map((r) => (r[i] ?? '').length + 3)));
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i] ?? 0) : c)).join('') + '\n').join('');
}

test('--no-stream: one primed sample per container (stream=0), docker\'s table; -a lists stopped containers too', async (t) => {
  const fake = await fakeEngine(t);
  const { ctx, out } = cliContext(t, fake.socket);
  assert.equal(await runStats(ctx, opts({ containers: ['web', 'db'] })), 0);
  assert.equal(
    out.join(''),
    table([
      HEADER,
      ['aaaaaaaaaaaa', 'web', '50.00%', '8MiB / 8GiB', '0.10%', '2.23kB / 648B', '4.1kB / 8.19kB', '3'],
      ['bbbbbbbbbbbb', 'db', '0.00%', '0B / 0B', '0.00%', '0B / 0B', '0B / 0B', '0'],
    ]),
  );
  assert.deepEqual(fake.queries.sort(), ['db?stream=0', 'web?stream=0']);

  out.length = 0;
  assert.equal(await runStats(ctx, opts({ all: true, format: 'table {{.Container}}\t{{.Name}}' })), 0);
  assert.equal(out.join(''), `CONTAINER${' '.repeat(58)}NAME\n${ID_WEB}   web\n${ID_DB}   db\n`);
});

test('--format: Go templates per row, json as docker\'s string fields, --no-trunc IDs', async (t) => {
  const fake = await fakeEngine(t);
  const { ctx, out } = cliContext(t, fake.socket);
  await runStats(ctx, opts({ containers: ['web'], format: '{{.Name}}: {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}' }));
  assert.equal(out.join(''), 'web: 50.00% 8MiB / 8GiB 3\n');
  out.length = 0;
  await runStats(ctx, opts({ containers: ['web'], format: 'json' }));
  assert.deepEqual(JSON.parse(out.join('')), {
    BlockIO: '4.1kB / 8.19kB', CPUPerc: '50.00%', Container: 'web', ID: 'aaaaaaaaaaaa', MemPerc: '0.10%', MemUsage: '8MiB / 8GiB', Name: 'web', NetIO: '2.23kB / 648B', PIDs: '3',
  });
  out.length = 0;
  await runStats(ctx, opts({ containers: ['web'], format: '{{.ID}}', noTrunc: true }));
  assert.equal(out.join(''), `${ID_WEB}\n`);
  await assert.rejects(runStats(ctx, opts({ containers: ['web'], format: '{{.Nope' })), (err) => err instanceof CliError && err.exitCode === 1);
});

test('a container that does not exist: docker\'s daemon error, exit 1, nothing printed', async (t) => {
  const fake = await fakeEngine(t);
  const { ctx, out } = cliContext(t, fake.socket);
  for (const noStream of [true, false]) {
    await assert.rejects(runStats(ctx, opts({ containers: ['web', 'nope'], noStream })), (err) => {
      assert.ok(err instanceof CliError);
      assert.equal(err.message, 'Error response from daemon: No such container: nope');
      assert.equal(err.exitCode, 1);
      return true;
    });
  }
  assert.deepEqual(out, []);
  assert.ok(await streamsClosed(fake)); // live mode's failed start closed the stream it had opened for web
});

/** Resolves true once the fake has no open stats stream (the CLI closed every one it opened). */
async function streamsClosed(fake: Fake): Promise<boolean> {
  while (fake.openStreams.size > 0) await new Promise((r) => setImmediate(r));
  return true;
}

test('live: follows each stream (stream=1), redraws with ANSI on a TTY, re-lists containers, closes every stream when done', async (t) => {
  const fake = await fakeEngine(t);
  const { ctx, out, onWrite } = cliContext(t, fake.socket, true);
  const stop = new AbortController();
  let draws = 0;
  onWrite(() => {
    draws++;
    if (draws === 2) fake.listed = []; // web goes away: the next listing drops its row
    if (draws === 4) stop.abort();
  });
  assert.equal(await runStats(ctx, opts({ noStream: false, refreshMs: 10 }), stop.signal), 0);
  assert.ok(fake.queries.every((q) => q === `${ID_WEB}?stream=1`), fake.queries.join(','));
  const first = out[0] as string;
  assert.ok(first.startsWith('\x1b[HCONTAINER ID   NAME'));
  assert.match(first, /aaaaaaaaaaaa {3}web {7}50\.00% {4}8MiB \/ 8GiB {9}0\.10% {5}2\.23kB \/ 648B {3}4\.1kB \/ 8\.19kB {3}3\x1b\[K\n\x1b\[J$/);
  const last = out[out.length - 1] as string;
  assert.match(last, /^\x1b\[HCONTAINER ID +NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS\x1b\[K\n\x1b\[J$/);
  assert.ok(await streamsClosed(fake));
});
