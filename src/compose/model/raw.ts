// Reading Compose files into plain values: YAML (with `!reset` / `!override`),
// per-file interpolation, key checks, and the short-to-long rewrites that the
// merge rules need (ports by key, volumes by target, environment by name).
import { isAbsolute, resolve } from 'node:path';
import { parseDocument, visit, isNode, Scalar } from 'yaml';
import type { Issues } from './errors.js';
import { interpolate, type Env } from './text.js';

export type RawMap = Record<string, unknown>;

/** `!reset`: the merged value is removed. */
export class Reset {}
/** `!override`: the merged value is replaced, not merged. */
export class Override {
  constructor(readonly value: unknown) {}
}

export const isMap = (v: unknown): v is RawMap =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Reset) && !(v instanceof Override);

export const TOP_KEYS = new Set(['version', 'name', 'include', 'services', 'models', 'networks', 'volumes', 'secrets', 'configs']);
export const SERVICE_KEYS = new Set(
  ('develop deploy annotations attach build blkio_config cap_add cap_drop cgroup cgroup_parent command configs container_name ' +
    'cpu_count cpu_percent cpu_shares cpu_quota cpu_period cpu_rt_period cpu_rt_runtime cpus cpuset credential_spec depends_on ' +
    'device_cgroup_rules devices dns dns_opt dns_search domainname entrypoint env_file label_file environment expose extends ' +
    'provider external_links extra_hosts gpus group_add healthcheck hostname image init ipc isolation labels links logging ' +
    'mac_address mem_limit mem_reservation mem_swappiness memswap_limit network_mode models networks oom_kill_disable ' +
    'oom_score_adj pid pids_limit platform ports post_start pre_stop privileged profiles pull_policy pull_refresh_after ' +
    'read_only restart runtime scale security_opt shm_size secrets sysctls stdin_open stop_grace_period stop_signal ' +
    'storage_opt tmpfs tty ulimits use_api_socket user uts userns_mode volumes volumes_from working_dir').split(' '),
);

/** Parse YAML (1.2, anchors and `<<` merge keys) into plain values with merge markers. */
export function parseYaml(text: string, file: string, issues: Issues): unknown {
  const doc = parseDocument(text, { merge: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) issues.add(file, `yaml: ${e.message}`);
    return {};
  }
  visit(doc, {
    Node(_key, node) {
      if (!isNode(node) || !('tag' in node)) return undefined;
      if (node.tag === '!reset') return new Scalar(new Reset());
      if (node.tag === '!override') return new Scalar(new Override(node.toJS(doc)));
      return undefined;
    },
  });
  return doc.toJS({ maxAliasCount: 10_000 }) ?? {};
}

/** Interpolate every string value (never keys), recording errors with their path. */
export function interpolateTree(
  value: unknown,
  env: Env,
  path: string,
  issues: Issues,
  onUnset: (name: string) => void,
): unknown {
  if (typeof value === 'string') {
    try {
      return interpolate(value, env, onUnset);
    } catch (err) {
      issues.add(path, (err as Error).message);
      return value;
    }
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateTree(v, env, `${path}[${i}]`, issues, onUnset));
  if (value instanceof Override) return new Override(interpolateTree(value.value, env, path, issues, onUnset));
  if (isMap(value)) {
    const out: RawMap = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateTree(v, env, join(path, k), issues, onUnset);
    return out;
  }
  return value;
}

export const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);

/** Check top-level and service keys, compose's wording: `services.web Additional property prots is not allowed`. */
export function checkKeys(model: unknown, file: string, issues: Issues): RawMap {
  if (!isMap(model)) {
    issues.add(file, 'top-level object must be a mapping');
    return {};
  }
  for (const key of Object.keys(model)) {
    if (!TOP_KEYS.has(key) && !key.startsWith('x-')) issues.add('(root)', `Additional property ${key} is not allowed`);
  }
  const services = model.services;
  if (services !== undefined && services !== null && !isMap(services)) issues.add('services', 'must be a mapping');
  if (isMap(services)) {
    for (const [name, svc] of Object.entries(services)) {
      if (svc instanceof Reset || svc instanceof Override) continue;
      if (svc === null) {
        services[name] = {};
        continue;
      }
      if (!isMap(svc)) {
        issues.add(`services.${name}`, 'must be a mapping');
        delete services[name];
        continue;
      }
      for (const key of Object.keys(svc)) {
        if (!SERVICE_KEYS.has(key) && !key.startsWith('x-')) issues.add(`services.${name}`, `Additional property ${key} is not allowed`);
      }
    }
  }
  for (const section of ['networks', 'volumes'] as const) {
    const v = model[section];
    if (v !== undefined && v !== null && !isMap(v)) issues.add(section, 'must be a mapping');
  }
  return model;
}

