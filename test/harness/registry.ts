// A real registry (Debian's docker-registry, distribution 2.8) on a free
// loopback port with filesystem storage in a temp dir, for one test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AfterHook, freePort, runOk, sleep } from './exec.js';
import { startTokenServer, type TokenServer } from './token-server.js';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface Credentials {
  user: string;
  password: string;
}

export interface RegistryOptions {
  /** Basic auth through a bcrypt htpasswd file with this one user. */
  htpasswd?: Credentials;
  /** Bearer token auth through our token server; with credentials, only that user gets access. */
  token?: boolean | Credentials;
}

export interface Registry {
  /** 127.0.0.1:PORT */
  host: string;
  /** http://127.0.0.1:PORT */
  url: string;
  /** The registry's storage root directory (docker/registry/v2/... lives below it). */
  root: string;
  /** The token server when started with `token`. */
  token?: TokenServer;
  pid: number;
  stop(): Promise<void>;
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Sends SIGTERM, then SIGKILL after `graceMs`, to this one child; resolves once it has exited. */
export async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  const exited = exitOf(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Resolves once `url` answers HTTP at all (401 counts: the registry is up). */
export function httpAnswers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

async function tail(path: string, lines = 50): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export async function startRegistry(t: AfterHook, opts: RegistryOptions = {}): Promise<Registry> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-registry-'));
  let child: ChildProcess | undefined;
  let token: TokenServer | undefined;
  const stop = async (): Promise<void> => {
    if (child) await terminate(child, 5000);
    if (token) await token.close();
    await rm(dir, { recursive: true, force: true });
  };
  t.after(stop);

  const storage = join(dir, 'storage');
  let auth: Record<string, unknown> | undefined;
  if (opts.htpasswd) {
    const line = await runOk('htpasswd', ['-Bbn', opts.htpasswd.user, opts.htpasswd.password]);
    const path = join(dir, 'htpasswd');
    await writeFile(path, line.stdout.trim() + '\n');
    auth = { htpasswd: { realm: 'berth-test-registry', path } };
  } else if (opts.token) {
    token = await startTokenServer(dir, typeof opts.token === 'object' ? opts.token : undefined);
    auth = {
      token: { realm: token.realm, service: token.service, issuer: token.issuer, rootcertbundle: token.certPath },
    };
  }

  // A port may be taken between freePort() and the registry's bind: retry a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config = {
      version: '0.1',
      log: { level: 'warn', accesslog: { disabled: true } },
      storage: {
        filesystem: { rootdirectory: storage },
        delete: { enabled: true },
        maintenance: { uploadpurging: { enabled: false } },
      },
      http: { addr: `127.0.0.1:${port}`, headers: { 'X-Content-Type-Options': ['nosniff'] } },
      ...(auth ? { auth } : {}),
    };
    const configPath = join(dir, 'config.yml');
    // JSON is YAML: the registry reads this as its YAML config.
    await writeFile(configPath, JSON.stringify(config, null, 2));
    const logPath = join(dir, `registry-${attempt}.log`);
    const log = await open(logPath, 'w');
    // Only the PATH: REGISTRY_* variables in our environment would override the config.
    child = spawn(REGISTRY_BIN, ['serve', configPath], {
      stdio: ['ignore', log.fd, log.fd],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    await log.close();
    const url = `http://127.0.0.1:${port}`;
    const exited = exitOf(child);
    let up = false;
    let dead = false;
    void exited.then(() => (dead = true));
    for (let i = 0; i < 200 && !dead; i++) {
      if (await httpAnswers(`${url}/v2/`)) {
        up = true;
        break;
      }
      await sleep(50);
    }
    if (up) {
      return { host: `127.0.0.1:${port}`, url, root: storage, pid: child.pid!, stop, ...(token ? { token } : {}) };
    }
    await terminate(child, 1000);
    const text = await tail(logPath);
    if (!/address already in use/.test(text)) throw new Error(`docker-registry did not start:\n${text}`);
  }
  throw new Error('docker-registry did not start: no free port after 3 attempts');
}
