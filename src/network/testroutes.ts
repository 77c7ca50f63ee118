// A network API server for tests: the real routes over a real network
// service (records only, no kernel state) and a recording ContainerNetworking.
import { createServer } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { tempRoot } from '../testing/index.js';
import { openDatabase } from '../db/index.js';
import { BerthError } from '../errors/index.js';
import { nullLogger } from '../util/index.js';
import { Router } from '../daemon/router.js';
import { writeError } from '../daemon/errors.js';
import { networkRoutes } from '../daemon/routes/networks.js';
import { createNetworkService } from './service.js';
import type { ContainerNetworking, EndpointConfig } from './types.js';
import { freeTestSubnet, uniqueBridgeName } from './testnet.js';

export async function serveNetworks(t: { after(fn: () => Promise<void> | void): void }) {
  // after-hooks run first-registered-first: close everything before tempRoot removes the directory
  const closers: Array<() => Promise<void> | void> = [];
  t.after(async () => {
    for (const fn of closers.reverse()) await fn();
  });
  const root = await tempRoot(t);
  const db = openDatabase(join(root, 'berth.db'));
  closers.push(() => void db.close());
  const networks = await createNetworkService({
    db,
    root,
    log: nullLogger,
    defaultBridge: uniqueBridgeName(),
    defaultSubnet: (await freeTestSubnet()).subnet,
    resolvConf: join(root, 'none'),
  });
  closers.push(() => networks.close());
  const calls: Array<{ op: string; container: string; network: string; config?: EndpointConfig; force?: boolean }> = [];
  const containers: ContainerNetworking = {
    connect: async (container, network, config) => {
      if (container === 'ghost') throw new BerthError('not_found', 'No such container: ghost');
      await networks.inspect(network);
      calls.push({ op: 'connect', container, network, config });
    },
    disconnect: async (container, network, force) => {
      calls.push({ op: 'disconnect', container, network, force });
    },
  };
  const router = new Router();
  router.get('/_ping', ({ res }) => {
    res.writeHead(200, { 'Api-Version': '1.50', 'Content-Type': 'text/plain' }).end('OK');
  });
  networkRoutes(router, { networks, containers });
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://x');
        const path = decodeURIComponent(url.pathname).replace(/^\/v[0-9.]+/, '');
        const m = router.match(req.method ?? 'GET', path);
        if (!m) throw new BerthError('not_found', 'page not found');
        await m.handler({ req, res, apiVersion: '1.50', params: m.params, query: url.searchParams, signal: new AbortController().signal });
      } catch (err) {
        writeError(res, err);
      }
    })();
  });
  const socket = join(root, 'api.sock');
  server.listen(socket);
  await once(server, 'listening');
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return { socket, networks, calls };
}