// ---- per-service rewrites to the forms the merge works on ----

type Ctx = { baseDir: string; env: Env; issues: Issues; path: string };

/** Map a field through `fn` unless it is a merge marker; `!override` keeps its wrapper. */
function field(value: unknown, fn: (v: unknown) => unknown): unknown {
  if (value instanceof Reset) return value;
  if (value instanceof Override) return new Override(fn(value.value));
  return fn(value);
}

const scalarString = (v: unknown): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v);

/** environment / labels / args: list of "K=V" (or "K") or a mapping → mapping (null = no value). */
export function toKeyValueMap(value: unknown, path: string, issues: Issues, sep = '='): RawMap {
  const out: RawMap = {};
  if (value === null || value === undefined) return out;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      if (!scalarString(item)) return issues.add(`${path}[${i}]`, 'must be a string');
      const s = String(item);
      const at = s.indexOf(sep);
      if (at < 0) out[s] = null;
      else out[s.slice(0, at)] = s.slice(at + 1);
    });
    return out;
  }
  if (isMap(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (v === null || v instanceof Reset || v instanceof Override) out[k] = v;
      else if (scalarString(v)) out[k] = String(v);
      else issues.add(join(path, k), 'must be a string, number, boolean or null');
    }
    return out;
  }
  issues.add(path, 'must be a mapping or a list');
  return out;
}

function toStringList(value: unknown, path: string, issues: Issues): string[] {
  if (value === null || value === undefined) return [];
  if (scalarString(value)) return [String(value)];
  if (!Array.isArray(value)) {
    issues.add(path, 'must be a string or a list of strings');
    return [];
  }
  return value.flatMap((v, i) => {
    if (scalarString(v)) return [String(v)];
    issues.add(`${path}[${i}]`, 'must be a string');
    return [];
  });
}

const isUrlContext = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.startsWith('git@');

export function hostPath(p: string, ctx: Ctx): string {
  if (p === '~' || p.startsWith('~/')) return resolve(ctx.env.HOME ?? '/root', p.slice(2));
  return isAbsolute(p) ? resolve(p) : resolve(ctx.baseDir, p);
}

/** Rewrite one service's short syntaxes into the long forms the merge and the model use. */
export function preprocessService(svc: RawMap, ctx: Ctx): RawMap {
  const { issues, path } = ctx;
  const out: RawMap = { ...svc };
  const p = (k: string) => `${path}.${k}`;
  const rewrite = (key: string, fn: (v: unknown) => unknown) => {
    if (key in out) out[key] = field(out[key], fn);
  };
  rewrite('environment', (v) => toKeyValueMap(v, p('environment'), issues));
  rewrite('labels', (v) => toKeyValueMap(v, p('labels'), issues));
  rewrite('annotations', (v) => toKeyValueMap(v, p('annotations'), issues));
  rewrite('extra_hosts', (v) => (Array.isArray(v) ? toKeyValueMap(v.map((h) => String(h).replace(/^([^:=]+):/, '$1=')), p('extra_hosts'), issues) : toKeyValueMap(v, p('extra_hosts'), issues)));
  for (const key of ['dns', 'dns_search', 'tmpfs', 'cap_add', 'cap_drop', 'profiles', 'security_opt']) rewrite(key, (v) => toStringList(v, p(key), issues));
  rewrite('expose', (v) => toStringList(v, p('expose'), issues));
  rewrite('build', (v) => preprocessBuild(v, { ...ctx, path: p('build') }));
  rewrite('ports', (v) => preprocessPorts(v, p('ports'), issues));
  rewrite('volumes', (v) => preprocessVolumes(v, { ...ctx, path: p('volumes') }));
  rewrite('env_file', (v) => preprocessEnvFiles(v, { ...ctx, path: p('env_file') }));
  rewrite('depends_on', (v) => preprocessDependsOn(v, p('depends_on'), issues));
  rewrite('networks', (v) => {
    if (Array.isArray(v)) return Object.fromEntries(toStringList(v, p('networks'), issues).map((n) => [n, null]));
    if (isMap(v)) return v;
    issues.add(p('networks'), 'must be a mapping or a list');
    return {};
  });
  return out;
}

