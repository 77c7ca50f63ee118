// Parsers for docker run/create flags whose syntax is more than a string:
// --mount CSV, -p/--expose port specs, Go durations for health checks,
// --add-host, --sysctl, --log-opt, --dns, and --security-opt seccomp=<file>.
// Error texts are docker's: "invalid argument ... for ... flag: ..." ones are
// UsageErrors (exit 125 with usage); the others are FlagError, which the
// command prints as "berth: <msg>" with a help hint, exit 125.
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { UsageError } from './args.js';

/** A run/create validation failure docker reports as "docker: <message>" (exit 125). */
export class FlagError extends Error {
  override name = 'FlagError';
}

const invalidArgument = (value: string, flag: string, message: string) => new UsageError(`invalid argument "${value}" for "${flag}" flag: ${message}`);

const BOOL_TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const BOOL_FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

// ---------------------------------------------------------------- --mount

export interface MountSpec {
  Type: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; Subpath?: string; DriverConfig: { Name?: string; Options?: Record<string, string> } };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** encoding/csv's reading of one record: commas split, double quotes group ("" is a quote). */
export function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

const SIZE_UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** go-units RAMInBytes, or undefined when the text is not a size. */
export function sizeInBytes(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtpb]?)(?:i?b)?$/i.exec(value.trim());
  if (!m) return undefined;
  return Math.trunc(Number(m[1]) * (SIZE_UNITS[(m[2] || 'b').toLowerCase()] ?? 1));
}

function mountError(spec: string, message: string): UsageError {
  return invalidArgument(spec, '--mount', message);
}

/** docker's --mount CSV -> a HostConfig.Mounts entry (type defaults to volume; the daemon validates the rest). */
export function parseMount(spec: string): MountSpec {
  const mount: MountSpec = { Type: 'volume' };
  const bindOptions = () => (mount.BindOptions ??= {});
  const volumeOptions = () => (mount.VolumeOptions ??= { DriverConfig: {} });
  const tmpfsOptions = () => (mount.TmpfsOptions ??= {});
  const parseBool = (key: string, value: string) => {
    if (BOOL_TRUE.has(value)) return true;
    if (BOOL_FALSE.has(value)) return false;
    throw mountError(spec, `invalid value for ${key}: ${value}`);
  };
  for (const field of csvFields(spec)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    if (value === undefined) {
      // Only the boolean options may stand alone.
      if (key === 'readonly' || key === 'ro') mount.ReadOnly = true;
      else if (key === 'bind-nonrecursive') bindOptions().NonRecursive = true;
      else if (key === 'volume-nocopy') volumeOptions().NoCopy = true;
      else throw mountError(spec, `invalid field '${field}' must be a key=value pair`);
      continue;
    }
    switch (key) {
      case 'type':
        mount.Type = value;
        break;
      case 'source':
      case 'src':
        mount.Source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        mount.Target = value;
        break;
      case 'readonly':
      case 'ro':
        mount.ReadOnly = parseBool(key, value);
        break;
      case 'bind-propagation':
        bindOptions().Propagation = value.toLowerCase();
        break;
      case 'bind-nonrecursive':
        bindOptions().NonRecursive = parseBool(key, value);
        break;
      case 'volume-nocopy':
        volumeOptions().NoCopy = parseBool(key, value);
        break;
      case 'volume-subpath':
        volumeOptions().Subpath = value;
        break;
      case 'volume-driver':
        volumeOptions().DriverConfig.Name = value;
        break;
      case 'volume-label': {
        const [k = '', v = ''] = splitOnce(value, '=');
        (volumeOptions().Labels ??= {})[k] = v;
        break;
      }
      case 'volume-opt': {
        const [k = '', v = ''] = splitOnce(value, '=');
        (volumeOptions().DriverConfig.Options ??= {})[k] = v;
        break;
      }
      case 'tmpfs-size': {
        const size = sizeInBytes(value);
        if (size === undefined) throw mountError(spec, `invalid value for ${key}: ${value}`);
        tmpfsOptions().SizeBytes = size;
        break;
      }
      case 'tmpfs-mode': {
        if (!/^[0-7]+$/.test(value)) throw mountError(spec, `invalid value for ${key}: ${value}`);
        tmpfsOptions().Mode = parseInt(value, 8);
        break;
      }
      default:
        throw mountError(spec, `unexpected key '${key}' in '${field}'`);
    }
  }
  if (!mount.Target) throw mountError(spec, 'target is required');
  if (mount.VolumeOptions && mount.Type !== 'volume') throw mountError(spec, `cannot mix 'volume-*' options with mount type '${mount.Type}'`);
  if (mount.BindOptions && mount.Type !== 'bind') throw mountError(spec, `cannot mix 'bind-*' options with mount type '${mount.Type}'`);
  if (mount.TmpfsOptions && mount.Type !== 'tmpfs') throw mountError(spec, `cannot mix 'tmpfs-*' options with mount type '${mount.Type}'`);
  return mount;
}

