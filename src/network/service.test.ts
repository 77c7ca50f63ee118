import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as dnsp } from 'node:dns';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tempRoot } from '../testing/index.js';
import { openDatabase } from '../db/index.js';
import { isCode } from '../errors/index.js';
import { nullLogger } from '../util/index.js';
import { createNetworkService } from './service.js';
import { isNetnsMounted } from './netns.js';
import { cleanupBridge, freeTestSubnet, iptablesSave, linkExists, sh, uniqueBridgeName } from './testnet.js';

interface Hooks {
  after(fn: () => Promise<void> | void): void;
}

/** A service on a fresh root; `cleanups` run in order after the test (service-made state first, directory last). */
async function setup(t: Hooks, opts: { subnet?: string } = {}) {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  t.after(async () => {
    for (const fn of cleanups) await Promise.resolve().then(fn).catch(() => undefined);
  });
  const dirHooks: Array<() => Promise<void> | void> = [];
  const root = await tempRoot({ after: (fn) => void dirHooks.push(fn) });
  const bridge = uniqueBridgeName();
  const subnet = opts.subnet ?? (await freeTestSubnet()).subnet;
  const db = openDatabase(join(root, 'berth.db'));
  const svc = await createNetworkService({ db, root, log: nullLogger, defaultBridge: bridge, defaultSubnet: subnet, resolvConf: join(root, 'none') });
  cleanups.push(async () => {
    // the outbound NAT rules of every network this service made (the default one stays otherwise)
    for (const n of await svc.list()) await svc.dropMasquerade(n.Id);
    await svc.close();
    db.close();
  });
  // bridges the test made, removed after the service's own cleanups, before the directory
  const tail: Array<() => Promise<unknown> | unknown> = [];
  cleanupBridge({ after: (fn) => void tail.push(fn) }, bridge);
  t.after(async () => {
    for (const fn of tail) await Promise.resolve().then(fn).catch(() => undefined);
    for (const fn of dirHooks) await fn();
  });
  return { svc, db, root, bridge, subnet, cleanups, ownBridge: (name: string) => cleanupBridge({ after: (fn) => void tail.push(fn) }, name) };
}

