// The pull benchmark: `berth pull` of the debianMinbase image (~50 MB gzip,
// one layer) from a loopback registry, against the floor of what any puller
// must do: skopeo copy of the blobs to disk, then tar -xzf of the layer.
// Both run cold (fresh directories) on a fresh ext4 filesystem on a loop
// device, alternating, and we print medians, the ratio and the daemon's
// idle RSS.
//
//   node dist/bench/pull.js [--rounds N] [--floor-only]
//
// --floor-only skips berth (to check the setup and the floor alone).
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { median, roundsArg, rssKiB, timed, runMain } from './measure.js';
import { join } from 'node:path';
import { debianMinbase, pushFixture } from '../test/fixtures/index.js';
import { Cleanup, runOk, sleep } from '../test/harness/exec.js';
import { startDaemon } from '../test/harness/daemon.js';
import { startRegistry } from '../test/harness/registry.js';

const FS_SIZE = '2G';

class SkipBerth extends Error {}

/** A fresh ext4 filesystem on a loop device, mounted; torn down by `cleanup` (only what this made). */
async function loopFilesystem(cleanup: Cleanup): Promise<string> {
  const base = await mkdtemp('/var/tmp/berth-bench-');
  cleanup.after(() => rm(base, { recursive: true, force: true }));
  const image = join(base, 'fs.img');
  await runOk('fallocate', ['-l', FS_SIZE, image]);
  await runOk('mkfs.ext4', ['-q', '-F', image]);
  const loop = (await runOk('losetup', ['--find', '--show', image])).stdout.trim();
  cleanup.after(async () => {
    await runOk('losetup', ['-d', loop]);
  });
  const mnt = join(base, 'mnt');
  await mkdir(mnt);
  await runOk('mount', [loop, mnt]);
  cleanup.after(async () => {
    await runOk('umount', [mnt]); // each daemon's cleanup already unmounted what it left below
  });
  return mnt;
}

async function main(): Promise<void> {
  const rounds = roundsArg(5);
  const floorOnly = process.argv.includes('--floor-only');
  const cleanup = new Cleanup();
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const mnt = await loopFilesystem(cleanup);
    process.stdout.write('building (or reading the cached) debianMinbase fixture...\n');
    const fixture = await debianMinbase();
    const registry = await startRegistry(cleanup);
    await pushFixture(fixture, registry.host, 'bench/debian:minbase');
    const ref = `${registry.host}/bench/debian:minbase`;
    const layer = fixture.layerDigests[0]!.slice('sha256:'.length);

    const berth: number[] = [];
    const floor: number[] = [];
    let rssIdle = 0;
    let rssAfterPull = 0;
    for (let i = 0; i < rounds && !interrupted; i++) {
      // (a) berth: a fresh daemon and root on the loop fs; only the pull is timed.
      const round = new Cleanup();
      try {
        if (floorOnly) throw new SkipBerth();
        const daemon = await startDaemon(round, { parentDir: mnt, insecureRegistries: [registry.host] });
        await sleep(1000);
        if (i === 0) rssIdle = await rssKiB(daemon.pid);
        await runOk('sync', []);
        const ms = await timed(async () => {
          const res = await daemon.cli(['pull', ref]);
          if (res.code !== 0) throw new Error(`berth pull exited ${res.code}: ${res.stderr}`);
        });
        berth.push(ms);
        if (i === 0) {
          await sleep(2000); // let it go idle
          rssAfterPull = await rssKiB(daemon.pid);
        }
      } catch (err) {
        if (!(err instanceof SkipBerth)) throw err;
        berth.push(NaN);
      } finally {
        await round.close();
      }

      // (b) the floor: skopeo copy to an OCI layout, then tar -xzf of the layer, one after the other.
      const dir = await mkdtemp(join(mnt, 'floor-'));
      try {
        await mkdir(join(dir, 'rootfs'));
        await runOk('sync', []);
        floor.push(
          await timed(async () => {
            await runOk('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(dir, 'layout')}:latest`]);
            await runOk('tar', ['-xzf', join(dir, 'layout', 'blobs', 'sha256', layer), '-C', join(dir, 'rootfs')]);
          }),
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      process.stdout.write(`round ${i + 1}/${rounds}: berth ${berth[i]!.toFixed(0)} ms, floor ${floor[i]!.toFixed(0)} ms\n`);
    }
    if (interrupted) throw new Error('interrupted');

    const mb = median(berth);
    const mf = median(floor);
    const layerMiB = (await readFile(join(fixture.layoutDir, 'blobs', 'sha256', layer))).length / 2 ** 20;
    process.stdout.write(
      [
        '',
        `image: debianMinbase (${layerMiB.toFixed(1)} MiB gzip, 1 layer), ${rounds} cold rounds each, ext4 on a loop device`,
        `berth pull      median ${mb.toFixed(0)} ms   (${berth.map((x) => x.toFixed(0)).join(', ')})`,
        `skopeo + tar    median ${mf.toFixed(0)} ms   (${floor.map((x) => x.toFixed(0)).join(', ')})`,
        `ratio berth/floor: ${(mb / mf).toFixed(2)}`,
        `daemon idle RSS: ${(rssIdle / 1024).toFixed(1)} MiB after start, ${(rssAfterPull / 1024).toFixed(1)} MiB after a pull`,
        JSON.stringify({ bench: 'pull', rounds, berthMs: mb, floorMs: mf, ratio: mb / mf, rssIdleKiB: rssIdle, rssAfterPullKiB: rssAfterPull }),
        '',
      ].join('\n'),
    );
  } finally {
    await cleanup.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

runMain('pull', main);
