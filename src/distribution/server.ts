// `berth registry serve` as a library call: storage + handler + a listening
// node:http (or node:https with a certificate) server.
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { invalidArgument } from '../errors/index.js';
import { nullLogger, type Logger } from '../util/index.js';
import { Htpasswd } from './auth.js';
import { createRegistryHandler } from './http.js';
import { TokenAuth } from './token.js';
import { RegistryStorage } from './storage.js';

export interface ServeOptions {
  /** host:port to listen on; ":5000" means every interface. */
  addr: string;
  root: string;
  htpasswdFile?: string;
  /** Bearer token auth (distribution's `auth: token`): all four, or none. */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  tlsCert?: string;
  tlsKey?: string;
  readOnly?: boolean;
  delete?: boolean;
  log?: Logger;
}

export interface RunningRegistry {
  /** http(s)://host:port */
  url: string;
  /** host:port actually bound (the port is real even when asked for 0). */
  host: string;
  port: number;
  close(): Promise<void>;
}

export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw invalidArgument(`invalid --addr ${JSON.stringify(addr)}: expected HOST:PORT`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export async function serveRegistry(opts: ServeOptions): Promise<RunningRegistry> {
  const log = opts.log ?? nullLogger;
  const { host, port } = parseAddr(opts.addr);
  if (!!opts.tlsCert !== !!opts.tlsKey) throw invalidArgument('--tls-cert and --tls-key go together');
  const storage = await RegistryStorage.open(opts.root);
  if (opts.htpasswdFile && opts.token) throw invalidArgument('--htpasswd and token auth exclude each other: the token server checks the passwords');
  const htpasswd = opts.htpasswdFile ? await Htpasswd.load(opts.htpasswdFile) : undefined;
  const token = opts.token ? await TokenAuth.load(opts.token) : undefined;
  const handler = createRegistryHandler(storage, { readOnly: !!opts.readOnly, delete: !!opts.delete, log, ...(htpasswd ? { htpasswd } : {}), ...(token ? { token } : {}) });
  const server: Server =
    opts.tlsCert && opts.tlsKey
      ? createHttpsServer({ cert: await readFile(opts.tlsCert), key: await readFile(opts.tlsKey) }, handler)
      : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  const scheme = opts.tlsCert ? 'https' : 'http';
  return {
    url: `${scheme}://${shown}:${bound}`,
    host: `${shown}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
