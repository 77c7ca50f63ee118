// Container commands: run, create, start, stop, restart, kill, rm, ps, logs,
// wait, inspect. Flags and output follow the docker CLI; attach uses the
// Engine API's connection hijack and stdcopy demultiplexing.
import { readFile } from 'node:fs/promises';
import type { Duplex, Readable } from 'node:stream';
import { ApiError, buildQuery, jsonStream, readAll, type QueryValue } from '../client.js';
import { hijackedPost } from '../hijack.js';
import { CliError, str, bool, list, type Handler, type CommandContext } from '../context.js';
import { UsageError, type FlagValues } from '../args.js';
import { displayJSONMessages, type JSONMessage } from '../jsonmessage.js';
import { parseReference, withDefaultTag, referenceString, fullName } from '../reference.js';
import { formatList, context } from '../format/index.js';
import { inspectEach } from '../inspect-output.js';
import { humanSizeWithPrecision, sinceUnix, goTimeString } from '../format/units.js';
import { ellipsis, parseFilters, registryAuthHeader, truncateId } from './images.js';
import { demuxTo, makeRaw, monitorTtySize, proxySignals, pumpSession } from '../session.js';
import { detachKeysFor } from '../detachkeys.js';
import {
  FlagError,
  healthcheck,
  parseExtraHost,
  parseLogOpts,
  parseMount,
  parsePorts,
  parseSysctls,
  securityOpts,
  validateDns,
} from '../runflags.js';

export { demuxTo };

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

const nonEmpty = <T>(values: T[]): T[] | undefined => (values.length ? values : undefined);

