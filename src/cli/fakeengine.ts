// A tiny stand-in Engine API server on a unix socket, for the CLI's tests:
// canned answers for the endpoints the image commands use, and a log of
// every request so tests can check what the CLI sent.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
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

export interface FakeEngine {
  socket: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.50' });
  res.end(JSON.stringify(body) + '\n');
}

export async function startFakeEngine(dir: string): Promise<FakeEngine> {
  const socket = join(dir, 'engine.sock');
  const requests: RecordedRequest[] = [];
  const now = Math.floor(Date.now() / 1000);
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://engine');
    const path = url.pathname.replace(/^\/v1\.\d+/, '');
    requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks) });
    const route = `${req.method} ${path}`;
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, resolve);
  });
  return {
    socket,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
