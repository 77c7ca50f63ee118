// The API latency benchmark (issue 8): over the unix socket, with keep-alive
// connections,
//   - GET /containers/json?all=1 with 100 containers, 8 requests in flight,
//     against Node's own HTTP floor: a trivial handler answering a JSON body
//     of the same size on a socket of its own, same client, same concurrency;
//   - POST /containers/create + start + wait + DELETE of `busybox true`
//     through dockerode, one after another.
// Reports requests per second and p50/p99 latencies.
//
//   node dist/bench/api.js [--rounds N]   (N: seconds per listing phase, default 5; lifecycles: 6 x N)
//
// The daemon's root, containers, monitors and cgroups, and the floor server are removed at the end.
import { createServer, Agent, request } from 'node:http';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { roundsArg, runMain } from './measure.js';
import { treeOf } from './cleanup.js';
import { benchDaemon } from './daemon.js';
import { Cleanup } from '../test/harness/exec.js';

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** GET `path` over `socket` for `seconds`, `inFlight` at a time; latencies in ms. */
async function hammer(socket: string, path: string, seconds: number, inFlight: number): Promise<{ rps: number; p50: number; p99: number; bytes: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const lat: number[] = [];
  let bytes = 0;
  const end = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < end) {
      const t0 = process.hrtime.bigint();
      await new Promise<void>((resolve, reject) => {
        const req = request({ socketPath: socket, path, agent }, (res) => {
          let n = 0;
          res.on('data', (b: Buffer) => (n += b.length));
          res.on('end', () => {
            bytes = n;
            if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
            else resolve();
          });
        });
        req.on('error', reject);
        req.end();
      });
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  agent.destroy();
  return { rps: lat.length / ((Date.now() - started) / 1000), p50: percentile(lat, 50), p99: percentile(lat, 99), bytes };
}

async function main(): Promise<void> {
  const seconds = roundsArg(5);
  const loadBefore = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  const cleanup = new Cleanup();
  try {
    const { d } = await benchDaemon(cleanup);
    const docker = new Docker({ socketPath: d.socket });
    for (let i = 0; i < 100; i++) await docker.createContainer({ Image: 'busybox', Cmd: ['true'], name: `bench-${i}` });

    // Node's floor: a trivial handler sending a body of the listing's size.
    const list = await hammer(d.socket, '/v1.50/containers/json?all=1', 1, 1); // also warms up
    const body = Buffer.alloc(list.bytes, 'x');
    const floorDir = await mkdtemp(join(tmpdir(), 'berth-bench-api-'));
    cleanup.after(() => rm(floorDir, { recursive: true, force: true }));
    const floorSocket = join(floorDir, 'floor.sock');
    const floor = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
      res.end(body);
    });
    await new Promise<void>((r) => floor.listen(floorSocket, r));
    cleanup.after(() => new Promise<void>((r) => floor.close(() => r())));

    const berthList = await hammer(d.socket, '/v1.50/containers/json?all=1', seconds, 8);
    const floorList = await hammer(floorSocket, '/', seconds, 8);

    const lifecycle: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 6 * seconds; i++) {
      const t0 = process.hrtime.bigint();
      const c = await docker.createContainer({ Image: 'busybox', Cmd: ['true'] });
      await c.start();
      await c.wait();
      await c.remove();
      lifecycle.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const lifecycleRate = lifecycle.length / ((Date.now() - started) / 1000);
    const f = (x: number) => x.toFixed(1);
    const lines = [
      `tree ${await treeOf()}; load before ${loadBefore}; ${seconds} s per listing phase, 8 in flight`,
      `GET /containers/json?all=1, 100 containers (${list.bytes} bytes): ${f(berthList.rps)} req/s, p50 ${f(berthList.p50)} ms, p99 ${f(berthList.p99)} ms`,
      `Node floor, same body size:                 ${f(floorList.rps)} req/s, p50 ${f(floorList.p50)} ms, p99 ${f(floorList.p99)} ms`,
      `ratio berth / floor (req/s): ${(berthList.rps / floorList.rps).toFixed(2)}`,
      `dockerode create+start+wait+delete (busybox true), ${lifecycle.length} in a row: ${lifecycleRate.toFixed(2)} /s, p50 ${f(percentile(lifecycle, 50))} ms, p99 ${f(percentile(lifecycle, 99))} ms`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await cleanup.close();
  }
}

runMain('api', main);
