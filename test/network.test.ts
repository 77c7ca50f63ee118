// Networking end to end with real containers, CNI plugins and iptables,
// through the real docker CLI: user networks with DNS between containers,
// published ports on 127.0.0.1, the none/host/container: modes, and the host
// back as it was afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { daemonWithBusybox, freePort } from './harness/index.js';

const execFileP = promisify(execFile);
const sh = async (cmd: string, args: string[]) => (await execFileP(cmd, args)).stdout;

/** A /24 in 10.128.0.0/10 the host does not route yet. */
async function freeSubnet(): Promise<string> {
  const routes = await sh('ip', ['-4', 'route', 'show']);
  for (;;) {
    const b = 128 + Math.floor(Math.random() * 64);
    const c = Math.floor(Math.random() * 256);
    if (!routes.includes(`10.${b}.${c}.`)) return `10.${b}.${c}.0/24`;
  }
}

const HTTPD = (text: string) => `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`;

test('a user network: containers reach each other by name and alias through the embedded DNS; round robin; inspect', { timeout: 180_000 }, async (t) => {
  const d = await daemonWithBusybox(t);
  const subnet = await freeSubnet();
  const net = await d.docker(['network', 'create', '--subnet', subnet, '--label', 'tier=test', 'appnet']);
  assert.equal(net.code, 0, net.stderr);
  const web = await d.docker(['run', '-d', '--name', 'web', '--network', 'appnet', '--network-alias', 'www', 'busybox', 'sh', '-c', HTTPD('hello-web')]);
  assert.equal(web.code, 0, web.stderr);
  const web2 = await d.docker(['run', '-d', '--name', 'web2', '--network', 'appnet', '--network-alias', 'www', 'busybox', 'sh', '-c', HTTPD('hello-web2')]);
  assert.equal(web2.code, 0, web2.stderr);
  const ip = (await d.docker(['inspect', '-f', '{{.NetworkSettings.Networks.appnet.IPAddress}}', 'web'])).stdout.trim();
  assert.ok(ip.startsWith(subnet.split('.').slice(0, 3).join('.')), `address ${ip} outside ${subnet}`);

  const client = await d.docker(['run', '--rm', '--network', 'appnet', 'busybox', 'sh', '-c',
    'for i in $(seq 50); do wget -qO- http://web/ && break; sleep 0.1; done; nslookup www | grep -c "^Address" ; wget -qO- http://www/ ; cat /etc/resolv.conf']);
  assert.equal(client.code, 0, client.stderr);
  const lines = client.stdout.split('\n');
  assert.equal(lines[0], 'hello-web');
  assert.ok(Number(lines[1]) >= 2, `www should have two addresses: ${client.stdout}`); // both containers behind the alias
  assert.match(lines[2] ?? '', /^hello-web2?$/);
  assert.match(client.stdout, /^nameserver \d+\.\d+\.\d+\.1$/m); // the network's gateway: the embedded DNS

  const inspect = await d.docker(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{end}}', 'appnet']);
  assert.deepEqual(inspect.stdout.trim().split(' ').sort(), ['web', 'web2']);
  const ls = await d.docker(['network', 'ls', '--filter', 'label=tier=test', '--format', '{{.Name}} {{.Driver}}']);
  assert.equal(ls.stdout, 'appnet bridge\n');

  // the default bridge has no name resolution, as docker's
  const onBridge = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'nslookup web >/dev/null 2>&1; echo $?']);
  assert.notEqual(onBridge.stdout.trim(), '0');

  const busy = await d.docker(['network', 'rm', 'appnet']);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /active endpoints/);
  assert.equal((await d.docker(['rm', '-f', 'web', 'web2'])).code, 0);
  assert.equal((await d.docker(['network', 'rm', 'appnet'])).code, 0);
  const overlap = await d.docker(['network', 'create', '--subnet', subnet, 'n1']);
  assert.equal(overlap.code, 0, overlap.stderr);
  const clash = await d.docker(['network', 'create', '--subnet', subnet, 'n2']);
  assert.equal(clash.code, 1);
  assert.match(clash.stderr, /overlaps/i);
  const unknown = await d.docker(['run', '--rm', '--network', 'nonet', 'busybox', 'true']);
  assert.equal(unknown.code, 125);
  assert.match(unknown.stderr, /network nonet not found/);
  // --link on the default bridge is refused by name (not silently ignored): user-defined networks resolve names instead
  const link = await d.docker(['run', '--rm', '--link', 'other:alias', 'busybox', 'true']);
  assert.equal(link.code, 125);
  assert.match(link.stderr, /links \(--link\) are not supported on the default bridge network/);
});

