// Network endpoints (dockerd's api/server/router/network): list, inspect,
// create 201 {Id, Warning}, delete 204, connect/disconnect (through the
// container side, which owns the container's sandbox), prune.
import type { ContainerNetworking, EndpointConfig, NetworkCreateRequest, NetworkService } from '../../network/index.js';
import { BerthError } from '../../errors/index.js';
import type { Router } from '../router.js';
import { parseFilters, readJson, writeJson } from '../request.js';

const LIST_FILTERS = ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'] as const;
const PRUNE_FILTERS = ['until', 'label', 'label!'] as const;

interface ConnectBody {
  Container?: string;
  EndpointConfig?: EndpointConfig | null;
}
interface DisconnectBody {
  Container?: string;
  Force?: boolean;
}

export interface NetworkRouteDeps {
  networks: NetworkService;
  containers: ContainerNetworking;
}

export function networkRoutes(router: Router, deps: NetworkRouteDeps): void {
  const { networks, containers } = deps;
  router.get('/networks', async ({ res, query }) => {
    writeJson(res, 200, await networks.list(parseFilters(query.get('filters'), LIST_FILTERS)));
  });
  router.post('/networks/create', async ({ req, res }) => {
    const body = await readJson<NetworkCreateRequest | null>(req);
    if (!body || typeof body !== 'object') throw new BerthError('invalid_argument', 'invalid JSON: expected a NetworkCreateRequest object');
    writeJson(res, 201, await networks.create(body));
  });
  router.post('/networks/prune', async ({ res, query }) => {
    const report = await networks.prune(parseFilters(query.get('filters'), PRUNE_FILTERS));
    writeJson(res, 200, report);
  });
  router.get('/networks/{id}', async ({ res, params, query }) => {
    const scope = query.get('scope');
    const n = await networks.inspect(params.id as string);
    // dockerd: a scope that does not match is "not found"
    if (scope && scope !== n.Scope) throw new BerthError('not_found', `network ${params.id as string} not found`);
    writeJson(res, 200, n);
  });
  router.delete('/networks/{id}', async ({ res, params }) => {
    await networks.remove(params.id as string);
    res.writeHead(204).end();
  });
  router.post('/networks/{id}/connect', async ({ req, res, params }) => {
    const body = await readJson<ConnectBody | null>(req);
    if (!body?.Container) throw new BerthError('invalid_argument', 'container is required');
    await containers.connect(body.Container, params.id as string, body.EndpointConfig ?? {});
    res.writeHead(200).end();
  });
  router.post('/networks/{id}/disconnect', async ({ req, res, params }) => {
    const body = await readJson<DisconnectBody | null>(req);
    if (!body?.Container) throw new BerthError('invalid_argument', 'container is required');
    await containers.disconnect(body.Container, params.id as string, !!body.Force);
    res.writeHead(200).end();
  });
}
