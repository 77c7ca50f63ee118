// A real berth daemon for one test: its own root, unix socket, HOME and
// DOCKER_CONFIG in a temp dir; stopped, unmounted and removed afterwards.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unmountBelow } from '../../src/testing/index.js';
import { teardownNetworking } from '../../src/network/index.js';

const execFileP = promisify(execFile);
import { type AfterHook, run, type RunResult, sleep } from './exec.js';

// dist/test/harness -> the package root is three levels up.
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The CLI as bin/berth runs it: the bundle in dist/cli (scripts/bundle-cli.mjs), so tests run what users run. */
export const CLI_MAIN = join(REPO_ROOT, 'dist', 'cli', 'main.cjs');
/** bin/berth itself, the launcher users run (it runs CLI_MAIN): `Daemon.cli` goes through it. */
export const BERTH_BIN = join(REPO_ROOT, 'bin', 'berth');
export const DOCKER_CLI = '/usr/local/bin/docker';

export interface DaemonOptions {
  /** Each becomes `--insecure-registry X` (e.g. a harness registry's host). */
  insecureRegistries?: string[];
  /** More daemon arguments, after the harness's own. */
  extraArgs?: string[];
  /** Extra environment for the daemon process. */
  env?: NodeJS.ProcessEnv;
  /** Where to make the temp dir (default os.tmpdir()): the benchmark puts it on its own filesystem. */
  parentDir?: string;
  /** The script run with `node SCRIPT daemon ...` (default CLI_MAIN); the harness self-test uses a stub. */
  entry?: string;
}

export interface CommandOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
}

export interface ApiResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text(): string;
  json<T = unknown>(): T;
}

export interface Daemon {
  /** The temp dir holding everything below. */
  dir: string;
  /** The daemon's --root. */
  root: string;
  socket: string;
  /** unix://SOCKET */
  host: string;
  /** The daemon's stdout and stderr, across restarts. */
  logPath: string;
  /** The running daemon's pid (changes on restart). */
  readonly pid: number;
  /** `node CLI_MAIN -H unix://SOCK ...args` with HOME in the temp dir. */
  cli(args: string[], opts?: CommandOptions): Promise<RunResult>;
  /** The docker CLI with DOCKER_HOST at this daemon and a temp DOCKER_CONFIG. */
  docker(args: string[], opts?: CommandOptions): Promise<RunResult>;
  /** One HTTP request over the unix socket; an object body is sent as JSON. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash; the root is left as it was. */
  kill9(): Promise<void>;
  /** Stops (if running) and starts again on the same root and socket, waiting for /_ping. */
  restart(): Promise<void>;
}

/** One request to a unix-socket HTTP server. */
export function unixRequest(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  let payload: Buffer | undefined;
  const h: Record<string, string> = { ...headers };
  if (Buffer.isBuffer(body)) payload = body;
  else if (typeof body === 'string') payload = Buffer.from(body);
  else if (body !== undefined) {
    payload = Buffer.from(JSON.stringify(body));
    h['content-type'] ??= 'application/json';
  }
  if (payload) h['content-length'] = String(payload.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath, method, path, headers: h }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: data,
          text: () => data.toString('utf8'),
          json: <T>() => JSON.parse(data.toString('utf8')) as T,
        });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function tail(path: string, lines = 50): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

