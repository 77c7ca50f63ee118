// Child processes started through the addon's posix_spawn instead of
// node:child_process. Node's spawn forks the whole daemon and waits for the
// child's exec, blocking the event loop for 5-10 ms per child (more as the
// daemon grows); a container's life spawns several (CNI ADD and DEL, the
// monitor, runc delete). posix_spawn shares the address space until the exec,
// so a spawn costs well under a millisecond here.
//
// Exits are learned from pidfds: on every SIGCHLD each pending child's pidfd
// is polled without blocking, and a ref'd timer does the same now and then
// while children are pending, so a lost or coalesced signal delays an exit
// but never loses it, and a process waiting on a child stays alive.
import { accessSync, closeSync, constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { delimiter, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { constants as osConstants } from 'node:os';
import { sys } from './sys.js';

export interface ChildExit {
  /** the exit status, null when a signal ended it */
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** How a child's descriptor is set up: a new pipe, /dev/null, or a descriptor of ours handed down. */
export type ChildFd = 'pipe' | 'ignore' | number;

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** the child's descriptors 0, 1, 2, ... (default: stdin ignored, stdout and stderr piped) */
  fds?: ChildFd[];
  /** a new session (setsid), as node's `detached` */
  setsid?: boolean;
}

export interface Child {
  pid: number;
  /** our end of each 'pipe' slot, by the child's descriptor number */
  pipes: Map<number, Socket>;
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
  /** resolves once the child has exited and been reaped */
  exited: Promise<ChildExit>;
}

const pending = new Map<number, { pidfd: number; resolve: (e: ChildExit) => void }>();
let listening = false;
let poller: NodeJS.Timeout | undefined;
const POLL_MS = 500;

const signalName = (n: number): NodeJS.Signals | null =>
  (Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0] as NodeJS.Signals | undefined) ?? null;

function reap(): void {
  for (const [pid, p] of pending) {
    let status: [number, number] | null;
    try {
      status = sys.waitPidfd(p.pidfd);
    } catch {
      status = [-1, 0]; // ECHILD: reaped elsewhere; nothing more to learn
    }
    if (!status) continue;
    pending.delete(pid);
    closeSync(p.pidfd);
    const [code, signal] = status;
    p.resolve({ code: code >= 0 ? code : null, signal: signal ? signalName(signal) : null });
  }
  if (pending.size === 0 && poller) {
    clearInterval(poller);
    poller = undefined;
  }
}

function watch(pid: number): Promise<ChildExit> {
  if (!listening) {
    process.on('SIGCHLD', reap);
    listening = true;
  }
  const pidfd = sys.pidfdOpen(pid); // a zombie still has one: nothing but us reaps it
  const exited = new Promise<ChildExit>((resolve) => pending.set(pid, { pidfd, resolve }));
  poller ??= setInterval(reap, POLL_MS);
  return exited;
}

const resolved = new Map<string, string>();

/** `file` as execvp would find it on the child's PATH. */
function resolveFile(file: string, env: NodeJS.ProcessEnv): string {
  if (file.includes('/')) return file;
  const path = env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin';
  const key = `${path}\0${file}`;
  const hit = resolved.get(key);
  if (hit) return hit;
  for (const dir of path.split(delimiter)) {
    const candidate = join(dir || '.', file);
    try {
      accessSync(candidate, constants.X_OK);
      resolved.set(key, candidate);
      return candidate;
    } catch {
      /* the next directory */
    }
  }
  const err = new Error(`spawn ${file} ENOENT`) as NodeJS.ErrnoException;
  err.code = 'ENOENT';
  err.syscall = 'spawn';
  throw err;
}

/** Start `file` with `args` (argv[0] is `file`). Throws (ENOENT, EACCES, ...) when it cannot be run. */
export function spawnChild(file: string, args: readonly string[], opts: SpawnOptions): Child {
  const env = Object.entries(opts.env)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  const slots = opts.fds ?? ['ignore', 'pipe', 'pipe'];
  const childFds: number[] = [];
  const ours = new Map<number, number>();
  const close: number[] = [];
  try {
    const path = resolveFile(file, opts.env);
    slots.forEach((slot, i) => {
      if (slot === 'pipe') {
        const [r, w] = sys.pipe();
        // stdin is written by us; every other pipe is read
        const [mine, theirs] = i === 0 ? [w, r] : [r, w];
        ours.set(i, mine);
        close.push(theirs);
        childFds.push(theirs);
      } else if (slot === 'ignore') {
        const fd = openSync('/dev/null', i === 0 ? 'r' : 'w');
        close.push(fd);
        childFds.push(fd);
      } else {
        childFds.push(slot);
      }
    });
    const pid = sys.spawn(path, [file, ...args], env, opts.cwd ?? null, childFds, opts.setsid === true);
    const exited = watch(pid);
    const pipes = new Map<number, Socket>();
    for (const [i, fd] of ours) {
      pipes.set(i, new Socket({ fd, readable: i !== 0, writable: i === 0 }));
      ours.delete(i);
    }
    return { pid, pipes, stdin: pipes.get(0) ?? null, stdout: pipes.get(1) ?? null, stderr: pipes.get(2) ?? null, exited };
  } finally {
    for (const fd of close) closeSync(fd);
    for (const fd of ours.values()) closeSync(fd);
  }
}

export interface RunResult extends ChildExit {
  stdout: string;
  stderr: string;
}

/** Run to completion: `input` on stdin, stdout and stderr collected; resolves once it has exited and both are read. */
export async function runChild(file: string, args: readonly string[], opts: { env: NodeJS.ProcessEnv; input?: string; cwd?: string }): Promise<RunResult> {
  const child = spawnChild(file, args, { env: opts.env, cwd: opts.cwd, fds: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const collect = (s: Readable | null) =>
    new Promise<string>((resolve) => {
      if (!s) return resolve('');
      let text = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (text += d));
      s.on('error', () => resolve(text));
      s.on('end', () => resolve(text));
    });
  const [stdout, stderr] = [collect(child.stdout), collect(child.stderr)];
  if (child.stdin) {
    child.stdin.on('error', () => {
      /* the process may exit without reading its input */
    });
    child.stdin.end(opts.input);
  }
  const [exit, out, err] = await Promise.all([child.exited, stdout, stderr]);
  return { ...exit, stdout: out, stderr: err };
}
