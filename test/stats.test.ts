// docker stats end to end: figures read from the container's real cgroups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonWithBusybox } from './harness/index.js';

interface Stats {
  id: string;
  name: string;
  memory_stats: { usage?: number; limit?: number };
  pids_stats: { current?: number; limit?: number };
  cpu_stats: { cpu_usage: { total_usage: number }; online_cpus?: number };
  precpu_stats: { cpu_usage: { total_usage: number } };
}

test('stats of a running container: memory limit, pids, cpu from its cgroups; docker stats --no-stream', async (t) => {
  const d = await daemonWithBusybox(t);
  const c = await d.docker(['run', '-d', '--name', 'busy', '-m', '32m', '--pids-limit', '20', 'busybox', 'sh', '-c', 'while :; do :; done']);
  assert.equal(c.code, 0, c.stderr);
  const id = c.stdout.trim();
  const res = await d.request('GET', `/containers/busy/stats?stream=0`);
  assert.equal(res.status, 200, res.text());
  const s = res.json<Stats>();
  assert.equal(s.id, id);
  assert.equal(s.name, '/busy');
  assert.equal(s.memory_stats.limit, 32 * 1024 * 1024);
  assert.ok((s.memory_stats.usage ?? 0) > 0);
  assert.ok((s.pids_stats.current ?? 0) >= 1);
  assert.equal(s.pids_stats.limit, 20);
  // a busy loop: the second sample has used more CPU than the first
  assert.ok(s.cpu_stats.cpu_usage.total_usage > s.precpu_stats.cpu_usage.total_usage);

  const table = await d.docker(['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}', 'busy']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^busy [\d.]+[KMG]?i?B \/ 32MiB \d+$/m);
  const ours = await d.cli(['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}', 'busy']);
  assert.equal(ours.code, 0, ours.stderr);
  assert.match(ours.stdout, /^busy [\d.]+[KMG]?i?B \/ 32MiB$/m);
  const missing = await d.docker(['stats', '--no-stream', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such container: nope/);
});
