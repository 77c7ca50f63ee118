// System endpoints: /_ping, /version, /info, /system/df, /auth.
import type { ServerResponse } from 'node:http';
import { BerthError } from '../../errors/index.js';
import type { ImageService } from '../../image/types.js';
import type { RegistryClient } from '../../registry/types.js';
import type { Router } from '../router.js';
import { readJson, toAuthConfig, writeJson } from '../request.js';
import type { SystemInfoSource } from '../sysinfo.js';
import type { VolumeService } from '../../volume/index.js';
import { shapeSummary } from './shape.js';

/** Where `docker login` without a server logs in (dockerd's registry.IndexServer). */
const DEFAULT_INDEX_SERVER = 'https://index.docker.io/v1/';
const DF_TYPES = ['container', 'image', 'volume', 'build-cache'];

export function systemRoutes(
  router: Router,
  deps: { images: Pick<ImageService, 'diskUsage'>; registry: Pick<RegistryClient, 'login'>; system: SystemInfoSource; volumes?: Pick<VolumeService, 'usage'> },
): void {
  const ping = ({ res }: { res: ServerResponse }) => {
    res.writeHead(200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': 2,
      'Builder-Version': '1',
      Swarm: 'inactive',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
    });
    res.end('OK'); // dropped by node for HEAD
  };
  router.get('/_ping', ping);
  router.head('/_ping', ping);

  router.get('/version', ({ res }) => writeJson(res, 200, deps.system.version()));
  router.get('/info', async ({ res }) => writeJson(res, 200, await deps.system.info()));

  router.get('/system/df', async ({ res, query, apiVersion }) => {
    const types = query.getAll('type');
    for (const t of types) {
      if (!DF_TYPES.includes(t)) throw new BerthError('invalid_argument', `unknown object type: ${t}`);
    }
    const want = (t: string) => types.length === 0 || types.includes(t);
    const reply: Record<string, unknown> = {};
    if (want('image')) {
      const usage = await deps.images.diskUsage();
      reply.LayersSize = usage.LayersSize;
      reply.Images = usage.Images.map((s) => shapeSummary(s, apiVersion));
    }
    // No container sizes or build cache exist in berth yet: these are the true (empty) answers.
    if (want('container')) reply.Containers = [];
    if (want('volume')) reply.Volumes = deps.volumes ? await deps.volumes.usage() : [];
    if (want('build-cache')) reply.BuildCache = [];
    writeJson(res, 200, reply);
  });

  router.post('/auth', async ({ req, res }) => {
    const body = await readJson<Record<string, string | undefined>>(req);
    if (body === null || typeof body !== 'object') throw new BerthError('invalid_argument', 'invalid JSON: expected an object');
    const server = body.serveraddress || DEFAULT_INDEX_SERVER;
    const result = await deps.registry.login(server, toAuthConfig(body) ?? {});
    writeJson(res, 200, { Status: result.status || 'Login Succeeded', IdentityToken: result.identityToken ?? '' });
  });
}