function splitOnce(text: string, sep: string): [string, string | undefined] {
  const i = text.indexOf(sep);
  return i < 0 ? [text, undefined] : [text.slice(0, i), text.slice(i + sep.length)];
}

// ---------------------------------------------------------------- ports

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

export interface PortSpecs {
  exposedPorts: Record<string, Record<string, never>>;
  portBindings: Record<string, PortBinding[]>;
}

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

/** nat.ParsePortRange; throws Go's strconv text. */
function portRange(text: string): [number, number] {
  const check = (p: string): number => {
    if (!/^\d+$/.test(p)) throw new Error(`strconv.ParseUint: parsing "${p}": invalid syntax`);
    const n = Number(p);
    if (n > 65535) throw new Error(`strconv.ParseUint: parsing "${p}": value out of range`);
    return n;
  };
  if (text === '') throw new Error('empty string specified for ports');
  const [start, end] = splitOnce(text, '-');
  const s = check(start);
  const e = end === undefined ? s : check(end);
  if (e < s) throw new Error(`invalid range specified for port: ${text}`);
  return [s, e];
}

/** nat.SplitProtoPort: "80/udp" -> ["udp", "80"]; the protocol defaults to tcp. */
function protoPort(text: string): [string, string] {
  const [port, proto] = splitOnce(text, '/');
  return [proto === undefined || proto === '' ? 'tcp' : proto, port];
}

/** nat.ParsePortSpec for one -p value: [ip:][hostPort:]containerPort[/proto], ranges allowed. */
export function parsePortSpec(raw: string): { port: string; binding: PortBinding }[] {
  const parts = raw.split(':');
  const n = parts.length;
  const rawContainer = parts[n - 1] as string;
  const hostPort = n >= 2 ? (parts[n - 2] as string) : '';
  let ip = n >= 3 ? parts.slice(0, n - 2).join(':') : '';
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip !== '' && isIP(ip) === 0) throw new FlagError(`invalid IP address: ${ip}`);
  const [proto, containerPort] = protoPort(rawContainer);
  if (containerPort === '') throw new FlagError(`no port specified: ${rawContainer}<empty>`);
  let start: number, end: number;
  try {
    [start, end] = portRange(containerPort);
  } catch {
    throw new FlagError(`invalid containerPort: ${containerPort}`);
  }
  let hostStart = 0;
  let hostEnd = 0;
  if (hostPort !== '') {
    try {
      [hostStart, hostEnd] = portRange(hostPort);
    } catch {
      throw new FlagError(`invalid hostPort: ${hostPort}`);
    }
  }
  // A host range for one container port is the range to allocate from.
  if (hostPort !== '' && end - start !== hostEnd - hostStart && end !== start) {
    throw new FlagError(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
  }
  if (!PROTOCOLS.has(proto.toLowerCase())) throw new FlagError(`invalid proto: ${proto}`);
  const out: { port: string; binding: PortBinding }[] = [];
  for (let i = 0; i <= end - start; i++) {
    let host = hostPort === '' ? '' : String(hostStart + i);
    if (hostPort !== '' && end === start && hostEnd !== hostStart) host = `${hostStart}-${hostEnd}`;
    out.push({ port: `${start + i}/${proto.toLowerCase()}`, binding: { HostIp: ip, HostPort: host } });
  }
  return out;
}