test('published ports answer on 127.0.0.1; docker port; a taken port is refused and nothing is left configured', { timeout: 180_000 }, async (t) => {
  const d = await daemonWithBusybox(t);
  const port = await freePort();
  const c = await d.docker(['run', '-d', '--name', 'pub', '-p', `${port}:80`, '-p', '80', 'busybox', 'sh', '-c', HTTPD('published')]);
  assert.equal(c.code, 0, c.stderr);
  let body = '';
  for (let i = 0; i < 50 && body !== 'published\n'; i++) {
    body = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text(), () => '');
    if (body !== 'published\n') await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(body, 'published\n');
  const ports = await d.docker(['port', 'pub']);
  assert.equal(ports.code, 0, ports.stderr);
  assert.match(ports.stdout, new RegExp(`^80/tcp -> 0\\.0\\.0\\.0:${port}$`, 'm'));
  assert.match(ports.stdout, /^80\/tcp -> 0\.0\.0\.0:\d+$/m);
  const ps = await d.docker(['ps', '--format', '{{.Ports}}']);
  assert.match(ps.stdout, new RegExp(`0\\.0\\.0\\.0:${port}->80/tcp`));

  const taken = await d.docker(['run', '-d', '--name', 'dup', '-p', `${port}:80`, 'busybox', 'sleep', '100']);
  assert.notEqual(taken.code, 0);
  assert.match(taken.stderr, /port is already allocated/);
  const state = await d.docker(['inspect', '-f', '{{.State.Status}} {{.NetworkSettings.IPAddress}}', 'dup']);
  assert.equal(state.stdout.trim(), 'exited'); // no address kept for the container that failed

  // stopping releases the port: a new container can take it
  assert.equal((await d.docker(['rm', '-f', 'pub'])).code, 0);
  const again = await d.docker(['run', '-d', '--name', 'again', '-p', `${port}:80`, 'busybox', 'sh', '-c', HTTPD('again')]);
  assert.equal(again.code, 0, again.stderr);
});

test('--network none has only loopback; host sees the host; container: shares a namespace', { timeout: 180_000 }, async (t) => {
  const d = await daemonWithBusybox(t);
  const none = await d.docker(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net; ip -4 addr show lo | grep -c 127.0.0.1']);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout, 'lo\n1\n');
  // other tests add and remove bridges and veths meanwhile: compare the host's own interfaces
  const own = (text: string) => text.trim().split(/\s+/).filter((n) => !/^(bt|br-|veth)/.test(n)).sort();
  const hostLinks = own(await sh('ls', ['/sys/class/net']));
  const host = await d.docker(['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net']);
  assert.deepEqual(own(host.stdout), hostLinks);
  assert.ok(hostLinks.includes('lo') && hostLinks.length > 1);

  const first = await d.docker(['run', '-d', '--name', 'first', 'busybox', 'sh', '-c', HTTPD('shared')]);
  assert.equal(first.code, 0, first.stderr);
  const joined = await d.docker(['run', '--rm', '--network', 'container:first', 'busybox', 'sh', '-c',
    'for i in $(seq 50); do wget -qO- http://127.0.0.1/ && break; sleep 0.1; done; ip -4 addr show eth0 | grep -o "inet [0-9.]*"']);
  assert.equal(joined.code, 0, joined.stderr);
  const ip = (await d.docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'first'])).stdout.trim();
  assert.equal(joined.stdout, `shared\ninet ${ip}\n`);
});

test('connect and disconnect a running container; nothing is left on the host once containers and networks are gone', { timeout: 180_000 }, async (t) => {
  const d = await daemonWithBusybox(t);
  const subnet = await freeSubnet();
  const created = await d.docker(['network', 'create', '--subnet', subnet, 'extra']);
  assert.equal(created.code, 0, created.stderr);
  const bridge = `br-${created.stdout.trim().slice(0, 12)}`;
  const c = await d.docker(['run', '-d', '--name', 'multi', '-p', '80', 'busybox', 'sleep', '1000']);
  assert.equal(c.code, 0, c.stderr);
  const id = c.stdout.trim();
  const conn = await d.docker(['network', 'connect', '--alias', 'other', 'extra', 'multi']);
  assert.equal(conn.code, 0, conn.stderr);
  const links = await d.docker(['exec', 'multi', 'ls', '/sys/class/net']);
  assert.deepEqual(links.stdout.trim().split(/\s+/).sort(), ['eth0', 'eth1', 'lo']);
  const nets = await d.docker(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'multi']);
  assert.deepEqual(nets.stdout.trim().split(' ').sort(), ['bridge', 'extra']);
  assert.match(await sh('ip', ['-o', 'link', 'show']), new RegExp(`: ${bridge}:`));
  assert.equal((await d.docker(['network', 'disconnect', 'extra', 'multi'])).code, 0);
  assert.deepEqual((await d.docker(['exec', 'multi', 'ls', '/sys/class/net'])).stdout.trim().split(/\s+/).sort(), ['eth0', 'lo']);
  const notConnected = await d.docker(['network', 'disconnect', 'extra', 'multi']);
  assert.equal(notConnected.code, 1);
  const hostPort = (await d.docker(['port', 'multi', '80'])).stdout.trim().split(':').at(-1) ?? '';
  const ip = (await d.docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'multi'])).stdout.trim();

  assert.equal((await d.docker(['rm', '-f', 'multi'])).code, 0);
  assert.equal((await d.docker(['network', 'rm', 'extra'])).code, 0);
  // the user network's bridge, the container's rules (its address, its published port) and its namespace are gone
  assert.doesNotMatch(await sh('ip', ['-o', 'link', 'show']), new RegExp(`: ${bridge}:`));
  const nat = await sh('iptables-save', ['-t', 'nat']);
  assert.ok(!nat.includes(`${ip}/`) && !nat.includes(`${ip}:`), 'a NAT rule for the removed container is left');
  assert.ok(!nat.includes(`--dport ${hostPort} `), 'a DNAT rule for the released port is left');
  assert.ok(!nat.includes(id), 'a rule naming the removed container is left');
  assert.doesNotMatch(await sh('ls', [`${d.root}/netns`]), new RegExp(id));
});

