// Container commands: run, create, start, stop, restart, kill, rm, ps, logs,
// wait, inspect. Flags and output follow the docker CLI; attach uses the
// Engine API's connection hijack and stdcopy demultiplexing.
import { readFile } from 'node:fs/promises';
import type { Duplex, Readable } from 'node:stream';
import { ApiError, buildQuery, jsonStream, readAll, type QueryValue } from '../client.js';
import { hijackedPost } from '../hijack.js';
import { CliError, str, bool, list, type Handler, type CommandContext, type OutStream } from '../context.js';
import { UsageError, type FlagValues } from '../args.js';
import { displayJSONMessages, type JSONMessage } from '../jsonmessage.js';
import { parseReference, withDefaultTag, referenceString, fullName } from '../reference.js';
import { formatList, context, Template } from '../format/index.js';
import { printInspected } from '../inspect-output.js';
import { humanSizeWithPrecision, sinceUnix, goTimeString } from '../format/units.js';
import { ellipsis, parseFilters, registryAuthHeader, truncateId } from './images.js';

const path = (name: string) => encodeURIComponent(name);

// ---------------------------------------------------------------- option parsing

const UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** go-units RAMInBytes: "512m", "1g", "1.5GB", "1024" (binary multiples). */
export function ramInBytes(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtpb]?)(?:i?b)?$/i.exec(value.trim());
  if (!m) throw new UsageError(`invalid argument "${value}" for "${flag}" flag: invalid size: '${value}'`);
  return Math.trunc(Number(m[1]) * (UNITS[(m[2] || 'b').toLowerCase()] ?? 1));
}

