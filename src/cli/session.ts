// The client side of an attached session (run, start -a, attach, exec), as
// docker's hijackedIOStreamer: output demultiplexed (raw for a TTY), stdin
// forwarded with a half-close at its end, detach keys matched in a TTY's
// input, the terminal in raw mode while it lasts, resizes on SIGWINCH, and
// signals proxied to the container when there is no TTY.
import type { Duplex, Readable } from 'node:stream';
import { DetachKeyMatcher } from './detachkeys.js';
import { CliError, type InStream, type OutStream } from './context.js';

/** stdcopy.StdCopy: split frames onto stdout/stderr until the stream ends (raw copy for a TTY). */
export async function demuxTo(stream: Readable, stdout: OutStream, stderr: OutStream, tty: boolean): Promise<void> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of stream) {
    const data = chunk as Buffer;
    if (tty) {
      stdout.write(data);
      continue;
    }
    buf = buf.length ? Buffer.concat([buf, data]) : data;
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      const kind = buf[0];
      const payload = buf.subarray(8, 8 + size);
      if (kind === 2) stderr.write(payload);
      else if (kind === 0 || kind === 1) stdout.write(payload);
      else throw new CliError(`Unrecognized input header: ${kind}`);
      buf = buf.subarray(8 + size);
    }
  }
}

export interface SessionOptions {
  /** The hijacked connection (or a plain read-only reply from an old server). */
  conn: Duplex | Readable;
  tty: boolean;
  stdout: OutStream;
  stderr: OutStream;
  /** Forwarded to the connection when set; its end half-closes the connection. */
  stdin?: InStream;
  /** Matched in the input of TTY sessions only, as docker. */
  detachKeys?: Uint8Array;
}

/**
 * Copies both ways until the server ends the output (or the user types the
 * detach keys). Without stdin the write side is half-closed at once, which
 * tells the daemon there is no input.
 */
export async function pumpSession(opts: SessionOptions): Promise<{ detached: boolean }> {
  const conn = opts.conn as Partial<Duplex> & Readable;
  const writable = typeof conn.end === 'function' && typeof conn.write === 'function';
  let detached = false;
  let stopInput = (): void => undefined;
  const stdin = opts.stdin;
  if (stdin && writable) {
    const matcher = opts.tty && opts.detachKeys?.length ? new DetachKeyMatcher(opts.detachKeys) : undefined;
    const onDrain = () => stdin.resume();
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const match = matcher ? matcher.push(bytes) : { forward: bytes, detached: false };
      if (match.forward.length && !(conn.write as Duplex['write'])(match.forward)) stdin.pause();
      if (match.detached) {
        detached = true;
        stopInput();
        conn.destroy();
      }
    };
    const onEnd = () => {
      stopInput();
      (conn.end as Duplex['end'])(); // docker's CloseWrite: EOF on the container's stdin, output keeps coming
    };
    stopInput = () => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onEnd);
      conn.off('drain', onDrain);
      stdin.pause();
      stopInput = () => undefined;
    };
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.once('error', onEnd);
    conn.on('drain', onDrain);
    stdin.resume();
  } else if (writable) {
    (conn.end as Duplex['end'])();
  }
  try {
    await demuxTo(conn, opts.stdout, opts.stderr, opts.tty);
  } catch (err) {
    if (!detached) throw err;
  } finally {
    stopInput();
  }
  return { detached };
}

const RAW_EXIT_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGQUIT'];

/**
 * Puts a terminal stdin in raw mode. The returned function restores it; it is
 * also run on process exit (uncaught errors included) and on SIGTERM/SIGHUP/
 * SIGQUIT, after which the signal is raised again so the exit status is the
 * signal's. A stdin that is not a terminal is left alone.
 */
export async function makeRaw(stdin: InStream): Promise<() => void> {
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') return () => undefined;
  stdin.setRawMode(true);
  // libuv's raw mode keeps "\n" -> "\r\n" on output; the container's terminal already sends
  // "\r\n", so turn it off as Go's term.MakeRaw does (setRawMode(false) restores it all).
  const fd = (stdin as { fd?: unknown }).fd;
  try {
    // the addon loads only here: a call without a terminal does not pay for it (and the
    // bundled CLI, a CommonJS file, reaches berth's ES modules only through import())
    const { sys } = await import('../native/index.js');
    if (typeof fd === 'number') sys.setTtyOpost(fd, false);
  } catch {
    /* not fatal: output then shows doubled carriage returns */
  }
  let restored = false;
  const onSignal = (signal: NodeJS.Signals) => {
    restore();
    process.kill(process.pid, signal);
  };
  const restore = () => {
    if (restored) return;
    restored = true;
    stdin.setRawMode?.(false);
    process.off('exit', restore);
    for (const s of RAW_EXIT_SIGNALS) process.off(s, onSignal);
  };
  process.on('exit', restore);
  for (const s of RAW_EXIT_SIGNALS) process.on(s, onSignal);
  return restore;
}

/** The terminal's size as docker sends it: stdout's rows and columns. */
export function ttySize(out: OutStream): { height: number; width: number } {
  return { height: out.rows ?? 0, width: out.columns ?? 0 };
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/**
 * docker's MonitorTtySize: send the size now (retried quietly a few times,
 * the container may not be running yet), then on every terminal resize.
 * Returns the function that stops watching.
 */
export function monitorTtySize(out: OutStream, resize: (height: number, width: number) => Promise<unknown>): () => void {
  let stopped = false;
  const send = async () => {
    const { height, width } = ttySize(out);
    if (height === 0 && width === 0) return;
    await resize(height, width);
  };
  void (async () => {
    for (let attempt = 0; attempt <= 10 && !stopped; attempt++) {
      try {
        await send();
        return;
      } catch {
        await sleep(10 * (attempt + 1));
      }
    }
  })();
  const onResize = () => void send().catch(() => undefined);
  out.on?.('resize', onResize);
  return () => {
    stopped = true;
    out.off?.('resize', onResize);
  };
}

/** The signals docker's ForwardAllSignals passes on that Node lets a program catch. */
const PROXIED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'];

/** --sig-proxy: each signal the CLI receives becomes POST /containers/{id}/kill?signal=NAME (docker's names, no SIG prefix). */
export function proxySignals(kill: (signal: string) => Promise<unknown>): () => void {
  const onSignal = (signal: NodeJS.Signals) => void kill(signal.slice(3)).catch(() => undefined);
  for (const s of PROXIED_SIGNALS) process.on(s, onSignal);
  return () => {
    for (const s of PROXIED_SIGNALS) process.off(s, onSignal);
  };
}
