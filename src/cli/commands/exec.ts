// berth exec: create the exec, start it on a hijacked connection (docker's
// Upgrade: tcp), copy the demultiplexed output, then inspect the exec for its
// exit code, as the docker CLI does. -d starts it detached and returns.
import type { Duplex } from 'node:stream';
import { ApiError, readAll } from '../client.js';
import { hijackedPost } from '../hijack.js';
import { CliError, bool, list, str, type CommandContext, type Handler } from '../context.js';
import { demuxTo } from './containers.js';

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
    conn = await startHijacked(ctx, execId, JSON.stringify({ Detach: false, Tty: tty }));
  } catch (err) {
    if (err instanceof ApiError) throw new CliError(`berth: Error response from daemon: ${err.message}`, 1);
    throw err;
  }
  if (interactive && typeof conn.end === 'function') {
    // stdin goes to the process; at its end the connection is half-closed, which ends the process's stdin
    ctx.stdin.on('data', (b: Buffer) => conn.write(b));
    ctx.stdin.once('end', () => conn.end());
  } else if (typeof conn.end === 'function') conn.end();
  try {
    await demuxTo(conn, ctx.stdout, ctx.stderr, tty);
  } finally {
    if (interactive) ctx.stdin.pause();
  }
  const info = await client.json<{ ExitCode: number | null; Running: boolean }>('GET', `/exec/${path(execId)}/json`);
  return info.ExitCode ?? 0;
};
