// The stats route on a tiny server that dispatches like server.ts (router,
// abort on client close, errors through writeError), with a fake statsTarget
// pointing at a real cgroup v1 group.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BerthError } from '../../errors/index.js';
import type { StatsTarget } from '../../container/types.js';
import type { ContainerStatsResponse } from '../../stats/index.js';
import { tempRoot } from '../../testing/index.js';
import { busyCgroup } from '../../stats/testcgroup.js';
import { writeError } from '../errors.js';
import { Router } from '../router.js';
import { request } from '../testclient.js';
import { statsRoutes } from './stats.js';

const ZERO = '0001-01-01T00:00:00Z';

interface Served {
  socket: string;
  /** settled handler runs, so a test can wait for the handler to finish after the client leaves */
  finished: Promise<void>[];
  targets: Map<string, StatsTarget>;
}

async function serve(t: TestContext, intervalMs: number): Promise<Served> {
  const dir = await tempRoot(t, 'berth-stats-route-');
  const targets = new Map<string, StatsTarget>();
  const router = new Router();
  statsRoutes(
    router,
    {
      statsTarget: async (id) => {
        const found = targets.get(id);
        if (!found) throw new BerthError('not_found', `No such container: ${id}`);
        return found;
      },
    },
    { intervalMs },
  );
  const finished: Promise<void>[] = [];
  const server = createServer((req, res) => {
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const url = new URL(req.url ?? '/', 'http://berth');
    const match = router.match(req.method ?? 'GET', url.pathname.replace(/^\/v[0-9.]+/, ''));
    const run = async () => {
      try {
        if (!match) throw new BerthError('not_found', 'page not found');
        await match.handler({ req, res, apiVersion: '1.50', params: match.params, query: url.searchParams, signal: abort.signal });
      } catch (err) {
        if (!res.headersSent) writeError(res, err);
        else res.destroy();
      }
    };
    finished.push(run());
  });
  const socket = join(dir, 'api.sock');
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { socket, finished, targets };
}

async function runningTarget(t: TestContext): Promise<StatsTarget & { memoryLimit: number }> {
  const group = await busyCgroup(t);
  return { id: 'f'.repeat(64), name: '/busy', running: true, pid: group.pid, cgroupsPath: group.cgroupsPath, memoryLimit: group.memoryLimit };
}

const activeTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test('stream=false primes with one sample and answers with the next; one-shot answers with one, precpu empty', async (t) => {
  const { socket, targets } = await serve(t, 200);
  const busy = await runningTarget(t);
  targets.set('busy', busy);

  const primed = await request(socket, 'GET', '/v1.50/containers/busy/stats?stream=false');
  assert.equal(primed.status, 200);
  assert.equal(primed.body.trim().split('\n').length, 1);
  const s = primed.json<ContainerStatsResponse>();
  assert.equal(s.id, busy.id);
  assert.equal(s.name, '/busy');
  assert.notEqual(s.preread, ZERO);
  assert.ok(Date.parse(s.read) >= Date.parse(s.preread));
  assert.ok(s.precpu_stats.cpu_usage.total_usage > 0);
  assert.ok(s.cpu_stats.cpu_usage.total_usage >= s.precpu_stats.cpu_usage.total_usage);
  assert.ok((s.precpu_stats.system_cpu_usage ?? 0) > 0);
  assert.equal(s.memory_stats.limit, busy.memoryLimit);
  assert.ok((s.pids_stats.current ?? 0) >= 1);

  const one = (await request(socket, 'GET', '/v1.50/containers/busy/stats?stream=0&one-shot=1')).json<ContainerStatsResponse>();
  assert.equal(one.preread, ZERO);
  assert.deepEqual(one.precpu_stats, {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  });
  assert.ok(one.cpu_stats.cpu_usage.total_usage > 0);
});

