// The HTTP routes over a real network service and a recording ContainerNetworking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../daemon/testclient.js';
import type { NetworkSummary } from './types.js';
import { serveNetworks } from './testroutes.js';

test('routes: create 201, list with filters, inspect, connect/disconnect, delete 204, prune, docker statuses', async (t) => {
  const { socket, calls } = await serveNetworks(t);
  const json = { 'Content-Type': 'application/json' };
  const created = await request(socket, 'POST', '/v1.50/networks/create', { headers: json, body: JSON.stringify({ Name: 'front', Labels: { a: 'b' }, IPAM: { Config: [{ Subnet: '10.249.3.0/24' }] } }) });
  assert.equal(created.status, 201);
  const { Id, Warning } = created.json<{ Id: string; Warning: string }>();
  assert.match(Id, /^[0-9a-f]{64}$/);
  assert.equal(Warning, '');

  const dup = await request(socket, 'POST', '/v1.50/networks/create', { headers: json, body: JSON.stringify({ Name: 'front' }) });
  assert.equal(dup.status, 409);
  assert.deepEqual(dup.json(), { message: 'network with name front already exists' });
  const overlap = await request(socket, 'POST', '/v1.50/networks/create', { headers: json, body: JSON.stringify({ Name: 'x', IPAM: { Config: [{ Subnet: '10.249.0.0/16' }] } }) });
  assert.equal(overlap.status, 403);
  const bad = await request(socket, 'POST', '/v1.50/networks/create', { headers: json, body: JSON.stringify({ Name: 'x', IPAM: { Config: [{ Subnet: 'nope' }] } }) });
  assert.equal(bad.status, 400);

  const list = await request(socket, 'GET', `/v1.50/networks?filters=${encodeURIComponent(JSON.stringify({ label: ['a=b'] }))}`);
  assert.equal(list.status, 200);
  assert.deepEqual(list.json<NetworkSummary[]>().map((n) => n.Name), ['front']);
  const badFilter = await request(socket, 'GET', `/v1.50/networks?filters=${encodeURIComponent(JSON.stringify({ nope: ['x'] }))}`);
  assert.equal(badFilter.status, 400);

  const insp = await request(socket, 'GET', `/v1.50/networks/front?verbose=true`);
  assert.equal(insp.status, 200);
  const n = insp.json<NetworkSummary>();
  assert.equal(n.Id, Id);
  assert.equal(n.Scope, 'local');
  assert.deepEqual(n.IPAM, { Driver: 'default', Options: {}, Config: [{ Subnet: '10.249.3.0/24', Gateway: '10.249.3.1' }] });
  assert.deepEqual(n.Containers, {});
  assert.equal((await request(socket, 'GET', '/v1.50/networks/front?scope=swarm')).status, 404);
  assert.equal((await request(socket, 'GET', '/v1.50/networks/missing')).status, 404);

  const conn = await request(socket, 'POST', `/v1.50/networks/${Id}/connect`, { headers: json, body: JSON.stringify({ Container: 'c1', EndpointConfig: { Aliases: ['api'], IPAMConfig: { IPv4Address: '10.249.3.9' } } }) });
  assert.equal(conn.status, 200);
  assert.deepEqual(calls[0], { op: 'connect', container: 'c1', network: Id, config: { Aliases: ['api'], IPAMConfig: { IPv4Address: '10.249.3.9' } } });
  assert.equal((await request(socket, 'POST', `/v1.50/networks/front/connect`, { headers: json, body: JSON.stringify({ Container: 'ghost' }) })).status, 404);
  assert.equal((await request(socket, 'POST', `/v1.50/networks/front/connect`, { headers: json, body: JSON.stringify({}) })).status, 400);
  const disc = await request(socket, 'POST', `/v1.50/networks/front/disconnect`, { headers: json, body: JSON.stringify({ Container: 'c1', Force: true }) });
  assert.equal(disc.status, 200);
  assert.deepEqual(calls[1], { op: 'disconnect', container: 'c1', network: 'front', force: true });

  const rmBuiltin = await request(socket, 'DELETE', '/v1.50/networks/bridge');
  assert.equal(rmBuiltin.status, 403);
  assert.equal((await request(socket, 'DELETE', '/v1.50/networks/front')).status, 204);
  assert.equal((await request(socket, 'DELETE', '/v1.50/networks/front')).status, 404);

  await request(socket, 'POST', '/v1.50/networks/create', { headers: json, body: JSON.stringify({ Name: 'spare' }) });
  const pruned = await request(socket, 'POST', '/v1.50/networks/prune');
  assert.equal(pruned.status, 200);
  assert.deepEqual(pruned.json(), { NetworksDeleted: ['spare'] });
});