/** The caller's environment less anything that would point a client elsewhere. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['DOCKER_HOST', 'DOCKER_CONFIG', 'DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'BERTH_HOST']) {
    delete env[k];
  }
  return env;
}

export async function startDaemon(t: AfterHook, opts: DaemonOptions = {}): Promise<Daemon> {
  const dir = await mkdtemp(join(opts.parentDir ?? tmpdir(), 'berth-daemon-'));
  let child: ChildProcess | undefined;
  let stopping = false;
  const verbose = !!process.env.BERTH_TEST_VERBOSE;
  const root = join(dir, 'root');
  const socket = join(dir, 'berth.sock');
  const home = join(dir, 'home');
  const dockerConfig = join(dir, 'docker-config');
  const logPath = join(dir, 'daemon.log');
  const host = `unix://${socket}`;
  const entry = opts.entry ?? CLI_MAIN;

  const printLog = async (why: string): Promise<void> => {
    process.stderr.write(`--- berth daemon (${why}), last lines of ${logPath}:\n${await tail(logPath)}\n---\n`);
  };

  const waitExit = (c: ChildProcess): Promise<void> =>
    c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', () => r()));

  const stop = async (): Promise<void> => {
    const c = child;
    if (!c) return;
    stopping = true;
    const exited = waitExit(c);
    let killed = false;
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      const timer = setTimeout(() => {
        killed = true;
        c.kill('SIGKILL');
      }, 10_000);
      await exited;
      clearTimeout(timer);
    }
    child = undefined;
    stopping = false;
    if (killed) await printLog('ignored SIGTERM for 10 s, killed');
    else if (c.exitCode !== 0 && c.signalCode !== 'SIGTERM') await printLog(`exit ${c.exitCode ?? c.signalCode}`);
  };

  // Its own default bridge and subnet: daemons of parallel tests must not share them.
  const bridge = `bt${randomBytes(4).toString('hex')}`;
  const bip = await freeSubnetGateway();
  t.after(async () => {
    try {
      await stop();
      if (verbose) await printLog('verbose');
    } finally {
      await teardownNetworking(root, { defaultBridge: bridge }).catch((err: unknown) => console.error('network teardown failed', err));
      await unmountBelow(dir);
      await rm(dir, { recursive: true, force: true });
    }
  });

  await mkdir(root);
  await mkdir(home);
  await mkdir(dockerConfig);

  const start = async (): Promise<void> => {
    const args = [entry, 'daemon', '--root', root, '--socket', socket, '--bridge', bridge, '--bip', bip];
    for (const r of opts.insecureRegistries ?? []) args.push('--insecure-registry', r);
    args.push(...(opts.extraArgs ?? []));
    const log = await open(logPath, 'a');
    const c = spawn(process.execPath, args, {
      stdio: ['ignore', log.fd, log.fd],
      env: { ...cleanEnv(), ...opts.env },
    });
    await log.close();
    child = c;
    let exited = false;
    let up = false;
    c.once('exit', (code, signal) => {
      exited = true;
      // Before /_ping answers, the thrown error carries the log instead.
      if (up && !stopping && child === c && code !== 0) {
        void printLog(`died unexpectedly: ${code ?? signal}`);
      }
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !exited) {
      const ping = await unixRequest(socket, 'GET', '/_ping').catch(() => null);
      if (ping && ping.status === 200) {
        up = true;
        return;
      }
      await sleep(50);
    }
    const why = exited ? `exited ${c.exitCode ?? c.signalCode} before answering /_ping` : 'no /_ping answer in 30 s';
    if (!exited) await stop();
    child = undefined;
    throw new Error(`berth daemon: ${why}\n${await tail(logPath)}`);
  };

  await start();

  return {
    dir,
    root,
    socket,
    host,
    logPath,
    get pid(): number {
      return child?.pid ?? 0;
    },
    cli: (args, o = {}) =>
      run(BERTH_BIN, ['-H', host, ...args], {
        env: { ...cleanEnv(), HOME: home, ...o.env },
        ...(o.input !== undefined ? { input: o.input } : {}),
      }),
    docker: (args, o = {}) =>
      run(DOCKER_CLI, args, {
        env: { ...cleanEnv(), HOME: home, DOCKER_HOST: host, DOCKER_CONFIG: dockerConfig, ...o.env },
        ...(o.input !== undefined ? { input: o.input } : {}),
      }),
    request: (method, path, body, headers) => unixRequest(socket, method, path, body, headers),
    stop,
    kill9: async () => {
      const c = child;
      if (!c) return;
      stopping = true;
      const exited = waitExit(c);
      c.kill('SIGKILL');
      await exited;
      child = undefined;
      stopping = false;
    },
    restart: async () => {
      await stop();
      await start();
    },
  };
}

/** A gateway/prefix in 10.64.0.0/10 whose /24 the host does not route yet. */
async function freeSubnetGateway(): Promise<string> {
  const { stdout } = await execFileP('ip', ['-4', 'route', 'show']);
  for (;;) {
    const b = 64 + Math.floor(Math.random() * 64);
    const c = Math.floor(Math.random() * 256);
    if (!stdout.includes(`10.${b}.${c}.`)) return `10.${b}.${c}.1/24`;
  }
}
