import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tempRoot } from '../testing/index.js';
import type { StatsTarget } from '../container/types.js';
import { detectCgroupVersion, parseBlkioV1, parseIoStatV2, V1_MEMORY_KEYS, V2_MEMORY_KEYS } from './cgroup.js';
import { parseNetDev, parseProcStat } from './proc.js';
import { emptySample, nowRfc3339Nano, readStats, toDockerStats, ZERO_TIME } from './stats.js';
import { busyCgroup, CGROUP_ROOT } from './testcgroup.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

async function tree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
}

const PROC_STAT = 'cpu  100 2 30 400 5 6 7 8 0 0\ncpu0 50 1 15 200 2 3 3 4 0 0\ncpu1 50 1 15 200 3 3 4 4 0 0\nintr 12345\nctxt 999\n';
const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     500       5    0    0    0     0          0         0      500       5    0    0    0     0       0          0
  eth0:    5338      36    1    2    0     0          0         0      648       8    3    4    0     0       0          0
`;

const target = (over: Partial<StatsTarget> = {}): StatsTarget => ({ id: 'c'.repeat(64), name: '/web', running: true, pid: 4242, cgroupsPath: '/berth/c1', ...over });

test('/proc/stat: system CPU time is the first 7 fields in nanoseconds at 100 ticks/s; online CPUs are the cpuN lines', () => {
  // (100+2+30+400+5+6+7) jiffies * 1e9 / 100 — steal (8) is not counted, as in dockerd
  assert.deepEqual(parseProcStat(PROC_STAT), { systemUsage: 550 * 10_000_000, onlineCpus: 2 });
  assert.deepEqual(parseProcStat(''), { systemUsage: 0, onlineCpus: 0 });
});

test('/proc/<pid>/net/dev: per interface except lo, receive and transmit counters', () => {
  assert.deepEqual(parseNetDev(NET_DEV), {
    eth0: { rx_bytes: 5338, rx_packets: 36, rx_errors: 1, rx_dropped: 2, tx_bytes: 648, tx_packets: 8, tx_errors: 3, tx_dropped: 4 },
  });
  // counters that fill the column run into the colon on old kernels
  const tight = parseNetDev('eth1:123456789012 7 0 0 0 0 0 0 99 1 0 0 0 0 0 0\n');
  assert.equal(tight.eth1?.rx_bytes, 123456789012);
  assert.equal(tight.eth1?.tx_bytes, 99);
});

test('blkio parsing: v1 entries keep the op, skip the Total line; v2 io.stat gives a read and a write entry per device', () => {
  assert.deepEqual(parseBlkioV1('8:0 Read 4096\n8:0 Write 8192\n8:16 Total 12288\nTotal 12288\n'), [
    { major: 8, minor: 0, op: 'Read', value: 4096 },
    { major: 8, minor: 0, op: 'Write', value: 8192 },
    { major: 8, minor: 16, op: 'Total', value: 12288 },
  ]);
  assert.deepEqual(parseIoStatV2('254:0 rbytes=7593984 wbytes=100 rios=10 wios=1 dbytes=0 dios=0\n'), [
    { major: 254, minor: 0, op: 'read', value: 7593984 },
    { major: 254, minor: 0, op: 'write', value: 100 },
  ]);
});

test('cgroup v1 fixture: every controller read into docker fields, unlimited memory capped at the host memory', async (t) => {
  const dir = await tempRoot(t, 'berth-stats-');
  const cg = join(dir, 'cgroup');
  const proc = join(dir, 'proc');
  const memStat = 'cache 4096\nrss 8192\nshmem 0\nswap 0\ninactive_file 1024\ntotal_cache 4096\ntotal_rss 8192\ntotal_inactive_file 2097152\nnot_a_docker_key 5\n';
  await tree(cg, {
    'memory/berth/c1/memory.usage_in_bytes': `${10 * MiB}\n`,
    'memory/berth/c1/memory.max_usage_in_bytes': `${20 * MiB}\n`,
    'memory/berth/c1/memory.failcnt': '3\n',
    'memory/berth/c1/memory.limit_in_bytes': '9223372036854771712\n',
    'memory/berth/c1/memory.stat': memStat,
    // cpu and cpuacct co-mounted, as on most v1 hosts
    'cpu,cpuacct/berth/c1/cpuacct.usage': '123456789\n',
    'cpu,cpuacct/berth/c1/cpuacct.usage_percpu': '100000000 23456789 \n',
    'cpu,cpuacct/berth/c1/cpuacct.stat': 'user 7\nsystem 3\n',
    'cpu,cpuacct/berth/c1/cpu.stat': 'nr_periods 10\nnr_throttled 2\nthrottled_time 5000\n',
    'pids/berth/c1/pids.current': '3\n',
    'pids/berth/c1/pids.max': 'max\n',
    'blkio/berth/c1/blkio.throttle.io_service_bytes_recursive': '8:0 Read 4096\n8:0 Write 8192\nTotal 12288\n',
    'blkio/berth/c1/blkio.throttle.io_serviced_recursive': '8:0 Read 1\n8:0 Write 2\nTotal 3\n',
  });
  await tree(proc, { stat: PROC_STAT, '4242/net/dev': NET_DEV });
  assert.equal(await detectCgroupVersion(cg), 1);

  const now = () => '2025-01-16T13:55:22.165243637Z';
  const sample = await readStats(target(), { cgroupRoot: cg, procRoot: proc, hostMemory: 8 * GiB, now });
  const expectedStats = Object.fromEntries(V1_MEMORY_KEYS.map((k) => [k, 0])) as Record<string, number>;
  Object.assign(expectedStats, { cache: 4096, rss: 8192, inactive_file: 1024, total_cache: 4096, total_rss: 8192, total_inactive_file: 2097152 });
  const cpu = {
    cpu_usage: { total_usage: 123456789, percpu_usage: [100000000, 23456789], usage_in_kernelmode: 30_000_000, usage_in_usermode: 70_000_000 },
    throttling_data: { periods: 10, throttled_periods: 2, throttled_time: 5000 },
    system_cpu_usage: 5_500_000_000,
    online_cpus: 2,
  };
  const previous = { ...sample, read: '2025-01-16T13:55:21.160452595Z', cpu_stats: { ...cpu, cpu_usage: { ...cpu.cpu_usage, total_usage: 1 } } };
  const json = JSON.parse(JSON.stringify(toDockerStats(sample, previous, target()))) as unknown;
  assert.deepEqual(json, {
    name: '/web',
    id: 'c'.repeat(64),
    read: '2025-01-16T13:55:22.165243637Z',
    preread: '2025-01-16T13:55:21.160452595Z',
    pids_stats: { current: 3 },
    blkio_stats: {
      io_service_bytes_recursive: [
        { major: 8, minor: 0, op: 'Read', value: 4096 },
        { major: 8, minor: 0, op: 'Write', value: 8192 },
      ],
      io_serviced_recursive: [
        { major: 8, minor: 0, op: 'Read', value: 1 },
        { major: 8, minor: 0, op: 'Write', value: 2 },
      ],
      io_queue_recursive: [],
      io_service_time_recursive: [],
      io_wait_time_recursive: [],
      io_merged_recursive: [],
      io_time_recursive: [],
      sectors_recursive: [],
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu,
    precpu_stats: { ...cpu, cpu_usage: { ...cpu.cpu_usage, total_usage: 1 } },
    memory_stats: { usage: 10 * MiB, max_usage: 20 * MiB, stats: expectedStats, failcnt: 3, limit: 8 * GiB },
    networks: { eth0: { rx_bytes: 5338, rx_packets: 36, rx_errors: 1, rx_dropped: 2, tx_bytes: 648, tx_packets: 8, tx_errors: 3, tx_dropped: 4 } },
  });

  // a limit below the host memory is reported as set
  await writeFile(join(cg, 'memory/berth/c1/memory.limit_in_bytes'), `${256 * MiB}\n`);
  assert.equal((await readStats(target(), { cgroupRoot: cg, procRoot: proc, hostMemory: 8 * GiB })).memory_stats.limit, 256 * MiB);
});

test('cgroup v2 fixture: cpu.stat microseconds as nanoseconds, "max" memory as host memory, io.stat, oom events as failcnt', async (t) => {
  const dir = await tempRoot(t, 'berth-stats-');
  const cg = join(dir, 'cgroup');
  const proc = join(dir, 'proc');
  await tree(cg, {
    'cgroup.controllers': 'cpuset cpu io memory pids\n',
    'berth/c2/cpu.stat': 'usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 7\n',
    'berth/c2/memory.current': `${5 * MiB}\n`,
    'berth/c2/memory.max': 'max\n',
    'berth/c2/memory.stat': `anon 1572864\nfile 7626752\ninactive_file ${MiB}\nsomething_new 1\n`,
    'berth/c2/memory.events': 'low 0\nhigh 0\nmax 0\noom 1\noom_kill 1\n',
    'berth/c2/pids.current': '1\n',
    'berth/c2/pids.max': '50\n',
    'berth/c2/io.stat': '8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n',
  });
  await tree(proc, { stat: PROC_STAT });
  assert.equal(await detectCgroupVersion(cg), 2);
  const sample = await readStats(target({ cgroupsPath: '/berth/c2', pid: 0 }), { cgroupRoot: cg, procRoot: proc, hostMemory: 2 * GiB, now: () => 'T' });
  const expectedStats = Object.fromEntries(V2_MEMORY_KEYS.map((k) => [k, 0])) as Record<string, number>;
  Object.assign(expectedStats, { anon: 1572864, file: 7626752, inactive_file: MiB });
  assert.deepEqual(JSON.parse(JSON.stringify(sample)), {
    read: 'T',
    cpu_stats: {
      cpu_usage: { total_usage: 2_000_000, usage_in_kernelmode: 500_000, usage_in_usermode: 1_500_000 },
      throttling_data: { periods: 4, throttled_periods: 1, throttled_time: 7000 },
      system_cpu_usage: 5_500_000_000,
      online_cpus: 2,
    },
    memory_stats: { usage: 5 * MiB, stats: expectedStats, failcnt: 1, limit: 2 * GiB },
    pids_stats: { current: 1, limit: 50 },
    blkio_stats: {
      io_service_bytes_recursive: [
        { major: 8, minor: 0, op: 'read', value: 4096 },
        { major: 8, minor: 0, op: 'write', value: 0 },
      ],
      io_serviced_recursive: null,
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
    },
  });
});

test('missing controllers and files read as absent, never as errors', async (t) => {
  const dir = await tempRoot(t, 'berth-stats-');
  for (const version of [1, 2] as const) {
    const sample = await readStats(target({ cgroupsPath: '/nowhere' }), { cgroupRoot: dir, procRoot: join(dir, 'noproc'), cgroupVersion: version, hostMemory: GiB });
    assert.deepEqual(sample.cpu_stats, {
      cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
      throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
    });
    assert.deepEqual(sample.memory_stats, {});
    assert.deepEqual(sample.pids_stats, {});
    assert.equal(sample.networks, undefined);
  }
});

test('a container that is not running gets dockerd\'s zeroed stats', async () => {
  const stopped = target({ running: false, pid: 0 });
  const json = JSON.parse(JSON.stringify(toDockerStats(await readStats(stopped), undefined, stopped))) as unknown;
  const zeroCpu = {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
  assert.deepEqual(json, {
    name: '/web',
    id: 'c'.repeat(64),
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: {
      io_service_bytes_recursive: null,
      io_serviced_recursive: null,
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: zeroCpu,
    precpu_stats: zeroCpu,
    memory_stats: {},
  });
  assert.deepEqual(emptySample().read, ZERO_TIME);
});

test('read times are RFC 3339 in UTC with a nanosecond fraction, as Go prints them', () => {
  const read = nowRfc3339Nano();
  assert.match(read, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
  assert.ok(Math.abs(Date.parse(read) - Date.now()) < 60_000);
});

test('a real cgroup v1 group: CPU usage grows, the memory limit is the one set, pids are counted', async (t) => {
  if ((await detectCgroupVersion(CGROUP_ROOT)) !== 1) {
    // This host is cgroup v1 (hybrid); a v2 host needs a unified-tree variant of this test.
    assert.fail('this test needs a cgroup v1 host');
  }
  const group = await busyCgroup(t);
  const busy = target({ cgroupsPath: group.cgroupsPath, pid: group.pid });
  const first = await readStats(busy);
  assert.equal(first.memory_stats.limit, group.memoryLimit);
  assert.ok((first.pids_stats.current ?? 0) >= 1, `pids.current ${first.pids_stats.current}`);
  assert.equal(first.pids_stats.limit, group.pidsLimit);
  assert.ok((first.cpu_stats.system_cpu_usage ?? 0) > 0);
  assert.ok((first.cpu_stats.online_cpus ?? 0) >= 1);
  assert.ok((first.cpu_stats.cpu_usage.percpu_usage ?? []).length >= 1);
  let later = await readStats(busy);
  // The child spins, so its usage grows between any two reads that are far enough apart to see it.
  for (let i = 0; i < 100 && later.cpu_stats.cpu_usage.total_usage <= first.cpu_stats.cpu_usage.total_usage; i++) {
    await new Promise((r) => setTimeout(r, 20));
    later = await readStats(busy);
  }
  assert.ok(later.cpu_stats.cpu_usage.total_usage > first.cpu_stats.cpu_usage.total_usage);
  assert.ok((later.cpu_stats.system_cpu_usage ?? 0) >= (first.cpu_stats.system_cpu_usage ?? 0));
});