/** -p and --expose -> Config.ExposedPorts and HostConfig.PortBindings (published ports are exposed too). */
export function parsePorts(publish: readonly string[], expose: readonly string[]): PortSpecs {
  const exposedPorts: PortSpecs['exposedPorts'] = {};
  const portBindings: PortSpecs['portBindings'] = {};
  for (const raw of publish) {
    for (const { port, binding } of parsePortSpec(raw)) {
      exposedPorts[port] = {};
      (portBindings[port] ??= []).push(binding);
    }
  }
  for (const raw of expose) {
    const [proto, port] = protoPort(raw);
    let start: number, end: number;
    try {
      [start, end] = portRange(port);
    } catch (err) {
      throw new FlagError(`invalid range format for --expose: ${raw}, error: ${(err as Error).message}`);
    }
    for (let p = start; p <= end; p++) exposedPorts[`${p}/${proto}`] = {};
  }
  return { exposedPorts, portBindings };
}

// ---------------------------------------------------------------- durations and health checks

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds; throws Go's error text. */
export function parseGoDuration(text: string): number {
  const invalid = () => new Error(`time: invalid duration "${text}"`);
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let total = 0;
  while (s !== '') {
    const num = /^(\d*)(?:\.(\d*))?/.exec(s);
    const whole = num?.[1] ?? '';
    const frac = num?.[2];
    if (!num || (whole === '' && (frac === undefined || frac === ''))) throw invalid();
    s = s.slice(num[0].length);
    const unit = /^[^\d.]*/.exec(s)?.[0] ?? '';
    if (unit === '') throw new Error(`time: missing unit in duration "${text}"`);
    const scale = DURATION_UNITS[unit];
    if (scale === undefined) throw new Error(`time: unknown unit "${unit}" in duration "${text}"`);
    s = s.slice(unit.length);
    total += Number(`${whole || '0'}.${frac || '0'}`) * scale;
  }
  return sign * Math.round(total);
}

