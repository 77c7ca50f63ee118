// Container endpoints: parse the request, call one ContainerService method,
// shape the reply with dockerd's statuses (201 create, 204 for lifecycle
// verbs, 304 from 'not_modified'). Output streams (logs, attach) are framed
// with stdcopy's multiplexing unless the container has a TTY.
import type { Duplex, Writable } from 'node:stream';
import { BerthError, isCode } from '../../errors/index.js';
import type { ContainerService, CreateRequest, LogEntry, LogsOptions, UpdateRequest, WaitCondition } from '../../container/types.js';
import type { RequestContext, Router } from '../router.js';
import { boolValue, parseFilters, readJson, readUpgradeBody, writeJson } from '../request.js';
import { encodeEntry, MULTIPLEXED_STREAM, RAW_STREAM } from '../stream-mux.js';

const LIST_FILTERS = [
  'ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation', 'is-task',
  'label', 'label!', 'name', 'network', 'publish', 'since', 'status', 'volume',
] as const;
const WAIT_CONDITIONS: readonly WaitCondition[] = ['not-running', 'next-exit', 'removed'];

const noContent = ({ res }: RequestContext) => res.writeHead(204).end();

/** An integer query parameter; undefined when absent or empty, 400 when malformed. */
function intParam(query: URLSearchParams, key: string): number | undefined {
  const raw = query.get(key);
  if (raw === null || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw.trim())) throw new BerthError('invalid_argument', `invalid value for ${key}: ${raw}`);
  return Number(raw);
}

/** since/until: unix seconds with an optional fraction ("1700000000.123456789"), as the docker CLI sends them. */
function timeParam(query: URLSearchParams, key: string): number | undefined {
  const raw = query.get(key);
  if (raw === null || raw === '' || raw === '0') return undefined;
  if (!/^\d+(\.\d+)?$/.test(raw)) throw new BerthError('invalid_argument', `invalid value for ${key}: ${raw}`);
  return Number(raw);
}

function stopOptions(query: URLSearchParams): { signal?: string; timeout?: number } {
  const opts: { signal?: string; timeout?: number } = {};
  const signal = query.get('signal');
  if (signal) opts.signal = signal;
  const t = intParam(query, 't');
  if (t !== undefined) opts.timeout = t;
  return opts;
}

interface InspectState {
  State?: { Status?: string };
  Config?: { Tty?: boolean };
}

async function describe(containers: ContainerService, id: string): Promise<{ tty: boolean; status: string }> {
  const info = (await containers.inspect(id)) as InspectState;
  return { tty: info.Config?.Tty === true, status: info.State?.Status ?? 'created' };
}

/** RFC 3339 (nanoseconds, any zone) -> nanoseconds since the epoch, for ordering log entries exactly. */
export function nanosOf(time: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return BigInt(Date.parse(time)) * 1_000_000n;
  const whole = BigInt(Date.parse(`${m[1]}${m[3]}`)) * 1_000_000n;
  return whole + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
}

/**
 * What an attached client sees: the container's output from `from` on, until
 * the container next exits. A client that attaches before start (docker
 * run) gets everything the container writes. Built on logs() with follow;
 * when a follow ends before the exit (a service may follow only running
 * containers), it reads again from where it was, skipping what was sent.
 */
export async function* attachOutput(
  containers: ContainerService,
  id: string,
  opts: { stdout: boolean; stderr: boolean; logs: boolean; signal: AbortSignal },
): AsyncGenerator<LogEntry> {
  const { status } = await describe(containers, id);
  // Follow the output through the container's next run; one that never ran has only
  // what it is about to write, so all of it is new (docker run attaches before start).
  const logOpts: LogsOptions = { follow: true, waitStart: true, attach: true, stdout: opts.stdout, stderr: opts.stderr, signal: opts.signal };
  if (!opts.logs && status !== 'created') logOpts.since = Date.now() / 1000;
  try {
    yield* containers.logs(id, logOpts);
  } catch (err) {
    if (isCode(err, 'not_found')) return; // removed (--rm) once it exited: nothing more will come
    throw err;
  }
}

/**
 * The client's input on a hijacked attach goes to the container's stdin (the
 * monitor's socket, once the container runs); the client's half-close ends it,
 * which closes the container's stdin when it was created StdinOnce (docker run -i).
 * Input that cannot be delivered (no stdin, container gone) is read and dropped.
 */
