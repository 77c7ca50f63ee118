// The merged, interpolated model → the normalized Project the engine runs.
import { readFile } from 'node:fs/promises';
import type { BuildSpec, DependsOn, Healthcheck, NetworkSpec, Project, Service, ServiceNetwork, ServiceVolume, VolumeSpec } from '../types.js';
import type { Issues } from './errors.js';
import { isMap, type RawMap, type RawPort, type RawVolume } from './raw.js';
import { findCycle } from './order.js';
import { parseBytes, parseDotenv, parseDuration, splitShellWords, type Env } from './text.js';

interface BuildContext {
  name: string;
  workingDir: string;
  files: string[];
  profiles: Set<string>;
  env: Env;
  issues: Issues;
  warnings: string[];
}

const PULL_POLICIES: Record<string, Service['pull_policy']> = { always: 'always', never: 'never', missing: 'missing', if_not_present: 'missing', build: 'build' };
const RESTART = /^(no|always|unless-stopped|on-failure(:\d+)?)$/;

export async function buildProject(model: RawMap, ctx: BuildContext): Promise<Project> {
  const { issues } = ctx;
  const rawServices = isMap(model.services) ? model.services : {};
  const services: Service[] = [];
  const disabledServices: Service[] = [];
  for (const [name, raw] of Object.entries(rawServices)) {
    if (!isMap(raw)) continue;
    const svc = await normalizeService(name, raw, ctx);
    const active = svc.profiles.length === 0 || ctx.profiles.has('*') || svc.profiles.some((p) => ctx.profiles.has(p));
    (active ? services : disabledServices).push(svc);
  }

  const networks: Record<string, NetworkSpec> = {};
  const rawNetworks = isMap(model.networks) ? model.networks : {};
  for (const [key, raw] of Object.entries(rawNetworks)) {
    const n = isMap(raw) ? raw : {};
    const external = n.external === true || isMap(n.external);
    const spec: NetworkSpec = { name: resourceName(ctx.name, key, n, external), external, labels: labelMap(n.labels, `networks.${key}.labels`, issues) };
    if (typeof n.driver === 'string') spec.driver = n.driver;
    if (typeof n.internal === 'boolean') spec.internal = n.internal;
    if (isMap(n.ipam) && Array.isArray(n.ipam.config)) {
      spec.ipam = n.ipam.config.filter(isMap).map((c) => ({
        ...(typeof c.subnet === 'string' ? { subnet: c.subnet } : {}),
        ...(typeof c.gateway === 'string' ? { gateway: c.gateway } : {}),
      }));
    }
    networks[key] = spec;
  }
  const usesDefault = [...services, ...disabledServices].some((s) => 'default' in s.networks);
  if (usesDefault && !networks.default) networks.default = { name: `${ctx.name}_default`, external: false, labels: {} };

  const volumes: Record<string, VolumeSpec> = {};
  const rawVolumes = isMap(model.volumes) ? model.volumes : {};
  for (const [key, raw] of Object.entries(rawVolumes)) {
    const v = isMap(raw) ? raw : {};
    const external = v.external === true || isMap(v.external);
    volumes[key] = { name: resourceName(ctx.name, key, v, external), external, labels: labelMap(v.labels, `volumes.${key}.labels`, issues) };
    if (typeof v.driver === 'string') volumes[key].driver = v.driver;
  }

  // references between services, networks and volumes (active services, as compose checks after profiles)
  const active = new Set(services.map((s) => s.name));
  for (const svc of services) {
    for (const net of Object.keys(svc.networks)) {
      if (!networks[net]) issues.add(`services.${svc.name}.networks`, `service "${svc.name}" refers to undefined network ${net}: invalid compose project`);
    }
    for (const vol of svc.volumes) {
      if (vol.type === 'volume' && vol.source !== undefined && !volumes[vol.source]) {
        issues.add(`services.${svc.name}.volumes`, `service "${svc.name}" refers to undefined volume ${vol.source}: invalid compose project`);
      }
    }
    for (const [dep, opts] of Object.entries(svc.depends_on)) {
      if (active.has(dep)) continue;
      if (opts.required || !disabledServices.some((s) => s.name === dep)) {
        issues.add(`services.${svc.name}.depends_on`, `service "${svc.name}" depends on undefined service "${dep}": invalid compose project`);
      } else {
        delete svc.depends_on[dep]; // optional and disabled: ignored, as compose does
      }
    }
  }
  const cycle = findCycle(services);
  if (cycle) issues.add('services', `dependency cycle detected: ${cycle.join(' -> ')}`);

  return { name: ctx.name, workingDir: ctx.workingDir, files: ctx.files, services, disabledServices, networks, volumes, warnings: ctx.warnings };
}