export interface HealthFlags {
  cmd: string;
  interval: string;
  timeout: string;
  startPeriod: string;
  startInterval: string;
  retries: string;
  none: boolean;
}

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** Config.Healthcheck from the --health-* flags, or undefined when none is set (the image's stays). */
export function healthcheck(f: HealthFlags): HealthConfig | undefined {
  const duration = (value: string, flag: string): number => {
    if (value === '') return 0;
    try {
      return parseGoDuration(value);
    } catch (err) {
      throw invalidArgument(value, flag, (err as Error).message);
    }
  };
  const interval = duration(f.interval, '--health-interval');
  const timeout = duration(f.timeout, '--health-timeout');
  const startPeriod = duration(f.startPeriod, '--health-start-period');
  const startInterval = duration(f.startInterval, '--health-start-interval');
  let retries = 0;
  if (f.retries !== '') {
    if (!/^[-+]?\d+$/.test(f.retries)) throw invalidArgument(f.retries, '--health-retries', `strconv.ParseInt: parsing "${f.retries}": invalid syntax`);
    retries = Number(f.retries);
  }
  const any = f.cmd !== '' || interval !== 0 || timeout !== 0 || startPeriod !== 0 || retries !== 0 || startInterval !== 0;
  if (f.none) {
    if (any) throw new FlagError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (interval < 0) throw new FlagError('--health-interval cannot be negative');
  if (timeout < 0) throw new FlagError('--health-timeout cannot be negative');
  if (retries < 0) throw new FlagError('--health-retries cannot be negative');
  if (startPeriod < 0) throw new FlagError('--health-start-period cannot be negative');
  if (startInterval < 0) throw new FlagError('--health-start-interval cannot be negative');
  if (!any) return undefined;
  const config: HealthConfig = {};
  if (f.cmd !== '') config.Test = ['CMD-SHELL', f.cmd];
  if (interval) config.Interval = interval;
  if (timeout) config.Timeout = timeout;
  if (startPeriod) config.StartPeriod = startPeriod;
  if (startInterval) config.StartInterval = startInterval;
  if (retries) config.Retries = retries;
  return config;
}

// ---------------------------------------------------------------- hosts, dns, sysctls, log options

const stripBrackets = (ip: string) => (ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip);

/** --add-host name:ip (or name=ip) -> "name:ip"; "host-gateway" passes as is for the daemon to resolve. */
export function parseExtraHost(value: string): string {
  let [name, ip] = splitOnce(value, '=');
  if (ip === undefined) [name, ip] = splitOnce(value, ':');
  if (ip === undefined || name === '') throw invalidArgument(value, '--add-host', `bad format for add-host: ${JSON.stringify(value)}`);
  if (ip !== 'host-gateway' && isIP(stripBrackets(ip)) === 0) throw invalidArgument(value, '--add-host', `invalid IP address in add-host: ${JSON.stringify(ip)}`);
  return `${name}:${ip}`;
}

export function validateDns(value: string): string {
  if (isIP(stripBrackets(value)) === 0) throw invalidArgument(value, '--dns', `IP address is not correctly formatted: ${value}`);
  return value;
}

const SYSCTL_NAMES = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);
const SYSCTL_PREFIXES = ['fs.mqueue.', 'net.'];

/** --sysctl k=v, namespaced sysctls only (docker's ValidateSysctl). */
export function parseSysctls(values: readonly string[]): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const [key, value] = splitOnce(v, '=');
    const allowed = value !== undefined && (SYSCTL_NAMES.has(key) || SYSCTL_PREFIXES.some((p) => key.startsWith(p)));
    if (!allowed) throw invalidArgument(v, '--sysctl', `sysctl '${v}' is not allowed`);
    out[key] = value;
  }
  return out;
}

/** --log-opt k=v (a bare k maps to ""). */
export function parseLogOpts(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const [key, value] = splitOnce(v, '=');
    out[key] = value ?? '';
  }
  return out;
}

// ---------------------------------------------------------------- --security-opt

/** encoding/json.Compact: whitespace outside strings removed, nothing else changed. */
export function compactJson(text: string): string {
  JSON.parse(text); // validates first, as Compact does
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (!/\s/.test(c)) out += c;
  }
  return out;
}

/**
 * docker's parseSecurityOpts: every option needs a value (no-new-privileges
 * aside); seccomp=<file> is read here and sent as its compacted JSON, while
 * "unconfined" and "builtin" pass as they are.
 */
export async function securityOpts(values: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const opt of values) {
    let [key, value] = splitOnce(opt, '=');
    if (value === undefined && key !== 'no-new-privileges') [key, value] = splitOnce(opt, ':');
    if ((value === undefined || value === '') && key !== 'no-new-privileges') throw new FlagError(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    if (key !== 'seccomp' || value === 'unconfined' || value === 'builtin' || value === undefined) {
      out.push(opt);
      continue;
    }
    let text: string;
    try {
      text = await readFile(value, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
      throw new FlagError(`opening seccomp profile (${value}) failed: open ${value}: ${why}`);
    }
    try {
      out.push(`seccomp=${compactJson(text)}`);
    } catch (err) {
      throw new FlagError(`compacting json for seccomp profile (${value}) failed: ${(err as Error).message}`);
    }
  }
  return out;
}

/** go-units RAMInBytes: "512m", "1g", "1.5GB", "1024" (binary multiples); a usage error naming `flag` otherwise. */
export function ramInBytes(value: string, flag: string): number {
  const bytes = sizeInBytes(value);
  if (bytes === undefined) throw new UsageError(`invalid argument "${value}" for "${flag}" flag: invalid size: '${value}'`);
  return bytes;
}