function forwardStdin(conn: Duplex, containers: ContainerService, id: string, signal: AbortSignal): void {
  const held: Buffer[] = [];
  let target: Writable | undefined;
  let ended = false;
  let dropped = false;
  conn.on('data', (b: Buffer) => {
    if (dropped) return;
    if (target) {
      if (!target.write(b)) {
        conn.pause();
        target.once('drain', () => conn.resume());
      }
    } else held.push(b);
  });
  const finish = () => {
    ended = true;
    target?.end();
  };
  conn.once('end', finish);
  conn.once('close', finish);
  conn.resume(); // reading the request body may have paused the socket
  void (async () => {
    try {
      const stdin = await containers.attachStdin!(id, signal);
      stdin.on('error', () => undefined); // the container may exit without reading its input
      stdin.once('close', () => conn.resume());
      for (const b of held.splice(0)) stdin.write(b);
      target = stdin;
      if (ended) stdin.end();
    } catch {
      dropped = true;
      held.length = 0;
      conn.resume();
    }
  })();
}

export function containerRoutes(router: Router, containers: ContainerService): void {
  router.post('/containers/create', async ({ req, res, query }) => {
    const body = await readJson<CreateRequest>(req);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new BerthError('invalid_argument', 'invalid JSON: expected an object');
    }
    if (!body.Image) throw new BerthError('invalid_argument', 'no image specified');
    const opts: { name?: string; platform?: string } = {};
    const name = query.get('name');
    if (name) opts.name = name;
    const platform = query.get('platform');
    if (platform) opts.platform = platform;
    const created = await containers.create(body, opts);
    writeJson(res, 201, { Id: created.Id, Warnings: created.Warnings ?? [] });
  });

  router.get('/containers/json', async ({ res, query }) => {
    const opts: Parameters<ContainerService['list']>[0] = {
      all: boolValue(query, 'all'),
      size: boolValue(query, 'size'),
      filters: parseFilters(query.get('filters'), LIST_FILTERS),
    };
    const limit = intParam(query, 'limit');
    if (limit !== undefined && limit > 0) opts.limit = limit;
    writeJson(res, 200, await containers.list(opts));
  });

  const inspect = async ({ res, params, query }: RequestContext) => {
    writeJson(res, 200, await containers.inspect(params.id as string, { size: boolValue(query, 'size') }));
  };
  router.get('/containers/{id}/json', inspect);
  router.head('/containers/{id}/json', inspect);

  router.post('/containers/{id}/start', async (ctx) => {
    await containers.start(ctx.params.id as string);
    noContent(ctx);
  });
  router.post('/containers/{id}/stop', async (ctx) => {
    await containers.stop(ctx.params.id as string, stopOptions(ctx.query));
    noContent(ctx);
  });
  router.post('/containers/{id}/restart', async (ctx) => {
    await containers.restart(ctx.params.id as string, stopOptions(ctx.query));
    noContent(ctx);
  });
  router.post('/containers/{id}/kill', async (ctx) => {
    await containers.kill(ctx.params.id as string, ctx.query.get('signal') || undefined);
    noContent(ctx);
  });
  router.delete('/containers/{id}', async (ctx) => {
    if (boolValue(ctx.query, 'link')) throw new BerthError('not_implemented', 'links are not supported');
    await containers.remove(ctx.params.id as string, { force: boolValue(ctx.query, 'force'), volumes: boolValue(ctx.query, 'v') });
    noContent(ctx);
  });
  router.post('/containers/{id}/resize', async ({ res, params, query }) => {
    const h = intParam(query, 'h') ?? 0;
    const w = intParam(query, 'w') ?? 0;
    if (containers.resize) await containers.resize(params.id as string, h, w);
    else await containers.inspect(params.id as string);
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 0 }).end();
  });
  router.post('/containers/{id}/update', async ({ req, res, params }) => {
    const body = await readJson<UpdateRequest>(req);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BerthError('invalid_argument', 'invalid JSON: expected an object');
    writeJson(res, 200, await op('update')(params.id as string, body));
  });

  /** The optional operation, or 501 when this service has none. */
  const op = <K extends 'pause' | 'unpause' | 'rename' | 'top' | 'changes' | 'prune' | 'update'>(name: K): NonNullable<ContainerService[K]> => {
    const fn = containers[name];
    if (!fn) throw new BerthError('not_implemented', `${name} is not supported`);
    return fn.bind(containers) as NonNullable<ContainerService[K]>;
  };
  router.post('/containers/{id}/pause', async (ctx) => {
    await op('pause')(ctx.params.id as string);
    noContent(ctx);
  });
  router.post('/containers/{id}/unpause', async (ctx) => {
    await op('unpause')(ctx.params.id as string);
    noContent(ctx);
  });
  router.post('/containers/{id}/rename', async (ctx) => {
    await op('rename')(ctx.params.id as string, ctx.query.get('name') ?? '');
    noContent(ctx);
  });
  router.get('/containers/{id}/top', async ({ res, params, query }) => {
    writeJson(res, 200, await op('top')(params.id as string, query.get('ps_args') ?? ''));
  });
  router.get('/containers/{id}/changes', async ({ res, params }) => {
    writeJson(res, 200, await op('changes')(params.id as string));
  });
  router.post('/containers/prune', async ({ res, query }) => {
    writeJson(res, 200, await op('prune')(parseFilters(query.get('filters'), ['until', 'label', 'label!'])));
  });

  router.post('/containers/{id}/wait', async ({ res, params, query, signal }) => {
    const id = params.id as string;
    const condition = (query.get('condition') || 'not-running') as WaitCondition;
    if (!WAIT_CONDITIONS.includes(condition)) throw new BerthError('invalid_argument', `invalid condition: "${condition}"`);
    // Errors about the container itself are proper statuses; once it exists the header goes out at once
    // (the docker CLI waits for it before starting the container) and the body follows when the wait ends.
    const result = containers.wait(id, condition, signal);
    result.catch(() => undefined); // observed below; this only keeps an early rejection from going unhandled
    await containers.inspect(id);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    let body: { StatusCode: number; Error?: { Message: string } | null };
    try {
      const r = await result;
      body = { StatusCode: r.StatusCode, ...(r.Error ? { Error: r.Error } : {}) };
    } catch (err) {
      if (signal.aborted) return;
      body = { StatusCode: -1, Error: { Message: err instanceof Error ? err.message : String(err) } };
    }
    res.end(JSON.stringify(body) + '\n');
  });

  router.get('/containers/{id}/logs', async ({ res, params, query, signal }) => {
    const id = params.id as string;
    const stdout = boolValue(query, 'stdout');
    const stderr = boolValue(query, 'stderr');
    if (!stdout && !stderr) throw new BerthError('invalid_argument', 'Bad parameters: you must choose at least one stream');
    const { tty } = await describe(containers, id);
    const opts: LogsOptions = { follow: boolValue(query, 'follow'), stdout, stderr, signal };
    const since = timeParam(query, 'since');
    if (since !== undefined) opts.since = since;
    const until = timeParam(query, 'until');
    if (until !== undefined) opts.until = until;
    const tail = query.get('tail');
    if (tail && tail !== 'all') {
      const n = Number(tail);
      if (Number.isInteger(n) && n >= 0) opts.tail = n;
    }
    const timestamps = boolValue(query, 'timestamps');
    const entries = containers.logs(id, opts)[Symbol.asyncIterator]();
    // Fetch the first entry before the header, so a failure to open the log is still a proper status.
    let next = await entries.next();
    res.writeHead(200, { 'Content-Type': tty ? RAW_STREAM : MULTIPLEXED_STREAM });
    res.flushHeaders();
    try {
      while (!next.done) {
        if (res.destroyed) break;
        res.write(encodeEntry(next.value, { tty, timestamps }));
        next = await entries.next();
      }
      res.end();
    } catch {
      res.destroy(); // the status is long sent: cutting the stream is the only way left to report
    } finally {
      await entries.return?.();
    }
  });

  router.post('/containers/{id}/attach', async (ctx) => {
    const { params, query, res, signal } = ctx;
    const id = params.id as string;
    if (!boolValue(query, 'stream') && !boolValue(query, 'logs')) {
      throw new BerthError('invalid_argument', 'Bad parameters: you must choose at least one stream');
    }
    const { tty } = await describe(containers, id);
    const contentType = tty ? RAW_STREAM : MULTIPLEXED_STREAM;
    const opts = { stdout: boolValue(query, 'stdout'), stderr: boolValue(query, 'stderr'), logs: boolValue(query, 'logs') };
    let out: Duplex | undefined;
    const abort = new AbortController();
    signal.addEventListener('abort', () => abort.abort(), { once: true });
    if (ctx.hijack) {
      // dockerd ignores an attach body (dockerode sends its options as one): it is not stdin
      await readUpgradeBody(ctx.req);
      out = ctx.hijack(contentType);
      out.on('close', () => abort.abort());
      out.on('error', () => abort.abort());
      if (boolValue(query, 'stdin') && containers.attachStdin) forwardStdin(out, containers, id, abort.signal);
      else out.resume(); // no stdin wanted: what the client sends is read and dropped
    } else {
      res.writeHead(200, { 'Content-Type': contentType });
      res.flushHeaders();
    }
    const write = (chunk: Buffer) => (out ? out.write(chunk) : res.write(chunk));
    try {
      if (!boolValue(query, 'stream')) {
        // logs=1 without stream: the output so far, then the end.
        for await (const e of containers.logs(id, { stdout: opts.stdout, stderr: opts.stderr, signal: abort.signal })) {
          write(encodeEntry(e, { tty, timestamps: false }));
        }
      } else if (opts.stdout || opts.stderr) {
        for await (const e of attachOutput(containers, id, { ...opts, signal: abort.signal })) write(encodeEntry(e, { tty, timestamps: false }));
      } else {
        await containers.wait(id, 'next-exit', abort.signal).catch(() => undefined);
      }
    } catch (err) {
      if (!abort.signal.aborted) out?.destroy(err instanceof Error ? err : undefined);
    } finally {
      if (out) out.end();
      else res.end();
    }
  });
}
