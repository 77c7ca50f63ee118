// Image commands: images, pull, inspect, history, tag, rmi, prune, save,
// load, import. Each is one Engine API call plus docker-shaped output.
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { jsonStream, ApiError, readAll } from '../client.js';
import { CliError, str, bool, list, type Handler, type CommandContext } from '../context.js';
import { UsageError } from '../args.js';
import { displayJSONMessages, type JSONMessage } from '../jsonmessage.js';
import { credentialsFor, encodeAuthHeader, loadConfig } from '../config.js';
import { parseReference, withDefaultTag, referenceString, familiarName, fullName, type ParsedRef } from '../reference.js';
import { formatList, context } from '../format/index.js';
import { inspectEach } from '../inspect-output.js';
import { humanSize, humanSizeWithPrecision, sinceUnix, goTimeString, rfc3339 } from '../format/units.js';

// ---------------------------------------------------------------- shared

export type Filters = Record<string, Record<string, boolean>>;

/** --filter k=v ... -> the JSON object the API expects ({"k":{"v":true}}). */
export function parseFilters(values: readonly string[]): Filters {
  const filters: Filters = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid argument "${value}" for "--filter" flag: bad format of filter (expected name=value)`);
    addFilter(filters, value.slice(0, eq).trim().toLowerCase(), value.slice(eq + 1).trim());
  }
  return filters;
}

export function addFilter(filters: Filters, key: string, value: string): void {
  (filters[key] ??= {})[value] = true;
}

const filtersQuery = (filters: Filters): string | undefined => (Object.keys(filters).length ? JSON.stringify(filters) : undefined);

/** stringid.TruncateID: drop the algorithm, keep 12 hex digits. */
export function truncateId(id: string): string {
  const colon = id.indexOf(':');
  const hex = colon >= 0 ? id.slice(colon + 1) : id;
  return hex.length > 12 ? hex.slice(0, 12) : hex;
}

const path = (name: string) => encodeURIComponent(name);

function writeOut(ctx: CommandContext, text: string): void {
  if (text) ctx.stdout.write(text);
}

async function display(ctx: CommandContext, res: Readable): Promise<void> {
  await displayJSONMessages(jsonStream<JSONMessage>(res), (t) => ctx.stdout.write(t), {
    isTerminal: ctx.stdout.isTTY === true,
    width: ctx.stdout.columns || 200,
    now: () => Date.now() / 1000,
  });
}

// ---------------------------------------------------------------- images

export interface ImageSummary {
  Id: string;
  ParentId?: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created: number;
  Size: number;
  SharedSize?: number;
  VirtualSize?: number;
  Labels?: Record<string, string> | null;
  Containers?: number;
}

export const IMAGE_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};
export const IMAGE_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
export const IMAGE_TABLE_DIGESTS = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';

function isDangling(img: ImageSummary): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

/** One row per repository:tag (and per digest with --digests), as docker's imageFormat. */
export function imageRows(images: readonly ImageSummary[], opts: { trunc: boolean; digests: boolean; now?: number }): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  const row = (img: ImageSummary, repo: string, tag: string, digest: string) => {
    const size = img.Size;
    const shared = img.SharedSize ?? -1;
    const virtual = img.VirtualSize ?? size;
    rows.push(
      context({
        ID: opts.trunc ? truncateId(img.Id) : img.Id,
        Repository: repo,
        Tag: tag,
        Digest: digest,
        CreatedSince: img.Created ? sinceUnix(img.Created, opts.now) : 'N/A',
        CreatedAt: goTimeString(img.Created),
        Size: humanSizeWithPrecision(size, 3),
        Containers: img.Containers === undefined || img.Containers === -1 ? 'N/A' : String(img.Containers),
        VirtualSize: humanSize(virtual),
        SharedSize: shared === -1 ? 'N/A' : humanSizeWithPrecision(shared, 3),
        UniqueSize: shared === -1 || virtual === -1 ? 'N/A' : humanSizeWithPrecision(virtual - shared, 3),
      }),
    );
  };
  for (const img of images) {
    if (isDangling(img)) {
      row(img, '<none>', '<none>', '<none>');
      continue;
    }
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const s of img.RepoTags ?? []) {
      try {
        const ref = parseReference(s);
        if (ref.tag === undefined) continue;
        const name = familiarName(ref);
        repoTags.set(name, [...(repoTags.get(name) ?? []), ref.tag]);
      } catch {
        /* unparsable: docker skips it too */
      }
    }
    for (const s of img.RepoDigests ?? []) {
      try {
        const ref = parseReference(s);
        if (ref.digest === undefined) continue;
        const name = familiarName(ref);
        repoDigests.set(name, [...(repoDigests.get(name) ?? []), ref.digest]);
      } catch {
        /* unparsable */
      }
    }
    for (const [repo, tags] of repoTags) {
      const digests = opts.digests ? (repoDigests.get(repo) ?? []) : [];
      repoDigests.delete(repo);
      for (const tag of tags) {
        if (digests.length === 0) row(img, repo, tag, '<none>');
        else for (const d of digests) row(img, repo, tag, d);
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (opts.digests) for (const d of digests) row(img, repo, '<none>', d);
      else row(img, repo, '<none>', '');
    }
  }
  return rows;
}

export const listImages: Handler = async (ctx, { flags, args }) => {
  const filters = parseFilters(list(flags, 'filter'));
  if (args[0]) addFilter(filters, 'reference', args[0]);
  const digests = bool(flags, 'digests');
  const query = { all: bool(flags, 'all') || undefined, filters: filtersQuery(filters) };
  const summaries = (await ctx.client().json<ImageSummary[] | null>('GET', '/images/json', { query })) ?? [];
  const rows = imageRows(summaries, { trunc: !bool(flags, 'no-trunc'), digests });
  writeOut(
    ctx,
    formatList(rows, {
      format: str(flags, 'format'),
      quiet: bool(flags, 'quiet'),
      defaultTable: digests ? IMAGE_TABLE_DIGESTS : IMAGE_TABLE,
      quietFormat: '{{.ID}}',
      headers: IMAGE_HEADERS,
    }),
  );
};

// ---------------------------------------------------------------- pull

export async function registryAuthHeader(ctx: CommandContext, domain: string): Promise<Record<string, string>> {
  const creds = credentialsFor(await loadConfig(ctx.configDir), domain);
  return creds ? { 'X-Registry-Auth': encodeAuthHeader(creds) } : {};
}

/** POST /images/create for `ref` (tagged or by digest), with the stored credentials of its registry: the pull's progress stream. */
async function pullRequest(ctx: CommandContext, ref: ParsedRef, platform: string): Promise<Readable> {
  return ctx.client().request('POST', '/images/create', {
    query: { fromImage: fullName(ref), tag: ref.digest ?? ref.tag, platform: platform || undefined },
    headers: await registryAuthHeader(ctx, ref.domain),
  });
}

/** docker run's pull: on stderr, so stdout carries only the container's output; `missing` first says the image was not found. */
export async function pullForRun(ctx: CommandContext, image: string, platform: string, missing: boolean): Promise<void> {
  const ref = withDefaultTag(parseReference(image));
  if (missing) ctx.stderr.write(`Unable to find image '${referenceString(ref, true)}' locally\n`);
  const res = await pullRequest(ctx, ref, platform);
  await displayJSONMessages(jsonStream<JSONMessage>(res), (t) => ctx.stderr.write(t), {
    isTerminal: ctx.stderr.isTTY === true,
    width: ctx.stderr.columns || 200,
    now: () => Date.now() / 1000,
  });
}

export const pull: Handler = async (ctx, { flags, args }) => {
  const given = parseReference(args[0] as string);
  const ref = withDefaultTag(given);
  const quiet = bool(flags, 'quiet');
  if (given.tag === undefined && given.digest === undefined && !quiet) ctx.stdout.write(`Using default tag: ${ref.tag}\n`);
  const res = await pullRequest(ctx, ref, str(flags, 'platform'));
  if (quiet) {
    // The stream still carries errors; read it, show nothing.
    await displayJSONMessages(jsonStream<JSONMessage>(res), () => undefined, { isTerminal: false });
  } else {
    await display(ctx, res);
  }
  ctx.stdout.write(`${referenceString(ref)}\n`);
};

// ---------------------------------------------------------------- push

export const push: Handler = async (ctx, { flags, args }) => {
  const given = parseReference(args[0] as string);
  const all = bool(flags, 'all-tags');
  const quiet = bool(flags, 'quiet');
  if (given.digest !== undefined) throw new CliError('cannot push a digest reference');
  if (all && given.tag !== undefined) throw new CliError("tag can't be used with --all-tags/-a");
  const ref = all ? given : withDefaultTag(given);
  if (!all && given.tag === undefined && !quiet) ctx.stdout.write(`Using default tag: ${ref.tag}\n`);
  const res = await ctx.client().request('POST', `/images/${path(familiarName(ref))}/push`, {
    query: { tag: all ? undefined : ref.tag },
    // dockerd requires the header; an empty config means anonymous.
    headers: { 'X-Registry-Auth': 'e30=', ...(await registryAuthHeader(ctx, ref.domain)) },
  });
  if (quiet) {
    await displayJSONMessages(jsonStream<JSONMessage>(res), () => undefined, { isTerminal: false });
    ctx.stdout.write(`${referenceString(ref)}\n`);
  } else {
    await display(ctx, res);
  }
};

// ---------------------------------------------------------------- inspect

export const inspectImages: Handler = async (ctx, { flags, args }) =>
  inspectEach(ctx, args, str(flags, 'format'), (name) => ctx.client().json<unknown>('GET', `/images/${path(name)}/json`));

// ---------------------------------------------------------------- history

export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags?: string[] | null;
  Size: number;
  Comment: string;
}

export const HISTORY_HEADERS: Record<string, string> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};
export const HISTORY_TABLE = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';

/** formatter.Ellipsis: cut to `max` runes, the last one an ellipsis. */
export function ellipsis(s: string, max: number): string {
  const runes = [...s];
  if (runes.length <= max) return s;
  return runes.slice(0, max - 1).join('') + '…';
}

export function historyRows(items: readonly HistoryItem[], opts: { trunc: boolean; human: boolean; now?: number }): Record<string, unknown>[] {
  return items.map((h) => {
    const id = !h.Id || h.Id === '<missing>' ? '<missing>' : opts.trunc ? truncateId(h.Id) : h.Id;
    const createdBy = h.CreatedBy.replaceAll('\t', ' ');
    return context({
      ID: id,
      CreatedSince: opts.human ? sinceUnix(h.Created, opts.now) : rfc3339(h.Created),
      CreatedAt: rfc3339(h.Created),
      CreatedBy: opts.trunc ? ellipsis(createdBy, 45) : createdBy,
      Size: opts.human ? humanSizeWithPrecision(h.Size, 3) : String(h.Size),
      Comment: h.Comment,
    });
  });
}

export const history: Handler = async (ctx, { flags, args }) => {
  const items = (await ctx.client().json<HistoryItem[] | null>('GET', `/images/${path(args[0] as string)}/history`)) ?? [];
  const human = flags.human !== false;
  const rows = historyRows(items, { trunc: !bool(flags, 'no-trunc'), human });
  const defaultTable = human ? HISTORY_TABLE : HISTORY_TABLE.replace('{{.CreatedSince}}', '{{.CreatedAt}}');
  writeOut(ctx, formatList(rows, { format: str(flags, 'format'), quiet: bool(flags, 'quiet'), defaultTable, quietFormat: '{{.ID}}', headers: HISTORY_HEADERS }));
};

// ---------------------------------------------------------------- tag, rmi, prune

export const tag: Handler = async (ctx, { args }) => {
  const target = parseReference(args[1] as string);
  if (target.digest) throw new CliError('refusing to create a tag with a digest reference');
  const ref = withDefaultTag(target);
  const res = await ctx.client().request('POST', `/images/${path(args[0] as string)}/tag`, {
    query: { repo: fullName(ref), tag: ref.tag },
  });
  await readAll(res);
};

interface DeleteItem {
  Untagged?: string;
  Deleted?: string;
}

export const removeImages: Handler = async (ctx, { flags, args }) => {
  const errors: string[] = [];
  for (const name of args) {
    try {
      const items =
        (await ctx.client().json<DeleteItem[] | null>('DELETE', `/images/${path(name)}`, {
          query: { force: bool(flags, 'force') || undefined, noprune: bool(flags, 'no-prune') || undefined },
        })) ?? [];
      let out = '';
      for (const item of items) {
        if (item.Deleted) out += `Deleted: ${item.Deleted}\n`;
        else if (item.Untagged) out += `Untagged: ${item.Untagged}\n`;
      }
      writeOut(ctx, out);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      errors.push(`Error response from daemon: ${err.message}`);
    }
  }
  if (errors.length) {
    ctx.stderr.write(`${errors.join('\n')}\n`);
    return 1;
  }
  return 0;
};

/** Reads one line from stdin: true for y/yes. */
export async function confirm(ctx: CommandContext, question: string): Promise<boolean> {
  ctx.stdout.write(`${question} [y/N] `);
  const line = await readLine(ctx.stdin);
  const answer = line.trim().toLowerCase();
  return answer === 'y' || answer === 'yes';
}

export async function readLine(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const onData = (chunk: Buffer | string) => {
      buf += chunk.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) finish(buf.slice(0, nl));
    };
    const onEnd = () => finish(buf);
    const finish = (line: string) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.pause();
      resolve(line.replace(/\r$/, ''));
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.resume();
  });
}

export const prune: Handler = async (ctx, { flags }) => {
  const all = bool(flags, 'all');
  const filters = parseFilters(list(flags, 'filter'));
  if (!all) addFilter(filters, 'dangling', 'true');
  else addFilter(filters, 'dangling', 'false');
  if (!bool(flags, 'force')) {
    const warning = all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.';
    if (!(await confirm(ctx, `${warning}\nAre you sure you want to continue?`))) return 0;
  }
  const report =
    (await ctx.client().json<{ ImagesDeleted?: DeleteItem[] | null; SpaceReclaimed?: number }>('POST', '/images/prune', {
      query: { filters: filtersQuery(filters) },
    })) ?? {};
  const deleted = report.ImagesDeleted ?? [];
  let out = '';
  if (deleted.length) {
    out += 'Deleted Images:\n';
    for (const item of deleted) out += item.Untagged ? `untagged: ${item.Untagged}\n` : `deleted: ${item.Deleted ?? ''}\n`;
    out += '\n';
  }
  out += `Total reclaimed space: ${humanSize(report.SpaceReclaimed ?? 0)}\n`;
  ctx.stdout.write(out);
};

// ---------------------------------------------------------------- save, load, import

export const save: Handler = async (ctx, { flags, args }) => {
  const output = str(flags, 'output');
  if (!output && ctx.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const platforms = list(flags, 'platform');
  const res = await ctx.client().request('GET', '/images/get', { query: { names: args, platform: platforms.length ? platforms : undefined } });
  if (!output) {
    await pipeline(res, ctx.stdout as NodeJS.WritableStream);
    return;
  }
  // Write beside the target and rename, so a failed save leaves no half file.
  const tmp = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
  try {
    await pipeline(res, createWriteStream(tmp, { mode: 0o644 }));
    await rename(tmp, output);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new CliError(`failed to save image: ${(err as Error).message}`);
  }
};

function inputStream(ctx: CommandContext, file: string): Readable {
  if (!file || file === '-') return ctx.stdin;
  const stream = createReadStream(file);
  return stream;
}

async function ensureReadable(file: string): Promise<void> {
  const { access } = await import('node:fs/promises');
  try {
    await access(file);
  } catch (err) {
    throw new CliError(`open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
}

