// Container listing and reading commands: ps, logs, inspect. Flags and output
// follow the docker CLI. run/create/start live in run.ts, the attached session
// in attached.ts, stop/kill/rm/wait in lifecycle.ts.
import { ApiError } from '../client.js';
import { CliError, str, bool, list, intFlag, type Handler, type CommandContext } from '../context.js';
import { formatList, context } from '../format/index.js';
import { inspectEach } from '../inspect-output.js';
import { humanSizeWithPrecision, sinceUnix, goTimeString } from '../format/units.js';
import { ellipsis, parseFilters, truncateId } from './images.js';
import { demuxTo } from '../session.js';

const path = (name: string) => encodeURIComponent(name);

// ---------------------------------------------------------------- ps

export interface ContainerSummary {
  Id: string;
  Names?: string[] | null;
  Image: string;
  ImageID?: string;
  Command: string;
  Created: number;
  Ports?: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] | null;
  SizeRw?: number;
  SizeRootFs?: number;
  Labels?: Record<string, string> | null;
  State: string;
  Status: string;
  Mounts?: { Name?: string; Source?: string; Type?: string }[] | null;
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
}

export const PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  Networks: 'NETWORKS',
  LocalVolumes: 'LOCAL VOLUMES',
};
export const PS_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

/** Go's strconv.Quote for the printable strings commands are. */
const goQuote = (s: string) => JSON.stringify(s);

/** docker's DisplayablePorts, without its range folding: "0.0.0.0:8080->80/tcp, 443/tcp". */
function displayPorts(ports: ContainerSummary['Ports']): string {
  return (ports ?? [])
    .map((p) => (p.PublicPort ? `${p.IP ? `${p.IP}:` : ''}${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`))
    .join(', ');
}

export function psRows(list: readonly ContainerSummary[], opts: { trunc: boolean; now?: number }): Record<string, unknown>[] {
  return list.map((c) => {
    // Names with a second slash are legacy link aliases; docker hides them when truncating.
    const names = (c.Names ?? []).map((n) => n.replace(/^\//, '')).filter((n) => !opts.trunc || !n.includes('/'));
    return context({
      ID: opts.trunc ? truncateId(c.Id) : c.Id,
      Image: opts.trunc && c.Image.startsWith('sha256:') ? truncateId(c.Image) : c.Image,
      Command: goQuote(opts.trunc ? ellipsis(c.Command, 20) : c.Command),
      CreatedAt: goTimeString(c.Created),
      RunningFor: sinceUnix(c.Created, opts.now),
      Ports: displayPorts(c.Ports),
      State: c.State,
      Status: c.Status,
      Size: c.SizeRw === undefined ? '0B' : `${humanSizeWithPrecision(c.SizeRw, 3)} (virtual ${humanSizeWithPrecision(c.SizeRootFs ?? 0, 3)})`,
      Names: names.join(','),
      Labels: Object.entries(c.Labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
      Mounts: (c.Mounts ?? []).map((m) => (opts.trunc ? ellipsis(m.Name || m.Source || '', 15) : m.Name || m.Source || '')).join(','),
      Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).sort().join(','),
      LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Type === 'volume').length),
    });
  });
}

export const ps: Handler = async (ctx, { flags }) => {
  const last = intFlag(flags, 'last') ?? -1;
  const latest = bool(flags, 'latest');
  const limit = latest ? 1 : last;
  const format = str(flags, 'format');
  const size = bool(flags, 'size') || /\.Size\b/.test(format);
  const filters = parseFilters(list(flags, 'filter'));
  const containers =
    (await ctx.client().json<ContainerSummary[] | null>('GET', '/containers/json', {
      query: {
        all: bool(flags, 'all') || limit > 0 || undefined,
        limit: limit > 0 ? limit : undefined,
        size: size || undefined,
        filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined,
      },
    })) ?? [];
  const rows = psRows(containers, { trunc: !bool(flags, 'no-trunc') });
  const defaultTable = bool(flags, 'size') ? `${PS_TABLE}\t{{.Size}}` : PS_TABLE;
  ctx.stdout.write(formatList(rows, { format, quiet: bool(flags, 'quiet'), defaultTable, quietFormat: '{{.ID}}', headers: PS_HEADERS }));
};

// ---------------------------------------------------------------- logs

/** docker's timetypes.GetTimestamp: a duration ago ("10m", "1h30m"), unix seconds, or an RFC 3339 time -> "sec.nanos". */
export function timestampArg(value: string, now = Date.now()): string {
  const v = value.trim();
  if (/^\d+(\.\d{1,9})?$/.test(v)) return v;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length && parts.map((p) => p[0]).join('') === v) {
    const ms = parts.reduce((sum, p) => sum + Number(p[1]) * (units[p[2] as string] ?? 0), 0);
    return ((now - ms) / 1000).toFixed(9);
  }
  const parsed = Date.parse(v);
  if (Number.isNaN(parsed)) throw new CliError(`invalid value for "since": failed to parse value as time or duration: "${value}"`);
  const frac = /\.(\d{1,9})/.exec(v)?.[1] ?? '';
  return `${Math.floor(parsed / 1000)}.${frac.padEnd(9, '0')}`;
}

export const logs: Handler = async (ctx, { flags, args }) => {
  const name = args[0] as string;
  const info = await ctx.client().json<{ Config?: { Tty?: boolean } }>('GET', `/containers/${path(name)}/json`);
  const res = await ctx.client().request('GET', `/containers/${path(name)}/logs`, {
    query: {
      stdout: true,
      stderr: true,
      follow: bool(flags, 'follow') || undefined,
      timestamps: bool(flags, 'timestamps') || undefined,
      since: str(flags, 'since') ? timestampArg(str(flags, 'since')) : undefined,
      until: str(flags, 'until') ? timestampArg(str(flags, 'until')) : undefined,
      tail: str(flags, 'tail') || 'all',
    },
  });
  await demuxTo(res, ctx.stdout, ctx.stderr, info.Config?.Tty === true);
};

// ---------------------------------------------------------------- inspect

/** docker inspect: containers first, then images; `kinds` limits the kinds tried. */
function inspectKinds(ctx: CommandContext, names: readonly string[], format: string, kinds: ('container' | 'image')[], size: boolean): Promise<number> {
  const fetch = async (name: string): Promise<unknown> => {
    let lastError: unknown;
    for (const kind of kinds) {
      try {
        return kind === 'container'
          ? await ctx.client().json<unknown>('GET', `/containers/${path(name)}/json`, { query: { size: size || undefined } })
          : await ctx.client().json<unknown>('GET', `/images/${path(name)}/json`);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
        lastError = err;
      }
    }
    throw lastError;
  };
  return inspectEach(ctx, names, format, fetch, kinds.length > 1 ? (name) => `Error: No such object: ${name}` : undefined);
}

export const inspectObjects: Handler = async (ctx, { flags, args }) => {
  const type = str(flags, 'type');
  if (type && type !== 'image' && type !== 'container') throw new CliError(`"${type}" is not a valid value for --type`);
  const kinds: ('container' | 'image')[] = type === 'image' || type === 'container' ? [type] : ['container', 'image'];
  return inspectKinds(ctx, args, str(flags, 'format'), kinds, bool(flags, 'size'));
};

export const inspectContainers: Handler = async (ctx, { flags, args }) => inspectKinds(ctx, args, str(flags, 'format'), ['container'], bool(flags, 'size'));