function intFlag(flags: FlagValues, name: string): number | undefined {
  const v = str(flags, name);
  if (v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`invalid argument "${v}" for "--${name}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

/** KEY=VALUE stays; a bare KEY takes the CLI's own environment value, or is dropped when unset (as docker). */
function envEntry(entry: string): string | undefined {
  if (entry.includes('=')) return entry;
  const value = process.env[entry];
  return value === undefined ? undefined : `${entry}=${value}`;
}

async function envFiles(files: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new CliError(`open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`, 125);
    }
    for (const raw of text.split('\n')) {
      const line = raw.replace(/^\s+/, '').replace(/\r$/, '');
      if (line === '' || line.startsWith('#')) continue;
      const entry = envEntry(line);
      if (entry !== undefined) out.push(entry);
    }
  }
  return out;
}

function labelsOf(values: readonly string[]): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const labels: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    labels[eq < 0 ? v : v.slice(0, eq)] = eq < 0 ? '' : v.slice(eq + 1);
  }
  return labels;
}

function restartPolicy(value: string): { Name: 'no' | 'always' | 'unless-stopped' | 'on-failure'; MaximumRetryCount: number } | undefined {
  if (!value) return undefined;
  const [name, count] = value.split(':');
  if (name !== 'no' && name !== 'always' && name !== 'unless-stopped' && name !== 'on-failure') {
    throw new UsageError(`invalid restart policy format: ${value}`);
  }
  if (count !== undefined && name !== 'on-failure') throw new UsageError(`invalid restart policy format: maximum retry count can only be used with 'on-failure'`);
  return { Name: name, MaximumRetryCount: count ? Number(count) : 0 };
}

function ulimits(values: readonly string[]): { Name: string; Soft: number; Hard: number }[] | undefined {
  if (values.length === 0) return undefined;
  return values.map((v) => {
    const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(v);
    if (!m) throw new UsageError(`invalid argument "${v}" for "--ulimit" flag: invalid ulimit argument: ${v}`);
    const soft = Number(m[2]);
    return { Name: m[1] as string, Soft: soft, Hard: m[3] === undefined ? soft : Number(m[3]) };
  });
}

function tmpfs(values: readonly string[]): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const colon = v.indexOf(':');
    out[colon < 0 ? v : v.slice(0, colon)] = colon < 0 ? '' : v.slice(colon + 1);
  }
  return out;
}

/** -v: SRC:DST[:opts] (SRC a host path or a volume name) goes to Binds; a lone /DST is an anonymous volume (Config.Volumes). */
function binds(values: readonly string[]): { binds?: string[]; volumes?: Record<string, object> } {
  const out: { binds?: string[]; volumes?: Record<string, object> } = {};
  for (const v of values) {
    const parts = v.split(':');
    if (parts.length === 1 && v.startsWith('/')) {
      (out.volumes ??= {})[v] = {};
      continue;
    }
    if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) {
      throw new UsageError(`invalid argument "${v}" for "-v, --volume" flag: invalid spec: ${v}`);
    }
    if (!parts[1].startsWith('/')) throw new UsageError(`invalid argument "${v}" for "-v, --volume" flag: invalid mount path: '${parts[1]}' mount path must be absolute`);
    (out.binds ??= []).push(v);
  }
  return out;
}

const nonEmpty = (values: string[]): string[] | undefined => (values.length ? values : undefined);

/** The POST /containers/create body for the run/create flags; `args` is IMAGE [COMMAND [ARG...]]. */
export async function createBody(flags: FlagValues, args: readonly string[]): Promise<Record<string, unknown>> {
  const [image, ...cmd] = args;
  const env = [...(await envFiles(list(flags, 'env-file'))), ...list(flags, 'env').map(envEntry).filter((e): e is string => e !== undefined)];
  const interactive = bool(flags, 'interactive');
  const volumeFlags = binds(list(flags, 'volume'));
  const hostConfig: Record<string, unknown> = {
    Binds: volumeFlags.binds,
    Tmpfs: tmpfs(list(flags, 'tmpfs')),
    NetworkMode: str(flags, 'network') || str(flags, 'net') || 'default',
    RestartPolicy: restartPolicy(str(flags, 'restart')) ?? { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: bool(flags, 'rm'),
    CapAdd: nonEmpty(list(flags, 'cap-add')),
    CapDrop: nonEmpty(list(flags, 'cap-drop')),
    GroupAdd: nonEmpty(list(flags, 'group-add')),
    Privileged: bool(flags, 'privileged'),
    ReadonlyRootfs: bool(flags, 'read-only'),
    SecurityOpt: nonEmpty(list(flags, 'security-opt')),
    Ulimits: ulimits(list(flags, 'ulimit')),
    CpusetCpus: str(flags, 'cpuset-cpus') || undefined,
    CpuShares: intFlag(flags, 'cpu-shares'),
    PidsLimit: intFlag(flags, 'pids-limit'),
  };
  if (bool(flags, 'init')) hostConfig.Init = true;
  if (str(flags, 'memory')) hostConfig.Memory = ramInBytes(str(flags, 'memory'), '--memory');
  const swap = str(flags, 'memory-swap');
  if (swap) hostConfig.MemorySwap = swap === '-1' ? -1 : ramInBytes(swap, '--memory-swap');
  const cpus = str(flags, 'cpus');
  if (cpus) {
    const n = Number(cpus);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`invalid argument "${cpus}" for "--cpus" flag: failed to parse ${cpus} as a rational number`);
    hostConfig.NanoCpus = Math.round(n * 1e9);
  }
  if (hostConfig.AutoRemove && (hostConfig.RestartPolicy as { Name: string }).Name !== 'no') {
    throw new CliError('Conflicting options: --restart and --rm', 125);
  }
  const entrypoint = str(flags, 'entrypoint');
  const body: Record<string, unknown> = {
    Hostname: str(flags, 'hostname'),
    User: str(flags, 'user'),
    AttachStdin: interactive,
    AttachStdout: !bool(flags, 'detach'),
    AttachStderr: !bool(flags, 'detach'),
    Tty: bool(flags, 'tty'),
    OpenStdin: interactive,
    StdinOnce: interactive && !bool(flags, 'detach'),
    Env: env,
    Cmd: cmd.length ? cmd : null,
    Image: image,
    WorkingDir: str(flags, 'workdir'),
    // An empty --entrypoint cannot be told from none by the flag parser, so it keeps the image's.
    Entrypoint: entrypoint ? [entrypoint] : null,
    Labels: labelsOf(list(flags, 'label')) ?? {},
    HostConfig: hostConfig,
  };
  if (volumeFlags.volumes) body.Volumes = volumeFlags.volumes;
  if (str(flags, 'stop-signal')) body.StopSignal = str(flags, 'stop-signal');
  const stopTimeout = intFlag(flags, 'stop-timeout');
  if (stopTimeout !== undefined) body.StopTimeout = stopTimeout;
  return body;
}

// ---------------------------------------------------------------- create (with docker's pull on "No such image")

async function pullImage(ctx: CommandContext, image: string, platform: string): Promise<void> {
  const ref = withDefaultTag(parseReference(image));
  const res = await ctx.client().request('POST', '/images/create', {
    query: { fromImage: fullName(ref), tag: ref.digest ?? ref.tag, platform: platform || undefined },
    headers: await registryAuthHeader(ctx, ref.domain),
  });
  // docker run shows the pull on stderr, so stdout carries only the container's output.
  await displayJSONMessages(jsonStream<JSONMessage>(res), (t) => ctx.stderr.write(t), {
    isTerminal: ctx.stderr.isTTY === true,
    width: ctx.stderr.columns || 200,
    now: () => Date.now() / 1000,
  });
}

/** POST /containers/create; --pull missing pulls on "No such image" and retries. Errors exit 125. */
async function createContainer(ctx: CommandContext, flags: FlagValues, args: readonly string[]): Promise<string> {
  const pull = str(flags, 'pull') || 'missing';
  if (!['missing', 'never', 'always'].includes(pull)) throw new CliError(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`, 125);
  const body = JSON.stringify(await createBody(flags, args));
  const image = args[0] as string;
  const platform = str(flags, 'platform');
  const query = { name: str(flags, 'name') || undefined, platform: platform || undefined };
  const create = () => ctx.client().json<{ Id: string; Warnings?: string[] | null }>('POST', '/containers/create', { query, body });
  try {
    if (pull === 'always') await pullImage(ctx, image, platform);
    let created: { Id: string; Warnings?: string[] | null };
    try {
      created = await create();
    } catch (err) {
      if (!(pull === 'missing' && err instanceof ApiError && err.status === 404 && /No such image/i.test(err.message))) throw err;
      ctx.stderr.write(`Unable to find image '${referenceString(withDefaultTag(parseReference(image)), true)}' locally\n`);
      await pullImage(ctx, image, platform);
      created = await create();
    }
    for (const w of created.Warnings ?? []) ctx.stderr.write(`WARNING: ${w}\n`);
    return created.Id;
  } catch (err) {
    throw daemonError(err, 125);
  }
}

