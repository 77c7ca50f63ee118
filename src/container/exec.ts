// Exec: extra processes in a running container (`runc exec --process FILE`),
// kept in memory like dockerd's exec store. The process is built like the
// container's own: its config.json process section (capabilities, rlimits,
// noNewPrivileges...) with the exec's args, env, cwd and user; runc applies
// the container's namespaces, cgroup and seccomp itself.
//
// runc stays the exec'd process's parent (non-detached `runc exec`), so its
// exit status is the process's. A failed start is told apart from a process
// exit by runc's JSON log, and, as dockerd does, gets exit code 126 and the
// message `OCI runtime exec failed: <runc's error>: unknown`.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { BerthError, conflict, invalidArgument, notFound } from '../errors/index.js';
import { ALL_CAPABILITIES, lastRuncError, resolveUser, type Process, type RuntimeSpec } from '../runtime/index.js';
import type { Logger } from '../util/index.js';
import type { ContainerStore } from './service.js';
import { spawnExecTty } from '../monitor/index.js';

/** Docker's ExecConfig (POST /containers/{id}/exec). */
export interface ExecCreateRequest {
  Cmd?: string[] | null;
  Env?: string[] | null;
  User?: string;
  WorkingDir?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  Privileged?: boolean;
  Detach?: boolean;
  DetachKeys?: string;
}

/** Docker's ExecInspectResponse. */
export interface ExecInspect {
  CanRemove: boolean;
  DetachKeys: string;
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  ProcessConfig: { privileged: boolean; user: string; tty: boolean; entrypoint: string; arguments: string[] };
  OpenStdin: boolean;
  OpenStderr: boolean;
  OpenStdout: boolean;
  ContainerID: string;
  Pid: number;
}

/** A started exec: its stdio (null unless attached and not detached) and how it ended. */
export interface ExecSession {
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
  /** Resolves when the process (or its failed start) is over; never rejects. */
  done: Promise<{ exitCode: number; error?: string }>;
  /** true when stdout carries a terminal's output (stderr is then null) */
  tty: boolean;
}

export interface ExecManagerDeps {
  containers: Pick<ContainerStore, 'runc' | 'records' | 'dirOf' | 'inspect'>;
  log: Logger;
}

interface ExecRecord {
  id: string;
  containerId: string;
  config: ExecCreateRequest & { Cmd: string[] };
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  /** the terminal's size to set (before start: the first size; after: the relay's resize) */
  consoleSize?: { height: number; width: number };
  resize?: (height: number, width: number) => void;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** runc's own failure exit (it exits 255 when the exec cannot start). */
const START_FAILED_EXIT = 126;

export class ExecManager {
  readonly #deps: ExecManagerDeps;
  readonly #execs = new Map<string, ExecRecord>();

  constructor(deps: ExecManagerDeps) {
    this.#deps = deps;
  }

  async create(containerIdOrName: string, req: ExecCreateRequest): Promise<{ Id: string }> {
    if (!Array.isArray(req.Cmd) || req.Cmd.length === 0) throw invalidArgument('No exec command specified');
    for (const e of req.Env ?? []) if (e.trim() === '') throw invalidArgument(`invalid environment variable: ${e}`);
    const containerId = await this.#runningContainer(containerIdOrName);
    this.#prune();
    const id = randomBytes(32).toString('hex');
    this.#execs.set(id, { id, containerId, config: { ...req, Cmd: [...req.Cmd] }, running: false, started: false, exitCode: null, pid: 0 });
    return { Id: id };
  }

  inspect(execId: string): ExecInspect {
    const e = this.#get(execId);
    const [entrypoint = '', ...args] = e.config.Cmd;
    return {
      CanRemove: false,
      DetachKeys: e.config.DetachKeys ?? '',
      ID: e.id,
      Running: e.running,
      ExitCode: e.exitCode,
      ProcessConfig: { privileged: !!e.config.Privileged, user: e.config.User ?? '', tty: !!e.config.Tty, entrypoint, arguments: args },
      OpenStdin: !!e.config.AttachStdin,
      OpenStderr: !!e.config.AttachStderr,
      OpenStdout: !!e.config.AttachStdout,
      ContainerID: e.containerId,
      Pid: e.pid,
    };
  }

