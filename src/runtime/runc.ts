// Driving the runc binary. Every call gets `--root <our state dir>` (berth
// never touches /run/runc) and its own JSON log file, whose last error is the
// message of the BerthError we throw: for `create` runc's stdio belong to the
// container, so stderr is no place to read runc's own errors from.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { BerthError, type ErrorCode } from '../errors/index.js';
import { runChild, spawnChild, type Child } from '../native/index.js';
import type { LinuxResources } from './types.js';

export type ContainerStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** `runc state` output (OCI runtime state). */
export interface ContainerState {
  ociVersion: string;
  id: string;
  /** 0 once stopped */
  pid: number;
  status: ContainerStatus;
  bundle: string;
  rootfs?: string;
  created: string;
  owner?: string;
  annotations?: Record<string, string>;
}

/** A stdio slot: a file descriptor of ours handed down, a new pipe, or /dev/null. */
export type StdioSetting = 'ignore' | 'pipe' | 'inherit' | number;

export interface CreateOptions {
  /** where runc writes the container's init pid */
  pidFile: string;
  /** unix socket path that receives the pty master (process.terminal = true) */
  consoleSocket?: string;
  /** [stdin, stdout, stderr] of the container process; default all 'ignore' */
  stdio?: [StdioSetting, StdioSetting, StdioSetting];
  /** for rootfs on ramfs, where pivot_root is impossible */
  noPivot?: boolean;
}

/** The pipes asked for with 'pipe', now the container's own stdio. */
export interface CreateResult {
  pid: number;
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
}

export interface RunResult {
  /** the container's exit code; 128 + signal when killed (137 = SIGKILL, e.g. by the OOM killer) */
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RuncOptions {
  /** runc's --root: where it keeps container state */
  root: string;
  /** where per-call JSON logs go (default `<root>-log`); never inside `root`, which runc lists as containers */
  logDir?: string;
  /** default /usr/sbin/runc */
  binary?: string;
}

interface Invocation {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** the last error runc logged, if any */
  error?: string;
}

/** A runc error message -> our error code (docker: not_found exits 127, forbidden 126). */
export function codeOfRuncMessage(message: string): ErrorCode {
  if (/container does not exist|executable file not found|no such file or directory/i.test(message)) return 'not_found';
  if (/permission denied|operation not permitted/i.test(message)) return 'forbidden';
  if (/already exists|not running|not paused|is paused|is not stopped|cannot (start|pause|resume|kill|delete)|container .* (state|status)/i.test(message)) {
    return 'conflict';
  }
  return 'internal';
}

/** The exit status docker reports when a container's process could not be started (127/126), if this was that. */
export function startFailureExitCode(err: unknown): 126 | 127 | undefined {
  if (!(err instanceof BerthError) || !/unable to start container process|exec:/.test(err.message)) return undefined;
  if (err.code === 'not_found') return 127;
  if (err.code === 'forbidden') return 126;
  return undefined;
}

/** The last error-level message of a runc JSON log ("{level,msg,time}" per line). */
export function lastRuncError(log: string): string | undefined {
  let last: string | undefined;
  for (const line of log.split('\n')) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if ((entry.level === 'error' || entry.level === 'fatal' || entry.level === 'panic') && entry.msg) last = entry.msg;
    } catch {
      /* a partial line from a killed runc */
    }
  }
  return last;
}

/** The message of runc's plain-text stderr: `time=... level=error msg="..."` or a bare line. */
function messageOfStderr(stderr: string): string | undefined {
  const lines = stderr.trim().split('\n').filter(Boolean);
  const last = lines.at(-1);
  if (!last) return undefined;
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(last);
  return m ? (m[1] as string).replace(/\\(.)/g, '$1') : last;
}

export class Runc {
  readonly root: string;
  readonly logDir: string;
  readonly binary: string;

  constructor(opts: RuncOptions) {
    this.root = opts.root;
    this.logDir = opts.logDir ?? `${opts.root.replace(/\/+$/, '')}-log`;
    this.binary = opts.binary ?? '/usr/sbin/runc';
  }