export const load: Handler = async (ctx, { flags }) => {
  const input = str(flags, 'input');
  if (!input && ctx.stdin.isTTY) throw new CliError('requested load from stdin, but stdin is empty');
  if (input) await ensureReadable(input);
  const platforms = list(flags, 'platform');
  const res = await ctx.client().request('POST', '/images/load', {
    query: { quiet: bool(flags, 'quiet') || undefined, platform: platforms.length ? platforms : undefined },
    headers: { 'Content-Type': 'application/x-tar' },
    body: inputStream(ctx, input),
  });
  if (String(res.headers['content-type'] ?? '').includes('json')) await display(ctx, res);
  else await pipeline(res, ctx.stdout as NodeJS.WritableStream);
};

export const importImage: Handler = async (ctx, { flags, args }) => {
  const source = args[0] as string;
  if (/^[a-z]+:\/\//i.test(source)) throw new CliError(`importing from a URL is not supported: download ${source} and import the file`);
  let repo: string | undefined;
  let tagName: string | undefined;
  if (args[1]) {
    const ref = parseReference(args[1]);
    if (ref.digest) throw new CliError('cannot import with a digest reference');
    repo = fullName(ref);
    tagName = ref.tag;
  }
  if (source !== '-') await ensureReadable(source);
  else if (ctx.stdin.isTTY) throw new CliError('requested import from stdin, but stdin is a terminal');
  const res = await ctx.client().request('POST', '/images/create', {
    query: {
      fromSrc: '-',
      repo,
      tag: tagName,
      message: str(flags, 'message') || undefined,
      changes: list(flags, 'change'),
      platform: str(flags, 'platform') || undefined,
    },
    headers: { 'Content-Type': 'application/x-tar' },
    body: inputStream(ctx, source),
  });
  await display(ctx, res);
};
