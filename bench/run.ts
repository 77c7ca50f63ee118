// The container start benchmark: `berth run --rm busybox true` against the
// floor — a raw `runc run` of an equivalent bundle (same busybox rootfs, the
// same docker-default spec) plus Node's own start-up (`node -e 0`), since the
// berth CLI is a Node process. Alternating, median of N. Then 50 detached
// containers started and removed, sequentially and 8 at a time, and the
// daemon's RSS with 50 running.
//
//   node dist/bench/run.js [--rounds N]
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { median, roundsArg, rssKiB, timed } from './measure.js';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { busybox } from '../test/fixtures/index.js';
import { Cleanup, runOk } from '../test/harness/exec.js';
import { startDaemon, type Daemon } from '../test/harness/daemon.js';
import { removeContainers } from '../test/harness/containers.js';
import { buildSpec, probeHost, writeBundle } from '../src/runtime/index.js';

const rounds = roundsArg(15);

async function ok(d: Daemon, args: string[]): Promise<string> {
  const r = await d.cli(args);
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  const cgroupParent = `/berth-bench-${randomBytes(4).toString('hex')}`;
  try {
    const d = await startDaemon(cleanup, { extraArgs: ['--cgroup-parent', cgroupParent] });
    // Cleanup runs last-registered first: containers go before the daemon's root does.
    cleanup.after(() => removeContainers(d.root, cgroupParent));
    const bb = await busybox();
    const archive = join(d.dir, 'busybox.tar');
    await runOk('tar', ['-C', bb.layoutDir, '-cf', archive, '.']);
    await ok(d, ['load', '-i', archive]);
    await ok(d, ['tag', bb.configDigest, 'busybox:latest']);

    // The floor's bundle: the image's own layer unpacked, the spec berth would write.
    const floorDir = await mkdtemp(join(tmpdir(), 'berth-bench-runc-'));
    cleanup.after(() => rm(floorDir, { recursive: true, force: true }));
    const rootfs = join(floorDir, 'rootfs');
    await mkdir(rootfs);
    await runOk('tar', ['-xzf', join(bb.layoutDir, 'blobs', 'sha256', bb.layerDigests[0]!.slice(7)), '-C', rootfs]);
    const host = await probeHost();
    const spec = buildSpec({ rootfs, args: ['true'], env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], host, cgroupsPath: `${cgroupParent}/floor`, namespaces: {} });
    await writeBundle(floorDir, spec);
    const runcRoot = join(floorDir, 'state');

    const berth: number[] = [];
    const runc: number[] = [];
    const node: number[] = [];
    for (let i = 0; i < rounds; i++) {
      berth.push(await timed(() => ok(d, ['run', '--rm', 'busybox', 'true'])));
      runc.push(await timed(() => runOk('runc', ['--root', runcRoot, 'run', '--bundle', floorDir, `floor-${i}`])));
      node.push(await timed(() => runOk(process.execPath, ['-e', '0'])));
    }
    const mb = median(berth);
    const floor = median(runc) + median(node);

    const fifty = async (parallel: number): Promise<{ start: number; remove: number }> => {
      const names = Array.from({ length: 50 }, (_, i) => `b${parallel}-${i}`);
      const inBatches = async (fn: (name: string) => Promise<unknown>) => {
        for (let i = 0; i < names.length; i += parallel) await Promise.all(names.slice(i, i + parallel).map(fn));
      };
      const start = await timed(() => inBatches((n) => ok(d, ['run', '-d', '--name', n, 'busybox', 'sleep', '1000'])));
      const rss = (await rssKiB(d.pid)) / 1024;
      process.stdout.write(`  ${parallel}-way: 50 running, daemon RSS ${rss.toFixed(1)} MiB\n`);
      const remove = await timed(() => inBatches((n) => ok(d, ['rm', '-f', n])));
      return { start, remove };
    };
    process.stdout.write('50 detached containers:\n');
    const seq = await fifty(1);
    const par = await fifty(8);

    const lines = [
      '',
      `busybox, ${rounds} rounds alternating`,
      `berth run --rm busybox true   median ${mb.toFixed(0)} ms`,
      `runc run (same bundle)        median ${median(runc).toFixed(0)} ms`,
      `node -e 0                     median ${median(node).toFixed(0)} ms`,
      `ratio berth / (runc + node): ${(mb / floor).toFixed(2)}   (target: at most 2.2)`,
      `50 detached: sequential start ${(seq.start / 1000).toFixed(2)} s, remove ${(seq.remove / 1000).toFixed(2)} s; 8-way start ${(par.start / 1000).toFixed(2)} s, remove ${(par.remove / 1000).toFixed(2)} s`,
      '(docker 20.10 reference on this kind of machine: run --rm 0.30-0.33 s; 50 detached 11.2 s sequential, 6.0 s 8-way)',
      JSON.stringify({ bench: 'run', rounds, berthMs: mb, runcMs: median(runc), nodeMs: median(node), ratio: mb / floor, fifty: { seq, par } }),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await cleanup.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
