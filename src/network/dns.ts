// The embedded DNS server of a user-defined network. It listens on the
// network's gateway address (UDP and TCP port 53), the way podman's
// aardvark-dns does; docker instead answers on 127.0.0.11 inside each
// container's namespace through iptables redirects, which would need a
// listener per namespace. Names it knows: container names, network-scoped
// aliases and short container IDs of the network's endpoints (A records,
// round robin over several; AAAA and other types empty; PTR for its own
// addresses). Everything else is forwarded verbatim to the host's resolvers,
// SERVFAIL when none answers in time.
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { formatIp, parseIp } from './ipnet.js';

const TYPE_A = 1;
const TYPE_PTR = 12;
const CLASS_IN = 1;
const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
/** docker's embedded DNS answers with a 600 s TTL */
const TTL = 600;

export interface DnsRecords {
  /** IPv4 addresses for a lower-cased name without trailing dot; empty when unknown */
  lookup(name: string): string[];
  /** the name for one of the network's addresses */
  reverse(ip: string): string | undefined;
}

export interface Upstream {
  host: string;
  port: number;
}

export interface DnsServerOptions {
  address: string;
  port?: number;
  records: DnsRecords;
  upstreams: Upstream[];
  /** per upstream attempt */
  timeoutMs?: number;
}

interface Question {
  name: string;
  type: number;
  klass: number;
  /** offset just past the question section */
  end: number;
}

/** The first question of a query, or undefined for a malformed one. */
export function parseQuestion(msg: Buffer): Question | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= msg.length) return undefined;
    const len = msg[off] as number;
    if (len === 0) break;
    if (len > 63 || off + 1 + len > msg.length) return undefined; // compression is not allowed in a question's name
    labels.push(msg.subarray(off + 1, off + 1 + len).toString('latin1'));
    off += 1 + len;
  }
  off += 1;
  if (off + 4 > msg.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(off), klass: msg.readUInt16BE(off + 2), end: off + 4 };
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean).map((l) => {
    const b = Buffer.from(l, 'latin1');
    return Buffer.concat([Buffer.from([b.length]), b]);
  });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

/** A reply to `query` with its question and the given answer records. */
function reply(query: Buffer, q: Question, rcode: number, answers: Array<{ type: number; rdata: Buffer }>): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  const opcodeRd = (query.readUInt16BE(2) & 0x7900) >>> 0; // opcode + RD from the query
  header.writeUInt16BE(0x8000 | opcodeRd | 0x0400 | 0x0080 | rcode, 2); // QR, AA, RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const records = answers.map((a) => {
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    fixed.writeUInt16BE(a.type, 2);
    fixed.writeUInt16BE(CLASS_IN, 4);
    fixed.writeUInt32BE(TTL, 6);
    fixed.writeUInt16BE(a.rdata.length, 10);
    return Buffer.concat([fixed, a.rdata]);
  });
  return Buffer.concat([header, query.subarray(12, q.end), ...records]);
}

/** A SERVFAIL reply that echoes whatever question the query had. */
function servfail(query: Buffer): Buffer {
  const q = parseQuestion(query);
  if (q) return reply(query, q, RCODE_SERVFAIL, []);
  const header = Buffer.alloc(12);
  if (query.length >= 2) query.copy(header, 0, 0, 2);
  header.writeUInt16BE(0x8000 | 0x0080 | RCODE_SERVFAIL, 2);
  return header;
}

/** "4.3.2.1.in-addr.arpa" -> "1.2.3.4" */
function ptrAddress(name: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
  return m ? `${m[4]}.${m[3]}.${m[2]}.${m[1]}` : undefined;
}

/** nameserver lines of a resolv.conf, port 53. */
export async function hostResolvers(path = '/etc/resolv.conf'): Promise<Upstream[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((h): h is string => !!h && net.isIP(h) !== 0)
    .map((host) => ({ host, port: 53 }));
}

export class DnsServer {
  readonly #opts: Required<DnsServerOptions>;
  #udp?: dgram.Socket;
  #tcp?: net.Server;
  readonly #rotation = new Map<string, number>();
  readonly #tcpConns = new Set<net.Socket>();

  constructor(opts: DnsServerOptions) {
    this.#opts = { port: 53, timeoutMs: 2000, ...opts };
  }

  get address(): string {
    return this.#opts.address;
  }
  /** the bound port (useful when started with port 0: both sockets share it) */
  get port(): number {
    return this.#opts.port;
  }

