// The attached half of run, start -a and attach: the hijacked connection, the
// terminal, signal proxying and the stream pump. Loaded only when a command
// attaches, so detached runs never load the terminal code or the native addon.
import type { Duplex } from 'node:stream';
import { ApiError, buildQuery, readAll, type QueryValue } from '../client.js';
import { hijackedPost } from '../hijack.js';
import { CliError, str, bool, type Handler, type CommandContext } from '../context.js';
import { makeRaw, monitorTtySize, proxySignals, pumpSession } from '../session.js';
import { detachKeysFor } from '../detachkeys.js';
import { startWait } from './lifecycle.js';
import { checkTty, startErrorCode, type AttachOptions, type AttachTarget } from './run.js';

const path = (name: string) => encodeURIComponent(name);

/** Opens POST /containers/{id}/attach with docker's upgrade headers; resolves with the raw socket once 101 arrives. */
async function hijack(ctx: CommandContext, id: string, query: Record<string, QueryValue>): Promise<Duplex> {
  return hijackedPost(ctx, `/containers/${path(id)}/attach${buildQuery(query)}`);
}

/** --sig-proxy without a TTY; set up before attaching, as docker, so no signal slips by between start and the stream. */
function signalProxy(ctx: CommandContext, id: string, opts: AttachOptions): () => void {
  if (!opts.sigProxy || opts.tty) return () => undefined;
  return proxySignals((signal) => ctx.client().request('POST', `/containers/${path(id)}/kill`, { query: { signal } }).then(readAll));
}

/** The client side of an attached session: raw terminal, resizes, and the stream pump. */
async function attachSession(
  ctx: CommandContext,
  conn: Duplex,
  opts: AttachOptions & { resize: (height: number, width: number) => Promise<unknown> },
): Promise<{ detached: boolean }> {
  const restoreTerminal = opts.tty && opts.stdin ? await makeRaw(ctx.stdin) : () => undefined;
  const stopResize = opts.tty && ctx.stdout.isTTY ? monitorTtySize(ctx.stdout, opts.resize) : () => undefined;
  try {
    return await pumpSession({
      conn,
      tty: opts.tty,
      stdout: ctx.stdout,
      stderr: ctx.stderr,
      stdin: opts.stdin ? ctx.stdin : undefined,
      detachKeys: opts.tty && opts.stdin ? detachKeysFor(opts.detachKeys, (w) => ctx.stderr.write(`${w}\n`)) : undefined,
    });
  } finally {
    stopResize();
    restoreTerminal();
  }
}

const containerResize = (ctx: CommandContext, id: string) => (height: number, width: number) =>
  ctx.client().request('POST', `/containers/${path(id)}/resize`, { query: { h: height, w: width } }).then(readAll);

/** Attach, wait, start, copy the streams, and return the container's exit code (0 after a detach). */
export async function runAttached(ctx: CommandContext, id: string, opts: AttachOptions & { autoRemove: boolean; invoked: string }): Promise<number> {
  const stopProxy = signalProxy(ctx, id, opts);
  try {
    // The attach and the wait are both in place before the start; they are set up at once.
    const attaching = hijack(ctx, id, { stream: true, stdin: opts.stdin || undefined, stdout: true, stderr: true, detachKeys: opts.detachKeys || undefined });
    const waiting = startWait(ctx, id, opts.autoRemove ? 'removed' : 'next-exit');
    const [attached, waited] = await Promise.allSettled([attaching, waiting]);
    if (attached.status === 'rejected') {
      if (waited.status === 'fulfilled') waited.value.exit.catch(() => undefined);
      throw attached.reason;
    }
    const conn = attached.value;
    let exit: Promise<number>;
    try {
      if (waited.status === 'rejected') throw waited.reason;
      ({ exit } = waited.value);
      exit.catch(() => undefined);
      await ctx.client().request('POST', `/containers/${path(id)}/start`).then(readAll);
    } catch (err) {
      conn.destroy();
      if (err instanceof ApiError) {
        throw new CliError(`berth: Error response from daemon: ${err.message}\n\nRun 'berth ${opts.invoked} --help' for more information`, startErrorCode(err.message));
      }
      throw err;
    }
    const { detached } = await attachSession(ctx, conn, { ...opts, resize: containerResize(ctx, id) });
    // Detached: the container keeps running and docker prints nothing.
    if (detached) return 0;
    return await exit;
  } finally {
    stopProxy();
  }
}

/** docker attach: to a running container; exit code the container's, "read escape sequence" (exit 1) after a detach. */
export const attach: Handler = async (ctx, { flags, args }) => {
  const name = args[0] as string;
  const check = async () => {
    const info = await ctx.client().json<AttachTarget>('GET', `/containers/${path(name)}/json`);
    if (!info.State?.Running) throw new CliError('You cannot attach to a stopped container, start it first');
    if (info.State.Paused) throw new CliError('You cannot attach to a paused container, unpause it first');
    if (info.State.Restarting) throw new CliError('You cannot attach to a restarting container, wait until it is running');
    return info;
  };
  const info = await check();
  const tty = info.Config?.Tty === true;
  const stdin = !bool(flags, 'no-stdin') && info.Config?.OpenStdin === true;
  checkTty(ctx, !bool(flags, 'no-stdin'), tty);
  const detachKeys = str(flags, 'detach-keys');
  const opts: AttachOptions = { tty, stdin, detachKeys, sigProxy: flags['sig-proxy'] !== false };
  const stopProxy = signalProxy(ctx, info.Id, opts);
  try {
    const conn = await hijack(ctx, info.Id, { stream: true, stdin: stdin || undefined, stdout: true, stderr: true, detachKeys: detachKeys || undefined });
    try {
      await check(); // it may have stopped meanwhile: the stream would then never end
    } catch (err) {
      conn.destroy();
      throw err;
    }
    const resize = containerResize(ctx, info.Id);
    // docker resizes to one more first, so a re-attached shell redraws its prompt.
    if (tty && ctx.stdout.isTTY && ctx.stdout.rows && ctx.stdout.columns) await resize(ctx.stdout.rows + 1, ctx.stdout.columns + 1).catch(() => undefined);
    const { detached } = await attachSession(ctx, conn, { ...opts, resize });
    if (detached) throw new CliError('read escape sequence');
    return await (await startWait(ctx, info.Id, 'not-running')).exit;
  } finally {
    stopProxy();
  }
};

