// pause, unpause, rename, top, diff, container prune: the docker CLI's output for each.
import { ApiError } from '../client.js';
import { bool, list, type Handler } from '../context.js';
import { tabwrite } from '../format/index.js';
import { humanSize } from '../format/units.js';
import { forEach } from './lifecycle.js';
import { confirm, parseFilters } from './images.js';

const path = (name: string) => encodeURIComponent(name);

export const pause: Handler = async (ctx, { args }) => forEach(ctx, args, (name) => ctx.client().request('POST', `/containers/${path(name)}/pause`));

export const unpause: Handler = async (ctx, { args }) => forEach(ctx, args, (name) => ctx.client().request('POST', `/containers/${path(name)}/unpause`));

export const rename: Handler = async (ctx, { args }) => {
  const [oldName = '', newName = ''] = args;
  try {
    await ctx.client().request('POST', `/containers/${path(oldName.trim())}/rename`, { query: { name: newName.trim() } });
    return 0;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    ctx.stderr.write(`Error response from daemon: ${err.message}\nError: failed to rename container named ${oldName}\n`);
    return 1;
  }
};

export const top: Handler = async (ctx, { args }) => {
  const [name = '', ...psArgs] = args;
  const body = await ctx
    .client()
    .json<{ Titles?: string[] | null; Processes?: string[][] | null }>('GET', `/containers/${path(name)}/top`, { query: { ps_args: psArgs.length ? psArgs.join(' ') : undefined } });
  const lines = [(body.Titles ?? []).join('\t'), ...(body.Processes ?? []).map((p) => p.join('\t'))];
  // docker: tabwriter.NewWriter(out, 20, 1, 3, ' ', 0)
  ctx.stdout.write(tabwrite(lines.map((l) => `${l}\n`).join(''), { minwidth: 20, tabwidth: 1, padding: 3, padchar: ' ' }));
  return 0;
};

const KINDS = ['C', 'A', 'D'];

export const diff: Handler = async (ctx, { args }) => {
  const changes = (await ctx.client().json<{ Path: string; Kind: number }[] | null>('GET', `/containers/${path(args[0] as string)}/changes`)) ?? [];
  ctx.stdout.write(changes.map((c) => `${KINDS[c.Kind] ?? '?'} ${c.Path}\n`).join(''));
  return 0;
};

export const prune: Handler = async (ctx, { flags }) => {
  const filters = parseFilters(list(flags, 'filter'));
  if (!bool(flags, 'force')) {
    if (!(await confirm(ctx, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?'))) return 0;
  }
  const report =
    (await ctx.client().json<{ ContainersDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/containers/prune', {
      query: { filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined },
    })) ?? {};
  let out = '';
  const deleted = report.ContainersDeleted ?? [];
  if (deleted.length) out += `Deleted Containers:\n${deleted.map((id) => `${id}\n`).join('')}\n`;
  out += `Total reclaimed space: ${humanSize(report.SpaceReclaimed ?? 0)}\n`;
  ctx.stdout.write(out);
  return 0;
};
