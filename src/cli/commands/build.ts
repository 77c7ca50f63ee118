// berth build (POST /build) and berth builder prune (POST /build/prune).
// The context is streamed to the daemon as a tar; the answer's JSON lines are
// drawn by one of the progress renderers of buildprogress.ts.
import { rm, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { BuildCachePruneReport, BuildMessage } from '../../build/types.js';
import { jsonStream, type QueryValue } from '../client.js';
import { str, bool, list, type CommandContext, type Handler } from '../context.js';
import { UsageError, type FlagValues } from '../args.js';
import { credentialsFor, loadConfig, serverKey } from '../config.js';
import { parseReference } from '../reference.js';
import { prepareContext } from '../buildcontext.js';
import { PlainProgress, QuietProgress, RawJsonProgress, TtyProgress, type BuildProgress } from '../buildprogress.js';
import { humanSize } from '../format/units.js';

export type ProgressMode = 'auto' | 'plain' | 'tty' | 'quiet' | 'rawjson';
const PROGRESS_MODES: readonly ProgressMode[] = ['auto', 'plain', 'tty', 'quiet', 'rawjson'];

export interface BuildOptions {
  tags: string[];
  file: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  target: string;
  noCache: boolean;
  pull: boolean;
  platform: string;
  progress: ProgressMode;
  quiet: boolean;
  rm: boolean;
  forceRm: boolean;
  iidfile: string;
}

/** -t values, checked as docker's validateTag does (a flag error: exit 125). */
function validateTags(tags: readonly string[]): string[] {
  for (const tag of tags) {
    try {
      parseReference(tag);
    } catch (err) {
      throw new UsageError(`invalid argument "${tag}" for "-t, --tag" flag: ${(err as Error).message}`);
    }
  }
  return [...tags];
}

/** --build-arg K=V, or K alone: the CLI's own value of K, left out when K is unset. */
export function parseBuildArgs(values: readonly string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const args: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq >= 0) args[v.slice(0, eq)] = v.slice(eq + 1);
    else if (env[v] !== undefined) args[v] = env[v] as string;
  }
  return args;
}

/** --label K=V; K alone is an empty value (docker's ConvertKVStringsToMap). */
export function parseLabels(values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq >= 0) labels[v.slice(0, eq)] = v.slice(eq + 1);
    else labels[v] = '';
  }
  return labels;
}

export function buildOptions(flags: FlagValues, env: NodeJS.ProcessEnv): BuildOptions {
  const progress = str(flags, 'progress') || 'auto';
  if (!(PROGRESS_MODES as readonly string[]).includes(progress)) {
    throw new UsageError(`invalid argument "${progress}" for "--progress" flag: must be one of ${PROGRESS_MODES.join(', ')}`);
  }
  return {
    tags: validateTags(list(flags, 'tag')),
    file: str(flags, 'file'),
    buildArgs: parseBuildArgs(list(flags, 'build-arg'), env),
    labels: parseLabels(list(flags, 'label')),
    target: str(flags, 'target'),
    noCache: bool(flags, 'no-cache'),
    pull: bool(flags, 'pull'),
    platform: str(flags, 'platform'),
    progress: progress as ProgressMode,
    quiet: bool(flags, 'quiet'),
    rm: flags.rm !== false,
    forceRm: bool(flags, 'force-rm'),
    iidfile: str(flags, 'iidfile'),
  };
}

/** The renderer the options and the terminal call for. */
export function progressMode(opts: Pick<BuildOptions, 'progress' | 'quiet'>, stderrIsTTY: boolean): Exclude<ProgressMode, 'auto'> {
  if (opts.quiet) return 'quiet';
  if (opts.progress === 'auto') return stderrIsTTY ? 'tty' : 'plain';
  return opts.progress;
}

/** POST /build's query, docker's encoding (buildargs and labels as JSON, t repeated), plus berthprogress. */
export function buildQuery(opts: BuildOptions, dockerfile: string, mode: Exclude<ProgressMode, 'auto'>): Record<string, QueryValue> {
  return {
    t: opts.tags.length ? opts.tags : undefined,
    dockerfile,
    buildargs: JSON.stringify(opts.buildArgs),
    labels: JSON.stringify(opts.labels),
    target: opts.target || undefined,
    nocache: opts.noCache || undefined,
    pull: opts.pull || undefined,
    q: opts.quiet || undefined,
    rm: opts.rm,
    forcerm: opts.forceRm || undefined,
    platform: opts.platform ? opts.platform.toLowerCase() : undefined,
    berthprogress: mode === 'quiet' || mode === 'rawjson' ? undefined : true,
  };
}

/** X-Registry-Config: every stored credential, keyed by server, as the docker CLI sends them. */
export async function registryConfigHeader(configDir: string): Promise<string> {
  const config = await loadConfig(configDir);
  const all: Record<string, { username: string; password: string; serveraddress: string; identitytoken?: string }> = {};
  for (const key of Object.keys(config.auths ?? {})) {
    const creds = credentialsFor(config, key);
    if (creds) all[serverKey(key)] = { ...creds };
  }
  // base64url with its padding, as Go's base64.URLEncoding writes it (dockerd decodes with that).
  return Buffer.from(JSON.stringify(all)).toString('base64').replaceAll('+', '-').replaceAll('/', '_');
}

