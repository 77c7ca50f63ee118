// A tiny stand-in Engine API server on a unix socket, for the CLI's tests:
// canned answers for the endpoints the image commands use, and a log of
// every request so tests can check what the CLI sent.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export const BUSYBOX_ID = 'sha256:' + 'ab'.repeat(32);
export const BUSYBOX_DIGEST = 'sha256:' + 'cd'.repeat(32);
export const DANGLING_ID = 'sha256:' + 'ef'.repeat(32);

export function imageList(now: number): unknown[] {
  return [
    {
      Id: BUSYBOX_ID,
      ParentId: '',
      RepoTags: ['busybox:latest', 'localhost:5000/tools/busybox:1.36'],
      RepoDigests: [`busybox@${BUSYBOX_DIGEST}`],
      Created: now - 2 * 3600,
      Size: 4_261_574,
      SharedSize: -1,
      Labels: null,
      Containers: -1,
    },
    { Id: DANGLING_ID, ParentId: '', RepoTags: [], RepoDigests: [], Created: now - 3 * 86400, Size: 1_234_567_890, SharedSize: -1, Labels: {}, Containers: -1 },
  ];
}

export const BUSYBOX_INSPECT = {
  Id: BUSYBOX_ID,
  RepoTags: ['busybox:latest'],
  RepoDigests: [`busybox@${BUSYBOX_DIGEST}`],
  Created: '2024-05-17T21:21:05Z',
  Config: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
  Architecture: 'amd64',
  Os: 'linux',
  Size: 4261574,
  RootFS: { Type: 'layers', Layers: ['sha256:' + '12'.repeat(32)] },
};

export const PULL_STREAM = [
  { status: 'Pulling from library/busybox', id: 'latest' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'aaaaaaaaaaaa' },
  { status: 'Downloading', progressDetail: { current: 1_000_000, total: 2_000_000 }, progress: '[====>  ]', id: 'aaaaaaaaaaaa' },
  { status: 'Verifying Checksum', progressDetail: {}, id: 'aaaaaaaaaaaa' },
  { status: 'Download complete', progressDetail: {}, id: 'aaaaaaaaaaaa' },
  { status: 'Extracting', progressDetail: { current: 2_000_000, total: 2_000_000 }, id: 'aaaaaaaaaaaa' },
  { status: 'Pull complete', progressDetail: {}, id: 'aaaaaaaaaaaa' },
  { status: `Digest: ${BUSYBOX_DIGEST}` },
  { status: 'Status: Downloaded newer image for busybox:latest' },
];

export const BUILT_ID = 'sha256:' + '5b'.repeat(32);

/** What the fake answers to POST /build; tests replace it before running the CLI. */
export interface BuildScript {
  /** JSON lines streamed back, in order */
  messages: unknown[];
  /** keep the response open after the messages, until the client goes away ('build-closed' event) */
  hold?: boolean;
  /** answer with this error status and message instead of a stream */
  status?: number;
  message?: string;
}

/** A short successful build: one step with output, one cached, the image ID. */
export const DEFAULT_BUILD_SCRIPT: BuildScript = {
  messages: [
    { id: 'berth.step', aux: { vertex: 1, name: '[1/2] FROM docker.io/library/busybox:latest', state: 'started' } },
    { id: 'berth.step', aux: { vertex: 1, name: '[1/2] FROM docker.io/library/busybox:latest', state: 'done', elapsedMs: 100 } },
    { id: 'berth.step', aux: { vertex: 2, name: '[2/2] RUN echo hi', state: 'started' } },
    { id: 'berth.log', aux: { vertex: 2, stream: 'stdout', data: 'hi\n' } },
    { id: 'berth.step', aux: { vertex: 2, name: '[2/2] RUN echo hi', state: 'done', elapsedMs: 1200 } },
    { id: 'moby.image.id', aux: { ID: BUILT_ID } },
  ],
};

/** A container of the fake: attach echoes stdin back (stdcopy-framed unless Tty). */
export interface FakeContainer {
  id: string;
  name: string;
  tty: boolean;
  openStdin: boolean;
  running: boolean;
  status: string;
  ports: Record<string, { HostIp: string; HostPort: string }[] | null>;
  /** Resolved with the exit code when the container "exits". */
  exited: Promise<number>;
  exit(code: number): void;
}

