// Running peer tools (skopeo, openssl, debootstrap, tar...) from tests: argv
// only, never a shell, with output captured for the error message.
import { spawn, type SpawnOptions } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** killed (SIGKILL) after this long, exiting 124 like timeout(1); default 5 minutes, so a hung peer fails its test instead of the suite */
  timeoutMs?: number;
}

/** Runs `cmd args` to completion; never throws for a non-zero exit. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const spawnOpts: SpawnOptions = { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env };
    if (opts.cwd) spawnOpts.cwd = opts.cwd;
    const child = spawn(cmd, args, spawnOpts);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    const timeoutMs = opts.timeoutMs ?? 300_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({
        code: timedOut ? 124 : (code ?? (signal ? 128 : 1)),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: timedOut ? `${stderr}[${cmd} killed after ${timeoutMs} ms]\n` : stderr,
      });
    });
    child.stdin?.on('error', () => {
      /* the child may exit without reading its input */
    });
    child.stdin?.end(opts.input ?? '');
  });
}

/** Runs `cmd args` and throws with its stderr unless it exits 0. */
export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${res.code}:\n${res.stderr.trim() || res.stdout.trim()}`);
  }
  return res;
}

/** The cleanup half of node:test's TestContext, so the harness also serves the benchmark. */
export interface AfterHook {
  after(fn: () => Promise<void> | void): void;
}

/** An AfterHook for code outside node:test: runs the hooks in reverse order on `close()`. */
export class Cleanup implements AfterHook {
  #hooks: (() => Promise<void> | void)[] = [];

  after(fn: () => Promise<void> | void): void {
    this.#hooks.push(fn);
  }

  async close(): Promise<void> {
    const errors: unknown[] = [];
    while (this.#hooks.length > 0) {
      const fn = this.#hooks.pop()!;
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
  }
}

/** A loopback TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