function renderer(mode: Exclude<ProgressMode, 'auto'>, ctx: CommandContext, tags: readonly string[]): BuildProgress {
  const writeErr = (text: string) => void ctx.stderr.write(text);
  const env = { write: writeErr, now: () => performance.now(), width: ctx.stderr.columns || 80, tags };
  switch (mode) {
    case 'plain':
      return new PlainProgress(env);
    case 'tty':
      return new TtyProgress(env);
    case 'rawjson':
      return new RawJsonProgress(writeErr);
    case 'quiet':
      return new QuietProgress(writeErr);
  }
}

/** Exit status of a build interrupted by Ctrl-C: 128 + SIGINT, as a shell reports it. */
const INTERRUPTED = 130;

export const build: Handler = async (ctx, { flags, args }) => {
  const opts = buildOptions(flags, process.env);
  const mode = progressMode(opts, ctx.stderr.isTTY === true);
  const prepared = await prepareContext({ path: args[0] as string, file: opts.file, stdin: ctx.stdin, cwd: process.cwd() });
  // As docker: a stale ID file must not survive a failed build.
  if (opts.iidfile) await rm(opts.iidfile, { force: true });

  const display = renderer(mode, ctx, opts.tags);
  let response: Readable | undefined;
  let interrupted = false;
  // Ctrl-C closes the connection, which cancels the build on the daemon.
  const onInterrupt = () => {
    interrupted = true;
    prepared.body.destroy(new Error('build canceled'));
    response?.destroy();
  };
  process.on('SIGINT', onInterrupt);
  let imageId: string | undefined;
  let failure: string | undefined;
  try {
    response = await ctx.client().request('POST', '/build', {
      query: buildQuery(opts, prepared.dockerfile, mode),
      headers: { 'Content-Type': 'application/x-tar', 'X-Registry-Config': await registryConfigHeader(ctx.configDir) },
      body: prepared.body,
    });
    // Ctrl-C between the upload's end and the answer's headers.
    if (interrupted) response.destroy();
    for await (const msg of jsonStream<BuildMessage>(response)) {
      const error = msg as { errorDetail?: { message?: string }; error?: string };
      if (error.errorDetail || error.error) {
        failure = error.errorDetail?.message || error.error || 'unknown error';
        break;
      }
      if ('id' in msg && msg.id === 'moby.image.id' && 'aux' in msg) imageId = msg.aux.ID;
      display.handle(msg);
    }
  } catch (err) {
    if (!interrupted) throw err;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
  if (interrupted) {
    display.finish({ error: 'canceled' });
    return INTERRUPTED;
  }
  if (imageId === undefined && display instanceof QuietProgress) imageId = display.streamedId();
  if (failure !== undefined) {
    display.finish({ error: failure });
    return 1;
  }
  display.finish(imageId ? { imageId } : {});
  if (opts.iidfile && imageId) await writeFile(opts.iidfile, imageId, { mode: 0o666 });
  if (mode === 'quiet' && imageId) ctx.stdout.write(`${imageId}\n`);
  return 0;
};

// ---------------------------------------------------------------- builder prune

const PRUNE_WARNING = 'WARNING! This will remove all dangling build cache. Are you sure you want to continue?';
const PRUNE_ALL_WARNING = 'WARNING! This will remove all build cache. Are you sure you want to continue?';

export const prune: Handler = async (ctx, { flags }) => {
  const all = bool(flags, 'all');
  // loaded here only: a build's start-up should not pay for the image and container commands
  const [{ parseFilters, confirm }, { ramInBytes }] = await Promise.all([import('./images.js'), import('../runflags.js')]);
  const filters = parseFilters(list(flags, 'filter'));
  const keep = str(flags, 'keep-storage');
  const keepStorage = keep ? ramInBytes(keep, '--keep-storage') : 0;
  if (!bool(flags, 'force') && !(await confirm(ctx, all ? PRUNE_ALL_WARNING : PRUNE_WARNING))) {
    // docker treats a "no" as a cancellation: nothing printed, exit 0.
    return 0;
  }
  const report =
    (await ctx.client().json<BuildCachePruneReport>('POST', '/build/prune', {
      query: {
        all: all || undefined,
        'keep-storage': keepStorage || undefined,
        filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined,
      },
    })) ?? { CachesDeleted: null, SpaceReclaimed: 0 };
  let out = '';
  const deleted = report.CachesDeleted ?? [];
  if (deleted.length) out += `Deleted build cache objects:\n${deleted.map((id) => `${id}\n`).join('')}\n`;
  out += `Total reclaimed space: ${humanSize(report.SpaceReclaimed ?? 0)}\n`;
  ctx.stdout.write(out);
  return 0;
};
