import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tempRoot } from '../testing/index.js';
import { isCode } from '../errors/index.js';
import { CniRuntime, type CniConfList } from './cni.js';
import { createNetns, isNetnsMounted, removeNetns } from './netns.js';
import { removeIdlePortmapChains, removeMasqueradeLeftovers } from './iptables.js';
import { cleanupBridge, freeTestSubnet, iptablesSave, linkExists, sh, uniqueBridgeName } from './testnet.js';

async function freePort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function fetchTcp(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.setTimeout(5000, () => sock.destroy(new Error('timeout')));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', reject);
    sock.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
}

test('CNI runtime: bridge + portmap ADD into a fresh netns, traffic, CHECK, DEL leaves nothing', async (t) => {
  const bridge = uniqueBridgeName();
  const { subnet, gateway, prefix } = await freeTestSubnet();
  const containerId = `cnitest${bridge}`;
  // one hook, in order: DEL (needs the netns), leftovers, netns, bridge, then the directory (tempRoot's hook runs first otherwise)
  const cleanups: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    for (const fn of cleanups) await fn().catch(() => undefined);
  });
  const root = await tempRoot({ after: (fn) => void cleanups.push(async () => fn()) }, 'berth-cni-');
  const ns = join(root, 'netns', containerId);
  cleanups.unshift(() => removeNetns(ns));
  cleanupBridge({ after: (fn) => void cleanups.splice(cleanups.length - 1, 0, async () => fn()) }, bridge);
  await createNetns(ns);
  assert.ok(await isNetnsMounted(ns));

  const cni = new CniRuntime({ pluginDirs: ['/usr/lib/cni'], cacheDir: join(root, 'cache') });
  const list: CniConfList = {
    cniVersion: '1.0.0',
    name: `test-${bridge}`,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: 'host-local', dataDir: join(root, 'ipam'), ranges: [[{ subnet, gateway }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
  const hostPort = await freePort();
  const rt = { containerId, netns: ns, ifName: 'eth0', capabilityArgs: { portMappings: [{ hostPort, containerPort: 80, protocol: 'tcp' }] } };
  // DEL is registered before ADD so a failing test still removes rules and veth
  cleanups.unshift(async () => {
    await cni.del(list, rt).catch(() => undefined);
    await removeMasqueradeLeftovers(list.name, containerId);
    await removeIdlePortmapChains();
  });
  await cni.add({ cniVersion: '1.0.0', name: 'lo', plugins: [{ type: 'loopback' }] }, { containerId, netns: ns, ifName: 'lo' });
  const result = await cni.add(list, rt);
  const ip = result.ips?.[0]?.address;
  assert.match(ip ?? '', new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.\\d+/24$`));
  assert.equal(result.ips?.[0]?.gateway, gateway);

  const addrs = await sh('nsenter', [`--net=${ns}`, 'ip', '-4', 'addr']);
  assert.match(addrs, /inet 127\.0\.0\.1\/8/);
  assert.ok(addrs.includes(`inet ${ip}`), addrs);
  await sh('nsenter', [`--net=${ns}`, 'busybox', 'ping', '-c1', '-W2', gateway]);

  // the cached result survives a new runtime instance (a daemon restart)
  const again = new CniRuntime({ pluginDirs: ['/usr/lib/cni'], cacheDir: join(root, 'cache') });
  assert.deepEqual((await again.cached(list.name, containerId, 'eth0'))?.result, result);
  // CHECK of the bridge (portmap 1.1.1's CHECK looks for an IPv6 chain it never made: a plugin bug)
  await again.check({ ...list, plugins: list.plugins.slice(0, 1) }, rt);

  // a server inside the namespace answers on 127.0.0.1:hostPort
  const server = spawn('nsenter', [
    `--net=${ns}`,
    process.execPath,
    '-e',
    `require('net').createServer((c)=>c.end('hello from netns')).listen(80,'0.0.0.0',()=>console.log('ready'))`,
  ]);
  t.after(() => {
    server.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    server.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    server.on('exit', () => reject(new Error('server exited')));
  });
  assert.equal(await fetchTcp(hostPort), 'hello from netns');
  server.kill('SIGKILL');

  const hostVeth = result.interfaces?.find((i) => !i.sandbox && i.name !== bridge)?.name as string;
  assert.ok(await linkExists(hostVeth));
  assert.ok((await iptablesSave()).includes(`--dport ${hostPort}`));
  assert.ok((await readdir(join(root, 'ipam', list.name))).includes((ip as string).split('/')[0] as string));

  await again.del(list, rt); // from the cache alone, as after a restart
  assert.equal(await linkExists(hostVeth), false);
  assert.equal(await again.cached(list.name, containerId, 'eth0'), undefined);
  assert.ok(!(await readdir(join(root, 'ipam', list.name))).includes((ip as string).split('/')[0] as string), 'lease released');
  const rules = await iptablesSave();
  assert.ok(!rules.includes(`--dport ${hostPort}`), 'no DNAT left');
  assert.ok(!rules.includes(`id: "${containerId}"`), 'no masquerade chain left');
  assert.ok(!rules.includes(subnet), 'nothing mentions the subnet');
  // portmap's shared chains are left alone here: removing them races other tests' mappings
  // (scripts/test.sh removes them once every test is done)
  // DEL again is harmless (plugins are idempotent; no cache left)
  await again.del(list, rt);
  await removeNetns(ns);
  assert.equal(await isNetnsMounted(ns), false);
});

test('CNI runtime: a plugin error becomes a BerthError with the plugin message, nothing cached', async (t) => {
  const root = await tempRoot(t, 'berth-cni-');
  const ns = join(root, 'ns');
  const bridge = uniqueBridgeName();
  cleanupBridge(t, bridge); // the plugin makes the bridge before IPAM fails
  t.after(() => removeNetns(ns));
  await createNetns(ns);
  const cni = new CniRuntime({ pluginDirs: ['/usr/lib/cni'], cacheDir: join(root, 'cache') });
  const list: CniConfList = {
    cniVersion: '1.0.0',
    name: 'broken',
    plugins: [{ type: 'bridge', bridge, ipam: { type: 'host-local', dataDir: join(root, 'ipam'), ranges: [[{ subnet: 'not-a-subnet' }]] } }],
  };
  await assert.rejects(cni.add(list, { containerId: 'c1', netns: ns, ifName: 'eth0' }), (err) => isCode(err, 'internal') && /plugin type="bridge" failed \(add\): .*not-a-subnet/.test(err.message));
  assert.equal(await cni.cached('broken', 'c1', 'eth0'), undefined);
  await assert.rejects(cni.add({ ...list, plugins: [{ type: 'nosuchplugin' }] }, { containerId: 'c1', netns: ns, ifName: 'eth0' }), (err) => isCode(err, 'not_found'));
});