test('networks: predefined ones, create/list/inspect/remove with docker errors, persistence', async (t) => {
  const { svc, db, root, bridge, subnet } = await setup(t);
  const names = (await svc.list()).map((n) => n.Name).sort();
  assert.deepEqual(names, ['bridge', 'host', 'none']);
  const def = await svc.inspect('bridge');
  assert.equal(def.Driver, 'bridge');
  assert.equal(def.IPAM.Config[0]?.Subnet, subnet);
  assert.equal(def.Options['com.docker.network.bridge.name'], bridge);
  assert.equal((await svc.inspect('none')).Driver, 'null');
  assert.equal(svc.resolverFor('bridge'), undefined, 'no DNS on the default bridge, as docker');

  const { Id } = await svc.create({ Name: 'app', Labels: { tier: 'web' }, IPAM: { Config: [{ Subnet: '10.250.0.0/24', Gateway: '10.250.0.254', IPRange: '10.250.0.128/25' }] } });
  assert.match(Id, /^[0-9a-f]{64}$/);
  const app = await svc.inspect(Id.slice(0, 10));
  assert.equal(app.Name, 'app');
  assert.deepEqual(app.IPAM.Config, [{ Subnet: '10.250.0.0/24', IPRange: '10.250.0.128/25', Gateway: '10.250.0.254' }]);
  assert.equal(svc.resolverFor('app'), '10.250.0.254');

  await assert.rejects(svc.create({ Name: 'app' }), (e) => isCode(e, 'conflict') && e.message === 'network with name app already exists');
  await assert.rejects(svc.create({ Name: 'b', IPAM: { Config: [{ Subnet: '10.250.0.128/25' }] } }), (e) => isCode(e, 'forbidden') && /Pool overlaps/.test(e.message));
  await assert.rejects(svc.create({ Name: 'b', IPAM: { Config: [{ Subnet: '10.240.0.0/24', Gateway: '10.241.0.1' }] } }), (e) => isCode(e, 'invalid_argument') && /invalid gateway 10\.241\.0\.1/.test(e.message));
  await assert.rejects(svc.create({ Name: 'b', IPAM: { Config: [{ Subnet: '10.240.0.0/33' }] } }), (e) => isCode(e, 'invalid_argument') && /invalid CIDR address/.test(e.message));
  await assert.rejects(svc.create({ Name: 'b', IPAM: { Config: [{ Subnet: '10.240.0.5/24' }] } }), (e) => isCode(e, 'invalid_argument') && /it should be 10\.240\.0\.0\/24/.test(e.message));
  await assert.rejects(svc.create({ Name: 'b', Driver: 'overlay' }), (e) => isCode(e, 'not_found'));
  await assert.rejects(svc.create({ Name: 'b', Driver: 'host' }), (e) => isCode(e, 'forbidden'));
  await assert.rejects(svc.create({ Name: 'bad name' }), (e) => isCode(e, 'invalid_argument'));
  await assert.rejects(svc.remove('host'), (e) => isCode(e, 'forbidden') && e.message === 'host is a pre-defined network and cannot be removed');
  await assert.rejects(svc.inspect('nope'), (e) => isCode(e, 'not_found') && e.message === 'network nope not found');

  // automatic subnets: docker's pools, skipping the ones taken (172.17/16 is taken by an explicit network here)
  await svc.create({ Name: 'taken', IPAM: { Config: [{ Subnet: '172.17.0.0/16' }] } });
  await svc.create({ Name: 'auto1' });
  await svc.create({ Name: 'auto2' });
  const auto1 = (await svc.inspect('auto1')).IPAM.Config[0]?.Subnet;
  const auto2 = (await svc.inspect('auto2')).IPAM.Config[0]?.Subnet;
  assert.match(auto1 ?? '', /^(172\.(1[8-9]|2\d|3[01])\.0\.0\/16|192\.168\.\d+\.0\/20)$/);
  assert.notEqual(auto1, auto2);
  assert.notEqual(auto1, '172.17.0.0/16');

  // filters
  const byType = (await svc.list({ type: ['custom'] })).map((n) => n.Name).sort();
  assert.deepEqual(byType, ['app', 'auto1', 'auto2', 'taken']);
  assert.deepEqual((await svc.list({ label: ['tier=web'] })).map((n) => n.Name), ['app']);
  assert.deepEqual((await svc.list({ type: ['builtin'], name: ['o'] })).map((n) => n.Name).sort(), ['host', 'none']);
  assert.deepEqual((await svc.list({ dangling: ['true'], name: ['auto'] })).map((n) => n.Name).sort(), ['auto1', 'auto2']);
  await assert.rejects(svc.list({ bogus: ['x'] }), (e) => isCode(e, 'invalid_argument'));

  // persistence: a second service on the same database sees the same networks and IDs
  const svc2 = await createNetworkService({ db, root, log: nullLogger, defaultBridge: bridge, resolvConf: join(root, 'none') });
  assert.equal((await svc2.inspect('app')).Id, Id);
  assert.equal((await svc2.inspect('bridge')).Id, def.Id);
  assert.equal((await svc2.inspect('bridge')).IPAM.Config[0]?.Subnet, subnet);

  await svc.remove('app');
  await assert.rejects(svc.inspect('app'), (e) => isCode(e, 'not_found'));
  const pruned = await svc.prune({ label: ['nothing=here'] });
  assert.deepEqual(pruned.NetworksDeleted, []);
  assert.deepEqual((await svc.prune()).NetworksDeleted.sort(), ['auto1', 'auto2', 'taken']);
  assert.deepEqual((await svc.list()).map((n) => n.Name).sort(), ['bridge', 'host', 'none']);
});

function tcpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.setTimeout(5000, () => sock.destroy(new Error('timeout')));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', reject);
    sock.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
}

