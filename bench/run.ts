// The container start benchmark: `berth run --rm busybox true` against the
// floor — a raw `runc run` of an equivalent bundle (the config.json berth
// itself wrote for a busybox container, over an overlay of the same layer)
// plus Node's own start-up (`node -e 0`), since the berth CLI is a Node
// process. Alternating, median of N. Then 50 detached containers started and
// removed, sequentially and 8 at a time, and the daemon's RSS with 50 running.
// The same runs against Debian's dockerd 20.10 (bench/dockerd.ts: installed on
// demand, isolated), alternating in the same rounds, so the ratios to docker are
// measured here and now rather than taken from the issue's figures.
//
//   node dist/bench/run.js [--rounds N] [--network MODE] [--no-dockerd]
//
// --network passes `--network MODE` to every `berth run` (e.g. `none`, to see
// the cost of the default bridge network apart). --no-dockerd compares with the
// issue's docker figures instead.
//
// Everything it makes — the daemon's temp dir and mounts, containers (runc
// state, monitors, processes), the floor's bundle and mount, the cgroups under
// its own --cgroup-parent — is removed at the end, also on failure or Ctrl-C.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { median, roundsArg, rssKiB, timed, runMain } from './measure.js';
import { deleteRuncContainers, treeOf } from './cleanup.js';
import { benchDaemon } from './daemon.js';
import { startReferenceDockerd } from './dockerd.js';
import { Cleanup, runOk, sleep } from '../test/harness/exec.js';
import type { Daemon } from '../test/harness/daemon.js';
import { unmountBelow } from '../src/testing/index.js';
import { serializeSpec, type RuntimeSpec } from '../src/runtime/index.js';

/** docker 20.10 on this kind of machine (issue 3): 50 detached `run -d` starts. */
const DOCKER_FIFTY_SEQ_S = 11.2;
const DOCKER_FIFTY_PAR_S = 6.0;
const TARGET_RATIO = 2.2;

let reference: Awaited<ReturnType<typeof startReferenceDockerd>> | undefined;
let interrupted = false;
const onSignal = (): void => {
  interrupted = true;
};
function checkInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

/** Which CLI talks to which daemon: ours (a Node process) or the real docker CLI (Go) to berth, or docker to the reference dockerd. */
type Client = 'berth' | 'docker' | 'dockerd';