function preprocessBuild(v: unknown, ctx: Ctx): unknown {
  if (typeof v === 'string') v = { context: v };
  if (!isMap(v)) {
    ctx.issues.add(ctx.path, 'must be a string or a mapping');
    return undefined;
  }
  const b: RawMap = { ...v };
  const context = b.context ?? '.';
  if (typeof context !== 'string') ctx.issues.add(`${ctx.path}.context`, 'must be a string');
  else b.context = isUrlContext(context) ? context : hostPath(context, ctx);
  if ('args' in b) b.args = field(b.args, (a) => toKeyValueMap(a, `${ctx.path}.args`, ctx.issues));
  if ('labels' in b) b.labels = field(b.labels, (a) => toKeyValueMap(a, `${ctx.path}.labels`, ctx.issues));
  return b;
}

/** A port entry in long form, as far as the merge needs it. */
export interface RawPort {
  target: number;
  published?: string;
  host_ip?: string;
  protocol: string;
}

function parsePortRange(s: string): [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return undefined;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  return lo <= hi && hi <= 65535 ? [lo, hi] : undefined;
}

/** "[ip:][published:]target[/proto]" with ranges → one entry per container port. */
export function parsePortString(spec: string): RawPort[] {
  let rest = spec.trim();
  let protocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    protocol = rest.slice(slash + 1);
    rest = rest.slice(0, slash);
  }
  let hostIp: string | undefined;
  const bracket = /^\[([^\]]+)\]:(.*)$/.exec(rest);
  if (bracket) {
    hostIp = bracket[1];
    rest = bracket[2];
  }
  const parts = rest.split(':');
  let published: string | undefined;
  let target: string;
  if (parts.length === 1) target = parts[0];
  else if (parts.length === 2 && hostIp === undefined) [published, target] = parts;
  else if (parts.length === 2) [published, target] = parts;
  else {
    target = parts[parts.length - 1];
    published = parts[parts.length - 2];
    hostIp = parts.slice(0, -2).join(':');
  }
  if (published === '') published = undefined;
  if (hostIp === '') hostIp = undefined;
  const targets = parsePortRange(target);
  const pubRange = published === undefined ? undefined : parsePortRange(published);
  if (!targets || (published !== undefined && !pubRange)) throw new Error(`invalid port ${JSON.stringify(spec)}`);
  if (!['tcp', 'udp', 'sctp'].includes(protocol)) throw new Error(`invalid protocol ${JSON.stringify(protocol)} in ${JSON.stringify(spec)}`);
  const count = targets[1] - targets[0] + 1;
  if (count === 1) return [{ target: targets[0], published, host_ip: hostIp, protocol }];
  if (pubRange && pubRange[1] - pubRange[0] + 1 !== count) throw new Error(`port ranges don't match in ${JSON.stringify(spec)}`);
  return Array.from({ length: count }, (_, i) => ({
    target: targets[0] + i,
    published: pubRange ? String(pubRange[0] + i) : undefined,
    host_ip: hostIp,
    protocol,
  }));
}

function preprocessPorts(v: unknown, path: string, issues: Issues): RawPort[] {
  if (!Array.isArray(v)) {
    issues.add(path, 'must be a list');
    return [];
  }
  return v.flatMap((item, i): RawPort[] => {
    const at = `${path}[${i}]`;
    if (typeof item === 'number') item = String(item);
    if (typeof item === 'string') {
      try {
        return parsePortString(item);
      } catch (err) {
        issues.add(at, (err as Error).message);
        return [];
      }
    }
    if (isMap(item)) {
      const target = Number(item.target);
      if (!Number.isInteger(target) || target < 1 || target > 65535) {
        issues.add(`${at}.target`, 'must be a port number');
        return [];
      }
      const protocol = item.protocol === undefined ? 'tcp' : String(item.protocol);
      if (!['tcp', 'udp', 'sctp'].includes(protocol)) issues.add(`${at}.protocol`, `invalid protocol ${protocol}`);
      const published = item.published === undefined || item.published === null || item.published === '' ? undefined : String(item.published);
      if (published !== undefined && !parsePortRange(published)) issues.add(`${at}.published`, `invalid published port ${published}`);
      const hostIp = typeof item.host_ip === 'string' && item.host_ip !== '' ? item.host_ip : undefined;
      return [{ target, published, host_ip: hostIp, protocol }];
    }
    issues.add(at, 'must be a string or number');
    return [];
  });
}

