// Volume commands: volume create, ls, inspect, rm, prune, with the docker
// CLI's flags and output.
import { CliError, str, bool, list, type Handler } from '../context.js';
import { UsageError } from '../args.js';
import { formatList, context, TemplateError } from '../format/index.js';
import { inspectEach } from '../inspect-output.js';
import { humanSize } from '../format/units.js';
import { addFilter, confirm, parseFilters } from './images.js';
import { forEach } from './lifecycle.js';

const path = (name: string) => encodeURIComponent(name);

interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Scope: string;
  Labels: Record<string, string> | null;
}

const VOLUME_TABLE = 'table {{.Driver}}\t{{.Name}}';
const VOLUME_HEADERS = { Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE' };

function labelsOf(values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    labels[eq < 0 ? v : v.slice(0, eq)] = eq < 0 ? '' : v.slice(eq + 1);
  }
  return labels;
}

export const create: Handler = async (ctx, { flags, args }) => {
  const name = str(flags, 'name');
  if (name && args[0] && name !== args[0]) throw new UsageError(`conflicting options: cannot specify a volume-name through both --name and as a positional arg`);
  const driverOpts = labelsOf(list(flags, 'opt'));
  const body = { Name: args[0] ?? name, Driver: str(flags, 'driver') || 'local', DriverOpts: driverOpts, Labels: labelsOf(list(flags, 'label')) };
  const v = await ctx.client().json<Volume>('POST', '/volumes/create', { body: JSON.stringify(body) });
  ctx.stdout.write(`${v.Name}\n`);
};

export const listVolumes: Handler = async (ctx, { flags }) => {
  const filters = parseFilters(list(flags, 'filter'));
  const query = { filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined };
  const reply = (await ctx.client().json<{ Volumes: Volume[] | null }>('GET', '/volumes', { query })) ?? { Volumes: [] };
  const rows = (reply.Volumes ?? [])
    .sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))
    .map((v) =>
      context({
        Name: v.Name,
        Driver: v.Driver,
        Scope: v.Scope,
        Mountpoint: v.Mountpoint,
        Labels: Object.entries(v.Labels ?? {})
          .map(([k, val]) => `${k}=${val}`)
          .join(','),
        Links: 'N/A',
        Size: 'N/A',
      }),
    );
  try {
    ctx.stdout.write(formatList(rows, { format: str(flags, 'format'), quiet: bool(flags, 'quiet'), defaultTable: VOLUME_TABLE, quietFormat: '{{.Name}}', headers: VOLUME_HEADERS }));
  } catch (err) {
    if (err instanceof TemplateError) throw new CliError(err.message, 1);
    throw err;
  }
};

export const inspect: Handler = async (ctx, { flags, args }) =>
  inspectEach(ctx, args, str(flags, 'format'), (name) => ctx.client().json<Volume>('GET', `/volumes/${path(name)}`));

export const remove: Handler = async (ctx, { flags, args }) =>
  forEach(ctx, args, (name) => ctx.client().request('DELETE', `/volumes/${path(name)}`, { query: { force: bool(flags, 'force') || undefined } }));

export const prune: Handler = async (ctx, { flags }) => {
  const all = bool(flags, 'all');
  const filters = parseFilters(list(flags, 'filter'));
  if (all) addFilter(filters, 'all', 'true');
  if (!bool(flags, 'force')) {
    const warning = all
      ? 'WARNING! This will remove all local volumes not used by at least one container.'
      : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
    if (!(await confirm(ctx, `${warning}\nAre you sure you want to continue?`))) return 0;
  }
  const report =
    (await ctx.client().json<{ VolumesDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/volumes/prune', {
      query: { filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined },
    })) ?? {};
  let out = '';
  const deleted = report.VolumesDeleted ?? [];
  if (deleted.length) out += `Deleted Volumes:\n${deleted.map((n) => `${n}\n`).join('')}\n`;
  out += `Total reclaimed space: ${humanSize(report.SpaceReclaimed ?? 0)}\n`;
  ctx.stdout.write(out);
  return 0;
};
