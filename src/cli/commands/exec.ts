// berth exec: create the exec, start it on a hijacked connection (docker's
// Upgrade: tcp), copy the demultiplexed output, then inspect the exec for its
// exit code, as the docker CLI does. -d starts it detached and returns.
// -i forwards stdin (half-closed at its end); -t makes the terminal raw, sends
// its size and watches for resizes; the detach keys end a TTY session.
import type { Duplex } from 'node:stream';
import { ApiError, readAll } from '../client.js';
import { hijackedPost } from '../hijack.js';
import { CliError, bool, list, str, type CommandContext, type Handler } from '../context.js';
import { makeRaw, monitorTtySize, pumpSession } from '../session.js';
import { detachKeysFor } from '../detachkeys.js';

const path = (s: string) => encodeURIComponent(s);

/** POST /exec/{id}/start with the upgrade headers; resolves with the raw connection once 101 arrives. */
async function startHijacked(ctx: CommandContext, execId: string, body: string): Promise<Duplex> {
  return hijackedPost(ctx, `/exec/${path(execId)}/start`, { contentType: 'application/json', data: body });
}

export const exec: Handler = async (ctx, { flags, args }) => {
  const [container, ...cmd] = args;
  if (!container || cmd.length === 0) {
    throw new CliError(`berth: 'berth exec' requires at least 2 arguments\n\nUsage:  berth exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\nSee 'berth exec --help' for more information`, 1);
  }
  const detach = bool(flags, 'detach');
  const interactive = bool(flags, 'interactive');
  const tty = bool(flags, 'tty');
  const detachKeys = str(flags, 'detach-keys');
  // docker's CheckTty: a TTY with input needs a terminal on stdin.
  if (!detach && tty && interactive && !ctx.stdin.isTTY) throw new CliError('the input device is not a TTY', 1);
  const { rows, columns } = ctx.stdout;
  const consoleSize = tty && ctx.stdout.isTTY && rows && columns ? [rows, columns] : undefined;
  const config: Record<string, unknown> = {
    Cmd: cmd,
    Env: list(flags, 'env'),
    User: str(flags, 'user'),
    WorkingDir: str(flags, 'workdir'),
    Privileged: bool(flags, 'privileged'),
    Tty: tty,
    AttachStdin: interactive && !detach,
    AttachStdout: !detach,
    AttachStderr: !detach,
    Detach: detach,
  };
  if (detachKeys) config.DetachKeys = detachKeys;
  if (consoleSize) config.ConsoleSize = consoleSize;
  const client = ctx.client();
  let execId: string;
  try {
    execId = (await client.json<{ Id: string }>('POST', `/containers/${path(container)}/exec`, { body: JSON.stringify(config) })).Id;
  } catch (err) {
    if (err instanceof ApiError) throw new CliError(`berth: Error response from daemon: ${err.message}`, 1);
    throw err;
  }
  if (detach) {
    try {
      await client.request('POST', `/exec/${path(execId)}/start`, { body: JSON.stringify({ Detach: true, Tty: tty }) }).then(readAll);
    } catch (err) {
      if (err instanceof ApiError) throw new CliError(`berth: Error response from daemon: ${err.message}`, 1);
      throw err;
    }
    return 0;
  }
  let conn: Duplex;
  try {
    conn = await startHijacked(ctx, execId, JSON.stringify({ Detach: false, Tty: tty, ...(consoleSize ? { ConsoleSize: consoleSize } : {}) }));
  } catch (err) {
    if (err instanceof ApiError) throw new CliError(`berth: Error response from daemon: ${err.message}`, 1);
    throw err;
  }
  const restoreTerminal = tty && interactive ? await makeRaw(ctx.stdin) : () => undefined;
  // docker watches the size when stdin is a terminal (exec) rather than stdout (run).
  const stopResize =
    tty && ctx.stdin.isTTY
      ? monitorTtySize(ctx.stdout, (h, w) => client.request('POST', `/exec/${path(execId)}/resize`, { query: { h, w } }).then(readAll))
      : () => undefined;
  let detached: boolean;
  try {
    ({ detached } = await pumpSession({
      conn,
      tty,
      stdout: ctx.stdout,
      stderr: ctx.stderr,
      stdin: interactive ? ctx.stdin : undefined,
      detachKeys: tty && interactive ? detachKeysFor(detachKeys, (w) => ctx.stderr.write(`${w}\n`)) : undefined,
    }));
  } finally {
    stopResize();
    restoreTerminal();
  }
  // docker exec returns the escape as its error: the process keeps running.
  if (detached) throw new CliError('read escape sequence');
  const info = await client.json<{ ExitCode: number | null; Running: boolean }>('GET', `/exec/${path(execId)}/json`);
  return info.ExitCode ?? 0;
};
