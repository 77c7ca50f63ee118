// The per-container monitor: Debian's conmon (2.1.6), invoked the way podman
// does. conmon forks itself away from us (so containers survive the daemon),
// runs `runc create`, keeps the container's stdio, writes the k8s-file log,
// and when the container exits writes its status (128+N for a signal) to
// <exit-dir>/<id> and to <persist-dir>/exit, plus <persist-dir>/oom after an
// OOM kill. The create result comes back on the sync pipe (our fd 3, named by
// _OCI_SYNCPIPE), one JSON line with api-version 1: `{"data": <pid>}` or
// `{"data": -1, "message": "<runtime stderr>"}`. `runc start` is ours to call.
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { BerthError } from '../errors/index.js';
import { codeOfRuncMessage, lastRuncError } from '../runtime/index.js';
import { closeSync, openSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface ConmonOptions {
  binary: string;
  runtimeBinary: string;
  runtimeRoot: string;
  id: string;
  name: string;
  bundle: string;
  exitDir: string;
  logPath: string;
  containerPidFile: string;
  conmonPidFile: string;
  /** runc's own JSON log of the create (the error message of a failed create) */
  runtimeLog: string;
  terminal: boolean;
  stdin: boolean;
  leaveStdinOpen: boolean;
}

export interface ConmonResult {
  pid: number;
  conmonPid: number;
}

export function conmonArgs(o: ConmonOptions): string[] {
  const args = [
    '--api-version', '1',
    '-c', o.id,
    '-u', o.id,
    '-n', o.name,
    '-r', o.runtimeBinary,
    '-b', o.bundle,
    '-p', o.containerPidFile,
    '-P', o.conmonPidFile,
    '--persist-dir', o.bundle,
    '--exit-dir', o.exitDir,
    '-l', `k8s-file:${o.logPath}`,
    // no --log-tag: conmon refuses it with k8s-file
    '--socket-dir-path', o.bundle,
    '--full-attach',
    '--runtime-arg', `--root=${o.runtimeRoot}`,
    '--runtime-arg', '--log-format=json',
    '--runtime-arg', `--log=${o.runtimeLog}`,
  ];
  if (o.terminal) args.push('-t');
  if (o.stdin) args.push('-i');
  if (o.stdin && o.leaveStdinOpen) args.push('--leave-stdin-open');
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

/** Start conmon and wait for the container to be created (its init waits for `runc start`). */
export async function startConmon(o: ConmonOptions): Promise<ConmonResult> {
  await rm(o.runtimeLog, { force: true });
  // conmon's own messages go to <bundle>/conmon.log (its daemonised half keeps the fd for life).
  const errFd = openSync(join(o.bundle, 'conmon.log'), 'a', 0o600);
  const child = spawn(o.binary, conmonArgs(o), {
    cwd: o.bundle,
    stdio: ['ignore', 'ignore', errFd, 'pipe'],
    detached: true,
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '3' },
  });
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new BerthError('unavailable', `cannot run ${o.binary}: ${err.message}`, { cause: err }))),
  );
  spawnError.catch(() => undefined);
  closeSync(errFd);
  child.unref();
  const sync = child.stdio[3] as Readable;
  let line: string;
  try {
    line = await Promise.race([firstLine(sync), spawnError]);
  } finally {
    sync.destroy();
  }
  let msg: { data?: number; pid?: number; message?: string };
  try {
    msg = JSON.parse(line) as typeof msg;
  } catch {
    const said = (await readFile(join(o.bundle, 'conmon.log'), 'utf8').catch(() => '')).trim().split('\n').at(-1);
    throw new BerthError('internal', `conmon failed to create the container${line ? `: ${line}` : ''}${said ? `: ${said}` : ''}`);
  }
  const pid = msg.data ?? msg.pid ?? -1;
  if (pid <= 0) {
    // runc's own log has the clean message; conmon's copy is the runtime's stderr.
    const logged = lastRuncError(await readFile(o.runtimeLog, 'utf8').catch(() => ''));
    const message = (logged ?? msg.message ?? 'container create failed').trim();
    throw new BerthError(codeOfRuncMessage(message), message);
  }
  // Written by conmon's daemonised half before it reports; 0 if not (liveness then falls back to runc state).
  const conmonPid = Number((await readFile(o.conmonPidFile, 'utf8').catch(() => '0')).trim()) || 0;
  return { pid, conmonPid };
}

/** Is a process alive (signal 0)? */
export function alive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