/** What one hijacked session (attach or exec start) saw from the client. */
export interface HijackSession {
  kind: 'attach' | 'exec';
  target: string;
  query: URLSearchParams;
  /** Every byte the client sent after the upgrade. */
  received: Buffer;
  /** The client sent EOF: a half-close (docker's CloseWrite) or a close after a detach. */
  halfClosed: boolean;
}

export interface FakeEngine {
  socket: string;
  requests: RecordedRequest[];
  containers: Map<string, FakeContainer>;
  sessions: HijackSession[];
  /** 'request' (RecordedRequest), 'session' (HijackSession), 'data' (HijackSession) */
  events: EventEmitter;
  /** Resolves with the first recorded request (past or future) matching. */
  /** Resolves with the first request `match` accepts; rejects after timeoutMs (30 s). */
  waitForRequest(match: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  addContainer(name: string, opts?: Partial<Pick<FakeContainer, 'tty' | 'openStdin' | 'running' | 'status' | 'ports'>>): FakeContainer;
  /** POST /build's answer (the request, body included, is in `requests`); emits 'build-held' and 'build-closed' when held */
  buildScript: BuildScript;
  /** POST /build/prune's answer */
  pruneReport: { CachesDeleted: string[] | null; SpaceReclaimed: number };
  close(): Promise<void>;
}

function frame(kind: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = kind;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.50' });
  res.end(JSON.stringify(body) + '\n');
}

export async function startFakeEngine(dir: string): Promise<FakeEngine> {
  const socket = join(dir, 'engine.sock');
  const requests: RecordedRequest[] = [];
  const events = new EventEmitter();
  const containers = new Map<string, FakeContainer>();
  const execs = new Map<string, { container: FakeContainer; config: { Tty?: boolean } }>();
  const sessions: HijackSession[] = [];
  const now = Math.floor(Date.now() / 1000);
  const record = (r: RecordedRequest) => {
    requests.push(r);
    events.emit('request', r);
  };
  const addContainer: FakeEngine['addContainer'] = (name, opts = {}) => {
    let exit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (exit = resolve));
    const c: FakeContainer = {
      id: Buffer.from(name).toString('hex').padEnd(64, '0').slice(0, 64),
      name,
      tty: opts.tty ?? false,
      openStdin: opts.openStdin ?? true,
      running: opts.running ?? true,
      status: opts.status ?? 'Up 3 seconds',
      ports: opts.ports ?? {},
      exited,
      exit: (code) => {
        c.running = false;
        exit(code);
      },
    };
    containers.set(name, c);
    containers.set(c.id, c);
    return c;
  };
  const containerRoute = (req: IncomingMessage, res: ServerResponse, path: string, url: URL, body: Buffer): boolean => {
    const m = /^\/containers\/([^/]+)\/(json|wait|start|resize|kill|update|exec)$/.exec(path);
    if (req.method === 'POST' && path === '/containers/create') {
      const config = JSON.parse(body.toString()) as { Tty?: boolean; OpenStdin?: boolean };
      const c = addContainer(url.searchParams.get('name') || 'created', { tty: config.Tty === true, openStdin: config.OpenStdin === true, running: false });
      send(res, 201, { Id: c.id, Warnings: [] });
      return true;
    }
    if (req.method === 'GET' && path === '/containers/json') {
      send(res, 200, [...new Set(containers.values())].map((c) => ({ Id: c.id, Names: [`/${c.name}`], Image: 'busybox', Command: 'sh', Created: now - 60, State: c.running ? 'running' : 'exited', Status: c.status, Ports: [] })));
      return true;
    }
    if (!m) return false;
    const name = decodeURIComponent(m[1] as string);
    const c = containers.get(name);
    if (!c) {
      send(res, 404, { message: `No such container: ${name}` });
      return true;
    }
    switch (m[2]) {
      case 'json':
        send(res, 200, {
          Id: c.id,
          Name: `/${c.name}`,
          State: { Running: c.running, Paused: false, Restarting: false },
          Config: { Tty: c.tty, OpenStdin: c.openStdin },
          HostConfig: { AutoRemove: false },
          NetworkSettings: { Ports: c.ports },
        });
        break;
      case 'start':
        c.running = true;
        res.writeHead(204).end();
        break;
      case 'wait':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        void c.exited.then((code) => res.end(JSON.stringify({ StatusCode: code, Error: null }) + '\n'));
        break;
      case 'resize':
        res.writeHead(200).end();
        break;
      case 'kill': {
        // The "process" dies of the signal: 128 + its number, as a shell reports it.
        const signal = url.searchParams.get('signal') ?? 'KILL';
        const numbers: Record<string, number> = { INT: 2, TERM: 15, HUP: 1, QUIT: 3, KILL: 9, USR2: 12 };
        events.emit(`kill:${c.name}`, signal);
        c.exit(128 + (numbers[signal.replace(/^SIG/, '')] ?? 0));
        res.writeHead(204).end();
        break;
      }
      case 'update':
        send(res, 200, { Warnings: [] });
        break;
      case 'exec': {
        const id = `exec-${execs.size + 1}`;
        execs.set(id, { container: c, config: JSON.parse(body.toString()) as { Tty?: boolean } });
        send(res, 201, { Id: id });
        break;
      }
    }
    return true;
  };
  /** A hijacked session: echo what arrives (framed as stdout unless Tty); end at the client's half-close. */
  const upgraded = new Set<Duplex>();
  const engine = {
    buildScript: DEFAULT_BUILD_SCRIPT,
    pruneReport: { CachesDeleted: null, SpaceReclaimed: 0 } as FakeEngine['pruneReport'],
  };
  const buildRoute = (res: ServerResponse) => {
    const script = engine.buildScript;
    if (script.status !== undefined) {
      send(res, script.status, { message: script.message ?? 'build failed' });
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    for (const m of script.messages) res.write(JSON.stringify(m) + '\r\n');
    if (!script.hold) {
      res.end();
      return;
    }
    res.on('close', () => events.emit('build-closed'));
    events.emit('build-held');
  };
  const hijack = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://engine');
    const path = url.pathname.replace(/^\/v1\.\d+/, '');
    const length = Number(req.headers['content-length'] ?? 0);
    let pending = head;
    const attach = /^\/containers\/([^/]+)\/attach$/.exec(path);
    const execStart = /^\/exec\/([^/]+)\/start$/.exec(path);
    const container = attach ? containers.get(decodeURIComponent(attach[1] as string)) : execStart ? execs.get(execStart[1] as string)?.container : undefined;
    if (!container) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 32\r\n\r\n{"message":"no such container!"}');
      return;
    }
    const session: HijackSession = { kind: attach ? 'attach' : 'exec', target: container.name, query: url.searchParams, received: Buffer.alloc(0), halfClosed: false };
    let tty = container.tty;
    const start = (body: Buffer, rest: Buffer) => {
      record({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body });
      if (execStart) tty = (JSON.parse(body.toString() || '{}') as { Tty?: boolean }).Tty === true;
      socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      sessions.push(session);
      events.emit('session', session);
      const wantsStdin = execStart ? true : url.searchParams.get('stdin') === '1';
      const onData = (chunk: Buffer) => {
        session.received = Buffer.concat([session.received, chunk]);
        if (wantsStdin) socket.write(tty ? chunk : frame(1, chunk));
        events.emit('data', session);
      };
      if (rest.length) onData(rest);
      socket.on('data', onData);
      socket.on('end', () => {
        session.halfClosed = true;
        events.emit('data', session);
        if (!wantsStdin) return; // no input: the container goes on until killed
        socket.end();
        // docker closes a container's stdin at the client's EOF only without a TTY
        // (CloseStdin && !Tty): a TTY client leaving, as after a detach, leaves it running.
        if (attach && !tty) container.exit(0);
      });
      events.on(`kill:${container.name}`, (signal: string) => {
        if (!socket.writable) return;
        const note = Buffer.from(`killed by ${signal}\n`);
        socket.end(tty ? note : frame(2, note));
      });
    };
    // The request body (exec start's JSON) comes first on the socket.
    const take = () => {
      if (pending.length < length) return false;
      socket.off('data', more);
      start(pending.subarray(0, length), pending.subarray(length));
      return true;
    };
    const more = (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      take();
    };
    if (!take()) socket.on('data', more);
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://engine');
    const path = url.pathname.replace(/^\/v1\.\d+/, '');
    record({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks) });
    const route = `${req.method} ${path}`;
    if (containerRoute(req, res, path, url, Buffer.concat(chunks))) return;
    const execInspect = /^\/exec\/([^/]+)\/(json|resize)$/.exec(path);
    if (execInspect) {
      if (execInspect[2] === 'json') send(res, 200, { ID: execInspect[1], Running: false, ExitCode: 0 });
      else res.writeHead(200).end();
      return;
    }
    if (route === 'GET /_ping' || route === 'HEAD /_ping') {
      res.writeHead(200, { 'Api-Version': '1.50', 'Content-Type': 'text/plain' });
      res.end('OK');
    } else if (route === 'GET /images/json') send(res, 200, imageList(now));
    else if (route === 'GET /images/busybox/json' || route === `GET /images/${BUSYBOX_ID}/json`) send(res, 200, BUSYBOX_INSPECT);
    else if (route === 'GET /images/busybox/history')
      send(res, 200, [
        { Id: BUSYBOX_ID, Created: now - 7200, CreatedBy: 'CMD ["sh"]', Tags: ['busybox:latest'], Size: 0, Comment: '' },
        { Id: '<missing>', Created: now - 7300, CreatedBy: '/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789abcdef in / ', Tags: null, Size: 4261574, Comment: 'imported' },
      ]);
    else if (route === 'DELETE /images/busybox') send(res, 200, [{ Untagged: 'busybox:latest' }, { Untagged: `busybox@${BUSYBOX_DIGEST}` }, { Deleted: BUSYBOX_ID }]);
    else if (route === 'POST /images/create' && url.searchParams.get('fromImage')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (url.searchParams.get('fromImage')?.endsWith('/broken')) {
        res.end(JSON.stringify({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' }) + '\n');
        return;
      }
      for (const m of PULL_STREAM) res.write(JSON.stringify(m) + '\r\n');
      res.end();
    } else if (route === 'POST /images/create' && url.searchParams.get('fromSrc') === '-') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: DANGLING_ID }) + '\r\n');
    } else if (route === 'POST /images/prune') {
      send(res, 200, { ImagesDeleted: [{ Untagged: 'busybox:latest' }, { Deleted: BUSYBOX_ID }], SpaceReclaimed: 4_261_574 });
    } else if (route === 'GET /images/get') {
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      res.end(`TAR:${url.searchParams.getAll('names').join(',')}`);
    } else if (route === 'POST /images/load') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ stream: `Loaded image: busybox:latest (${Buffer.concat(chunks).length} bytes)\n` }) + '\r\n');
    } else if (route === 'POST /build') {
      buildRoute(res);
    } else if (route === 'POST /build/prune') {
      send(res, 200, engine.pruneReport);
    } else if (route === 'POST /auth') {
      const creds = JSON.parse(Buffer.concat(chunks).toString()) as { password?: string };
      if (creds.password === 'secret') send(res, 200, { Status: 'Login Succeeded' });
      else send(res, 401, { message: 'login attempt failed: unauthorized' });
    } else if (route === 'GET /version') {
      send(res, 200, { Version: '0.1.0', ApiVersion: '1.50', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64', Experimental: false, Components: [] });
    } else if (req.method === 'GET' && /^\/images\/[^/]+\/json$/.test(path)) {
      send(res, 404, { message: `No such image: ${decodeURIComponent(path.split('/')[2] ?? '')}` });
    } else if (req.method === 'DELETE' && path.startsWith('/images/')) {
      send(res, 404, { message: `No such image: ${decodeURIComponent(path.slice('/images/'.length))}` });
    } else {
      send(res, 404, { message: `page not found: ${route}` });
    }
  });
  server.on('upgrade', hijack);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, resolve);
  });
  return {
    socket,
    requests,
    containers,
    sessions,
    events,
    addContainer,
    get buildScript() {
      return engine.buildScript;
    },
    set buildScript(script: BuildScript) {
      engine.buildScript = script;
    },
    get pruneReport() {
      return engine.pruneReport;
    },
    set pruneReport(report: FakeEngine['pruneReport']) {
      engine.pruneReport = report;
    },
    waitForRequest: (match, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const hit = requests.find(match);
        if (hit) return resolve(hit);
        // Bounded, so a client that never sends it fails the test instead of hanging the suite.
        const timer = setTimeout(() => {
          events.off('request', listener);
          const seen = requests.map((r) => `${r.method} ${r.path}`).join(', ');
          reject(new Error(`no matching request within ${timeoutMs} ms; seen: ${seen || 'none'}`));
        }, timeoutMs);
        const listener = (r: RecordedRequest) => {
          if (!match(r)) return;
          events.off('request', listener);
          clearTimeout(timer);
          resolve(r);
        };
        events.on('request', listener);
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of upgraded) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