test('endpoints: attach with ports and aliases, DNS by name/alias/short id, conflicts roll back, detach and reconcile clean up', async (t) => {
  const { svc, db, cleanups, ownBridge, root, bridge } = await setup(t);
  const { subnet, gateway, prefix } = await freeTestSubnet();
  const netBridge = uniqueBridgeName();
  ownBridge(netBridge);
  await svc.create({ Name: 'web', IPAM: { Config: [{ Subnet: subnet }] }, Options: { 'com.docker.network.bridge.name': netBridge } });
  const a = `a${netBridge}${'0'.repeat(40)}`.slice(0, 64);
  const b = `b${netBridge}${'0'.repeat(40)}`.slice(0, 64);
  const c = `c${netBridge}${'0'.repeat(40)}`.slice(0, 64);
  cleanups.unshift(() => svc.destroySandbox(a), () => svc.destroySandbox(b), () => svc.destroySandbox(c));
  const nsA = await svc.createSandbox(a);
  const nsB = await svc.createSandbox(b);
  const nsC = await svc.createSandbox(c);
  assert.ok(await isNetnsMounted(nsA));
  assert.match(await sh('nsenter', [`--net=${nsA}`, 'ip', '-4', 'addr', 'show', 'lo']), /127\.0\.0\.1/);

  const epA = await svc.attach(a, nsA, 'web', { name: 'alpha', aliases: ['svc'], portBindings: { '80/tcp': [{ HostIp: '', HostPort: '' }] } });
  assert.equal(epA.InterfaceName, 'eth0');
  assert.equal(epA.Gateway, gateway);
  assert.ok(epA.IPAddress.startsWith(`${prefix}.`));
  assert.equal(epA.IPPrefixLen, 24);
  const hostPort = Number(epA.Ports['80/tcp']?.[0]?.HostPort);
  assert.ok(hostPort > 0);
  const epB = await svc.attach(b, nsB, 'web', { name: 'beta', aliases: ['svc'], ipv4Address: `${prefix}.77` });
  assert.equal(epB.IPAddress, `${prefix}.77`);
  assert.match(await sh('nsenter', [`--net=${nsB}`, 'ip', '-4', 'addr', 'show', 'eth0']), new RegExp(`inet ${prefix}\\.77/24`));
  // second network on the same container: eth1 on the default bridge
  const epA2 = await svc.attach(a, nsA, 'bridge', { name: 'alpha' });
  assert.equal(epA2.InterfaceName, 'eth1');
  assert.equal(svc.endpointsOf(a).length, 2);
  const inspected = await svc.inspect('web');
  assert.equal(inspected.Containers[a]?.IPv4Address, `${epA.IPAddress}/24`);
  assert.equal(inspected.Containers[b]?.Name, 'beta');

  // the port mapping answers on 127.0.0.1
  const server = spawn('nsenter', [`--net=${nsA}`, process.execPath, '-e', `require('net').createServer((s)=>s.end('alpha says hi')).listen(80,()=>console.log('ready'))`]);
  cleanups.unshift(() => server.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    server.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    server.on('exit', () => reject(new Error('server exited')));
  });
  assert.equal(await tcpGet(hostPort), 'alpha says hi');

  // embedded DNS on the gateway
  const resolver = new dnsp.Resolver({ timeout: 3000, tries: 1 });
  resolver.setServers([gateway]);
  assert.deepEqual(await resolver.resolve4('alpha'), [epA.IPAddress]);
  assert.deepEqual(await resolver.resolve4(a.slice(0, 12)), [epA.IPAddress]);
  const first = await resolver.resolve4('svc');
  const second = await resolver.resolve4('svc');
  assert.deepEqual([...first].sort(), [epA.IPAddress, epB.IPAddress].sort());
  assert.notDeepEqual(first, second, 'round robin');
  assert.deepEqual(await resolver.reverse(epB.IPAddress), ['beta.web']);
  // and from inside a container, through the namespace
  const looked = await sh('nsenter', [`--net=${nsB}`, 'busybox', 'nslookup', 'alpha', gateway]);
  assert.ok(looked.includes(epA.IPAddress), looked);

  // conflicts: taken host port and taken address leave nothing behind
  await assert.rejects(
    svc.attach(c, nsC, 'web', { name: 'gamma', portBindings: { '80/tcp': [{ HostPort: String(hostPort) }] } }),
    (e) => isCode(e, 'conflict') && e.message === `Bind for 0.0.0.0:${hostPort} failed: port is already allocated`,
  );
  await assert.rejects(svc.attach(c, nsC, 'web', { name: 'gamma', ipv4Address: `${prefix}.77` }), (e) => isCode(e, 'conflict'));
  await assert.rejects(svc.attach(c, nsC, 'web', { name: 'gamma', ipv4Address: '10.1.1.1' }), (e) => isCode(e, 'invalid_argument'));
  await assert.rejects(svc.attach(c, nsC, 'bridge', { name: 'gamma', ipv4Address: '10.1.1.1' }), (e) => isCode(e, 'invalid_argument'));
  assert.equal(svc.endpointsOf(c).length, 0);
  assert.doesNotMatch(await sh('nsenter', [`--net=${nsC}`, 'ip', 'link']), /eth0/);

  await assert.rejects(svc.remove('web'), (e) => isCode(e, 'forbidden') && /has active endpoints/.test(e.message));
  await assert.rejects(svc.attach(b, nsB, 'web', { name: 'beta' }), (e) => isCode(e, 'forbidden'));

  // detach b: its address goes from DNS and the veth disappears
  await svc.detach(b, 'web');
  assert.deepEqual(await resolver.resolve4('svc'), [epA.IPAddress]);
  assert.doesNotMatch(await sh('nsenter', [`--net=${nsB}`, 'ip', 'link']), /eth0/);

  // a restart where `a` is gone: reconcile removes its endpoints, rules and namespace
  server.kill('SIGKILL');
  await svc.close();
  const svc2 = await createNetworkService({ db, root, log: nullLogger, defaultBridge: bridge, resolvConf: join(root, 'none') });
  cleanups.unshift(() => svc2.close());
  await svc2.reconcile(new Set([b, c]));
  assert.equal(svc2.endpointsOf(a).length, 0);
  assert.equal(await isNetnsMounted(nsA), false);
  assert.ok(await isNetnsMounted(nsB));
  await svc2.destroySandbox(b);
  await svc2.destroySandbox(c);
  await svc2.remove('web');
  assert.equal(await linkExists(netBridge), false);
  const after = await iptablesSave();
  for (const marker of [`--dport ${hostPort}`, subnet, a, b]) assert.ok(!after.includes(marker), `left behind: ${marker}`);
  // portmap's shared chains may stay (empty of this test's rules): they go with teardownNetworking({ sharedChains })
});


