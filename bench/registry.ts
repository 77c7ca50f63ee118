// The registry benchmark (issue 6), with the debianMinbase image (~50 MB gzip, one layer):
//
// 1. Push: `berth push` from a daemon that holds the image, against
//    `skopeo copy` of the same image from its OCI layout, each to a fresh,
//    empty docker-registry; alternating which goes first; medians and the
//    ratio berth / skopeo.
// 2. Pull throughput: `skopeo copy docker://… oci:DIR` (a fresh DIR each time)
//    from `berth registry serve` against the same from Debian's
//    docker-registry, both seeded with the same image; alternating; medians
//    and the ratio berth-served / distribution-served. skopeo's own work (digests,
//    writing the layout) dominates this, so also the servers alone:
// 3. Server-bound: 2000 manifest GETs over one keep-alive connection (`ab -k`, 1
//    and 8 at a time), and 20 GETs of the layer blob to /dev/null (curl), each
//    alternating between the two servers for 3 rounds; ratios of the medians.
//
//   node dist/bench/registry.js [--rounds N]
//
// Everything it makes — the daemon (its dir, mounts), the registries (processes
// and storage), the OCI directories — is removed at the end, also on failure or Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, roundsArg, timed, runMain } from './measure.js';
import { treeOf } from './cleanup.js';
import { debianMinbase, pushFixture, type Fixture } from '../test/fixtures/index.js';
import { Cleanup, freePort, runOk, sleep, type AfterHook } from '../test/harness/exec.js';
import { CLI_MAIN, startDaemon, type Daemon } from '../test/harness/daemon.js';
import { httpAnswers, startRegistry, terminate } from '../test/harness/registry.js';

const REPO = 'bench/debian:minbase';

let interrupted = false;
const onSignal = (): void => {
  interrupted = true;
};
function checkInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

async function ok(d: Daemon, args: string[]): Promise<string> {
  const r = await d.cli(args);
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** `berth registry serve` as a child process on a free loopback port with its own root; stopped and removed by `t`. */
async function startBerthRegistry(t: AfterHook): Promise<{ host: string; pid: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-bench-registry-'));
  let child: ChildProcess | undefined;
  t.after(async () => {
    if (child) await terminate(child, 5000);
    await rm(dir, { recursive: true, force: true });
  });
  const logPath = join(dir, 'serve.log');
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const log = await open(logPath, 'w');
    child = spawn(process.execPath, [CLI_MAIN, 'registry', 'serve', '--addr', `127.0.0.1:${port}`, '--root', join(dir, 'root')], {
      stdio: ['ignore', log.fd, log.fd],
    });
    await log.close();
    let dead = false;
    child.once('exit', () => (dead = true));
    for (let i = 0; i < 200 && !dead; i++) {
      if (await httpAnswers(`http://127.0.0.1:${port}/v2/`)) return { host: `127.0.0.1:${port}`, pid: child.pid! };
      await sleep(50);
    }
    await terminate(child, 1000);
    const text = await readFile(logPath, 'utf8').catch(() => '');
    if (!/EADDRINUSE|address already in use/i.test(text)) throw new Error(`berth registry serve did not start:\n${text}`);
  }
  throw new Error('berth registry serve did not start: no free port after 3 attempts');
}