/** The POST /containers/create body for the run/create flags; `args` is IMAGE [COMMAND [ARG...]]. FlagError for docker's "docker: ..." failures. */
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
    SecurityOpt: nonEmpty(await securityOpts(list(flags, 'security-opt'))),
    Ulimits: ulimits(list(flags, 'ulimit')),
    CpusetCpus: str(flags, 'cpuset-cpus') || undefined,
    CpusetMems: str(flags, 'cpuset-mems') || undefined,
    CpuShares: intFlag(flags, 'cpu-shares'),
    CpuPeriod: intFlag(flags, 'cpu-period'),
    CpuQuota: intFlag(flags, 'cpu-quota'),
    PidsLimit: intFlag(flags, 'pids-limit'),
    Mounts: nonEmpty(list(flags, 'mount').map(parseMount)),
    ExtraHosts: nonEmpty(list(flags, 'add-host').map(parseExtraHost)),
    Dns: nonEmpty(list(flags, 'dns').map(validateDns)),
    DnsSearch: nonEmpty(list(flags, 'dns-search')),
    DnsOptions: nonEmpty(list(flags, 'dns-option')),
    Sysctls: parseSysctls(list(flags, 'sysctl')),
  };
  const ports = parsePorts(list(flags, 'publish'), list(flags, 'expose'));
  if (Object.keys(ports.portBindings).length) hostConfig.PortBindings = ports.portBindings;
  if (bool(flags, 'publish-all')) hostConfig.PublishAllPorts = true;
  if (str(flags, 'log-driver') || list(flags, 'log-opt').length) {
    hostConfig.LogConfig = { Type: str(flags, 'log-driver'), Config: parseLogOpts(list(flags, 'log-opt')) };
  }
  if (str(flags, 'memory-reservation')) hostConfig.MemoryReservation = ramInBytes(str(flags, 'memory-reservation'), '--memory-reservation');
  if (bool(flags, 'oom-kill-disable')) hostConfig.OomKillDisable = true;
  if (str(flags, 'shm-size')) hostConfig.ShmSize = ramInBytes(str(flags, 'shm-size'), '--shm-size');
  const health = healthcheck({
    cmd: str(flags, 'health-cmd'),
    interval: str(flags, 'health-interval'),
    timeout: str(flags, 'health-timeout'),
    startPeriod: str(flags, 'health-start-period'),
    startInterval: str(flags, 'health-start-interval'),
    retries: str(flags, 'health-retries'),
    none: bool(flags, 'no-healthcheck'),
  });
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
  // --network-alias and --ip belong to the endpoint on the --network network (docker's EndpointsConfig)
  const aliases = list(flags, 'network-alias');
  const ip = str(flags, 'ip');
  if (aliases.length || ip) {
    const network = (hostConfig.NetworkMode as string) || 'default';
    if (network === 'default' || network === 'bridge' || network === 'host' || network === 'none') {
      throw new CliError(aliases.length ? 'network-scoped aliases are only supported for user-defined networks' : 'user specified IP address is supported on user defined networks only', 125);
    }
    const endpoint: Record<string, unknown> = {};
    if (aliases.length) endpoint.Aliases = aliases;
    if (ip) endpoint.IPAMConfig = { IPv4Address: ip };
    body.NetworkingConfig = { EndpointsConfig: { [network]: endpoint } };
  }
  if (Object.keys(ports.exposedPorts).length) body.ExposedPorts = ports.exposedPorts;
  if (health) body.Healthcheck = health;
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
async function createContainer(ctx: CommandContext, flags: FlagValues, args: readonly string[], command: string): Promise<string> {
  const pull = str(flags, 'pull') || 'missing';
  if (!['missing', 'never', 'always'].includes(pull)) throw new CliError(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`, 125);
  let request: Record<string, unknown>;
  try {
    request = await createBody(flags, args);
  } catch (err) {
    if (err instanceof FlagError) throw new CliError(`berth: ${err.message}\n\nRun 'berth ${command} --help' for more information`, 125);
    throw err;
  }
  // A TTY starts at the terminal's size (docker's ConsoleSize), before the first resize.
  const { rows, columns } = ctx.stdout;
  if (request.Tty === true && ctx.stdout.isTTY && rows && columns) (request.HostConfig as Record<string, unknown>).ConsoleSize = [rows, columns];
  const body = JSON.stringify(request);
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

export interface AttachOptions {
  tty: boolean;
  /** Forward the CLI's stdin (-i / OpenStdin). */
  stdin: boolean;
  /** --detach-keys as given ('' for the default). */
  detachKeys: string;
  /** Forward the CLI's signals to the container (no TTY only, as docker). */
  sigProxy: boolean;
}

/** docker's CheckTty: a TTY session with input needs a terminal on stdin. */
function checkTty(ctx: CommandContext, attachStdin: boolean, tty: boolean): void {
  if (tty && attachStdin && !ctx.stdin.isTTY) throw new CliError('the input device is not a TTY', 1);
}

/** --sig-proxy without a TTY; set up before attaching, as docker, so no signal slips by between start and the stream. */
function signalProxy(ctx: CommandContext, id: string, opts: AttachOptions): () => void {
  if (!opts.sigProxy || opts.tty) return () => undefined;
  return proxySignals((signal) => ctx.client().request('POST', `/containers/${path(id)}/kill`, { query: { signal } }).then(readAll));
}

/** The client side of an attached session: raw terminal, resizes, and the stream pump. */
async function attachSession(
  ctx: CommandContext,
  conn: Duplex,
  opts: AttachOptions & { resize: (height: number, width: number) => Promise<unknown> },
): Promise<{ detached: boolean }> {
  const restoreTerminal = opts.tty && opts.stdin ? makeRaw(ctx.stdin) : () => undefined;
  const stopResize = opts.tty && ctx.stdout.isTTY ? monitorTtySize(ctx.stdout, opts.resize) : () => undefined;
  try {
    return await pumpSession({
      conn,
      tty: opts.tty,
      stdout: ctx.stdout,
      stderr: ctx.stderr,
      stdin: opts.stdin ? ctx.stdin : undefined,
      detachKeys: opts.tty && opts.stdin ? detachKeysFor(opts.detachKeys, (w) => ctx.stderr.write(`${w}\n`)) : undefined,
    });
  } finally {
    stopResize();
    restoreTerminal();
  }
}

const containerResize = (ctx: CommandContext, id: string) => (height: number, width: number) =>
  ctx.client().request('POST', `/containers/${path(id)}/resize`, { query: { h: height, w: width } }).then(readAll);

/** Attach, wait, start, copy the streams, and return the container's exit code (0 after a detach). */
async function runAttached(ctx: CommandContext, id: string, opts: AttachOptions & { autoRemove: boolean; invoked: string }): Promise<number> {
  const stopProxy = signalProxy(ctx, id, opts);
  try {
    // The attach and the wait are both in place before the start; they are set up at once.
    const attaching = hijack(ctx, id, { stream: true, stdin: opts.stdin || undefined, stdout: true, stderr: true, detachKeys: opts.detachKeys || undefined });
    const waiting = startWait(ctx, id, opts.autoRemove ? 'removed' : 'next-exit');
    const [attached, waited] = await Promise.allSettled([attaching, waiting]);
    if (attached.status === 'rejected') {
      if (waited.status === 'fulfilled') waited.value.exit.catch(() => undefined);
      throw attached.reason;
    }
    const conn = attached.value;
    let exit: Promise<number>;
    try {
      if (waited.status === 'rejected') throw waited.reason;
      ({ exit } = waited.value);
      exit.catch(() => undefined);
      await ctx.client().request('POST', `/containers/${path(id)}/start`).then(readAll);
    } catch (err) {
      conn.destroy();
      if (err instanceof ApiError) {
        throw new CliError(`berth: Error response from daemon: ${err.message}\n\nRun 'berth ${opts.invoked} --help' for more information`, startErrorCode(err.message));
      }
      throw err;
    }
    const { detached } = await attachSession(ctx, conn, { ...opts, resize: containerResize(ctx, id) });
    // Detached: the container keeps running and docker prints nothing.
    if (detached) return 0;
    return await exit;
  } finally {
    stopProxy();
  }
}

// ---------------------------------------------------------------- run / create / start / attach

export const run: Handler = async (ctx, { flags, args }) => {
  if (args.length === 0) throw new UsageError(`berth: 'berth run' requires at least 1 argument\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'berth run --help' for more information`, 1);
  const detach = bool(flags, 'detach');
  const tty = bool(flags, 'tty');
  const interactive = bool(flags, 'interactive');
  if (!detach) checkTty(ctx, interactive, tty);
  const id = await createContainer(ctx, flags, args, 'run');
  if (detach) {
    try {
      await ctx.client().request('POST', `/containers/${path(id)}/start`).then(readAll);
    } catch (err) {
      if (err instanceof ApiError) throw new CliError(`berth: Error response from daemon: ${err.message}`, startErrorCode(err.message));
      throw err;
    }
    ctx.stdout.write(`${id}\n`);
    return 0;
  }
  return runAttached(ctx, id, {
    tty,
    stdin: interactive,
    detachKeys: str(flags, 'detach-keys'),
    sigProxy: flags['sig-proxy'] !== false,
    autoRemove: bool(flags, 'rm'),
    invoked: 'run',
  });
};

export const create: Handler = async (ctx, { flags, args }) => {
  ctx.stdout.write(`${await createContainer(ctx, flags, args, 'create')}\n`);
};

interface AttachTarget {
  Id: string;
  State?: { Running?: boolean; Paused?: boolean; Restarting?: boolean };
  Config?: { Tty?: boolean; OpenStdin?: boolean };
  HostConfig?: { AutoRemove?: boolean };
}

export const start: Handler = async (ctx, { flags, args }) => {
  if (bool(flags, 'attach') || bool(flags, 'interactive')) {
    if (args.length > 1) throw new CliError('you cannot start and attach multiple containers at once');
    const info = await ctx.client().json<AttachTarget>('GET', `/containers/${path(args[0] as string)}/json`);
    return runAttached(ctx, info.Id, {
      tty: info.Config?.Tty === true,
      stdin: bool(flags, 'interactive') && info.Config?.OpenStdin === true,
      detachKeys: str(flags, 'detach-keys'),
      sigProxy: true,
      autoRemove: info.HostConfig?.AutoRemove === true,
      invoked: 'start',
    });
  }
  return forEach(ctx, args, (name) => ctx.client().request('POST', `/containers/${path(name)}/start`));
};

/** docker attach: to a running container; exit code the container's, "read escape sequence" (exit 1) after a detach. */
export const attach: Handler = async (ctx, { flags, args }) => {
  const name = args[0] as string;
  const check = async () => {
    const info = await ctx.client().json<AttachTarget>('GET', `/containers/${path(name)}/json`);
    if (!info.State?.Running) throw new CliError('You cannot attach to a stopped container, start it first');
    if (info.State.Paused) throw new CliError('You cannot attach to a paused container, unpause it first');
    if (info.State.Restarting) throw new CliError('You cannot attach to a restarting container, wait until it is running');
    return info;
  };
  const info = await check();
  const tty = info.Config?.Tty === true;
  const stdin = !bool(flags, 'no-stdin') && info.Config?.OpenStdin === true;
  checkTty(ctx, !bool(flags, 'no-stdin'), tty);
  const detachKeys = str(flags, 'detach-keys');
  const opts: AttachOptions = { tty, stdin, detachKeys, sigProxy: flags['sig-proxy'] !== false };
  const stopProxy = signalProxy(ctx, info.Id, opts);
  try {
    const conn = await hijack(ctx, info.Id, { stream: true, stdin: stdin || undefined, stdout: true, stderr: true, detachKeys: detachKeys || undefined });
    try {
      await check(); // it may have stopped meanwhile: the stream would then never end
    } catch (err) {
      conn.destroy();
      throw err;
    }
    const resize = containerResize(ctx, info.Id);
    // docker resizes to one more first, so a re-attached shell redraws its prompt.
    if (tty && ctx.stdout.isTTY && ctx.stdout.rows && ctx.stdout.columns) await resize(ctx.stdout.rows + 1, ctx.stdout.columns + 1).catch(() => undefined);
    const { detached } = await attachSession(ctx, conn, { ...opts, resize });
    if (detached) throw new CliError('read escape sequence');
    return await (await startWait(ctx, info.Id, 'not-running')).exit;
  } finally {
    stopProxy();
  }
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