test('endpoints attach and detach side by side: a new bridge made once, one masquerade rule and DNS server, requested addresses and host ports kept apart, nothing left', async (t) => {
  const { svc, cleanups, ownBridge, root } = await setup(t);
  const { subnet, gateway, prefix } = await freeTestSubnet();
  const netBridge = uniqueBridgeName();
  ownBridge(netBridge);
  await svc.create({ Name: 'burst', IPAM: { Config: [{ Subnet: subnet }] }, Options: { 'com.docker.network.bridge.name': netBridge } });
  assert.equal(await linkExists(netBridge), false, 'the bridge is made by the first ADD');
  const ids = Array.from({ length: 8 }, (_, i) => `${i}${netBridge}${'0'.repeat(60)}`.slice(0, 64));
  cleanups.unshift(...ids.map((id) => () => svc.destroySandbox(id)));
  const paths = await Promise.all(ids.map((id) => svc.createSandbox(id)));
  const hostPort = await freeTcpPort();

  // all at once: two ask for the same address, two for the same host port
  const asks = ids.map((_, i) => ({
    name: `n${i}`,
    ...(i < 2 ? { ipv4Address: `${prefix}.50` } : {}),
    ...(i === 2 || i === 3 ? { portBindings: { '80/tcp': [{ HostIp: '', HostPort: String(hostPort) }] } } : {}),
    ...(i === 4 ? { portBindings: { '81/tcp': [{ HostIp: '', HostPort: '' }] } } : {}),
  }));
  const settled = await Promise.allSettled(ids.map((id, i) => svc.attach(id, paths[i] as string, 'burst', asks[i] as { name: string })));
  const failed = settled.flatMap((r, i) => (r.status === 'rejected' ? [{ i, err: r.reason as unknown }] : []));
  assert.equal(failed.length, 2, `one of each pair fails: ${failed.map((f) => String(f.err)).join('; ')}`);
  assert.ok(failed.some((f) => f.i < 2 && isCode(f.err, 'conflict') && /Address already in use/.test(String(f.err))), 'the second ask for .50');
  assert.ok(failed.some((f) => (f.i === 2 || f.i === 3) && isCode(f.err, 'conflict') && /port is already allocated/.test(String(f.err))), 'the second ask for the port');
  const eps = settled.flatMap((r, i) => (r.status === 'fulfilled' ? [{ i, ep: r.value }] : []));
  assert.equal(new Set(eps.map((e) => e.ep.IPAddress)).size, 6, 'six distinct addresses');
  assert.ok(eps.some((e) => e.ep.IPAddress === `${prefix}.50`));
  for (const { i, ep } of eps) {
    assert.equal(ep.Gateway, gateway);
    assert.match(await sh('nsenter', [`--net=${paths[i] as string}`, 'ip', '-4', 'addr', 'show', 'eth0']), new RegExp(`inet ${ep.IPAddress.replace(/\./g, '\\.')}/24`));
  }
  for (const f of failed) assert.doesNotMatch(await sh('nsenter', [`--net=${paths[f.i] as string}`, 'ip', 'link']), /eth0/);
  // the namespaces reach each other over the one bridge
  const [x, y] = eps;
  assert.ok(x && y);
  await sh('nsenter', [`--net=${paths[x.i] as string}`, 'busybox', 'ping', '-c', '1', '-W', '2', y.ep.IPAddress]);
  // one outbound rule for the subnet, one DNS server that knows every name
  const rules = (await iptablesSave()).split('\n').filter((l) => l.includes(`-s ${subnet}`) && l.includes('MASQUERADE'));
  assert.equal(rules.length, 1, rules.join('\n'));
  const resolver = new dnsp.Resolver({ timeout: 3000, tries: 1 });
  resolver.setServers([gateway]);
  for (const { i, ep } of eps) assert.deepEqual(await resolver.resolve4(`n${i}`), [ep.IPAddress]);
  assert.ok(svc.dnsServerOf('burst'));

  // and all gone at once
  await Promise.all(ids.map((id) => svc.destroySandbox(id)));
  assert.deepEqual((await svc.inspect('burst')).Containers, {});
  assert.deepEqual(await leases(root), [], 'every address given back');
  for (const p of paths) assert.equal(await isNetnsMounted(p), false);
  await svc.remove('burst');
  const after = await iptablesSave();
  assert.ok(!after.includes(`--dport ${hostPort}`), 'no port rule left');
  assert.ok(!after.includes(subnet), 'no rule for the subnet left');
});