/** One `skopeo copy` of HOST/REPO into a fresh OCI directory, timed; the directory is removed afterwards. */
async function timedSkopeoPull(host: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-bench-oci-'));
  try {
    return await timed(() =>
      runOk('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--src-no-creds', `docker://${host}/${REPO}`, `oci:${join(dir, 'layout')}:latest`]),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `berth push` of the daemon's image to a fresh empty docker-registry, timed; the registry is gone afterwards. */
async function timedBerthPush(d: Daemon, source: string): Promise<number> {
  const round = new Cleanup();
  try {
    const target = await startRegistry(round);
    const ref = `${target.host}/${REPO}`;
    await ok(d, ['tag', source, ref]);
    round.after(async () => {
      await ok(d, ['rmi', ref]);
    });
    return await timed(() => ok(d, ['push', ref]));
  } finally {
    await round.close();
  }
}

/** skopeo copy of the fixture's layout to a fresh empty docker-registry, timed. */
async function timedSkopeoPush(fixture: Fixture): Promise<number> {
  const round = new Cleanup();
  try {
    const target = await startRegistry(round);
    return await timed(() => pushFixture(fixture, target.host, REPO));
  } finally {
    await round.close();
  }
}

const list = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(', ');

async function main(): Promise<void> {
  const rounds = roundsArg(5);
  const loadBefore = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  const cleanup = new Cleanup();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    process.stdout.write('building (or reading the cached) debianMinbase fixture...\n');
    const fixture = await debianMinbase();
    const layer = fixture.layerDigests[0]!.slice('sha256:'.length);
    const layerMiB = (await readFile(join(fixture.layoutDir, 'blobs', 'sha256', layer))).length / 2 ** 20;

    // The two servers for the pull half, seeded with the same bytes (skopeo --preserve-digests).
    const distribution = await startRegistry(cleanup);
    const berthRegistry = await startBerthRegistry(cleanup);
    await pushFixture(fixture, distribution.host, REPO);
    await pushFixture(fixture, berthRegistry.host, REPO);

    // A daemon holding the image, for the push half: pulled once from the seeded docker-registry.
    const d = await startDaemon(cleanup, { insecureRegistries: [distribution.host] });
    const source = `${distribution.host}/${REPO}`;
    await ok(d, ['pull', source]);

    // One untimed pass of each first (page cache, skopeo's and the servers' first-request costs).
    await timedBerthPush(d, source);
    await timedSkopeoPush(fixture);
    await timedSkopeoPull(berthRegistry.host);
    await timedSkopeoPull(distribution.host);

    const berthPush: number[] = [];
    const skopeoPush: number[] = [];
    const fromBerth: number[] = [];
    const fromDistribution: number[] = [];
    for (let i = 0; i < rounds; i++) {
      checkInterrupted();
      // Alternate which goes first, so neither always runs on a warmer machine.
      if (i % 2 === 0) {
        berthPush.push(await timedBerthPush(d, source));
        skopeoPush.push(await timedSkopeoPush(fixture));
        fromBerth.push(await timedSkopeoPull(berthRegistry.host));
        fromDistribution.push(await timedSkopeoPull(distribution.host));
      } else {
        skopeoPush.push(await timedSkopeoPush(fixture));
        berthPush.push(await timedBerthPush(d, source));
        fromDistribution.push(await timedSkopeoPull(distribution.host));
        fromBerth.push(await timedSkopeoPull(berthRegistry.host));
      }
      process.stdout.write(
        `round ${i + 1}/${rounds}: push berth ${berthPush[i]!.toFixed(0)} ms, skopeo ${skopeoPush[i]!.toFixed(0)} ms; ` +
          `pull from berth registry ${fromBerth[i]!.toFixed(0)} ms, from docker-registry ${fromDistribution[i]!.toFixed(0)} ms\n`,
      );
    }
    checkInterrupted();

    // 3. The servers alone: per-request cost and blob throughput, no client work to speak of.
    const manifestUrl = (host: string) => `http://${host}/v2/${REPO.replace(':', '/manifests/')}`;
    const blobUrl = (host: string) => `http://${host}/v2/${REPO.split(':')[0]}/blobs/${fixture.layerDigests[0]}`;
    const abRate = async (host: string, concurrency: number): Promise<number> => {
      const out = (await runOk('ab', ['-q', '-k', '-n', '2000', '-c', String(concurrency), '-H', `Accept: ${fixture.mediaType}`, manifestUrl(host)])).stdout;
      const failed = Number(/Failed requests:\s+(\d+)/.exec(out)?.[1] ?? 'NaN');
      const non2xx = /Non-2xx responses:\s+(\d+)/.exec(out);
      if (failed !== 0 || non2xx) throw new Error(`ab against ${host}: ${failed} failed, ${non2xx?.[1] ?? 0} non-2xx`);
      return Number(/Requests per second:\s+([\d.]+)/.exec(out)?.[1] ?? 'NaN');
    };
    const blobMs = (host: string): Promise<number> =>
      timed(async () => {
        for (let i = 0; i < 20; i++) await runOk('curl', ['-sf', '-o', '/dev/null', blobUrl(host)]);
      });
    const servers = { berth: berthRegistry.host, distribution: distribution.host } as const;
    const rates: Record<'berth' | 'distribution', { one: number[]; eight: number[]; blob: number[] }> = {
      berth: { one: [], eight: [], blob: [] },
      distribution: { one: [], eight: [], blob: [] },
    };
    for (let i = 0; i < 3; i++) {
      for (const who of i % 2 === 0 ? (['berth', 'distribution'] as const) : (['distribution', 'berth'] as const)) {
        checkInterrupted();
        rates[who].one.push(await abRate(servers[who], 1));
        rates[who].eight.push(await abRate(servers[who], 8));
        rates[who].blob.push(await blobMs(servers[who]));
      }
    }
    const rate = (who: 'berth' | 'distribution', k: 'one' | 'eight') => median(rates[who][k]);
    const blob = (who: 'berth' | 'distribution') => median(rates[who].blob) / 20;

    const mbp = median(berthPush);
    const msp = median(skopeoPush);
    const mfb = median(fromBerth);
    const mfd = median(fromDistribution);
    const mibps = (ms: number): string => ((layerMiB * 1000) / ms).toFixed(0);
    const tree = await treeOf();
    process.stdout.write(
      [
        '',
        `image: debianMinbase (${layerMiB.toFixed(1)} MiB gzip, 1 layer), ${rounds} rounds each, alternating; tree ${tree}; loadavg before ${loadBefore}`,
        `push to an empty docker-registry:`,
        `  berth push                 median ${mbp.toFixed(0)} ms   (${list(berthPush)})`,
        `  skopeo copy oci: -> docker: median ${msp.toFixed(0)} ms   (${list(skopeoPush)})`,
        `  ratio berth/skopeo: ${(mbp / msp).toFixed(2)}`,
        `pull (skopeo copy docker: -> oci:) from:`,
        `  berth registry serve       median ${mfb.toFixed(0)} ms   (${list(fromBerth)})  ~${mibps(mfb)} MiB/s`,
        `  docker-registry 2.8        median ${mfd.toFixed(0)} ms   (${list(fromDistribution)})  ~${mibps(mfd)} MiB/s`,
        `  ratio berth/distribution (time; < 1 is faster): ${(mfb / mfd).toFixed(2)}`,
        `the servers alone (3 rounds alternating, medians):`,
        `  manifest GETs, keep-alive, 1 at a time: berth ${rate('berth', 'one').toFixed(0)} req/s, distribution ${rate('distribution', 'one').toFixed(0)} req/s; time ratio ${(rate('distribution', 'one') / rate('berth', 'one')).toFixed(2)}`,
        `  manifest GETs, keep-alive, 8 at a time: berth ${rate('berth', 'eight').toFixed(0)} req/s, distribution ${rate('distribution', 'eight').toFixed(0)} req/s; time ratio ${(rate('distribution', 'eight') / rate('berth', 'eight')).toFixed(2)}`,
        `  layer blob GET (curl to /dev/null): berth ${blob('berth').toFixed(0)} ms (~${mibps(blob('berth'))} MiB/s), distribution ${blob('distribution').toFixed(0)} ms (~${mibps(blob('distribution'))} MiB/s); time ratio ${(blob('berth') / blob('distribution')).toFixed(2)}`,
        JSON.stringify({
          bench: 'registry',
          rounds,
          loadavgBefore: loadBefore,
          pushBerthMs: mbp,
          pushSkopeoMs: msp,
          pushRatio: mbp / msp,
          pullFromBerthMs: mfb,
          pullFromDistributionMs: mfd,
          pullRatio: mfb / mfd,
          manifestReqPerSec: { berth: { c1: rate('berth', 'one'), c8: rate('berth', 'eight') }, distribution: { c1: rate('distribution', 'one'), c8: rate('distribution', 'eight') } },
          blobGetMs: { berth: blob('berth'), distribution: blob('distribution') },
        }),
        '',
      ].join('\n'),
    );
  } finally {
    await cleanup.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

runMain('registry', main);
