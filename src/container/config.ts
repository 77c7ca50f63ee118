// Pure rules: the image config merged with a create request (moby
// daemon/create.go merge + getEntrypointAndArgs), docker's status strings
// (units.HumanDuration, State.String), signals, binds, /etc/hosts and
// resolv.conf contents.
import { constants } from 'node:os';
import { invalidArgument } from '../errors/index.js';
import type { ImageConfigBody } from '../image/index.js';
import type { BindMount, TmpfsMount } from '../runtime/index.js';
import type { ContainerConfig, ContainerState } from './records.js';
import { ZERO_TIME } from './records.js';
import type { CreateRequest, HostConfig } from './types.js';

const envKey = (e: string) => e.split('=', 1)[0] as string;

/** Image config + request, as dockerd merges them. */
export function mergeConfig(req: CreateRequest, image: ImageConfigBody | undefined): ContainerConfig {
  const img = image ?? {};
  const { HostConfig: _h, NetworkingConfig: _n, ...user } = req;
  const out: ContainerConfig = { ...user };
  if (!out.User) out.User = img.User ?? '';
  // Env: the image's, with the request's added on top (same key: the request wins, in the image's place).
  const reqEnv = user.Env ?? [];
  const reqKeys = new Map(reqEnv.map((e) => [envKey(e), e]));
  const env = (img.Env ?? []).map((e) => reqKeys.get(envKey(e)) ?? e);
  const have = new Set(env.map(envKey));
  for (const e of reqEnv) if (!have.has(envKey(e))) env.push(e);
  out.Env = env;
  out.Labels = { ...(img.Labels ?? {}), ...(user.Labels ?? {}) };
  if (img.ExposedPorts || user.ExposedPorts) out.ExposedPorts = { ...(img.ExposedPorts ?? {}), ...(user.ExposedPorts ?? {}) };
  if (img.Volumes || user.Volumes) out.Volumes = { ...(img.Volumes ?? {}), ...(user.Volumes ?? {}) };
  // A request entrypoint replaces the image's and takes only the request's Cmd;
  // without one, Cmd defaults to the image's, and an explicit empty entrypoint resets the image's.
  if (!user.Entrypoint || user.Entrypoint.length === 0) {
    if (!user.Cmd || user.Cmd.length === 0) out.Cmd = img.Cmd ?? null;
    out.Entrypoint = user.Entrypoint ?? img.Entrypoint ?? null;
  }
  if (!out.WorkingDir) out.WorkingDir = img.WorkingDir ?? '';
  if (!out.StopSignal && img.StopSignal) out.StopSignal = img.StopSignal;
  if (!out.Healthcheck && img.Healthcheck) out.Healthcheck = img.Healthcheck as CreateRequest['Healthcheck'];
  if (!out.Shell && img.Shell) out.Shell = img.Shell;
  out.Cmd ??= null;
  out.Entrypoint ??= null;
  out.Tty = !!out.Tty;
  out.OpenStdin = !!out.OpenStdin;
  out.StdinOnce = !!out.StdinOnce;
  out.AttachStdin = !!out.AttachStdin;
  out.AttachStdout = !!out.AttachStdout;
  out.AttachStderr = !!out.AttachStderr;
  out.Hostname ??= '';
  out.Domainname ??= '';
  return out;
}

/** Path and Args: entrypoint then cmd, split at the first word. */
export function entrypointAndArgs(config: ContainerConfig): { path: string; args: string[] } {
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  if (argv.length === 0) throw invalidArgument('No command specified');
  return { path: argv[0] as string, args: argv.slice(1) };
}

/** moby's go-units HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** docker's State.String(): the Status column of `docker ps`. */
function healthSuffix(s: ContainerState): string {
  switch (s.health?.Status) {
    case 'starting':
      return ' (health: starting)';
    case 'healthy':
      return ' (healthy)';
    case 'unhealthy':
      return ' (unhealthy)';
    default:
      return '';
  }
}

