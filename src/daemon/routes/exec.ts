// Exec endpoints: create (201 {Id}), start (the connection hijacked like
// attach, the process's output in stdcopy frames; a start failure is written
// on the stream followed by "\r\n", as dockerd does), inspect, resize.
import type { Duplex, Readable } from 'node:stream';
import { BerthError } from '../../errors/index.js';
import type { ExecCreateRequest, ExecManager } from '../../container/index.js';
import type { Router } from '../router.js';
import { readJson, readUpgradeBody, writeJson } from '../request.js';
import { MULTIPLEXED_STREAM, muxFrame, RAW_STREAM, type StreamId } from '../stream-mux.js';

export type ExecService = Pick<ExecManager, 'create' | 'start' | 'inspect'> & Partial<Pick<ExecManager, 'resize'>>;

interface ExecStartConfig {
  Detach?: boolean;
  Tty?: boolean;
  ConsoleSize?: [number, number] | null;
}

/** Copies a process stream onto the connection as frames of `stream` (raw for 0: a terminal), with backpressure; resolves at its end. */
function pump(from: Readable | null, to: Duplex, stream: StreamId | 0): Promise<void> {
  if (!from) return Promise.resolve();
  return new Promise<void>((resolve) => {
    from.on('data', (chunk: Buffer) => {
      if (to.destroyed || to.writableEnded) return; // the client left: keep draining so the process never blocks
      if (!to.write(stream === 0 ? chunk : muxFrame(stream, chunk))) {
        from.pause();
        to.once('drain', () => from.resume());
        to.once('close', () => from.resume());
      }
    });
    from.once('end', resolve);
    from.once('close', resolve);
    from.once('error', () => resolve());
  });
}

export function execRoutes(router: Router, exec: ExecService): void {
  router.post('/containers/{id}/exec', async ({ req, res, params }) => {
    const body = await readJson<ExecCreateRequest>(req);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BerthError('invalid_argument', 'invalid JSON: expected an object');
    writeJson(res, 201, await exec.create(params.id as string, body));
  });

  router.post('/exec/{id}/start', async (ctx) => {
    const id = ctx.params.id as string;
    const raw = ctx.hijack ? await readUpgradeBody(ctx.req) : await readJson<unknown>(ctx.req);
    const config = (raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as ExecStartConfig;
    if (config.Detach) {
      await exec.start(id, { detach: true });
      ctx.res.writeHead(200, { 'Content-Length': 0 }).end();
      return;
    }
    // Errors up to here (unknown exec, already run, container stopped) are ordinary HTTP replies.
    const session = await exec.start(id, { consoleSize: config.ConsoleSize ?? null });
    // A terminal's output is one raw stream (docker's rule for Tty), else stdcopy frames.
    const contentType = session.tty ? RAW_STREAM : MULTIPLEXED_STREAM;
    let conn: Duplex | undefined;
    if (ctx.hijack) conn = ctx.hijack(contentType);
    else {
      ctx.res.writeHead(200, { 'Content-Type': contentType });
      ctx.res.flushHeaders();
    }
    const out: Duplex = conn ?? (ctx.res as unknown as Duplex); // a plain reply is written the same way
    out.on('error', () => undefined);
    if (conn) {
      if (session.stdin) {
        const stdin = session.stdin;
        conn.on('data', (b: Buffer) => stdin.write(b));
        conn.once('end', () => stdin.end());
        conn.once('close', () => stdin.end());
      }
      // Flowing again (the body read paused it); without stdin the input is read and dropped.
      conn.resume();
    } else session.stdin?.end();
    await Promise.all([pump(session.stdout, out, session.tty ? 0 : 1), pump(session.stderr, out, 2)]);
    const { error } = await session.done;
    if (error && !out.destroyed && !out.writableEnded) out.write(session.tty ? Buffer.from(`${error}\r\n`) : muxFrame(1, Buffer.from(`${error}\r\n`)));
    out.end();
  });

  router.get('/exec/{id}/json', ({ res, params }) => {
    writeJson(res, 200, exec.inspect(params.id as string));
  });

  router.post('/exec/{id}/resize', ({ res, params, query }) => {
    const h = Number(query.get('h') ?? 0);
    const w = Number(query.get('w') ?? 0);
    if (exec.resize) exec.resize(params.id as string, h, w);
    else exec.inspect(params.id as string);
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 0 }).end();
  });
}
