// A token server for distribution's `auth: token:` (see
// shared/specs/docker-registry/auth/token.md and jwt.md): it issues RS256 JWTs
// whose x5c header carries a self-signed certificate that the registry trusts
// through its `rootcertbundle`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createPrivateKey, randomUUID, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOk } from './exec.js';

export interface TokenRequest {
  method: string;
  service: string | null;
  scopes: string[];
  /** The user that authenticated, or null for an anonymous request. */
  user: string | null;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  /** Every request the server answered, in order (tests assert on scopes and users). */
  requests: TokenRequest[];
  close(): Promise<void>;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** Makes a key pair and self-signed certificate in `dir` with openssl. */
async function makeCert(dir: string): Promise<{ key: KeyObject; certDer: Buffer; certPath: string }> {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  await runOk('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath,
    '-days', '2', '-subj', '/CN=berth-test-token-issuer',
  ]);
  const key = createPrivateKey(await readFile(keyPath));
  const certDer = new X509Certificate(await readFile(certPath)).raw;
  return { key, certDer, certPath };
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

function parseScope(scope: string): Access | null {
  // repository:name/with/slashes:pull,push — the name may hold a port-free host, never ':'
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return null;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope.slice(last + 1).split(',').filter(Boolean),
  };
}

function basicUser(req: IncomingMessage): { user: string; password: string } | null {
  const h = req.headers.authorization;
  if (!h || !/^basic /i.test(h)) return null;
  const raw = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
  const colon = raw.indexOf(':');
  if (colon < 0) return null;
  return { user: raw.slice(0, colon), password: raw.slice(colon + 1) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Starts the token server on loopback. With `credentials`, only that user is
 * granted access (anonymous and wrong users get a token with no access, wrong
 * passwords get 401, as hub-like servers do); without, everyone gets what
 * they ask for.
 */
export async function startTokenServer(
  dir: string,
  credentials?: { user: string; password: string },
): Promise<TokenServer> {
  const { key, certDer, certPath } = await makeCert(dir);
  const service = 'berth-test-registry';
  const issuer = 'berth-test-issuer';
  const requests: TokenRequest[] = [];

  function issue(user: string | null, scopes: string[]): string {
    const access: Access[] = [];
    const allowed = credentials ? user === credentials.user : true;
    for (const s of scopes) {
      for (const part of s.split(' ')) {
        const a = parseScope(part);
        if (a && allowed) access.push(a);
      }
    }
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [certDer.toString('base64')] };
    const claims = {
      iss: issuer,
      sub: user ?? '',
      aud: service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), key);
    return `${signingInput}.${b64url(signature)}`;
  }

  function reply(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/token') return reply(res, 404, { error: 'not found' });
    let user: string | null = null;
    let password: string | null = null;
    let scopes: string[];
    let svc: string | null;
    if (req.method === 'POST') {
      // OAuth2 password grant (token.md / oauth.md), as containerd uses with credentials
      const form = new URLSearchParams(await readBody(req));
      if (form.get('grant_type') === 'password') {
        user = form.get('username');
        password = form.get('password');
      }
      scopes = form.getAll('scope');
      svc = form.get('service');
    } else {
      const basic = basicUser(req);
      if (basic) ({ user, password } = basic);
      scopes = url.searchParams.getAll('scope');
      svc = url.searchParams.get('service');
    }
    if (user !== null && credentials && (user !== credentials.user || password !== credentials.password)) {
      requests.push({ method: req.method ?? 'GET', service: svc, scopes, user: null });
      return reply(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] });
    }
    requests.push({ method: req.method ?? 'GET', service: svc, scopes, user });
    const token = issue(user, scopes);
    reply(res, 200, { token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => reply(res, 500, { error: String(err) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
