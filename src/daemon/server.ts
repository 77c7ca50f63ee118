// The Engine API HTTP server on a unix socket. Building (createApiServer) is
// separate from listening (listen), so tests serve fake services the same way.
import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import { createConnection, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BerthError } from '../errors/index.js';
import type { ContainerService } from '../container/types.js';
import type { ImageService } from '../image/types.js';
import type { RegistryClient } from '../registry/types.js';
import type { Logger } from '../util/index.js';
import { API_VERSION, BERTH_VERSION, negotiateVersion } from './apiversion.js';
import { statusOf, writeError } from './errors.js';
import { Router } from './router.js';
import { archiveRoutes } from './routes/archive.js';
import { networkRoutes } from './routes/networks.js';
import type { NetworkService } from '../network/index.js';
import { statsRoutes } from './routes/stats.js';
import { containerRoutes } from './routes/containers.js';
import { execRoutes, type ExecService } from './routes/exec.js';
import { volumeRoutes } from './routes/volumes.js';
import type { VolumeService } from '../volume/index.js';
import { imageRoutes } from './routes/images.js';
import { systemRoutes } from './routes/system.js';
import { eventRoutes } from './routes/events.js';
import { buildRoutes, type BuildService } from './routes/build.js';
import type { EventBus } from '../events/index.js';
import type { SystemInfoSource } from './sysinfo.js';

export interface ApiServices {
  images: ImageService;
  containers: ContainerService;
  /** exec instances; the exec routes exist only when given */
  exec?: ExecService;
  /** named volumes; the volume routes exist only when given */
  volumes?: VolumeService;
  registry: Pick<RegistryClient, 'login'>;
  system: SystemInfoSource;
  /** the event stream; GET /events exists only when given */
  events?: EventBus;
  /** networks; the network routes exist only when given */
  networks?: NetworkService;
  /** the image builder; POST /build exists only when given */
  builder?: BuildService;
}

export interface ApiServer {
  readonly server: Server;
  /** Listen on `socket` (mode 0660). Removes a stale socket file; refuses if a daemon answers on it. */
  listen(socket: string): Promise<void>;
  /** Stop accepting, let in-flight requests finish for up to `graceMs`, then cut the rest and remove the socket. */
  close(graceMs?: number): Promise<void>;
}

const VERSIONED = /^\/v([0-9.]+)(\/.*)$/;

export function buildRouter(services: ApiServices): Router {
  const router = new Router();
  systemRoutes(router, services);
  imageRoutes(router, services.images);
  containerRoutes(router, services.containers);
  statsRoutes(router, services.containers);
  archiveRoutes(router, { containers: services.containers, images: services.images });
  if (services.exec) execRoutes(router, services.exec);
  if (services.volumes) volumeRoutes(router, services.volumes);
  if (services.events) eventRoutes(router, services.events);
  if (services.builder) buildRoutes(router, services.builder);
  if (services.networks) {
    const { containers } = services;
    networkRoutes(router, {
      networks: services.networks,
      containers: {
        connect: (c, n, cfg) => {
          if (!containers.connect) throw new BerthError('not_implemented', 'network connect is not supported');
          return containers.connect(c, n, cfg);
        },
        disconnect: (c, n, force) => {
          if (!containers.disconnect) throw new BerthError('not_implemented', 'network disconnect is not supported');
          return containers.disconnect(c, n, force);
        },
      },
    });
  }
  return router;
}

