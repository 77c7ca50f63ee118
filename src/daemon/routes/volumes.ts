// Volume endpoints (dockerd's api/server/router/volume): create 201, list
// {Volumes, Warnings}, inspect, delete 204 (409 in use, 404 absent), prune.
import type { VolumeCreateOptions, VolumeService } from '../../volume/index.js';
import type { Router } from '../router.js';
import { boolValue, parseFilters, readJson, writeJson } from '../request.js';

const LIST_FILTERS = ['name', 'label', 'dangling', 'driver'] as const;
const PRUNE_FILTERS = ['label', 'label!', 'all'] as const;

export function volumeRoutes(router: Router, volumes: VolumeService): void {
  router.post('/volumes/create', async ({ req, res }) => {
    const body = (await readJson<VolumeCreateOptions | undefined>(req)) ?? {};
    writeJson(res, 201, await volumes.create(body));
  });
  router.post('/volumes/prune', async ({ res, query }) => {
    writeJson(res, 200, await volumes.prune(parseFilters(query.get('filters'), PRUNE_FILTERS)));
  });
  router.get('/volumes', async ({ res, query }) => {
    writeJson(res, 200, await volumes.list(parseFilters(query.get('filters'), LIST_FILTERS)));
  });
  router.get('/volumes/{name}', ({ res, params }) => {
    writeJson(res, 200, volumes.get(params.name as string));
  });
  router.delete('/volumes/{name}', async ({ res, params, query }) => {
    await volumes.remove(params.name as string, { force: boolValue(query, 'force') });
    res.writeHead(204).end();
  });
}
