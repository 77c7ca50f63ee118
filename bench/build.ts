// The build benchmark (issue 5): alternating in one run, medians of N rounds,
//   - a warm rebuild of a ten-step Dockerfile, every step cached;
//   - a cold build (--no-cache) of a small multi-stage project;
//   - `node -e 0`, Node's start-up floor (the berth CLI is a Node process).
// and the same two builds by the reference engine on the same inputs: Debian's
// dockerd with BuildKit (bench/dockerd.ts installs docker.io when missing and
// runs it isolated). Targets: the warm rebuild within 3x Node's start-up; the
// cold build no slower than BuildKit's.
//
//   node dist/bench/build.js [--rounds N] [--no-docker]
//
// The daemon's temp root, its containers, monitors and cgroups, and the
// reference dockerd with its bridge and root are removed at the end.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { median, roundsArg, timed, runMain } from './measure.js';
import { treeOf } from './cleanup.js';
import { benchDaemon } from './daemon.js';
import { Cleanup, runOk } from '../test/harness/exec.js';
import type { Daemon } from '../test/harness/daemon.js';
import { startReferenceDockerd, type ReferenceDockerd } from './dockerd.js';


const WARM_DOCKERFILE = [
  'FROM busybox',
  'ARG VERSION=1',
  'ENV APP=/app',
  'WORKDIR /app',
  'COPY package.txt ./',
  'RUN echo "installing $VERSION" > /app/installed',
  'COPY src/ ./src/',
  'RUN cat src/*.txt > /app/bundle',
  'EXPOSE 8080',
  'USER nobody',
  'CMD ["cat", "/app/bundle"]',
  '',
].join('\n');

const COLD_DOCKERFILE = [
  'FROM busybox AS build',
  'WORKDIR /src',
  'COPY src/ ./',
  'RUN cat *.txt > /out.txt',
  'FROM busybox',
  'COPY --from=build /out.txt /app/out.txt',
  'CMD ["cat", "/app/out.txt"]',
  '',
].join('\n');

async function project(dir: string, dockerfile: string): Promise<void> {
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
  await writeFile(join(dir, 'package.txt'), 'deps\n');
  for (let i = 0; i < 5; i++) await writeFile(join(dir, 'src', `part${i}.txt`), `part ${i}\n`.repeat(100));
}

async function ok(d: Daemon, args: string[]): Promise<string> {
  const r = await d.cli(args);
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function main(): Promise<void> {
  const rounds = roundsArg(10);
  const loadBefore = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  const cleanup = new Cleanup();
  try {
    const { d } = await benchDaemon(cleanup);
    const warmDir = join(d.dir, 'warm');
    const coldDir = join(d.dir, 'cold');
    await project(warmDir, WARM_DOCKERFILE);
    await project(coldDir, COLD_DOCKERFILE);
    let ref: ReferenceDockerd | undefined;
    if (!process.argv.includes('--no-docker')) {
      ref = await startReferenceDockerd(cleanup);
      const saved = join(d.dir, 'busybox-docker.tar');
      await ok(d, ['save', '-o', saved, 'busybox']);
      await ref.docker(['load', '-i', saved]);
    }
    await ok(d, ['build', '-q', '-t', 'warm', warmDir]); // fill the caches once
    await ref?.docker(['build', '-q', '-t', 'warm', warmDir]);

    const warmMs: number[] = [];
    const coldMs: number[] = [];
    const nodeMs: number[] = [];
    const dockerWarmMs: number[] = [];
    const dockerColdMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      warmMs.push(await timed(() => ok(d, ['build', '-q', '-t', 'warm', warmDir])));
      if (ref) dockerWarmMs.push(await timed(() => ref.docker(['build', '-q', '-t', 'warm', warmDir])));
      coldMs.push(await timed(() => ok(d, ['build', '-q', '--no-cache', '-t', 'cold', coldDir])));
      if (ref) dockerColdMs.push(await timed(() => ref.docker(['build', '-q', '--no-cache', '-t', 'cold', coldDir])));
      nodeMs.push(await timed(() => runOk(process.execPath, ['-e', '0'])));
      const dockerPart = ref ? `, BuildKit warm ${dockerWarmMs[i]!.toFixed(0)} ms, cold ${dockerColdMs[i]!.toFixed(0)} ms` : '';
      process.stdout.write(`round ${i + 1}/${rounds}: berth warm ${warmMs[i]!.toFixed(0)} ms, cold ${coldMs[i]!.toFixed(0)} ms${dockerPart}, node ${nodeMs[i]!.toFixed(0)} ms\n`);
    }
    const warm = median(warmMs);
    const cold = median(coldMs);
    const node = median(nodeMs);
    const list = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
    const lines = [
      '',
      `${rounds} rounds alternating; tree ${await treeOf()}; load before ${loadBefore}`,
      `berth warm rebuild, 10 steps cached   median ${warm.toFixed(0)} ms   (${list(warmMs)})`,
      `berth cold multi-stage build          median ${cold.toFixed(0)} ms   (${list(coldMs)})`,
      `node -e 0                             median ${node.toFixed(0)} ms   (${list(nodeMs)})`,
      `warm / node start-up: ${(warm / node).toFixed(2)}   (target: at most 3)`,
    ];
    if (ref) {
      const dWarm = median(dockerWarmMs);
      const dCold = median(dockerColdMs);
      lines.push(
        `BuildKit (dockerd 20.10) warm rebuild median ${dWarm.toFixed(0)} ms   (${list(dockerWarmMs)})`,
        `BuildKit (dockerd 20.10) cold build   median ${dCold.toFixed(0)} ms   (${list(dockerColdMs)})`,
        `cold: berth / BuildKit ${(cold / dCold).toFixed(2)}   (target: at most 1); warm: berth / BuildKit ${(warm / dWarm).toFixed(2)}`,
      );
    }
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await cleanup.close();
  }
}

runMain('build', main);