test('the default bridge: a container takes a namespace wired ahead of time; it works, disconnects and reconnects, and a stopped daemon leaves none behind', { timeout: 180_000 }, async (t) => {
  // the debug log says when a namespace is wired and in the pool (its file exists before that)
  const d = await daemonWithBusybox(t, { extraArgs: ['--log-level', 'debug'] });
  const netns = async () => (await sh('ls', [`${d.root}/netns`])).split('\n').filter(Boolean);
  const cached = async () => (await sh('ls', [`${d.root}/network/cni-cache/results`]).catch(() => '')).split('\n').filter(Boolean);
  /** The `n`th namespace the daemon pre-wired, once it is ready. */
  const prewired = async (n: number) => {
    for (let i = 0; i < 100; i++) {
      const ids = [...(await readFile(d.logPath, 'utf8')).matchAll(/msg="sandbox pre-wired".* sandbox=(sandbox-[0-9a-f]+)/g)].map((m) => m[1] as string);
      if (ids.length >= n) return ids[n - 1] as string;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no pre-wired namespace #${n}: ${(await netns()).join(' ')}`);
  };
  // an idle daemon wires nothing ahead; the first start asks, and is wired as usual
  assert.deepEqual(await netns(), []);
  const first = await d.docker(['run', '-d', '--name', 'first', 'busybox', 'sleep', '1000']);
  assert.equal(first.code, 0, first.stderr);
  const pooled = await prewired(1);
  assert.ok((await netns()).includes(pooled));

  const second = await d.docker(['run', '-d', '--name', 'second', 'busybox', 'sleep', '1000']);
  assert.equal(second.code, 0, second.stderr);
  const id = second.stdout.trim();
  // its endpoint is the pooled one (CNI knows it by the sandbox's ID), at the container's own path
  assert.ok((await cached()).some((e) => e.endsWith(`-${pooled}-eth0`)), `no cache entry of ${pooled}: ${(await cached()).join(' ')}`);
  assert.ok(!(await cached()).some((e) => e.includes(id)));
  assert.ok((await netns()).includes(id));
  const inspect = async (c: string, f: string) => (await d.docker(['inspect', '-f', f, c])).stdout.trim();
  const ip = await inspect('second', '{{.NetworkSettings.IPAddress}}');
  const gateway = await inspect('second', '{{.NetworkSettings.Gateway}}');
  assert.equal(await inspect('second', '{{.NetworkSettings.SandboxKey}}'), `${d.root}/netns/${id}`);
  const firstIp = await inspect('first', '{{.NetworkSettings.IPAddress}}');
  const inside = await d.docker(['exec', 'second', 'sh', '-c', `ip -4 -o addr show eth0; grep ${id.slice(0, 12)} /etc/hosts; ping -c 1 -W 2 ${gateway} >/dev/null && ping -c 1 -W 2 ${firstIp} >/dev/null && echo reached`]);
  assert.equal(inside.code, 0, inside.stderr);
  assert.match(inside.stdout, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/`));
  assert.match(inside.stdout, new RegExp(`^${ip.replace(/\./g, '\\.')}\\s+${id.slice(0, 12)}`, 'm'));
  assert.match(inside.stdout, /reached/);

  // disconnect undoes the pooled endpoint; connect wires a new one under the container's ID
  assert.equal((await d.docker(['network', 'disconnect', 'bridge', 'second'])).code, 0);
  assert.ok(!(await cached()).some((e) => e.endsWith(`-${pooled}-eth0`)));
  assert.deepEqual((await d.docker(['exec', 'second', 'ls', '/sys/class/net'])).stdout.trim().split(/\s+/), ['lo']);
  assert.equal((await d.docker(['network', 'connect', 'bridge', 'second'])).code, 0);
  assert.ok((await cached()).some((e) => e.endsWith(`-${id}-eth0`)));
  assert.equal((await d.docker(['exec', 'second', 'ping', '-c', '1', '-W', '2', gateway])).code, 0);

  // removed containers leave only the pool's spare; a stopped daemon leaves nothing
  const bridge = await inspect('bridge', '{{index .Options "com.docker.network.bridge.name"}}');
  await prewired(2);
  assert.equal((await d.docker(['rm', '-f', 'first', 'second'])).code, 0);
  assert.deepEqual((await netns()).filter((f) => !f.startsWith('sandbox-')), []);
  await d.stop();
  assert.deepEqual(await netns(), []);
  assert.deepEqual(await cached(), []);
  assert.equal((await sh('ip', ['-br', 'link', 'show', 'master', bridge])).trim(), '', 'a veth is left on the bridge');
});