function daemonError(err: unknown, exitCode: number): unknown {
  if (err instanceof ApiError) return new CliError(`berth: Error response from daemon: ${err.message}`, exitCode);
  return err;
}

// ---------------------------------------------------------------- attach

/** Opens POST /containers/{id}/attach with docker's upgrade headers; resolves with the raw socket once 101 arrives. */
async function hijack(ctx: CommandContext, id: string, query: Record<string, QueryValue>): Promise<Duplex> {
  return hijackedPost(ctx, `/containers/${path(id)}/attach${buildQuery(query)}`);
}

/** stdcopy.StdCopy: split frames onto stdout/stderr until the stream ends (raw copy for a TTY). */
export async function demuxTo(stream: Readable, stdout: OutStream, stderr: OutStream, tty: boolean): Promise<void> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of stream) {
    const data = chunk as Buffer;
    if (tty) {
      stdout.write(data);
      continue;
    }
    buf = buf.length ? Buffer.concat([buf, data]) : data;
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      const kind = buf[0];
      const payload = buf.subarray(8, 8 + size);
      if (kind === 2) stderr.write(payload);
      else if (kind === 0 || kind === 1) stdout.write(payload);
      else throw new CliError(`Unrecognized input header: ${kind}`);
      buf = buf.subarray(8 + size);
    }
  }
}

