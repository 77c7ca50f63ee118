// run, create and start: the create body from docker's run flags, docker's pull
// on "No such image", and the detached start. What only an attached session or a
// pull needs is imported when it is needed, so `run -d` loads little.
import { readFile } from 'node:fs/promises';
import { ApiError, readAll } from '../client.js';
import { CliError, str, bool, list, intFlag, type Handler, type CommandContext } from '../context.js';
import { UsageError, type FlagValues } from '../args.js';
import { forEach } from './lifecycle.js';
import {
  FlagError,
  healthcheck,
  ramInBytes,
  parseExtraHost,
  parseLogOpts,
  parseMount,
  parsePorts,
  parseSysctls,
  securityOpts,
  validateDns,
} from '../runflags.js';

const path = (name: string) => encodeURIComponent(name);

// ---------------------------------------------------------------- option parsing

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

/** KEY<sep>VALUE pairs as a map (a bare KEY maps to ''); undefined when none were given: --label (=), --tmpfs (:). */
function keyValues(values: readonly string[], sep: string): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const at = v.indexOf(sep);
    out[at < 0 ? v : v.slice(0, at)] = at < 0 ? '' : v.slice(at + 1);
  }
  return out;
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
    Tmpfs: keyValues(list(flags, 'tmpfs'), ':'),
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
    Labels: keyValues(list(flags, 'label'), '=') ?? {},
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

/** docker run's pull, shown on stderr; its modules (references, progress) load only for a pull. */
async function pullImage(ctx: CommandContext, image: string, platform: string, missing: boolean): Promise<void> {
  const { pullForRun } = await import('./images.js');
  await pullForRun(ctx, image, platform, missing);
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
    if (pull === 'always') await pullImage(ctx, image, platform, false);
    let created: { Id: string; Warnings?: string[] | null };
    try {
      created = await create();
    } catch (err) {
      if (!(pull === 'missing' && err instanceof ApiError && err.status === 404 && /No such image/i.test(err.message))) throw err;
      await pullImage(ctx, image, platform, true);
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
export function checkTty(ctx: CommandContext, attachStdin: boolean, tty: boolean): void {
  if (tty && attachStdin && !ctx.stdin.isTTY) throw new CliError('the input device is not a TTY', 1);
}

// ---------------------------------------------------------------- run / create / start / attach

export const run: Handler = async (ctx, { flags, args }) => {
  if (args.length === 0) throw new UsageError(`berth: 'berth run' requires at least 1 argument\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'berth run --help' for more information`, 1);
  const detach = bool(flags, 'detach');
  const tty = bool(flags, 'tty');
  const interactive = bool(flags, 'interactive');
  if (!detach) checkTty(ctx, interactive, tty);
  // The attached session's modules load while the create is in flight.
  const attachedSession = detach ? undefined : import('./attached.js');
  attachedSession?.catch(() => undefined);
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
  const { runAttached } = await (attachedSession ?? import('./attached.js'));
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

export interface AttachTarget {
  Id: string;
  State?: { Running?: boolean; Paused?: boolean; Restarting?: boolean };
  Config?: { Tty?: boolean; OpenStdin?: boolean };
  HostConfig?: { AutoRemove?: boolean };
}

export const start: Handler = async (ctx, { flags, args }) => {
  if (bool(flags, 'attach') || bool(flags, 'interactive')) {
    if (args.length > 1) throw new CliError('you cannot start and attach multiple containers at once');
    const info = await ctx.client().json<AttachTarget>('GET', `/containers/${path(args[0] as string)}/json`);
    const { runAttached } = await import('./attached.js');
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

