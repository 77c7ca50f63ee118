// Published ports: docker's PortBindings turned into the portmap plugin's
// runtimeConfig.portMappings. Like dockerd (its port allocator and
// docker-proxy), berth holds a listening socket on every published host port
// while the binding lives: that is how a port already in use on the host, or
// by another endpoint (of this daemon or another), is refused with docker's
// "port is already allocated", and how an empty HostPort gets a free port from
// the kernel's ephemeral range. The sockets never see traffic: the nat
// PREROUTING/OUTPUT DNAT rules rewrite connections before socket lookup.
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { conflict, invalidArgument } from '../errors/index.js';
import type { PortMap } from './types.js';

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIP?: string;
}

export interface HeldPorts {
  mappings: PortMapping[];
  /** the effective bindings, host ports filled in */
  ports: PortMap;
  release(): Promise<void>;
}

interface Wanted {
  key: string;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIp: string;
  /** inclusive range; [0, 0] for "any" */
  hostRange: [number, number];
}

function parsePortNumber(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw invalidArgument(`invalid ${what}: ${text}`);
  return Number(text);
}

/** Validate and expand a PortMap; "80" means "80/tcp". */
export function parsePortMap(ports: PortMap): Wanted[] {
  const out: Wanted[] = [];
  for (const [key, bindings] of Object.entries(ports)) {
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(key);
    if (!m) throw invalidArgument(`invalid port specification: "${key}"`);
    const containerPort = parsePortNumber(m[1] as string, 'containerPort');
    if (containerPort === 0) throw invalidArgument(`invalid port specification: "${key}"`);
    const protocol = (m[2]?.toLowerCase() ?? 'tcp') as Wanted['protocol'];
    for (const b of bindings ?? []) {
      const hostIp = b.HostIp ?? '';
      if (hostIp !== '' && net.isIPv6(hostIp)) continue; // IPv6 is not supported; docker's "" binds both families, we bind v4
      if (hostIp !== '' && !net.isIPv4(hostIp)) throw invalidArgument(`invalid host IP address: ${hostIp}`);
      const hp = b.HostPort ?? '';
      let hostRange: [number, number] = [0, 0];
      if (hp !== '') {
        const r = /^(\d+)(?:-(\d+))?$/.exec(hp);
        if (!r) throw invalidArgument(`invalid hostPort: ${hp}`);
        const lo = parsePortNumber(r[1] as string, 'hostPort');
        const hi = r[2] !== undefined ? parsePortNumber(r[2], 'hostPort') : lo;
        if (hi < lo) throw invalidArgument(`invalid hostPort: ${hp}`);
        hostRange = [lo, hi];
      }
      out.push({ key: `${containerPort}/${protocol}`, containerPort, protocol, hostIp: hostIp === '0.0.0.0' ? '' : hostIp, hostRange });
    }
  }
  return out;
}

type Holder = { close(): Promise<void> };

async function hold(protocol: Wanted['protocol'], hostIp: string, port: number): Promise<{ holder: Holder; port: number }> {
  const host = hostIp || '0.0.0.0';
  if (protocol === 'udp') {
    const sock = dgram.createSocket({ type: 'udp4' });
    try {
      sock.bind({ port, address: host, exclusive: true });
      await once(sock, 'listening');
    } catch (err) {
      sock.close();
      throw err;
    }
    return { holder: { close: () => new Promise<void>((r) => sock.close(() => r())) }, port: sock.address().port };
  }
  // sctp has no Node socket: its port is checked only against tcp-style holding of the same number
  const server = net.createServer((c) => c.destroy());
  try {
    server.listen({ port, host, exclusive: true, backlog: 1 });
    await once(server, 'listening');
  } catch (err) {
    server.close();
    throw err;
  }
  server.unref();
  return { holder: { close: () => new Promise<void>((r) => server.close(() => r())) }, port: (server.address() as net.AddressInfo).port };
}

/**
 * Reserve every binding (all or nothing). Throws docker's conflict
 * "Bind for 0.0.0.0:8080 failed: port is already allocated".
 */
export async function holdPorts(ports: PortMap): Promise<HeldPorts> {
  const wanted = parsePortMap(ports);
  const holders: Holder[] = [];
  const mappings: PortMapping[] = [];
  const effective: PortMap = {};
  for (const key of Object.keys(ports)) {
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(key);
    if (m) effective[`${m[1]}/${(m[2] ?? 'tcp').toLowerCase()}`] = [];
  }
  const release = async () => {
    await Promise.all(holders.map((h) => h.close()));
  };
  try {
    for (const w of wanted) {
      let got: { holder: Holder; port: number } | undefined;
      let lastErr: unknown;
      const [lo, hi] = w.hostRange;
      for (let p = lo; p <= hi && !got; p++) {
        try {
          got = await hold(w.protocol, w.hostIp, p);
        } catch (err) {
          lastErr = err;
        }
      }
      if (!got) {
        const code = (lastErr as NodeJS.ErrnoException | undefined)?.code;
        const shown = lo === hi ? String(lo) : `${lo}-${hi}`;
        if (code === 'EADDRINUSE' || code === 'EACCES') throw conflict(`Bind for ${w.hostIp || '0.0.0.0'}:${shown} failed: port is already allocated`);
        throw invalidArgument(`Bind for ${w.hostIp || '0.0.0.0'}:${shown} failed: ${(lastErr as Error | undefined)?.message ?? 'unknown error'}`);
      }
      holders.push(got.holder);
      mappings.push({ hostPort: got.port, containerPort: w.containerPort, protocol: w.protocol, ...(w.hostIp ? { hostIP: w.hostIp } : {}) });
      (effective[w.key] as NonNullable<PortMap[string]>).push({ HostIp: w.hostIp || '0.0.0.0', HostPort: String(got.port) });
    }
  } catch (err) {
    await release();
    throw err;
  }
  for (const k of Object.keys(effective)) if (effective[k]?.length === 0) effective[k] = null; // exposed, not published
  return { mappings, ports: effective, release };
}
