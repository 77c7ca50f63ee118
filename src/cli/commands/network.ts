// Network commands: network create, ls, inspect, rm, prune, connect,
// disconnect, with the docker CLI's flags and output.
import { ApiError, readAll } from '../client.js';
import { CliError, str, bool, list, type Handler } from '../context.js';
import { UsageError } from '../args.js';
import { formatList, context, TemplateError } from '../format/index.js';
import { inspectEach } from '../inspect-output.js';
import { confirm, parseFilters } from './images.js';

const path = (name: string) => encodeURIComponent(name);

interface Network {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Created: string;
  EnableIPv6: boolean;
  Internal: boolean;
  Labels: Record<string, string> | null;
}

const NETWORK_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
const NETWORK_HEADERS = { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' };

function keyValues(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    out[eq < 0 ? v : v.slice(0, eq)] = eq < 0 ? '' : v.slice(eq + 1);
  }
  return out;
}

export const create: Handler = async (ctx, { flags, args }) => {
  const subnets = list(flags, 'subnet');
  const gateways = list(flags, 'gateway');
  const ranges = list(flags, 'ip-range');
  // docker pairs each --gateway/--ip-range with the --subnet it belongs to; berth has one subnet per network
  if (gateways.length > subnets.length) throw new CliError('every ip-range or gateway must have a corresponding subnet', 1);
  if (ranges.length > subnets.length) throw new CliError('every ip-range or gateway must have a corresponding subnet', 1);
  const config = subnets.map((Subnet, i) => ({ Subnet, ...(ranges[i] ? { IPRange: ranges[i] } : {}), ...(gateways[i] ? { Gateway: gateways[i] } : {}) }));
  const body = {
    Name: args[0],
    Driver: str(flags, 'driver') || 'bridge',
    Internal: bool(flags, 'internal'),
    Attachable: bool(flags, 'attachable'),
    EnableIPv6: bool(flags, 'ipv6') || undefined,
    IPAM: { Driver: str(flags, 'ipam-driver') || 'default', Config: config, Options: {} },
    Options: keyValues(list(flags, 'opt')),
    Labels: keyValues(list(flags, 'label')),
  };
  const reply = await ctx.client().json<{ Id: string; Warning?: string }>('POST', '/networks/create', { body: JSON.stringify(body) });
  if (reply.Warning) ctx.stderr.write(`${reply.Warning}\n`);
  ctx.stdout.write(`${reply.Id}\n`);
};

export const listNetworks: Handler = async (ctx, { flags }) => {
  const filters = parseFilters(list(flags, 'filter'));
  const query = { filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined };
  const networks = (await ctx.client().json<Network[] | null>('GET', '/networks', { query })) ?? [];
  const noTrunc = bool(flags, 'no-trunc');
  const rows = networks
    .sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))
    .map((n) =>
      context({
        ID: noTrunc ? n.Id : n.Id.slice(0, 12),
        Name: n.Name,
        Driver: n.Driver,
        Scope: n.Scope,
        IPv6: String(n.EnableIPv6),
        Internal: String(n.Internal),
        Labels: Object.entries(n.Labels ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
        CreatedAt: n.Created,
      }),
    );
  try {
    ctx.stdout.write(formatList(rows, { format: str(flags, 'format'), quiet: bool(flags, 'quiet'), defaultTable: NETWORK_TABLE, quietFormat: '{{.ID}}', headers: NETWORK_HEADERS }));
  } catch (err) {
    if (err instanceof TemplateError) throw new CliError(err.message, 1);
    throw err;
  }
};

export const inspect: Handler = async (ctx, { flags, args }) =>
  inspectEach(ctx, args, str(flags, 'format'), (name) => ctx.client().json<unknown>('GET', `/networks/${path(name)}`, { query: { verbose: bool(flags, 'verbose') || undefined } }));

export const remove: Handler = async (ctx, { flags, args }) => {
  let failed = false;
  for (const name of args) {
    try {
      await readAll(await ctx.client().request('DELETE', `/networks/${path(name)}`));
      ctx.stdout.write(`${name}\n`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (bool(flags, 'force') && err.status === 404) continue;
      ctx.stderr.write(`Error response from daemon: ${err.message}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
};

export const prune: Handler = async (ctx, { flags }) => {
  const filters = parseFilters(list(flags, 'filter'));
  if (!bool(flags, 'force')) {
    const warning = 'WARNING! This will remove all custom networks not used by at least one container.';
    if (!(await confirm(ctx, `${warning}\nAre you sure you want to continue?`))) return 0;
  }
  const report =
    (await ctx.client().json<{ NetworksDeleted?: string[] | null }>('POST', '/networks/prune', {
      query: { filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined },
    })) ?? {};
  const deleted = report.NetworksDeleted ?? [];
  if (deleted.length) ctx.stdout.write(`Deleted Networks:\n${deleted.map((n) => `${n}\n`).join('')}`);
  return 0;
};

export const connect: Handler = async (ctx, { flags, args }) => {
  const [network, container] = args as [string, string];
  if (list(flags, 'link').length) throw new UsageError('--link is not supported by berth');
  const ip = str(flags, 'ip');
  const ip6 = str(flags, 'ip6');
  const endpoint = {
    IPAMConfig: ip || ip6 ? { ...(ip ? { IPv4Address: ip } : {}), ...(ip6 ? { IPv6Address: ip6 } : {}) } : undefined,
    Aliases: list(flags, 'alias'),
    DriverOpts: keyValues(list(flags, 'driver-opt')),
  };
  await readAll(await ctx.client().request('POST', `/networks/${path(network)}/connect`, { body: JSON.stringify({ Container: container, EndpointConfig: endpoint }) }));
};

export const disconnect: Handler = async (ctx, { flags, args }) => {
  const [network, container] = args as [string, string];
  await readAll(await ctx.client().request('POST', `/networks/${path(network)}/disconnect`, { body: JSON.stringify({ Container: container, Force: bool(flags, 'force') }) }));
};
