import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as dnsp } from 'node:dns';
import net from 'node:net';
import { DnsServer, parseQuestion } from './dns.js';

const TABLE: Record<string, string[]> = { web: ['10.9.0.2'], svc: ['10.9.0.2', '10.9.0.3', '10.9.0.4'] };
const records = { lookup: (n: string) => TABLE[n] ?? [], reverse: (ip: string) => (ip === '10.9.0.2' ? 'web.testnet' : undefined) };

async function server(t: { after(fn: () => Promise<void>): void }, opts: Partial<ConstructorParameters<typeof DnsServer>[0]> = {}) {
  const s = new DnsServer({ address: '127.0.0.1', port: 0, records, upstreams: [], timeoutMs: 300, ...opts });
  t.after(() => s.close());
  await s.start();
  return s;
}

function resolverFor(s: DnsServer): dnsp.Resolver {
  const r = new dnsp.Resolver({ timeout: 2000, tries: 1 });
  r.setServers([`127.0.0.1:${s.port}`]);
  return r;
}

test('dns: names and aliases, round robin, AAAA empty, PTR for own addresses', async (t) => {
  const s = await server(t);
  const r = resolverFor(s);
  assert.deepEqual(await r.resolve4('web'), ['10.9.0.2']);
  assert.deepEqual(await r.resolve4('WEB.'), ['10.9.0.2']);
  const answers = [await r.resolve4('svc'), await r.resolve4('svc'), await r.resolve4('svc')];
  assert.deepEqual(new Set(answers.map((a) => a[0])), new Set(TABLE.svc), 'each address comes first once');
  for (const a of answers) assert.deepEqual([...a].sort(), TABLE.svc);
  await assert.rejects(r.resolve6('web'), (e: NodeJS.ErrnoException) => e.code === 'ENODATA');
  assert.deepEqual(await r.reverse('10.9.0.2'), ['web.testnet']);
  await assert.rejects(r.resolve4('unknown'), (e: NodeJS.ErrnoException) => e.code === 'ENOTFOUND', 'no upstream: NXDOMAIN');
});

test('dns: unknown names go to the upstream (UDP and TCP); a silent upstream gives SERVFAIL', async (t) => {
  const upstream = await server(t, { records: { lookup: (n) => (n === 'outside.example' ? ['192.0.2.99'] : []), reverse: () => undefined } });
  const s = await server(t, { upstreams: [{ host: '127.0.0.1', port: upstream.port }] });
  assert.deepEqual(await resolverFor(s).resolve4('outside.example'), ['192.0.2.99']);
  assert.deepEqual(await resolverFor(s).resolve4('web'), ['10.9.0.2'], 'own names are not forwarded');

  // a raw TCP query, length-prefixed
  const query = Buffer.from('123401000001000000000000076f7574736964650765786d706c6500', 'hex');
  const qname = Buffer.concat([Buffer.from([7]), Buffer.from('outside'), Buffer.from([7]), Buffer.from('example'), Buffer.from([0])]);
  const msg = Buffer.concat([query.subarray(0, 12), qname, Buffer.from([0, 1, 0, 1])]);
  assert.equal(parseQuestion(msg)?.name, 'outside.example');
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const sock = net.connect(s.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    sock.on('error', reject);
    sock.on('connect', () => sock.write(Buffer.concat([Buffer.from([0, msg.length]), msg])));
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        sock.destroy();
        resolve(buf.subarray(2));
      }
    });
  });
  assert.equal(reply.readUInt16BE(0), 0x1234);
  assert.equal(reply.readUInt16BE(6), 1, 'one answer');
  assert.deepEqual([...reply.subarray(reply.length - 4)], [192, 0, 2, 99]);

  // an upstream that never answers: a UDP socket bound and ignored
  const dgram = await import('node:dgram');
  const silent = dgram.createSocket('udp4');
  t.after(() => new Promise<void>((r) => silent.close(() => r())));
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
  const s2 = await server(t, { upstreams: [{ host: '127.0.0.1', port: silent.address().port }] });
  await assert.rejects(resolverFor(s2).resolve4('outside.example'), (e: NodeJS.ErrnoException) => e.code === 'ESERVFAIL');
});
