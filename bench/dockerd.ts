// The reference engine for side-by-side benchmarks: Debian's dockerd (docker.io,
// 20.10 with its integrated BuildKit), installed on demand, started isolated on
// a temp data root, exec root and socket, on a bridge of our own, with its
// iptables management off, so it touches nothing of the host or of berth.
// Benchmarks only: berth never drives it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runOk, sleep, type AfterHook } from '../test/harness/exec.js';
import { unmountBelow } from '../src/testing/index.js';

const DOCKERD = '/usr/sbin/dockerd';
/** Debian's docker CLI (20.10), whose classic `docker build` speaks BuildKit without the buildx plugin. */
export const DOCKER_CLI = '/usr/bin/docker';

export interface ReferenceDockerd {
  host: string;
  /** the docker CLI against it; BuildKit on unless env says otherwise */
  docker(args: string[], env?: NodeJS.ProcessEnv): Promise<string>;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Install Debian's docker.io when dockerd is missing (services are not started by the package here). */
export async function ensureDockerd(): Promise<void> {
  if ((await exists(DOCKERD)) && (await exists(DOCKER_CLI))) return;
  await runOk('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'docker.io'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeoutMs: 600_000 });
}

export async function startReferenceDockerd(t: AfterHook): Promise<ReferenceDockerd> {
  await ensureDockerd();
  const dir = await mkdtemp(join(tmpdir(), 'berth-bench-dockerd-'));
  const bridge = `bkd${randomBytes(3).toString('hex')}`;
  const subnet = `10.${200 + (randomBytes(1)[0]! % 50)}.${randomBytes(1)[0]!}`;
  const socket = join(dir, 'docker.sock');
  const proc: { child?: ChildProcess } = {};
  // LIFO: stop dockerd, then the bridge, then the directory (after unmounting what it left).
  t.after(async () => {
    await unmountBelow(dir);
    await rm(dir, { recursive: true, force: true });
  });
  t.after(async () => {
    await run('ip', ['link', 'del', bridge]);
  });
  t.after(async () => {
    const child = proc.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  await runOk('ip', ['link', 'add', bridge, 'type', 'bridge']);
  await runOk('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
  await runOk('ip', ['link', 'set', bridge, 'up']);
  const { openSync } = await import('node:fs');
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const child = spawn(
    DOCKERD,
    ['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'dockerd.pid'), '-H', `unix://${socket}`,
      '--bridge', bridge, '--iptables=false', '--ip-masq=false', '--ip-forward=false', '--storage-driver', 'overlay2'],
    { stdio: ['ignore', log, log] },
  );
  proc.child = child;
  const host = `unix://${socket}`;
  const docker = async (args: string[], env: NodeJS.ProcessEnv = {}) =>
    (await runOk(DOCKER_CLI, args, { env: { ...process.env, DOCKER_HOST: host, DOCKER_BUILDKIT: '1', DOCKER_CONFIG: join(dir, 'config'), ...env } })).stdout;
  for (let i = 0; ; i++) {
    if ((await run(DOCKER_CLI, ['version'], { env: { ...process.env, DOCKER_HOST: host } })).code === 0) break;
    if (i > 100 || child.exitCode !== null) throw new Error(`dockerd did not come up; see ${join(dir, 'dockerd.log')}`);
    await sleep(100);
  }
  return { host, docker };
}