  async start(): Promise<void> {
    const udp = dgram.createSocket({ type: 'udp4' });
    udp.on('message', (msg, rinfo) => {
      void this.answer(msg, 'udp').then(
        (out) => udp.send(out, rinfo.port, rinfo.address),
        () => udp.send(servfail(msg), rinfo.port, rinfo.address),
      );
    });
    udp.on('error', () => undefined); // a send to a vanished client must not kill the server
    udp.bind(this.#opts.port, this.#opts.address);
    await once(udp, 'listening');
    this.#udp = udp;
    const port = udp.address().port;
    const tcp = net.createServer((sock) => this.#serveTcp(sock));
    try {
      tcp.listen(port, this.#opts.address);
      await once(tcp, 'listening');
    } catch (err) {
      udp.close();
      this.#udp = undefined;
      throw err;
    }
    this.#tcp = tcp;
    this.#opts.port = port;
  }

  async close(): Promise<void> {
    const udp = this.#udp;
    const tcp = this.#tcp;
    this.#udp = undefined;
    this.#tcp = undefined;
    for (const s of this.#tcpConns) s.destroy();
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }

  #serveTcp(sock: net.Socket): void {
    this.#tcpConns.add(sock);
    sock.on('close', () => this.#tcpConns.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.answer(Buffer.from(msg), 'tcp')
          .catch(() => servfail(msg))
          .then((out) => {
            const len = Buffer.alloc(2);
            len.writeUInt16BE(out.length);
            if (!sock.destroyed) sock.write(Buffer.concat([len, out]));
          });
      }
    });
  }

  /** The reply to one query message. */
  async answer(msg: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer> {
    const q = parseQuestion(msg);
    if (!q || q.klass !== CLASS_IN) return q ? this.#forward(msg, transport) : servfail(msg);
    const addrs = this.#opts.records.lookup(q.name);
    if (addrs.length > 0) {
      if (q.type !== TYPE_A) return reply(msg, q, 0, []); // the name exists; we only have IPv4 (AAAA is empty, as docker without IPv6)
      const n = this.#rotation.get(q.name) ?? 0;
      this.#rotation.set(q.name, n + 1);
      const rotated = addrs.map((_, i) => addrs[(i + n) % addrs.length] as string);
      return reply(
        msg,
        q,
        0,
        rotated.map((ip) => {
          const rdata = Buffer.alloc(4);
          rdata.writeUInt32BE(parseIp(ip) ?? 0);
          return { type: TYPE_A, rdata };
        }),
      );
    }
    if (q.type === TYPE_PTR) {
      const ip = ptrAddress(q.name);
      const name = ip !== undefined && parseIp(ip) !== undefined ? this.#opts.records.reverse(formatIp(parseIp(ip) as number)) : undefined;
      if (name) return reply(msg, q, 0, [{ type: TYPE_PTR, rdata: encodeName(name) }]);
    }
    return this.#forward(msg, transport);
  }

  async #forward(msg: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer> {
    for (const up of this.#opts.upstreams) {
      try {
        return transport === 'tcp' ? await queryTcp(up, msg, this.#opts.timeoutMs) : await queryUdp(up, msg, this.#opts.timeoutMs);
      } catch {
        /* next upstream */
      }
    }
    if (this.#opts.upstreams.length === 0) {
      const q = parseQuestion(msg);
      if (q) return reply(msg, q, RCODE_NXDOMAIN, []);
    }
    return servfail(msg);
  }
}

function queryUdp(up: Upstream, msg: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(up.host) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => finish(new Error('timeout')), timeoutMs);
    const finish = (err: Error | undefined, out?: Buffer) => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(out as Buffer);
    };
    sock.on('error', (err) => finish(err));
    sock.on('message', (out) => {
      if (out.length >= 2 && out.readUInt16BE(0) === msg.readUInt16BE(0)) finish(undefined, out);
    });
    sock.send(msg, up.port, up.host);
  });
}

function queryTcp(up: Upstream, msg: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(up.port, up.host);
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error('timeout')));
    let buf = Buffer.alloc(0);
    sock.on('error', reject);
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(msg.length);
      sock.write(Buffer.concat([len, msg]));
    });
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        sock.destroy();
      }
    });
    sock.on('close', () => reject(new Error('connection closed')));
  });
}