function resourceName(project: string, key: string, raw: RawMap, external: boolean): string {
  if (typeof raw.name === 'string' && raw.name !== '') return raw.name;
  if (isMap(raw.external) && typeof raw.external.name === 'string') return raw.external.name;
  return external ? key : `${project}_${key}`;
}

function labelMap(value: unknown, path: string, issues: Issues): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined || value === null) return out;
  if (Array.isArray(value)) {
    for (const item of value) {
      const s = String(item);
      const eq = s.indexOf('=');
      if (eq < 0) out[s] = '';
      else out[s.slice(0, eq)] = s.slice(eq + 1);
    }
    return out;
  }
  if (!isMap(value)) {
    issues.add(path, 'must be a mapping or a list');
    return out;
  }
  for (const [k, v] of Object.entries(value)) out[k] = v === null || v === undefined ? '' : String(v);
  return out;
}

async function normalizeService(name: string, raw: RawMap, ctx: BuildContext): Promise<Service> {
  const { issues } = ctx;
  const at = (k: string) => `services.${name}.${k}`;
  const str = (k: string): string | undefined => {
    const v = raw[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
    issues.add(at(k), 'must be a string');
    return undefined;
  };
  const bool = (k: string): boolean | undefined => {
    const v = raw[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    issues.add(at(k), 'must be a boolean');
    return undefined;
  };
  const list = (k: string): string[] => (Array.isArray(raw[k]) ? (raw[k] as unknown[]).map(String) : []);

  // env_file first, then environment (entries later win)
  const environment: Record<string, string | null> = {};
  if (Array.isArray(raw.env_file)) {
    for (const entry of raw.env_file as { path: string; required: boolean }[]) {
      let text: string;
      try {
        text = await readFile(entry.path, 'utf8');
      } catch {
        if (entry.required) issues.add(at('env_file'), `env file ${entry.path} not found`);
        continue;
      }
      try {
        Object.assign(environment, parseDotenv(text, ctx.env));
      } catch (err) {
        issues.add(at('env_file'), `${entry.path}: ${(err as Error).message}`);
      }
    }
  }
  if (isMap(raw.environment)) {
    for (const [k, v] of Object.entries(raw.environment)) environment[k] = v === null || v === undefined ? null : String(v);
  }

  const svc: Service = {
    name,
    environment,
    ports: Array.isArray(raw.ports) ? (raw.ports as RawPort[]).map((p) => ({ target: p.target, ...(p.published !== undefined ? { published: p.published } : {}), ...(p.host_ip !== undefined ? { host_ip: p.host_ip } : {}), protocol: p.protocol as 'tcp' | 'udp' | 'sctp' })) : [],
    expose: list('expose'),
    volumes: Array.isArray(raw.volumes) ? (raw.volumes as RawVolume[]).flatMap((v, i) => serviceVolume(v, `${at('volumes')}[${i}]`, issues)) : [],
    networks: {},
    depends_on: {},
    replicas: 1,
    resources: {},
    labels: labelMap(raw.labels, at('labels'), issues),
    profiles: list('profiles'),
    cap_add: list('cap_add'),
    cap_drop: list('cap_drop'),
    extra_hosts: isMap(raw.extra_hosts) ? Object.entries(raw.extra_hosts).flatMap(([h, ip]) => (Array.isArray(ip) ? ip : [ip]).map((x) => `${h}:${x}`)) : [],
    dns: list('dns'),
    tmpfs: list('tmpfs'),
  };

  const image = str('image');
  if (image !== undefined) svc.image = image;
  if (isMap(raw.build)) svc.build = buildSpec(raw.build, at('build'), issues);
  if (svc.image === undefined && svc.build === undefined) issues.add(`services.${name}`, `service "${name}" has neither an image nor a build context specified: invalid compose project`);

  for (const key of ['command', 'entrypoint'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (v === null) svc[key] = null;
    else if (typeof v === 'string') {
      try {
        svc[key] = splitShellWords(v);
      } catch (err) {
        issues.add(at(key), (err as Error).message);
      }
    } else if (Array.isArray(v) && v.every((x) => ['string', 'number', 'boolean'].includes(typeof x))) svc[key] = v.map(String);
    else issues.add(at(key), 'must be a string or a list of strings');
  }

  const networkMode = str('network_mode');
  if (networkMode !== undefined) svc.network_mode = networkMode;
  if (isMap(raw.networks) && Object.keys(raw.networks).length > 0) {
    if (networkMode !== undefined) issues.add(at('networks'), `service "${name}" declares networks and network_mode, which cannot be combined`);
    for (const [net, opts] of Object.entries(raw.networks)) svc.networks[net] = serviceNetwork(opts, `${at('networks')}.${net}`, issues);
  } else if (networkMode === undefined) {
    svc.networks.default = { aliases: [] };
  }

  if (isMap(raw.depends_on)) {
    for (const [dep, o] of Object.entries(raw.depends_on)) svc.depends_on[dep] = o as DependsOn;
  }
  const sharedWith = networkMode?.startsWith('service:') ? networkMode.slice(8) : undefined;
  if (sharedWith && !svc.depends_on[sharedWith]) svc.depends_on[sharedWith] = { condition: 'service_started', required: true, restart: false };

  if (raw.healthcheck !== undefined && raw.healthcheck !== null) svc.healthcheck = healthcheck(raw.healthcheck, at('healthcheck'), issues);

  const restart = str('restart');
  if (restart !== undefined) {
    if (RESTART.test(restart)) svc.restart = restart;
    else issues.add(at('restart'), `invalid restart policy ${JSON.stringify(restart)}`);
  }

  const deploy = isMap(raw.deploy) ? raw.deploy : {};
  const replicas = deploy.replicas ?? raw.scale;
  if (replicas !== undefined && replicas !== null) {
    if (typeof replicas === 'number' && Number.isInteger(replicas) && replicas >= 0) svc.replicas = replicas;
    else issues.add(at(deploy.replicas !== undefined ? 'deploy.replicas' : 'scale'), 'must be a non-negative integer');
    if (deploy.replicas !== undefined && raw.scale !== undefined && deploy.replicas !== raw.scale) {
      issues.add(at('scale'), `service "${name}" has scale (${String(raw.scale)}) and deploy.replicas (${String(deploy.replicas)}) that differ`);
    }
  }
  const limits = isMap(deploy.resources) && isMap(deploy.resources.limits) ? deploy.resources.limits : {};
  const memory = limits.memory ?? raw.mem_limit;
  if (memory !== undefined && memory !== null) {
    try {
      svc.resources.memory_bytes = parseBytes(memory);
    } catch (err) {
      issues.add(at(limits.memory !== undefined ? 'deploy.resources.limits.memory' : 'mem_limit'), (err as Error).message);
    }
  }
  const cpus = limits.cpus ?? raw.cpus;
  if (cpus !== undefined && cpus !== null) {
    const n = Number(cpus);
    if (Number.isFinite(n) && n >= 0 && String(cpus).trim() !== '') svc.resources.nano_cpus = Math.round(n * 1e9);
    else issues.add(at(limits.cpus !== undefined ? 'deploy.resources.limits.cpus' : 'cpus'), `invalid cpus ${JSON.stringify(cpus)}`);
  }
  const pids = limits.pids ?? raw.pids_limit;
  if (pids !== undefined && pids !== null) {
    if (typeof pids === 'number' && Number.isInteger(pids)) svc.resources.pids = pids;
    else issues.add(at(limits.pids !== undefined ? 'deploy.resources.limits.pids' : 'pids_limit'), 'must be an integer');
  }

  for (const key of ['user', 'working_dir', 'stop_signal', 'hostname', 'container_name'] as const) {
    const v = str(key);
    if (v !== undefined) svc[key] = v;
  }
  for (const key of ['init', 'tty', 'stdin_open', 'privileged', 'read_only'] as const) {
    const v = bool(key);
    if (v !== undefined) svc[key] = v;
  }
  if (raw.stop_grace_period !== undefined && raw.stop_grace_period !== null) {
    try {
      svc.stop_grace_period_s = Math.ceil(parseDuration(raw.stop_grace_period) / 1e9);
    } catch (err) {
      issues.add(at('stop_grace_period'), (err as Error).message);
    }
  }
  const pull = str('pull_policy');
  if (pull !== undefined) {
    if (PULL_POLICIES[pull]) svc.pull_policy = PULL_POLICIES[pull];
    else issues.add(at('pull_policy'), `unsupported pull_policy ${JSON.stringify(pull)}`);
  }
  return svc;
}

function serviceVolume(v: RawVolume, path: string, issues: Issues): ServiceVolume[] {
  const out: ServiceVolume = { type: v.type as ServiceVolume['type'], target: v.target, read_only: v.read_only };
  if (v.source !== undefined) out.source = v.source;
  if (v.type === 'bind') out.create_host_path = v.bind?.create_host_path ?? true;
  if (v.tmpfs?.size !== undefined) {
    try {
      out.tmpfs_size = parseBytes(v.tmpfs.size);
    } catch (err) {
      issues.add(`${path}.tmpfs.size`, (err as Error).message);
    }
  }
  return [out];
}

function serviceNetwork(opts: unknown, path: string, issues: Issues): ServiceNetwork {
  const out: ServiceNetwork = { aliases: [] };
  if (opts === null || opts === undefined) return out;
  if (!isMap(opts)) {
    issues.add(path, 'must be a mapping or null');
    return out;
  }
  if (Array.isArray(opts.aliases)) out.aliases = opts.aliases.map(String);
  if (typeof opts.ipv4_address === 'string') out.ipv4_address = opts.ipv4_address;
  return out;
}

function buildSpec(b: RawMap, path: string, issues: Issues): BuildSpec | undefined {
  if (typeof b.context !== 'string') return undefined;
  const spec: BuildSpec = {
    context: b.context,
    dockerfile: typeof b.dockerfile === 'string' ? b.dockerfile : 'Dockerfile',
    args: {},
    labels: labelMap(b.labels, `${path}.labels`, issues),
  };
  if (isMap(b.args)) for (const [k, v] of Object.entries(b.args)) spec.args[k] = v === null || v === undefined ? null : String(v);
  if (typeof b.target === 'string') spec.target = b.target;
  if (typeof b.no_cache === 'boolean') spec.no_cache = b.no_cache;
  if (typeof b.pull === 'boolean') spec.pull = b.pull;
  return spec;
}

function healthcheck(raw: unknown, path: string, issues: Issues): Healthcheck | undefined {
  if (!isMap(raw)) {
    issues.add(path, 'must be a mapping');
    return undefined;
  }
  const hc: Healthcheck = {};
  if (raw.disable === true) return { test: ['NONE'], disable: true };
  const test = raw.test;
  if (typeof test === 'string') hc.test = ['CMD-SHELL', test];
  else if (Array.isArray(test) && test.length > 0) {
    hc.test = test.map(String);
    if (!['NONE', 'CMD', 'CMD-SHELL'].includes(hc.test[0])) issues.add(`${path}.test`, 'must start with NONE, CMD or CMD-SHELL');
    if (hc.test[0] === 'NONE') hc.disable = true;
  } else if (test !== undefined) issues.add(`${path}.test`, 'must be a string or a list');
  for (const [key, prop] of [['interval', 'interval_ns'], ['timeout', 'timeout_ns'], ['start_period', 'start_period_ns']] as const) {
    if (raw[key] === undefined || raw[key] === null) continue;
    try {
      hc[prop] = parseDuration(raw[key]);
    } catch (err) {
      issues.add(`${path}.${key}`, (err as Error).message);
    }
  }
  if (raw.retries !== undefined) {
    if (typeof raw.retries === 'number' && Number.isInteger(raw.retries) && raw.retries >= 0) hc.retries = raw.retries;
    else issues.add(`${path}.retries`, 'must be a non-negative integer');
  }
  return hc;
}