export function createApiServer(services: ApiServices, log: Logger): ApiServer {
  const router = buildRouter(services);
  const inflight = new Set<ServerResponse>();
  /** Connections taken over by attach: node no longer tracks them, so close() must. */
  const hijacked = new Set<Duplex>();
  const settled = () => {
    if (inflight.size === 0 && hijacked.size === 0) drained?.();
  };
  let drained: (() => void) | undefined;
  let socketPath: string | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse, hijack?: (contentType: string) => Duplex) => {
    res.setHeader('Api-Version', API_VERSION);
    res.setHeader('Docker-Experimental', 'false');
    res.setHeader('Ostype', 'linux');
    res.setHeader('Server', `berth/${BERTH_VERSION} (linux)`);
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort(new BerthError('unavailable', 'client disconnected'));
    });
    try {
      const url = new URL(req.url ?? '/', 'http://berth');
      let path: string;
      try {
        path = decodeURIComponent(url.pathname);
      } catch (err) {
        throw new BerthError('invalid_argument', `malformed request path: ${url.pathname}`, { cause: err });
      }
      const versioned = VERSIONED.exec(path);
      const match = router.match(req.method ?? 'GET', versioned ? (versioned[2] as string) : path);
      // dockerd answers unknown paths and known paths with another method alike.
      if (!match) throw new BerthError('not_found', 'page not found');
      const apiVersion = negotiateVersion(versioned?.[1]);
      const ctx = { req, res, apiVersion, params: match.params, query: url.searchParams, signal: abort.signal };
      await match.handler(hijack ? { ...ctx, hijack } : ctx);
    } catch (err) {
      const status = statusOf(err);
      if (status >= 500) log.error('request failed', { method: req.method, url: req.url, err });
      else log.debug('request refused', { method: req.method, url: req.url, status, err });
      if (!res.headersSent) writeError(res, err);
      else res.destroy(); // a reply already under way cannot change its status
    }
  };

  const server = createServer({ requestTimeout: 0 }, (req, res) => {
    inflight.add(res);
    const received = performance.now();
    res.on('close', () => {
      inflight.delete(res);
      log.debug('request', { method: req.method, url: req.url, status: res.statusCode, ms: Math.round(performance.now() - received) });
      settled();
    });
    void handle(req, res);
  });

  // An upgrade request (attach) arrives here instead of 'request'. Until the handler hijacks
  // the socket, a ServerResponse bound to it carries errors as ordinary HTTP replies.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    if (head.length > 0) socket.unshift(head);
    inflight.add(res);
    const untrack = () => {
      inflight.delete(res);
      settled();
    };
    res.on('close', untrack);
    let taken = false;
    // A plain (error) reply on an upgrade request ends the connection, as nothing else can follow it.
    res.on('finish', () => {
      if (!taken) socket.end();
    });
    socket.on('error', () => socket.destroy());
    const hijack = (contentType: string): Duplex => {
      taken = true;
      res.detachSocket(socket);
      untrack();
      hijacked.add(socket);
      socket.on('close', () => {
        hijacked.delete(socket);
        settled();
      });
      const headers = [
        'HTTP/1.1 101 UPGRADED',
        `Content-Type: ${contentType}`,
        'Connection: Upgrade',
        'Upgrade: tcp',
        `Api-Version: ${API_VERSION}`,
        'Docker-Experimental: false',
        'Ostype: linux',
        `Server: berth/${BERTH_VERSION} (linux)`,
      ];
      socket.write(headers.join('\r\n') + '\r\n\r\n');
      return socket;
    };
    void handle(req, res, hijack);
  });

  return {
    server,
    async listen(socket) {
      await mkdir(dirname(socket), { recursive: true, mode: 0o755 });
      await clearStaleSocket(socket);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socket, () => {
          server.off('error', reject);
          resolve();
        });
      });
      socketPath = socket;
      // dockerd makes its socket 0660 (root:docker): only root and the group may drive the daemon.
      await chmod(socket, 0o660);
    },
    async close(graceMs = 10_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inflight.size > 0 || hijacked.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          drained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      server.closeAllConnections();
      for (const socket of hijacked) socket.destroy();
      await closed;
      if (socketPath) await rm(socketPath, { force: true });
    },
  };
}

/** A leftover socket file from a daemon that died is removed; a live one means another daemon owns it. */
async function clearStaleSocket(socket: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(socket)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw new BerthError('conflict', `${socket} exists and is not a socket`);
  const answered = await new Promise<boolean>((resolve, reject) => {
    const conn = createConnection(socket);
    conn.once('connect', () => {
      conn.destroy();
      resolve(true);
    });
    conn.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(err);
    });
  });
  if (answered) throw new BerthError('conflict', `another daemon is already listening on ${socket}`);
  await rm(socket, { force: true });
}