  /** Create the container (its init waits for `start`). */
  async create(id: string, bundle: string, opts: CreateOptions): Promise<CreateResult> {
    const args = ['create', '--bundle', bundle, '--pid-file', opts.pidFile];
    if (opts.consoleSocket) args.push('--console-socket', opts.consoleSocket);
    if (opts.noPivot) args.push('--no-pivot');
    args.push(id);
    const stdio = opts.stdio ?? ['ignore', 'ignore', 'ignore'];
    // The pipes outlive runc (the container holds them), so wait for its exit, not for them to close.
    const pipes: Omit<CreateResult, 'pid'> = { stdin: null, stdout: null, stderr: null };
    const onSpawn = (child: Child) => Object.assign(pipes, { stdin: child.stdin, stdout: child.stdout, stderr: child.stderr });
    try {
      await this.#invoke(args, { stdio, onSpawn });
    } catch (err) {
      for (const p of [pipes.stdin, pipes.stdout, pipes.stderr]) p?.destroy();
      throw err;
    }
    const pid = Number((await readFile(opts.pidFile, 'utf8')).trim());
    return { pid, ...pipes };
  }

  async start(id: string): Promise<void> {
    await this.#invoke(['start', id]);
  }

  async state(id: string): Promise<ContainerState> {
    const out = await this.#invoke(['state', id]);
    return JSON.parse(out.stdout) as ContainerState;
  }

  /** Signal the container's init, or with `all` every process in it. */
  async kill(id: string, signal: string | number = 'SIGTERM', opts: { all?: boolean } = {}): Promise<void> {
    await this.#invoke(['kill', ...(opts.all ? ['--all'] : []), id, String(signal)]);
  }

  /** Remove a stopped container (with `force`, kill it first); frees its cgroup. */
  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.#invoke(['delete', ...(opts.force ? ['--force'] : []), id]);
  }

  async list(): Promise<ContainerState[]> {
    const out = await this.#invoke(['list', '--format', 'json']);
    return (JSON.parse(out.stdout || 'null') as ContainerState[] | null) ?? [];
  }

  async pause(id: string): Promise<void> {
    await this.#invoke(['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.#invoke(['resume', id]);
  }

  /** Host pids of the container's processes. */
  async ps(id: string): Promise<number[]> {
    const out = await this.#invoke(['ps', '--format', 'json', id]);
    return (JSON.parse(out.stdout || 'null') as number[] | null) ?? [];
  }

  /** Change a running container's cgroup limits (docker update). */
  async update(id: string, resources: LinuxResources): Promise<void> {
    await this.#invoke(['update', '--resources', '-', id], { input: JSON.stringify(resources) });
  }

  /** Create, start and wait, with stdout/stderr collected; runc deletes the container afterwards. */
  async run(id: string, bundle: string, opts: { stdin?: string; noPivot?: boolean } = {}): Promise<RunResult> {
    const args = ['run', '--bundle', bundle, ...(opts.noPivot ? ['--no-pivot'] : []), id];
    const out = await this.#invoke(args, { input: opts.stdin ?? '', allowExitCode: true });
    // A non-zero exit is the container's unless runc itself logged an error.
    if (out.error !== undefined && out.code !== 0) throw this.#error('run', out);
    const exitCode = out.code ?? 128 + signalNumber(out.signal);
    return { exitCode, stdout: out.stdout, stderr: out.stderr };
  }

  #error(command: string, out: Invocation): BerthError {
    const message = out.error ?? messageOfStderr(out.stderr) ?? `runc ${command} exited with ${out.code ?? out.signal}`;
    return new BerthError(codeOfRuncMessage(message), message);
  }

  async #invoke(
    args: string[],
    opts: {
      input?: string;
      /** the container's stdio (create): runc's exit is awaited, not the pipes, which the container keeps */
      stdio?: [StdioSetting, StdioSetting, StdioSetting];
      onSpawn?: (child: Child) => void;
      allowExitCode?: boolean;
    } = {},
  ): Promise<Invocation> {
    await mkdir(this.logDir, { recursive: true, mode: 0o700 });
    const logFile = join(this.logDir, `${randomUUID()}.json`);
    try {
      const argv = ['--root', this.root, '--log', logFile, '--log-format', 'json', ...args];
      let run: { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };
      try {
        if (opts.stdio) {
          const child = spawnChild(this.binary, argv, { env: process.env, fds: opts.stdio.map((s, i) => (s === 'inherit' ? i : s)) });
          opts.onSpawn?.(child);
          run = { ...(await child.exited), stdout: '', stderr: '' };
        } else {
          run = await runChild(this.binary, argv, { env: process.env, input: opts.input });
        }
      } catch (err) {
        throw new BerthError('unavailable', `cannot run ${this.binary}: ${(err as Error).message}`, { cause: err });
      }
      const log = await readFile(logFile, 'utf8').catch(() => '');
      const out: Invocation = run;
      const error = lastRuncError(log);
      if (error !== undefined) out.error = error;
      if (run.code !== 0 && !opts.allowExitCode) throw this.#error(args[0] as string, out);
      return out;
    } finally {
      await rm(logFile, { force: true });
    }
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 0) : 0;
}