export function statusString(s: ContainerState, now = Date.now()): string {
  const since = (t: string) => humanDuration(Math.max(0, now - Date.parse(t)));
  switch (s.status) {
    case 'running':
      return `Up ${since(s.startedAt)}${healthSuffix(s)}`;
    case 'paused':
      return `Up ${since(s.startedAt)} (Paused)`;
    case 'restarting':
      return `Restarting (${s.exitCode}) ${since(s.finishedAt)} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    default:
      if (s.startedAt === ZERO_TIME) return 'Created';
      if (s.finishedAt === ZERO_TIME) return '';
      return `Exited (${s.exitCode}) ${since(s.finishedAt)} ago`;
  }
}

/** "SIGUSR1", "USR1", "usr1", "10" -> 10; invalid_argument otherwise. */
export function signalNumber(signal: string | number): number {
  if (typeof signal === 'number' || /^\d+$/.test(signal)) {
    const n = Number(signal);
    if (n > 0 && n < 65) return n;
  } else {
    const name = signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
    const n = (constants.signals as Record<string, number>)[name];
    if (n !== undefined) return n;
  }
  throw invalidArgument(`Invalid signal: ${signal}`);
}

const PROPAGATION = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);

/** HostConfig.Binds ("/src:/dst[:ro,rshared,...]"), Mounts (bind/tmpfs) and Tmpfs, for the spec. */
export function userMounts(hc: HostConfig): { binds: BindMount[]; tmpfs: TmpfsMount[] } {
  const binds: BindMount[] = [];
  const tmpfs: TmpfsMount[] = [];
  for (const spec of hc.Binds ?? []) {
    const [source = '', destination = '', opts = ''] = spec.split(':');
    if (!destination) throw invalidArgument(`invalid volume specification: '${spec}'`);
    if (!source.startsWith('/')) continue; // a named volume: volumeMounts() resolves it
    const bind: BindMount = { source, destination };
    for (const o of opts.split(',').filter(Boolean)) {
      if (o === 'ro') bind.readonly = true;
      else if (o === 'rw' || o === 'z' || o === 'Z' || o === 'nocopy') continue;
      else if (PROPAGATION.has(o)) bind.propagation = o;
      else throw invalidArgument(`invalid mode: ${o}`);
    }
    binds.push(bind);
  }
  for (const m of hc.Mounts ?? []) {
    if (m.Type === 'bind') {
      if (!m.Source?.startsWith('/')) throw invalidArgument(`invalid mount config for type "bind": invalid mount path: '${m.Source ?? ''}' mount path must be absolute`);
      const bind: BindMount = { source: m.Source, destination: m.Target, readonly: !!m.ReadOnly };
      if (m.BindOptions?.Propagation) bind.propagation = m.BindOptions.Propagation;
      if (m.BindOptions?.NonRecursive) bind.recursive = false;
      binds.push(bind);
    } else if (m.Type === 'volume') {
      continue; // volumeMounts() resolves it
    } else if (m.Type === 'tmpfs') {
      const options: string[] = [];
      if (m.TmpfsOptions?.SizeBytes) options.push(`size=${m.TmpfsOptions.SizeBytes}`);
      if (m.TmpfsOptions?.Mode) options.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
      if (m.ReadOnly) options.push('ro');
      tmpfs.push({ destination: m.Target, options });
    } else {
      throw invalidArgument(`mount type "${m.Type}" is not supported yet`);
    }
  }
  for (const [destination, opts] of Object.entries(hc.Tmpfs ?? {})) {
    tmpfs.push({ destination, options: opts ? opts.split(',') : [] });
  }
  return { binds, tmpfs };
}

/** A volume the container mounts, as the create request asks for it (name '' = a new anonymous volume). */
export interface VolumeRequest {
  name: string;
  destination: string;
  readonly: boolean;
  noCopy: boolean;
  labels?: Record<string, string>;
}

/**
 * The volumes of a container: `-v NAME:/dst[:opts]` binds, `type=volume` mounts, and
 * the Config.Volumes paths (`-v /dst`, image VOLUMEs) nothing else mounts (anonymous).
 */
export function volumeMounts(hc: HostConfig, volumes: Record<string, object> | null | undefined): VolumeRequest[] {
  const out: VolumeRequest[] = [];
  const taken = new Set<string>();
  for (const spec of hc.Binds ?? []) {
    const [source = '', destination = '', opts = ''] = spec.split(':');
    taken.add(destination);
    if (source.startsWith('/')) continue;
    if (!destination.startsWith('/')) throw invalidArgument(`invalid volume specification: '${spec}': invalid mount config: mount path must be absolute`);
    const modes = opts.split(',').filter(Boolean);
    out.push({ name: source, destination, readonly: modes.includes('ro'), noCopy: modes.includes('nocopy') });
  }
  for (const m of hc.Mounts ?? []) {
    taken.add(m.Target);
    if (m.Type !== 'volume') continue;
    if (!m.Target?.startsWith('/')) throw invalidArgument(`invalid mount config for type "volume": invalid mount path: '${m.Target ?? ''}' mount path must be absolute`);
    const v: VolumeRequest = { name: m.Source ?? '', destination: m.Target, readonly: !!m.ReadOnly, noCopy: !!m.VolumeOptions?.NoCopy };
    if (m.VolumeOptions?.Labels) v.labels = m.VolumeOptions.Labels;
    out.push(v);
  }
  for (const destination of Object.keys(volumes ?? {})) {
    if (taken.has(destination) || Object.keys(hc.Tmpfs ?? {}).includes(destination)) continue;
    if (!destination.startsWith('/')) throw invalidArgument(`invalid volume specification: '${destination}': invalid mount config: mount path must be absolute`);
    taken.add(destination);
    out.push({ name: '', destination, readonly: false, noCopy: false });
  }
  return out;
}

/** The container's /etc/hosts (docker's defaults for a network namespace of its own). */
export function hostsFile(hostname: string, extraHosts: readonly string[] = [], opts: { ip?: string; hostGateway?: string } = {}): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    // docker: the container's own address on its network, or loopback without one
    `${opts.ip ?? '127.0.0.1'}\t${hostname}`,
  ];
  for (const e of extraHosts) {
    const i = e.indexOf(':');
    if (i <= 0) throw invalidArgument(`invalid argument "${e}" for "--add-host" flag`);
    const addr = e.slice(i + 1);
    lines.push(`${addr === 'host-gateway' && opts.hostGateway ? opts.hostGateway : addr}\t${e.slice(0, i)}`);
  }
  return lines.join('\n') + '\n';
}

/** The host's resolv.conf without loopback nameservers (unreachable from a private network namespace), plus --dns/--dns-search. */
export function resolvConf(host: string, opts: { dns?: readonly string[]; search?: readonly string[]; keepLoopback?: boolean; options?: readonly string[] } = {}): string {
  let lines = host.split('\n');
  if (!opts.keepLoopback) lines = lines.filter((l) => !/^\s*nameserver\s+(127\.\S*|::1)\s*$/.test(l));
  if (opts.dns?.length) lines = [...lines.filter((l) => !/^\s*nameserver\s/.test(l)), ...opts.dns.map((d) => `nameserver ${d}`)];
  if (opts.search?.length) lines = [...lines.filter((l) => !/^\s*(search|domain)\s/.test(l)), `search ${opts.search.join(' ')}`];
  if (opts.options?.length) lines = [...lines.filter((l) => !/^\s*options\s/.test(l)), `options ${opts.options.join(' ')}`];
  return lines.filter((l, i, all) => l.trim() !== '' || i < all.length - 1).join('\n').replace(/\n*$/, '\n');
}