  /**
   * Runs the exec. 'not_found' for an unknown exec, 'conflict' when it already
   * ran or its container is not running. Resolves once runc is spawned; a
   * failure of runc to start the process arrives through `done` (exit 126),
   * except with `detach`, where it is thrown, as dockerd returns it.
   */
  async start(execId: string, opts: { detach?: boolean; consoleSize?: [number, number] | null } = {}): Promise<ExecSession> {
    const e = this.#get(execId);
    if (opts.consoleSize && opts.consoleSize[0] > 0 && opts.consoleSize[1] > 0) e.consoleSize = { height: opts.consoleSize[0], width: opts.consoleSize[1] };
    if (e.running) throw conflict(`Error: Exec command ${e.id} is already running`);
    if (e.started) throw conflict(`Error: Exec command ${e.id} has already run`);
    await this.#runningContainer(e.containerId);
    e.started = true;
    e.running = true;
    const detach = !!opts.detach || !!e.config.Detach;
    let session: ExecSession;
    try {
      session = await this.#spawn(e, detach);
    } catch (err) {
      e.running = false;
      e.exitCode = START_FAILED_EXIT;
      throw err;
    }
    void session.done.then(({ exitCode }) => {
      e.running = false;
      e.exitCode = exitCode;
    });
    if (detach) {
      const early = await Promise.race([session.done, this.#pidKnown(e, session.done)]);
      if (early && early.error) throw new BerthError('internal', early.error);
    }
    return session;
  }

  /** POST /exec/{id}/resize: the exec's terminal (a no-op without one). */
  resize(execId: string, height: number, width: number): void {
    const e = this.#get(execId);
    if (!e.config.Tty) return;
    if (!(height > 0 && width > 0)) throw invalidArgument('invalid terminal size');
    if (e.resize) e.resize(height, width);
    else e.consoleSize = { height, width }; // not started yet: the size it starts with
  }

  /** SIGKILL a running exec's process (a timed-out health probe); no-op when it is not running. */
  kill(execId: string): void {
    const e = this.#execs.get(execId);
    if (!e?.running || e.pid <= 0) return;
    try {
      process.kill(e.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** The container's ID if it is running (docker's getActiveContainer). */
  async #runningContainer(idOrName: string): Promise<string> {
    const info = (await this.#deps.containers.inspect(idOrName)) as { Id: string; State: { Running: boolean; Paused: boolean; Restarting: boolean } };
    if (!info.State.Running) throw conflict(`Container ${info.Id} is not running`);
    if (info.State.Paused) throw conflict(`Container ${info.Id} is paused, unpause the container before exec`);
    if (info.State.Restarting) throw conflict(`Container ${info.Id} is restarting, wait until the container is running`);
    return info.Id;
  }

  #get(execId: string): ExecRecord {
    const e = this.#execs.get(execId);
    if (!e) throw notFound(`No such exec instance: ${execId}`);
    return e;
  }

  /** Finished execs of containers that are gone or no longer running are forgotten (dockerd drops them with the container's run). */
  #prune(): void {
    for (const [id, e] of this.#execs) {
      if (e.running || !e.started) continue;
      const rec = this.#deps.containers.records.get(e.containerId);
      if (!rec || rec.state.status !== 'running') this.#execs.delete(id);
    }
  }

  async #process(e: ExecRecord): Promise<Process> {
    const { containers } = this.#deps;
    const rec = containers.records.get(e.containerId);
    if (!rec) throw notFound(`No such container: ${e.containerId}`);
    const dir = containers.dirOf(rec.id);
    const spec = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as RuntimeSpec;
    const base = spec.process;
    const userSpec = e.config.User || rec.config.User || '';
    const user = await resolveUser(join(dir, 'rootfs'), userSpec, rec.hostConfig.GroupAdd ?? []);
    // dockerd: the container's environment (with its daemon-side PATH/HOSTNAME), the exec's on top.
    const env = base.env.filter((v) => !v.startsWith('TERM='));
    const containerSetHome = (rec.config.Env ?? []).some((v) => v.startsWith('HOME='));
    const put = (entry: string) => {
      const key = entry.includes('=') ? entry.slice(0, entry.indexOf('=')) : entry;
      const i = env.findIndex((v) => v === key || v.startsWith(`${key}=`));
      if (i >= 0) env[i] = entry;
      else env.push(entry);
    };
    if (!env.some((v) => v.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
    if (!containerSetHome) put(`HOME=${user.home}`);
    for (const v of e.config.Env ?? []) put(v);
    const process: Process = {
      ...base,
      terminal: !!e.config.Tty,
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
      args: e.config.Cmd,
      env,
      cwd: e.config.WorkingDir || base.cwd || '/',
    };
    delete process.consoleSize;
    if (e.config.Tty && e.consoleSize) process.consoleSize = e.consoleSize;
    if (e.config.Privileged) {
      const all = [...ALL_CAPABILITIES];
      process.capabilities = { bounding: all, effective: all, permitted: all };
    }
    return process;
  }

  async #spawn(e: ExecRecord, detach: boolean): Promise<ExecSession> {
    const { runc } = this.#deps.containers;
    const process = await this.#process(e);
    const work = join(this.#deps.containers.dirOf(e.containerId), 'exec');
    await mkdir(work, { recursive: true, mode: 0o700 });
    await mkdir(runc.logDir, { recursive: true, mode: 0o700 });
    const processFile = join(work, `${e.id}.json`);
    const pidFile = join(work, `${e.id}.pid`);
    const logFile = join(runc.logDir, `${randomUUID()}.json`);
    await writeFile(processFile, JSON.stringify(process), { mode: 0o600 });
    const attach = !detach;
    const tty = !!e.config.Tty;
    const execArgs = ['--root', runc.root, '--log', logFile, '--log-format', 'json', 'exec'];
    let child: ChildProcess;
    if (tty) {
      // runc hands a terminal's master over a console socket (SCM_RIGHTS), which Node cannot
      // receive: berth-monitor's relay takes it and relays it over plain pipes.
      const socketPath = join(runc.logDir, `${e.id.slice(0, 16)}.sock`);
      const relay = spawnExecTty({
        socketPath,
        pidFile,
        runcArgs: [runc.binary, ...execArgs, '-d', '--console-socket', socketPath, '--process', processFile, '--pid-file', pidFile, e.containerId],
      });
      child = relay.child;
      e.resize = relay.resize;
      if (e.consoleSize) relay.resize(e.consoleSize.height, e.consoleSize.width);
      if (!attach || !e.config.AttachStdin) child.stdin?.end();
      if (!attach || !e.config.AttachStdout) child.stdout?.resume(); // nobody reads a detached terminal: drain it
    } else {
      child = spawn(runc.binary, [...execArgs, '--process', processFile, '--pid-file', pidFile, e.containerId], {
        stdio: [
          attach && e.config.AttachStdin ? 'pipe' : 'ignore',
          attach && e.config.AttachStdout ? 'pipe' : 'ignore',
          // stderr is always read: runc prints its own start failure there too
          'pipe',
        ],
      });
    }
    child.stdin?.on('error', () => undefined); // the process may exit without reading its input
    // runc writes its own failure to stderr as well as the log; hold stderr until the
    // process is known to run (pid file) or runc is done, so that line is not shown twice.
    const stderr = attach && e.config.AttachStderr && !tty ? new PassThrough() : null;
    const held: Buffer[] = [];
    let gate = true;
    const flush = () => {
      if (!gate) return;
      gate = false;
      for (const b of held.splice(0)) stderr?.write(b);
    };
    child.stderr?.on('data', (b: Buffer) => (gate ? held.push(b) : stderr?.write(b)));

    const done = new Promise<{ exitCode: number; error?: string }>((resolve) => {
      child.once('error', (err) => {
        held.length = 0;
        stderr?.end();
        resolve({ exitCode: START_FAILED_EXIT, error: `OCI runtime exec failed: cannot run ${runc.binary}: ${err.message}: unknown` });
      });
      child.once('close', (code, signal) => {
        void (async () => {
          const runcError = lastRuncError(await readFile(logFile, 'utf8').catch(() => ''));
          const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
          if (e.pid === 0 && Number.isInteger(pid) && pid > 0) e.pid = pid; // a short process may end before the poll sees it
          await Promise.all([rm(logFile, { force: true }), rm(processFile, { force: true }), rm(pidFile, { force: true })]);
          if (runcError !== undefined && code !== 0) {
            held.length = 0;
            stderr?.end();
            this.#deps.log.debug('exec failed to start', { exec: e.id, container: e.containerId, err: runcError });
            resolve({ exitCode: START_FAILED_EXIT, error: `OCI runtime exec failed: ${runcError}: unknown` });
            return;
          }
          flush();
          stderr?.end();
          resolve({ exitCode: code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0) });
        })();
      });
    });
    void this.#pidKnown(e, done).then((known) => {
      if (known === undefined) flush();
    });
    void done.then(() => {
      e.resize = undefined;
    });
    const stdin = tty && !(attach && e.config.AttachStdin) ? null : child.stdin;
    const stdout = tty && !(attach && e.config.AttachStdout) ? null : child.stdout;
    return { stdin, stdout, stderr, done, tty };
  }

  /** Polls runc's pid file until the process runs (resolves undefined) or `done` settles first (resolves its result). */
  async #pidKnown(e: ExecRecord, done: ExecSession['done']): Promise<Awaited<ExecSession['done']> | undefined> {
    let over: Awaited<ExecSession['done']> | undefined;
    void done.then((r) => (over = r));
    const pidFile = join(this.#deps.containers.dirOf(e.containerId), 'exec', `${e.id}.pid`);
    for (let delay = 5; over === undefined; delay = Math.min(delay * 2, 100)) {
      const text = await readFile(pidFile, 'utf8').catch(() => '');
      const pid = Number(text.trim());
      if (Number.isInteger(pid) && pid > 0) {
        e.pid = pid;
        return undefined;
      }
      await new Promise((r) => setTimeout(r, delay));
    }
    return over;
  }
}