/** A TCP port free on this host now. */
function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The namespaces of the service's pre-wired sandboxes still in the pool (files under netns/). */
async function pooled(root: string): Promise<string[]> {
  return (await readdir(join(root, 'netns'))).filter((f) => f.startsWith('sandbox-'));
}

/** The addresses host-local has leased on the default network. */
async function leases(root: string): Promise<string[]> {
  const ipam = join(root, 'network', 'ipam');
  const out: string[] = [];
  for (const net of await readdir(ipam).catch(() => [] as string[])) out.push(...(await readdir(join(ipam, net))).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)));
  return out.sort();
}

test('pre-wired sandboxes: claimed only when they fit, refilled by prewarm, given back when addresses run out, gone after close and after a crash', async (t) => {
  // a /29: host-local hands out .2 to .6, so the pool's address is needed for the fifth endpoint
  const { prefix, gateway } = await freeTestSubnet();
  const { svc, db, root, bridge, cleanups, ownBridge } = await setup(t, { subnet: `${prefix}.0/29` });
  const ids = ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => `${x}${'0'.repeat(63)}`);
  const [a, b, c, d, e, f] = ids as [string, string, string, string, string, string];
  cleanups.unshift(...ids.map((id) => () => svc.destroySandbox(id)));

  // nothing pre-wired until a container asked: an idle daemon holds no namespace
  await svc.prewarm();
  assert.deepEqual(await pooled(root), []);
  assert.equal(await svc.claimSandbox(a, 'bridge', { name: 'a' }), undefined);
  await svc.prewarm();
  assert.equal((await pooled(root)).length, 1);
  const [spare] = await pooled(root);
  assert.match(await sh('nsenter', [`--net=${join(root, 'netns', spare as string)}`, 'ip', '-4', 'addr', 'show', 'eth0']), new RegExp(`inet ${prefix}\\.2/29`));

  // what needs more than the default bridge plainly goes through attach, and leaves the pool alone
  const netBridge = uniqueBridgeName();
  ownBridge(netBridge);
  const other = await freeTestSubnet();
  await svc.create({ Name: 'web', IPAM: { Config: [{ Subnet: other.subnet }] }, Options: { 'com.docker.network.bridge.name': netBridge } });
  assert.equal(await svc.claimSandbox(b, 'bridge', { name: 'b', portBindings: { '80/tcp': [{ HostIp: '', HostPort: '' }] } }), undefined);
  assert.equal(await svc.claimSandbox(b, 'bridge', { name: 'b', macAddress: '02:42:ac:11:00:09' }), undefined);
  assert.equal(await svc.claimSandbox(b, 'web', { name: 'b' }), undefined);
  assert.deepEqual(await pooled(root), [spare]);

  // a claim: the namespace moves to the container's path, wired, its endpoint now the container's
  const claimed = await svc.claimSandbox(b, 'bridge', { name: 'b' });
  assert.ok(claimed);
  assert.equal(claimed.path, svc.netnsPath(b));
  assert.deepEqual(await pooled(root), []);
  assert.ok(await isNetnsMounted(claimed.path));
  assert.equal(await isNetnsMounted(join(root, 'netns', spare as string)), false);
  assert.equal(claimed.endpoint.IPAddress, `${prefix}.2`);
  assert.equal(claimed.endpoint.Gateway, gateway);
  assert.equal(claimed.endpoint.InterfaceName, 'eth0');
  assert.match(await sh('nsenter', [`--net=${claimed.path}`, 'busybox', 'ping', '-c', '1', '-W', '2', gateway]), /1 packets received/);
  assert.deepEqual(svc.endpointsOf(b).map((x) => x.IPAddress), [`${prefix}.2`]);
  assert.equal((await svc.inspect('bridge')).Containers[b]?.Name, 'b');

  // refilled; then the range runs out with the pool holding .3: attach gives it back and succeeds
  await svc.prewarm();
  assert.equal((await pooled(root)).length, 1);
  for (const id of [c, d, e, f]) {
    const ns = await svc.createSandbox(id);
    await svc.attach(id, ns, 'bridge', { name: id.slice(0, 1) });
  }
  assert.deepEqual(await pooled(root), []);
  assert.deepEqual(await leases(root), [2, 3, 4, 5, 6].map((x) => `${prefix}.${x}`));
  await svc.destroySandbox(f);
  await svc.destroySandbox(e);

  // a crash with a sandbox in the pool: the next daemon's reconcile removes it, keeps b's
  await svc.prewarm();
  const [orphan] = await pooled(root);
  assert.ok(orphan);
  const svc2 = await createNetworkService({ db, root, log: nullLogger, defaultBridge: bridge, defaultSubnet: `${prefix}.0/29`, resolvConf: join(root, 'none') });
  cleanups.unshift(() => svc2.close());
  await svc2.reconcile(new Set([b, c, d]));
  assert.deepEqual(await pooled(root), []);
  assert.equal(svc2.endpointsOf(b)[0]?.IPAddress, `${prefix}.2`);
  const kept = [c, d].map((id) => svc2.endpointsOf(id)[0]?.IPAddress ?? '');
  assert.deepEqual(await leases(root), [`${prefix}.2`, ...kept].sort());
  assert.deepEqual((await readdir(join(root, 'network', 'cni-cache', 'results'))).filter((x) => x.includes('sandbox-')).length, 1, 'only b keeps its entry, under its sandbox ID');

  // b's endpoint came from a sandbox: detaching it releases that lease and the cache entry
  await svc2.destroySandbox(b);
  assert.equal(await isNetnsMounted(svc2.netnsPath(b)), false);
  assert.deepEqual(await leases(root), kept.sort());
  assert.deepEqual((await readdir(join(root, 'network', 'cni-cache', 'results'))).filter((x) => x.includes('sandbox-')), []);

  // close gives the pool back
  assert.equal(await svc2.claimSandbox(e, 'bridge', { name: 'e' }), undefined);
  await svc2.prewarm();
  assert.equal((await pooled(root)).length, 1, 'refilled on the same bridge after the restart');
  await svc2.close();
  assert.deepEqual(await pooled(root), []);
  assert.deepEqual(await leases(root), kept.sort());
  assert.equal(await svc2.prewarm().then(() => pooled(root)).then((p) => p.length), 0, 'no refill after close');
  await svc2.destroySandbox(c);
  await svc2.destroySandbox(d);
  assert.equal((await sh('ip', ['-br', 'link', 'show', 'master', bridge])).trim(), '', 'no veth left on the default bridge');
});
