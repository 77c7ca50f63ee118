// Starting and talking to berth-monitor (src/monitor/berth-monitor.c), the
// per-container process that outlives the daemon. Files it keeps in the bundle:
//   attach        SOCK_STREAM socket: bytes sent become the container's stdin
//   ctl           fifo: `resize <height> <width>\n`
//   console.sock  only during `runc create --console-socket` (terminal)
// The create result comes back on our fd 3 as one JSON line:
// `{"pid": N}` or `{"pid": -1, "message": "..."}`.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import { open, readFile, rm, symlink, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../errors/index.js';
import { spawnChild, type Child } from '../native/index.js';
import { codeOfRuncMessage, lastRuncError } from '../runtime/index.js';

export const ATTACH_SOCKET = 'attach';
export const CONTROL_FIFO = 'ctl';
export const CONSOLE_SOCKET = 'console.sock';
/** the monitor's own diagnostics (its stderr), in the bundle */
export const MONITOR_LOG = 'monitor.log';

export interface MonitorOptions {
  /** default monitorBinary() */
  binary?: string;
  runtimeBinary: string;
  runtimeRoot: string;
  id: string;
  /** absolute; the monitor runs in it */
  bundle: string;
  /** runc's JSON log of the create */
  runtimeLog: string;
  /** json-file log; absolute */
  logPath: string;
  /** rotate beyond this many bytes; 0/undefined = never */
  logMaxSize?: number;
  /** files kept, the live one included (docker's max-file); default 1 (truncate) */
  logMaxFiles?: number;
  /** each gets the exit status as decimal text, atomically */
  exitFiles: string[];
  containerPidFile: string;
  monitorPidFile: string;
  terminal: boolean;
  stdin: boolean;
  stdinOnce: boolean;
  /** create and start in one step (`runc run --detach`); otherwise the caller runs `runc start` */
  start?: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));

/** build/Release/berth-monitor of this package (dist/src/monitor -> package root). */
export function monitorBinary(): string {
  return join(here, '..', '..', '..', 'build', 'Release', 'berth-monitor');
}

export function monitorArgs(o: MonitorOptions): string[] {
  const args = [
    '--id', o.id,
    '--bundle', o.bundle,
    '--runtime', o.runtimeBinary,
    '--runtime-root', o.runtimeRoot,
    '--runtime-log', o.runtimeLog,
    '--log-path', o.logPath,
    '--container-pid-file', o.containerPidFile,
    '--monitor-pid-file', o.monitorPidFile,
  ];
  if (o.logMaxSize) args.push('--log-max-size', String(o.logMaxSize));
  if (o.logMaxFiles) args.push('--log-max-files', String(o.logMaxFiles));
  for (const f of o.exitFiles) args.push('--exit-file', f);
  if (o.terminal) args.push('--terminal');
  if (o.stdin) args.push('--stdin');
  if (o.stdinOnce) args.push('--stdin-once');
  if (o.start) args.push('--start');
  return args;
}

async function firstLine(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += String(chunk);
    const nl = text.indexOf('\n');
    if (nl >= 0) return text.slice(0, nl);
  }
  return text;
}

