// IPv4 address arithmetic for subnets, ranges and gateways. Addresses are
// unsigned 32-bit numbers; a Cidr is a network address plus prefix length.
import { invalidArgument } from '../errors/index.js';

export interface Cidr {
  /** the network address (host bits cleared) */
  base: number;
  prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIp(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIp(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "10.1.2.0/24" -> {base, prefix, host}: `host` is the address as written (it may have host bits). */
export function parseCidrLoose(text: string): (Cidr & { host: number }) | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (ip === undefined || !/^\d{1,2}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > 32) return undefined;
  return { base: (ip & maskOf(prefix)) >>> 0, prefix, host: ip };
}

/** A CIDR whose host bits are zero, or an invalid_argument naming `what` (docker's wording). */
export function parseCidr(text: string, what = 'subnet'): Cidr {
  const c = parseCidrLoose(text);
  if (!c) throw invalidArgument(`invalid ${what} ${text}: invalid CIDR address: ${text}`);
  if (c.host !== c.base) throw invalidArgument(`invalid ${what} ${text}: it should be ${formatCidr(c)}`);
  return { base: c.base, prefix: c.prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.prefix}`;
}

export function lastOf(c: Cidr): number {
  return (c.base | ~maskOf(c.prefix)) >>> 0;
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.prefix)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base <= lastOf(b) && b.base <= lastOf(a);
}

/**
 * docker's default local address pools: 172.17.0.0/16 … 172.31.0.0/16, then
 * 192.168.0.0/20 … 192.168.240.0/20 (libnetwork ipamutils).
 */
export function* defaultPools(): Generator<Cidr> {
  for (let b = 17; b <= 31; b++) yield { base: parseIp(`172.${b}.0.0`) as number, prefix: 16 };
  for (let c = 0; c <= 240; c += 16) yield { base: parseIp(`192.168.${c}.0`) as number, prefix: 20 };
}