/** POST wait; resolves once the header is in (the daemon is then watching) with the body's promise. */
async function startWait(ctx: CommandContext, id: string, condition: string): Promise<{ exit: Promise<number> }> {
  const res = await ctx.client().request('POST', `/containers/${path(id)}/wait`, { query: { condition } });
  // Wrapped: an async function returning a bare promise would wait for it.
  const exit = readAll(res).then((b) => {
    const body = JSON.parse(b.toString()) as { StatusCode: number; Error?: { Message?: string } | null };
    if (body.Error?.Message) throw new CliError(`berth: Error response from daemon: ${body.Error.Message}`, 125);
    return body.StatusCode;
  });
  return { exit };
}

/** docker's runStartContainerErr: 127 for a missing executable, 126 for one that cannot run, else 125. */
export function startErrorCode(message: string): number {
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(message)) return 127;
  if (/permission denied|is a directory/.test(message)) return 126;
  return 125;
}

/** Attach, wait, start, copy the output, and return the container's exit code. */
async function runAttached(ctx: CommandContext, id: string, opts: { tty: boolean; autoRemove: boolean; invoked: string }): Promise<number> {
  const stream = await hijack(ctx, id, { stream: true, stdout: true, stderr: true });
  // No stdin is forwarded yet: say so to the daemon by half-closing, as docker's CLI does without -i.
  if (typeof stream.end === 'function') stream.end(); // a plain (non-upgraded) reply is read-only
  const copied = demuxTo(stream, ctx.stdout, ctx.stderr, opts.tty);
  copied.catch(() => undefined);
  let exit: Promise<number>;
  try {
    ({ exit } = await startWait(ctx, id, opts.autoRemove ? 'removed' : 'next-exit'));
    exit.catch(() => undefined);
    await ctx.client().request('POST', `/containers/${path(id)}/start`).then(readAll);
  } catch (err) {
    stream.destroy();
    if (err instanceof ApiError) {
      throw new CliError(`berth: Error response from daemon: ${err.message}\n\nRun 'berth ${opts.invoked} --help' for more information`, startErrorCode(err.message));
    }
    throw err;
  }
  await copied;
  return exit;
}

// ---------------------------------------------------------------- run / create / start

export const run: Handler = async (ctx, { flags, args }) => {
  if (args.length === 0) throw new UsageError(`berth: 'berth run' requires at least 1 argument\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'berth run --help' for more information`, 1);
  const id = await createContainer(ctx, flags, args);
  if (bool(flags, 'detach')) {
    try {
      await ctx.client().request('POST', `/containers/${path(id)}/start`).then(readAll);
    } catch (err) {
      if (err instanceof ApiError) throw new CliError(`berth: Error response from daemon: ${err.message}`, startErrorCode(err.message));
      throw err;
    }
    ctx.stdout.write(`${id}\n`);
    return 0;
  }
  return runAttached(ctx, id, { tty: bool(flags, 'tty'), autoRemove: bool(flags, 'rm'), invoked: 'run' });
};

export const create: Handler = async (ctx, { flags, args }) => {
  ctx.stdout.write(`${await createContainer(ctx, flags, args)}\n`);
};

export const start: Handler = async (ctx, { flags, args }) => {
  if (bool(flags, 'attach')) {
    if (args.length > 1) throw new CliError('you cannot start and attach multiple containers at once');
    const info = await ctx.client().json<{ Id: string; Config?: { Tty?: boolean }; HostConfig?: { AutoRemove?: boolean } }>('GET', `/containers/${path(args[0] as string)}/json`);
    return runAttached(ctx, info.Id, { tty: info.Config?.Tty === true, autoRemove: info.HostConfig?.AutoRemove === true, invoked: 'start' });
  }
  return forEach(ctx, args, (name) => ctx.client().request('POST', `/containers/${path(name)}/start`));
};

