// Container lifecycle commands that are one API call per name: stop, restart,
// kill, rm, wait. Kept apart from ps/logs/inspect so these load only the client.
import type { Readable } from 'node:stream';
import { ApiError, readAll, type QueryValue } from '../client.js';
import { CliError, str, bool, intFlag, type Handler, type CommandContext } from '../context.js';
import type { FlagValues } from '../args.js';

const path = (name: string) => encodeURIComponent(name);

/** POST wait; resolves once the header is in (the daemon is then watching) with the body's promise. */
export async function startWait(ctx: CommandContext, id: string, condition: string): Promise<{ exit: Promise<number> }> {
  const res = await ctx.client().request('POST', `/containers/${path(id)}/wait`, { query: { condition } });
  // Wrapped: an async function returning a bare promise would wait for it.
  const exit = readAll(res).then((b) => {
    const body = JSON.parse(b.toString()) as { StatusCode: number; Error?: { Message?: string } | null };
    if (body.Error?.Message) throw new CliError(`berth: Error response from daemon: ${body.Error.Message}`, 125);
    return body.StatusCode;
  });
  return { exit };
}

/**
 * Runs `op` for each name, printing the name (or `print` of the name and the result) on
 * success and docker's error line otherwise; exit 1 if any failed. Used by every command
 * that acts on a list of names, containers and volumes alike.
 */
export async function forEach<T>(
  ctx: CommandContext,
  names: readonly string[],
  op: (name: string) => Promise<T>,
  print: (name: string, result: T) => string = (name) => `${name}\n`,
): Promise<number> {
  let failed = false;
  for (const name of names) {
    try {
      const res = await op(name);
      // a response body is read to its end before the name is printed
      const body = res as unknown as Readable | undefined;
      if (body && typeof body.resume === 'function') await readAll(body);
      ctx.stdout.write(print(name, res));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      ctx.stderr.write(`Error response from daemon: ${err.message}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

function stopQuery(flags: FlagValues): Record<string, QueryValue> {
  const t = intFlag(flags, 'time') ?? intFlag(flags, 'timeout');
  return { t, signal: str(flags, 'signal') || undefined };
}

export const stop: Handler = async (ctx, { flags, args }) =>
  forEach(ctx, args, (name) => ctx.client().request('POST', `/containers/${path(name)}/stop`, { query: stopQuery(flags) }));

export const restart: Handler = async (ctx, { flags, args }) =>
  forEach(ctx, args, (name) => ctx.client().request('POST', `/containers/${path(name)}/restart`, { query: stopQuery(flags) }));

export const kill: Handler = async (ctx, { flags, args }) =>
  forEach(ctx, args, (name) => ctx.client().request('POST', `/containers/${path(name)}/kill`, { query: { signal: str(flags, 'signal') || undefined } }));

export const remove: Handler = async (ctx, { flags, args }) =>
  forEach(ctx, args, (name) =>
    ctx.client().request('DELETE', `/containers/${path(name)}`, { query: { force: bool(flags, 'force') || undefined, v: bool(flags, 'volumes') || undefined } }),
  );

export const wait: Handler = async (ctx, { args }) =>
  forEach(
    ctx,
    args,
    async (name) => (await startWait(ctx, name, 'not-running')).exit,
    (_, code) => `${code}\n`,
  );