async function ok(d: Daemon, args: string[], client: Client = 'berth'): Promise<string> {
  if (client === 'dockerd') {
    if (!reference) throw new Error('no reference dockerd');
    return reference.docker(args);
  }
  const r = client === 'berth' ? await d.cli(args) : await d.docker(args);
  if (r.code !== 0) throw new Error(`${client} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/**
 * The floor's bundle in `dir`: the config.json the daemon wrote for a running
 * busybox container, with its rootfs, /etc files and cgroup re-pointed to the
 * floor's own (an overlay of the same busybox layer, like berth's), running `true`.
 */
async function floorBundle(cleanup: Cleanup, d: Daemon, layerBlob: string, cgroupParent: string): Promise<{ dir: string; runcRoot: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-bench-runc-'));
  const runcRoot = join(dir, 'state');
  cleanup.after(async () => {
    await deleteRuncContainers(runcRoot);
    await unmountBelow(dir);
    await rm(dir, { recursive: true, force: true });
  });
  const id = (await ok(d, ['run', '-d', '--name', 'bench-spec', 'busybox', 'sleep', '1000'])).trim();
  const bundle = join(d.root, 'containers', id);
  const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as RuntimeSpec;
  for (const m of spec.mounts ?? []) {
    // hostname, hosts, resolv.conf: berth's copies, beside the floor's config.json
    if (m.source?.startsWith(bundle + '/')) {
      const copy = join(dir, m.source.slice(bundle.length + 1));
      await copyFile(m.source, copy);
      m.source = copy;
    }
  }
  await ok(d, ['rm', '-f', 'bench-spec']);

  for (const sub of ['layer', 'upper', 'work', 'rootfs']) await mkdir(join(dir, sub));
  await runOk('tar', ['-xzf', layerBlob, '-C', join(dir, 'layer')]);
  const opts = `lowerdir=${join(dir, 'layer')},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`;
  await runOk('mount', ['-t', 'overlay', 'overlay', '-o', opts, join(dir, 'rootfs')]);
  spec.root = { ...spec.root, path: join(dir, 'rootfs') };
  spec.process = { ...spec.process, args: ['true'] };
  // berth's network namespace is one it made and wired (CNI) before runc: that work is berth's
  // cost, so the floor gets a fresh private one from runc (and the spec container's is gone anyway).
  const namespaces = (spec.linux.namespaces ?? []).map(({ type }) => ({ type }));
  spec.linux = { ...spec.linux, namespaces, cgroupsPath: `${cgroupParent}/floor` };
  // RLIM_INFINITY (2^64-1) came back as an imprecise double: Infinity again, which serializeSpec writes exactly.
  for (const r of spec.process.rlimits ?? []) {
    if (r.hard >= 2 ** 63) r.hard = Infinity;
    if (r.soft >= 2 ** 63) r.soft = Infinity;
  }
  await writeFile(join(dir, 'config.json'), serializeSpec(spec));
  return { dir, runcRoot };
}

async function main(): Promise<void> {
  const rounds = roundsArg(15);
  const n = process.argv.indexOf('--network');
  const network = n >= 0 ? process.argv[n + 1] : undefined;
  if (n >= 0 && !network) throw new Error('--network needs a mode');
  const netArgs = network ? ['--network', network] : [];
  const loadBefore = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  const cleanup = new Cleanup();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // Last registered runs first: the floor, then the containers and cgroups, then the daemon's dir.
    const { d, busybox: bb, cgroupParent } = await benchDaemon(cleanup);
    if (!process.argv.includes('--no-dockerd')) {
      // Debian's dockerd 20.10, side by side on the same machine at the same time (bench/dockerd.ts)
      reference = await startReferenceDockerd(cleanup);
      const saved = join(d.dir, 'busybox-docker.tar');
      await ok(d, ['save', '-o', saved, 'busybox']);
      await reference.docker(['load', '-i', saved]);
    }

    const layerBlob = join(bb.layoutDir, 'blobs', 'sha256', bb.layerDigests[0]!.slice('sha256:'.length));
    const floor = await floorBundle(cleanup, d, layerBlob, cgroupParent);
    // runc as the monitor runs it (a JSON log), in the foreground: create, start, wait, delete.
    const runcArgs = (i: number) => ['--root', floor.runcRoot, '--log', join(floor.dir, 'runc.log'), '--log-format', 'json', 'run', '--bundle', floor.dir, `floor-${i}`];

    const berthMs: number[] = [];
    const dockerMs: number[] = [];
    const runcMs: number[] = [];
    const nodeMs: number[] = [];
    // bin/berth drops NODE_EXTRA_CA_CERTS for client calls (Node parses it at start-up);
    // when it is set here, Node's start-up as the launcher runs it is shown apart
    const { NODE_EXTRA_CA_CERTS: extraCa, ...envWithoutCa } = process.env;
    const nodeBareMs: number[] = [];
    const dockerdMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      checkInterrupted();
      berthMs.push(await timed(() => ok(d, ['run', '--rm', ...netArgs, 'busybox', 'true'])));
      runcMs.push(await timed(() => runOk('runc', runcArgs(i))));
      nodeMs.push(await timed(() => runOk(process.execPath, ['-e', '0'])));
      if (extraCa !== undefined) nodeBareMs.push(await timed(() => runOk(process.execPath, ['-e', '0'], { env: envWithoutCa })));
      dockerMs.push(await timed(() => ok(d, ['run', '--rm', ...netArgs, 'busybox', 'true'], 'docker')));
      if (reference) dockerdMs.push(await timed(() => ok(d, ['run', '--rm', ...netArgs, 'busybox', 'true'], 'dockerd')));
      process.stdout.write(
        `round ${i + 1}/${rounds}: berth ${berthMs[i]!.toFixed(0)} ms, runc ${runcMs[i]!.toFixed(0)} ms, node ${nodeMs[i]!.toFixed(0)} ms, docker CLI -> berth ${dockerMs[i]!.toFixed(0)} ms` +
          (reference ? `, docker -> dockerd ${dockerdMs[i]!.toFixed(0)} ms` : '') + '\n',
      );
    }
    const left = (await ok(d, ['ps', '-aq'])).trim();
    if (left) throw new Error(`run --rm left containers behind: ${left.replace(/\n/g, ' ')}`);
    const mb = median(berthMs);
    const floorMs = median(runcMs) + median(nodeMs);

    const fifty = async (parallel: number, client: Client): Promise<{ start: number; remove: number; rssMiB: number }> => {
      const names = Array.from({ length: 50 }, (_, i) => `${client}${parallel}-${i}`);
      const inBatches = async (fn: (name: string) => Promise<unknown>) => {
        for (let i = 0; i < names.length; i += parallel) {
          checkInterrupted();
          await Promise.all(names.slice(i, i + parallel).map(fn));
        }
      };
      const start = await timed(() => inBatches((n) => ok(d, ['run', '-d', '--name', n, ...netArgs, 'busybox', 'sleep', '1000'], client)));
      const running = (await ok(d, ['ps', '-q'], client === 'dockerd' ? 'dockerd' : 'berth')).split('\n').filter(Boolean).length;
      if (running !== 50) throw new Error(`${running} containers running, not 50`);
      await sleep(1000); // let it settle (GC, pending writes)
      const rssMiB = client === 'dockerd' ? 0 : (await rssKiB(d.pid)) / 1024;
      const remove = await timed(() => inBatches((n) => ok(d, ['rm', '-f', n], client)));
      const who = client === 'dockerd' ? 'docker CLI -> dockerd' : `${client} CLI`;
      process.stdout.write(
        `${who}, ${parallel === 1 ? 'sequential' : `${parallel}-way`}: 50 started in ${(start / 1000).toFixed(2)} s, removed in ${(remove / 1000).toFixed(2)} s` +
          (client === 'dockerd' ? '\n' : `; daemon RSS with 50 running ${rssMiB.toFixed(1)} MiB\n`),
      );
      return { start, remove, rssMiB };
    };
    process.stdout.write('50 detached containers (busybox sleep 1000):\n');
    const seq = await fifty(1, 'berth');
    const par = await fifty(8, 'berth');
    const dockerSeq = await fifty(1, 'docker');
    const dockerPar = await fifty(8, 'docker');
    const refSeq = reference ? await fifty(1, 'dockerd') : undefined;
    const refPar = reference ? await fifty(8, 'dockerd') : undefined;
    // the issue's figures for docker 20.10 on this kind of machine, when no dockerd ran here
    const baseSeq = refSeq ? refSeq.start / 1000 : DOCKER_FIFTY_SEQ_S;
    const basePar = refPar ? refPar.start / 1000 : DOCKER_FIFTY_PAR_S;
    const baseName = reference ? 'dockerd here' : "the issue's docker";
    const rssIdleMiB = (await rssKiB(d.pid)) / 1024;

    const s = (ms: number) => (ms / 1000).toFixed(2);
    const lines = [
      '',
      `busybox, ${rounds} rounds alternating, network ${network ?? 'default (bridge)'}; tree ${await treeOf()}; load before ${loadBefore}`,
      `berth run --rm busybox true   median ${mb.toFixed(0)} ms   (${berthMs.map((x) => x.toFixed(0)).join(', ')})`,
      `runc run (berth's spec)       median ${median(runcMs).toFixed(0)} ms   (${runcMs.map((x) => x.toFixed(0)).join(', ')})`,
      `node -e 0                     median ${median(nodeMs).toFixed(0)} ms   (${nodeMs.map((x) => x.toFixed(0)).join(', ')})`,
      ...(extraCa !== undefined
        ? [`node -e 0, no NODE_EXTRA_CA_CERTS (as bin/berth starts the CLI) median ${median(nodeBareMs).toFixed(0)} ms   (${nodeBareMs.map((x) => x.toFixed(0)).join(', ')})`]
        : []),
      `docker CLI -> berth run --rm  median ${median(dockerMs).toFixed(0)} ms   (${dockerMs.map((x) => x.toFixed(0)).join(', ')})`,
      ...(reference ? [`docker -> dockerd run --rm     median ${median(dockerdMs).toFixed(0)} ms   (${dockerdMs.map((x) => x.toFixed(0)).join(', ')})`] : []),
      `ratio berth / (runc + node): ${(mb / floorMs).toFixed(2)}   (target: at most ${TARGET_RATIO})` +
        (extraCa !== undefined ? `; against node without NODE_EXTRA_CA_CERTS ${(mb / (median(runcMs) + median(nodeBareMs))).toFixed(2)}` : '') +
        (reference ? `; berth / dockerd ${(mb / median(dockerdMs)).toFixed(2)}, docker CLI -> berth / dockerd ${(median(dockerMs) / median(dockerdMs)).toFixed(2)}` : ''),
      ...(refSeq && refPar ? [`dockerd here, 50 detached: sequential start ${s(refSeq.start)} s, remove ${s(refSeq.remove)} s; 8-way start ${s(refPar.start)} s, remove ${s(refPar.remove)} s`] : []),
      `50 detached, sequential: start ${s(seq.start)} s = ${(seq.start / 1000 / baseSeq).toFixed(2)} x ${baseName}'s ${baseSeq.toFixed(2)} s (target: at most 0.5); remove ${s(seq.remove)} s`,
      `50 detached, 8-way:      start ${s(par.start)} s = ${(par.start / 1000 / basePar).toFixed(2)} x ${baseName}'s ${basePar.toFixed(2)} s (target: at most 0.5); remove ${s(par.remove)} s`,
      `  same through the docker CLI (Go, no Node start-up per container): sequential start ${s(dockerSeq.start)} s = ${(dockerSeq.start / 1000 / baseSeq).toFixed(2)} x, remove ${s(dockerSeq.remove)} s; 8-way start ${s(dockerPar.start)} s = ${(dockerPar.start / 1000 / basePar).toFixed(2)} x, remove ${s(dockerPar.remove)} s`,
      `daemon RSS with 50 running: ${seq.rssMiB.toFixed(1)} MiB (first time, sequential), ${par.rssMiB.toFixed(1)} / ${dockerSeq.rssMiB.toFixed(1)} / ${dockerPar.rssMiB.toFixed(1)} MiB (later batches); ${rssIdleMiB.toFixed(1)} MiB after removing them`,
      '(docker 20.10 on this kind of machine: run --rm 0.30-0.33 s, raw runc 0.024 s; 50 detached 11.2 s sequential, 6.0 s 8-way)',
      JSON.stringify({
        bench: 'run',
        rounds,
        network: network ?? 'default',
        berthMs: mb,
        runcMs: median(runcMs),
        nodeMs: median(nodeMs),
        nodeWithoutExtraCaMs: extraCa !== undefined ? median(nodeBareMs) : null,
        dockerCliMs: median(dockerMs),
        ratio: mb / floorMs,
        dockerdMs: reference ? median(dockerdMs) : null,
        fifty: { seq, par, seqVsDocker: seq.start / 1000 / baseSeq, parVsDocker: par.start / 1000 / basePar },
        fiftyDockerCli: { seq: dockerSeq, par: dockerPar, seqVsDocker: dockerSeq.start / 1000 / baseSeq, parVsDocker: dockerPar.start / 1000 / basePar },
        fiftyDockerd: refSeq && refPar ? { seq: refSeq, par: refPar } : null,
        rssIdleMiB,
      }),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await cleanup.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

runMain('run', main);