// ---------------------------------------------------------------- stop, restart, kill, rm, wait

/** Runs `op` for each name, printing the name on success and docker's error line otherwise; exit 1 if any failed. */
export async function forEach(ctx: CommandContext, names: readonly string[], op: (name: string) => Promise<unknown>, print = (name: string) => `${name}\n`): Promise<number> {
  let failed = false;
  for (const name of names) {
    try {
      const res = await op(name);
      if (res && typeof (res as Readable).resume === 'function') await readAll(res as Readable);
      ctx.stdout.write(print(name));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      ctx.stderr.write(`Error response from daemon: ${err.message}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

function stopQuery(flags: FlagValues): Record<string, QueryValue> {
  const t = intFlag(flags, 'time') ?? intFlag(flags, 'timeout');
  return { t, signal: str(flags, 'signal') || undefined };
}

export const stop: Handler = async (ctx, { flags, args }) =>
  forEach(ctx, args, (name) => ctx.client().request('POST', `/containers/${path(name)}/stop`, { query: stopQuery(flags) }));

export const restart: Handler = async (ctx, { flags, args }) =>
  forEach(ctx, args, (name) => ctx.client().request('POST', `/containers/${path(name)}/restart`, { query: stopQuery(flags) }));

export const kill: Handler = async (ctx, { flags, args }) =>
  forEach(ctx, args, (name) => ctx.client().request('POST', `/containers/${path(name)}/kill`, { query: { signal: str(flags, 'signal') || undefined } }));

export const remove: Handler = async (ctx, { flags, args }) =>
  forEach(ctx, args, (name) =>
    ctx.client().request('DELETE', `/containers/${path(name)}`, { query: { force: bool(flags, 'force') || undefined, v: bool(flags, 'volumes') || undefined } }),
  );

export const wait: Handler = async (ctx, { args }) => {
  let failed = false;
  for (const name of args) {
    try {
      const code = await (await startWait(ctx, name, 'not-running')).exit;
      ctx.stdout.write(`${code}\n`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      ctx.stderr.write(`Error response from daemon: ${err.message}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
};

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

/** docker inspect: containers first, then images; `types` limits the kinds tried. */
async function inspectKinds(ctx: CommandContext, names: readonly string[], format: string, kinds: ('container' | 'image')[], size: boolean): Promise<number> {
  let tmpl: Template | undefined;
  if (format) {
    try {
      tmpl = Template.parse(format.replaceAll('\\t', '\t').replaceAll('\\n', '\n'));
    } catch (err) {
      throw new CliError(`template parsing error: ${(err as Error).message}`, 64);
    }
  }
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const name of names) {
    let hit: unknown;
    let lastError: ApiError | undefined;
    for (const kind of kinds) {
      try {
        hit =
          kind === 'container'
            ? await ctx.client().json<unknown>('GET', `/containers/${path(name)}/json`, { query: { size: size || undefined } })
            : await ctx.client().json<unknown>('GET', `/images/${path(name)}/json`);
        break;
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
        lastError = err;
      }
    }
    if (hit !== undefined) found.push(hit);
    else errors.push(kinds.length > 1 ? `Error: No such object: ${name}` : `Error response from daemon: ${lastError?.message ?? `No such object: ${name}`}`);
  }
  return printInspected(ctx, found, tmpl, errors);
}

export const inspectObjects: Handler = async (ctx, { flags, args }) => {
  const type = str(flags, 'type');
  if (type && type !== 'image' && type !== 'container') throw new CliError(`"${type}" is not a valid value for --type`);
  const kinds: ('container' | 'image')[] = type === 'image' || type === 'container' ? [type] : ['container', 'image'];
  return inspectKinds(ctx, args, str(flags, 'format'), kinds, bool(flags, 'size'));
};

export const inspectContainers: Handler = async (ctx, { flags, args }) => inspectKinds(ctx, args, str(flags, 'format'), ['container'], bool(flags, 'size'));
