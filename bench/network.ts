// The networking benchmark (issue 4): what the default bridge network costs.
//
// 1. Start latency: `berth run --rm busybox true` (default bridge network)
//    alternating with `berth run --rm --network none busybox true`, median of
//    N each, and the ratio bridge / none.
// 2. Published-port throughput: a busybox httpd container published with
//    `-p PORT:80`; `ab` (keep-alive off, one request per connection) through
//    127.0.0.1:PORT (portmap's DNAT) alternating with `ab` to the container's
//    own IP on the bridge, a few rounds each, medians, and the ratio
//    published / direct.
//
//   node dist/bench/network.js [--rounds N] [--ab-rounds N]
//
// Everything it makes — the daemon's temp dir, mounts, bridge and iptables
// rules, containers (runc state, monitors, processes), the cgroups under its
// own --cgroup-parent — is removed at the end, also on failure or Ctrl-C.
import { execFile } from 'node:child_process';
import { get } from 'node:http';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { median, roundsArg, timed, runMain } from './measure.js';
import { treeOf } from './cleanup.js';
import { benchDaemon } from './daemon.js';
import { Cleanup, freePort, run, runOk, sleep } from '../test/harness/exec.js';
import type { Daemon } from '../test/harness/daemon.js';
import { removeIdlePortmapChains } from '../src/network/index.js';

const execFileP = promisify(execFile);
const AB_REQUESTS = 5000;
const AB_CONCURRENCY = 8;
const HTTPD_SCRIPT = 'mkdir -p /w && echo hi > /w/index.html && exec httpd -f -p 80 -h /w';

let interrupted = false;
const onSignal = (): void => {
  interrupted = true;
};
function checkInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

