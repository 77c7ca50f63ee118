// berth update (POST /containers/{id}/update) and berth port (from inspect's
// NetworkSettings.Ports), with docker's output and errors.
import { isIP } from 'node:net';
import { ApiError } from '../client.js';
import { CliError, str, type Handler } from '../context.js';
import { UsageError, type FlagValues } from '../args.js';
import type { UpdateRequest } from '../../container/types.js';
import { ramInBytes } from '../runflags.js';

const path = (name: string) => encodeURIComponent(name);

function intValue(flags: FlagValues, name: string): number | undefined {
  const v = str(flags, name);
  if (v === '') return undefined;
  if (!/^[-+]?\d+$/.test(v)) throw new UsageError(`invalid argument "${v}" for "--${name}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

/** The UpdateRequest for the flags given; undefined when none was. */
export function updateBody(flags: FlagValues): UpdateRequest | undefined {
  const body: UpdateRequest = {};
  let any = false;
  const set = <K extends keyof UpdateRequest>(key: K, value: UpdateRequest[K] | undefined) => {
    if (value === undefined) return;
    body[key] = value;
    any = true;
  };
  const size = (name: string) => (str(flags, name) ? ramInBytes(str(flags, name), `--${name}`) : undefined);
  set('Memory', size('memory'));
  const swap = str(flags, 'memory-swap');
  set('MemorySwap', swap === '-1' ? -1 : size('memory-swap'));
  set('MemoryReservation', size('memory-reservation'));
  const cpus = str(flags, 'cpus');
  if (cpus) {
    const n = Number(cpus);
    if (!/^\d+(\.\d+)?$/.test(cpus) || !Number.isFinite(n)) throw new UsageError(`invalid argument "${cpus}" for "--cpus" flag: failed to parse ${cpus} as a rational number`);
    set('NanoCpus', Math.round(n * 1e9));
  }
  set('CpuShares', intValue(flags, 'cpu-shares'));
  set('CpuPeriod', intValue(flags, 'cpu-period'));
  set('CpuQuota', intValue(flags, 'cpu-quota'));
  set('CpusetCpus', str(flags, 'cpuset-cpus') || undefined);
  set('CpusetMems', str(flags, 'cpuset-mems') || undefined);
  set('PidsLimit', intValue(flags, 'pids-limit'));
  const weight = intValue(flags, 'blkio-weight');
  set('BlkioWeight', weight);
  const restart = str(flags, 'restart');
  if (restart) {
    // docker update passes the policy name on for the daemon to judge.
    const [name = '', count] = restart.split(':');
    const retries = count === undefined ? 0 : Number(count);
    if (!Number.isInteger(retries)) throw new UsageError(`invalid restart policy format: ${restart}`);
    set('RestartPolicy', { Name: name, MaximumRetryCount: retries } as UpdateRequest['RestartPolicy']);
  }
  return any ? body : undefined;
}

export const update: Handler = async (ctx, { flags, args }) => {
  const body = updateBody(flags);
  if (!body) throw new CliError('you must provide one or more flags when using this command');
  const warnings: string[] = [];
  const errors: string[] = [];
  for (const name of args) {
    try {
      const res = await ctx.client().json<{ Warnings?: string[] | null } | undefined>('POST', `/containers/${path(name)}/update`, { body: JSON.stringify(body) });
      warnings.push(...(res?.Warnings ?? []));
      ctx.stdout.write(`${name}\n`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      errors.push(`Error response from daemon: ${err.message}`);
    }
  }
  // docker prints the warnings after the names, and the errors last.
  if (warnings.length) ctx.stdout.write(`${warnings.join('\n')}\n`);
  if (errors.length) {
    ctx.stderr.write(`${errors.join('\n')}\n`);
    return 1;
  }
  return 0;
};

// ---------------------------------------------------------------- port

type PortMap = Record<string, { HostIp?: string; HostPort?: string }[] | null>;

/** net.JoinHostPort: IPv6 hosts in brackets. */
const joinHostPort = (host: string, port: string) => (isIP(host) === 6 || host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** sortorder.NaturalLess: digit runs compare as numbers, the rest byte-wise. */
export function naturalLess(a: string, b: string): boolean {
  const chunks = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const ca = chunks(a);
  const cb = chunks(b);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i] as string;
    const y = cb[i] as string;
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const dx = BigInt(x);
      const dy = BigInt(y);
      if (dx !== dy) return dx < dy;
      return x.length < y.length; // equal values: fewer leading zeros first
    }
    return x < y;
  }
  return ca.length < cb.length;
}

/** The lines docker port prints; `port` is PRIVATE_PORT[/PROTO] or undefined for all. */
export function portLines(ports: PortMap, container: string, port?: string): string[] {
  const out: string[] = [];
  if (port !== undefined) {
    const [number = '', proto = 'tcp'] = port.split('/');
    if (!/^\d+$/.test(number) || Number(number) > 65535) {
      const why = /^\d+$/.test(number) ? 'value out of range' : 'invalid syntax';
      throw new CliError(`Error: invalid port (${number}): strconv.ParseUint: parsing ${JSON.stringify(number)}: ${why}`);
    }
    const frontends = ports[`${number}/${proto || 'tcp'}`];
    if (!frontends || frontends.length === 0) throw new CliError(`Error: No public port '${port}' published for ${container}`);
    for (const f of frontends) out.push(joinHostPort(f.HostIp ?? '', f.HostPort ?? ''));
  } else {
    for (const [from, frontends] of Object.entries(ports)) {
      for (const f of frontends ?? []) out.push(`${from} -> ${joinHostPort(f.HostIp ?? '', f.HostPort ?? '')}`);
    }
  }
  return out.sort((a, b) => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0));
}

export const port: Handler = async (ctx, { args }) => {
  const [container = '', which] = args;
  const info = await ctx.client().json<{ NetworkSettings?: { Ports?: PortMap | null } | null }>('GET', `/containers/${path(container)}/json`);
  const lines = portLines(info.NetworkSettings?.Ports ?? {}, container, which);
  if (lines.length) ctx.stdout.write(`${lines.join('\n')}\n`);
  return 0;
};