test('errors: 404 for a missing container, 400 for stream with one-shot, 501 without statsTarget; a stopped container gets zeroed stats', async (t) => {
  const { socket, targets } = await serve(t, 50);
  targets.set('stopped', { id: 'e'.repeat(64), name: '/stopped', running: false, pid: 0, cgroupsPath: '/berth/none' });
  const missing = await request(socket, 'GET', '/v1.50/containers/nope/stats?stream=0');
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json(), { message: 'No such container: nope' });
  assert.equal((await request(socket, 'GET', '/containers/stopped/stats?one-shot=1')).status, 400);

  const stopped = (await request(socket, 'GET', '/containers/stopped/stats?stream=0')).json<ContainerStatsResponse>();
  assert.equal(stopped.read, ZERO);
  assert.equal(stopped.preread, ZERO);
  assert.equal(stopped.name, '/stopped');
  assert.deepEqual(stopped.memory_stats, {});
  assert.deepEqual(stopped.pids_stats, {});
  assert.equal(stopped.cpu_stats.cpu_usage.total_usage, 0);

  const router = new Router();
  statsRoutes(router, {});
  const match = router.match('GET', '/containers/x/stats');
  assert.ok(match);
  await assert.rejects(
    Promise.resolve(match.handler({ params: match.params, query: new URLSearchParams() } as unknown as Parameters<typeof match.handler>[0])),
    (err) => err instanceof BerthError && err.code === 'not_implemented',
  );
});

/** Opens a streaming request and yields its lines; `close` cuts the connection. */
function openStream(socket: string, path: string) {
  let response: IncomingMessage | undefined;
  const req = httpRequest({ socketPath: socket, path, method: 'GET' });
  const ready = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', (res) => resolve((response = res)));
    req.on('error', reject);
  });
  req.end();
  return {
    ready,
    lines: async function* () {
      const res = await ready;
      yield* createInterface({ input: res });
    },
    close: () => {
      response?.destroy();
      req.destroy();
    },
  };
}

test('stream=true: a sample per interval with precpu from the previous one; stops when the client goes away, no timer left', async (t) => {
  const { socket, targets, finished } = await serve(t, 100);
  const busy = await runningTarget(t);
  targets.set('busy', busy);
  const timersBefore = activeTimers();
  const stream = openStream(socket, '/v1.50/containers/busy/stats');
  const res = await stream.ready;
  assert.equal(res.statusCode, 200);
  const samples: ContainerStatsResponse[] = [];
  for await (const line of stream.lines()) {
    samples.push(JSON.parse(line) as ContainerStatsResponse);
    if (samples.length === 2) break;
  }
  stream.close();
  const [first, second] = samples as [ContainerStatsResponse, ContainerStatsResponse];
  assert.equal(first.preread, ZERO);
  assert.equal(first.precpu_stats.cpu_usage.total_usage, 0);
  assert.equal(second.preread, first.read);
  assert.deepEqual(second.precpu_stats, first.cpu_stats);
  assert.ok(second.cpu_stats.cpu_usage.total_usage >= first.cpu_stats.cpu_usage.total_usage);

  // The handler returns once the client is gone, and leaves no timer behind.
  await Promise.all(finished);
  assert.ok(activeTimers() <= timersBefore, `timers: ${activeTimers()} > ${timersBefore}`);
});

test('stream=true: zeroed samples while the container is stopped, the end of the stream when it is removed', async (t) => {
  const { socket, targets } = await serve(t, 50);
  const stopped: StatsTarget = { id: 'd'.repeat(64), name: '/gone', running: false, pid: 0, cgroupsPath: '/berth/none' };
  targets.set('gone', stopped);
  const stream = openStream(socket, '/containers/gone/stats?stream=1');
  t.after(() => stream.close());
  const seen: ContainerStatsResponse[] = [];
  for await (const line of stream.lines()) {
    seen.push(JSON.parse(line) as ContainerStatsResponse);
    if (seen.length === 2) targets.delete('gone'); // removed: the next round finds no container
  }
  // the loop above ends only because the server ended the response
  assert.ok(seen.length >= 2);
  for (const s of seen) {
    assert.equal(s.read, ZERO);
    assert.equal(s.name, '/gone');
    assert.deepEqual(s.memory_stats, {});
  }
});