function intArg(flag: string, fallback: number): number {
  const i = process.argv.indexOf(flag);
  const n = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer`);
  return n;
}

async function ok(d: Daemon, args: string[]): Promise<string> {
  const r = await d.cli(args);
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}


/** Whether portmap's shared DNAT chain exists on the host now. */
async function portmapChainsExist(): Promise<boolean> {
  return execFileP('iptables', ['-w', '-t', 'nat', '-S', 'CNI-HOSTPORT-DNAT']).then(() => true, () => false);
}

/** Status of one GET, or 0 when the connection fails. */
function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

async function waitHttp(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    checkInterrupted();
    if ((await httpStatus(url)) === 200) return;
    await sleep(100);
  }
  throw new Error(`${url} did not answer 200 in 15 s`);
}

/** Requests per second of one `ab` run, checked: every request complete, none failed, every one a 200. */
async function abRps(url: string): Promise<number> {
  const r = await run('ab', ['-q', '-n', String(AB_REQUESTS), '-c', String(AB_CONCURRENCY), url]);
  const field = (name: string): string | undefined => r.stdout.match(new RegExp(`^${name}:\\s+(\\S+)`, 'm'))?.[1];
  const complete = Number(field('Complete requests'));
  const failed = Number(field('Failed requests'));
  const rps = Number(field('Requests per second'));
  if (r.code !== 0 || complete !== AB_REQUESTS || failed !== 0 || /Non-2xx responses/.test(r.stdout) || !Number.isFinite(rps)) {
    throw new Error(`ab ${url} exited ${r.code}: complete ${complete}, failed ${failed}\n${r.stdout}\n${r.stderr}`);
  }
  return rps;
}

interface ContainerJson {
  NetworkSettings?: { IPAddress?: string; Networks?: Record<string, { IPAddress?: string }> };
}

async function main(): Promise<void> {
  const rounds = roundsArg(20);
  const abRounds = intArg('--ab-rounds', 5);
  const loadBefore = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  const cleanup = new Cleanup();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // Last registered runs first: containers and cgroups, then the daemon (stopped; its
    // bridge, endpoints, masquerade rules, mounts and dir torn down), then this.
    // portmap's host-wide chains go only if this run brought them (and they are idle):
    // if they were there before, other runtimes on the host are using them.
    const hadPortmapChains = await portmapChainsExist();
    cleanup.after(async () => {
      if (!hadPortmapChains) await removeIdlePortmapChains();
    });
    const { d } = await benchDaemon(cleanup);

    // 1. Start latency, bridge against none. One untimed start of each first (page cache, CNI plugin binaries).
    await ok(d, ['run', '--rm', 'busybox', 'true']);
    await ok(d, ['run', '--rm', '--network', 'none', 'busybox', 'true']);
    const bridgeMs: number[] = [];
    const noneMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      checkInterrupted();
      bridgeMs.push(await timed(() => ok(d, ['run', '--rm', 'busybox', 'true'])));
      noneMs.push(await timed(() => ok(d, ['run', '--rm', '--network', 'none', 'busybox', 'true'])));
      process.stdout.write(`round ${i + 1}/${rounds}: bridge ${bridgeMs[i]!.toFixed(0)} ms, none ${noneMs[i]!.toFixed(0)} ms\n`);
    }
    const left = (await ok(d, ['ps', '-aq'])).trim();
    if (left) throw new Error(`run --rm left containers behind: ${left.replace(/\n/g, ' ')}`);

    // 2. Published port against the container's own address.
    const port = await freePort();
    await ok(d, ['run', '-d', '--name', 'bench-httpd', '-p', `${port}:80`, 'busybox', 'sh', '-c', HTTPD_SCRIPT]);
    const info = (await d.request('GET', '/containers/bench-httpd/json')).json<ContainerJson>();
    const ip = info.NetworkSettings?.IPAddress || info.NetworkSettings?.Networks?.['bridge']?.IPAddress;
    if (!ip) throw new Error(`no IP address in inspect: ${JSON.stringify(info.NetworkSettings)}`);
    const published = `http://127.0.0.1:${port}/`;
    const direct = `http://${ip}/`;
    await waitHttp(published);
    await waitHttp(direct);
    // One short untimed run each: the conntrack table, httpd's pages, ab itself.
    for (const url of [published, direct]) await runOk('ab', ['-q', '-n', '500', '-c', String(AB_CONCURRENCY), url]);
    const publishedRps: number[] = [];
    const directRps: number[] = [];
    for (let i = 0; i < abRounds; i++) {
      checkInterrupted();
      publishedRps.push(await abRps(published));
      directRps.push(await abRps(direct));
      process.stdout.write(`ab round ${i + 1}/${abRounds}: published ${publishedRps[i]!.toFixed(0)} req/s, direct ${directRps[i]!.toFixed(0)} req/s\n`);
    }
    await ok(d, ['rm', '-f', 'bench-httpd']);

    const mBridge = median(bridgeMs);
    const mNone = median(noneMs);
    const mPublished = median(publishedRps);
    const mDirect = median(directRps);
    const list = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
    const lines = [
      '',
      `busybox; tree ${await treeOf()}; load before ${loadBefore}`,
      `run --rm busybox true, bridge  median ${mBridge.toFixed(0)} ms   (${list(bridgeMs)})`,
      `run --rm busybox true, none    median ${mNone.toFixed(0)} ms   (${list(noneMs)})`,
      `ratio bridge / none: ${(mBridge / mNone).toFixed(2)}   (bridge adds ${(mBridge - mNone).toFixed(0)} ms)`,
      `ab -n ${AB_REQUESTS} -c ${AB_CONCURRENCY}, busybox httpd, ${abRounds} rounds alternating:`,
      `  published 127.0.0.1:${port}  median ${mPublished.toFixed(0)} req/s   (${list(publishedRps)})`,
      `  direct ${ip}:80  median ${mDirect.toFixed(0)} req/s   (${list(directRps)})`,
      `ratio published / direct: ${(mPublished / mDirect).toFixed(2)}`,
      JSON.stringify({
        bench: 'network',
        rounds,
        abRounds,
        abRequests: AB_REQUESTS,
        abConcurrency: AB_CONCURRENCY,
        bridgeMs: mBridge,
        noneMs: mNone,
        startRatio: mBridge / mNone,
        publishedRps: mPublished,
        directRps: mDirect,
        throughputRatio: mPublished / mDirect,
        loadBefore,
      }),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await cleanup.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

runMain('network', main);