/** A volume entry in long form. */
export interface RawVolume {
  type: string;
  source?: string;
  target: string;
  read_only: boolean;
  bind?: { create_host_path?: boolean };
  tmpfs?: { size?: unknown };
}

function preprocessVolumes(v: unknown, ctx: Ctx): RawVolume[] {
  if (!Array.isArray(v)) {
    ctx.issues.add(ctx.path, 'must be a list');
    return [];
  }
  return v.flatMap((item, i): RawVolume[] => {
    const at = `${ctx.path}[${i}]`;
    if (typeof item === 'string') {
      const parts = item.split(':');
      if (parts.length === 1) return [{ type: 'volume', target: parts[0], read_only: false }];
      if (parts.length > 3 || parts[0] === '' || parts[1] === '') {
        ctx.issues.add(at, `invalid volume specification ${JSON.stringify(item)}`);
        return [];
      }
      const [source, target, mode = 'rw'] = parts;
      const modes = mode.split(',');
      const readOnly = modes.includes('ro');
      const bind = source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
      if (bind) return [{ type: 'bind', source: hostPath(source, ctx), target, read_only: readOnly, bind: { create_host_path: true } }];
      return [{ type: 'volume', source, target, read_only: readOnly }];
    }
    if (isMap(item)) {
      const type = String(item.type ?? 'volume');
      if (!['volume', 'bind', 'tmpfs'].includes(type)) {
        ctx.issues.add(`${at}.type`, `unsupported volume type ${type}`);
        return [];
      }
      if (typeof item.target !== 'string' || item.target === '') {
        ctx.issues.add(`${at}.target`, 'must be a string');
        return [];
      }
      const source = typeof item.source === 'string' && item.source !== '' ? item.source : undefined;
      const out: RawVolume = { type, target: item.target, read_only: item.read_only === true };
      if (type === 'bind') {
        if (!source) ctx.issues.add(`${at}.source`, 'a bind mount needs a source');
        else out.source = hostPath(source, ctx);
        const createHostPath = isMap(item.bind) ? item.bind.create_host_path : undefined;
        out.bind = { create_host_path: createHostPath === true };
      } else if (type === 'volume') {
        out.source = source;
      } else if (isMap(item.tmpfs) && item.tmpfs.size !== undefined) {
        out.tmpfs = { size: item.tmpfs.size };
      }
      return [out];
    }
    ctx.issues.add(at, 'must be a string or a mapping');
    return [];
  });
}

function preprocessEnvFiles(v: unknown, ctx: Ctx): { path: string; required: boolean }[] {
  const items = typeof v === 'string' ? [v] : Array.isArray(v) ? v : undefined;
  if (!items) {
    ctx.issues.add(ctx.path, 'must be a string or a list');
    return [];
  }
  return items.flatMap((item, i) => {
    if (typeof item === 'string') return [{ path: hostPath(item, ctx), required: true }];
    if (isMap(item) && typeof item.path === 'string') return [{ path: hostPath(item.path, ctx), required: item.required !== false }];
    ctx.issues.add(`${ctx.path}[${i}]`, 'must be a string or a mapping with a path');
    return [];
  });
}

const CONDITIONS = ['service_started', 'service_healthy', 'service_completed_successfully'];

function preprocessDependsOn(v: unknown, path: string, issues: Issues): RawMap {
  const out: RawMap = {};
  if (Array.isArray(v)) {
    for (const name of toStringList(v, path, issues)) out[name] = { condition: 'service_started', required: true, restart: false };
    return out;
  }
  if (!isMap(v)) {
    issues.add(path, 'must be a mapping or a list');
    return out;
  }
  for (const [name, opts] of Object.entries(v)) {
    const o = isMap(opts) ? opts : {};
    const condition = o.condition ?? 'service_started';
    if (typeof condition !== 'string' || !CONDITIONS.includes(condition)) issues.add(`${path}.${name}.condition`, `must be one of ${CONDITIONS.join(', ')}`);
    out[name] = { condition, required: o.required !== false, restart: o.restart === true };
  }
  return out;
}