/** Start the monitor and wait until the container is created (its init waits for `runc start`). */
export async function startMonitor(o: MonitorOptions): Promise<{ pid: number; monitorPid: number }> {
  const binary = o.binary ?? monitorBinary();
  await rm(o.runtimeLog, { force: true });
  const errFd = openSync(join(o.bundle, MONITOR_LOG), 'a', 0o600);
  let child: Child;
  try {
    // The monitor forks itself away at once (setsid, fork); what we spawn exits then and is reaped.
    child = spawnChild(binary, monitorArgs(o), {
      cwd: o.bundle,
      fds: ['ignore', 'ignore', errFd, 'pipe'],
      setsid: true,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
  } catch (err) {
    throw new BerthError('unavailable', `cannot run ${binary}: ${(err as Error).message}`, { cause: err });
  } finally {
    closeSync(errFd);
  }
  const sync = child.pipes.get(3) as Readable;
  let line: string;
  try {
    line = await firstLine(sync);
  } finally {
    sync.destroy();
  }
  let msg: { pid?: number; message?: string };
  try {
    msg = JSON.parse(line) as typeof msg;
  } catch {
    const said = (await readFile(join(o.bundle, MONITOR_LOG), 'utf8').catch(() => '')).trim().split('\n').at(-1);
    throw new BerthError('internal', `berth-monitor failed to create the container${line ? `: ${line}` : ''}${said ? `: ${said}` : ''}`);
  }
  const pid = msg.pid ?? -1;
  if (pid <= 0) {
    // runc's own log has the clean message when it got that far.
    const logged = lastRuncError(await readFile(o.runtimeLog, 'utf8').catch(() => ''));
    const message = (logged ?? msg.message ?? 'container create failed').trim();
    throw new BerthError(codeOfRuncMessage(message), message);
  }
  // Written (atomically) by the detached monitor before it reports.
  const monitorPid = Number((await readFile(o.monitorPidFile, 'utf8')).trim());
  return { pid, monitorPid };
}

function notRunning(err: unknown): BerthError {
  return new BerthError('conflict', 'container is not running', { cause: err });
}

/** A stream into the container's stdin; end() half-closes (with stdinOnce the container then sees EOF). */
/** sun_path holds 108 bytes; longer socket paths are reached through a short symlink to their directory. */
const MAX_SOCKET_PATH = 100;

export async function attachStdin(bundle: string): Promise<Writable> {
  let path = join(bundle, ATTACH_SOCKET);
  let link: string | undefined;
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    link = join(tmpdir(), `berth-attach-${randomBytes(6).toString('hex')}`);
    await symlink(bundle, link);
    path = join(link, ATTACH_SOCKET);
  }
  const socket = connect(path);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', (err: NodeJS.ErrnoException) => {
        reject(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? notRunning(err) : err);
      });
    });
  } finally {
    if (link) await unlink(link).catch(() => undefined);
  }
  socket.on('error', () => {
    /* the monitor went away; writes fail, the caller sees 'close' */
  });
  socket.resume(); // the monitor sends nothing; let its end of the connection be noticed
  return socket;
}

/** Ask the monitor to set the container's terminal size. */
export async function resizeTerminal(bundle: string, height: number, width: number): Promise<void> {
  let fh;
  try {
    fh = await open(join(bundle, CONTROL_FIFO), fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENOENT') throw notRunning(err);
    throw err;
  }
  try {
    await fh.write(`resize ${Math.trunc(height)} ${Math.trunc(width)}\n`);
  } finally {
    await fh.close();
  }
}

/**
 * `docker exec -t`: runs runcArgs under the relay; the child's stdin goes to the pty, the
 * pty's output comes out of its stdout, and it exits with the process's status (128+N if
 * signalled). stderr is runc's. runc (1.1) refuses a console socket unless it detaches, so
 * runcArgs should be `runc --root R exec -d -t --console-socket socketPath --pid-file pidFile ID CMD...`
 * with the same pidFile here: the relay, as subreaper, then waits for that process itself.
 * Without pidFile the relay exits with runc's own status.
 */
export function spawnExecTty(o: { binary?: string; socketPath: string; runcArgs: string[]; pidFile?: string }): {
  child: ChildProcess;
  resize(height: number, width: number): void;
} {
  const relayArgs = ['--exec-tty', '--console-socket', o.socketPath, ...(o.pidFile ? ['--pid-file', o.pidFile] : []), '--', ...o.runcArgs];
  const child = spawn(o.binary ?? monitorBinary(), relayArgs, {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  const control = child.stdio[3] as Writable;
  control.on('error', () => {
    /* the relay has exited */
  });
  child.stdin?.on('error', () => {
    /* the relay has exited */
  });
  return {
    child,
    resize(height, width) {
      if (!control.destroyed) control.write(`${Math.trunc(height)} ${Math.trunc(width)}\n`);
    },
  };
}
