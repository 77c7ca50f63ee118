// What leaves the model: `config` YAML and the per-service config hash.
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { Project, Service } from '../types.js';
import { formatDuration } from './text.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Drop undefined fields so the YAML and the JSON only say what is set. */
function clean<T extends Record<string, unknown>>(o: T): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v as Json;
  return out;
}

/** A service in compose file long syntax, which loadProject reads back to the same Service. */
function serviceToFile(s: Service): Record<string, Json> {
  const hc = s.healthcheck;
  const limits = clean({
    memory: s.resources.memory_bytes,
    cpus: s.resources.nano_cpus === undefined ? undefined : String(s.resources.nano_cpus / 1e9),
    pids: s.resources.pids,
  });
  const nonEmpty = <V extends object>(v: V): V | undefined => (Object.keys(v).length > 0 ? v : undefined);
  return clean({
    image: s.image,
    build: s.build && clean({ ...s.build, args: s.build.args, labels: s.build.labels }),
    command: s.command,
    entrypoint: s.entrypoint,
    environment: nonEmpty(s.environment),
    ports: nonEmpty(s.ports.map((p) => clean({ target: p.target, published: p.published, host_ip: p.host_ip, protocol: p.protocol }))),
    expose: nonEmpty(s.expose),
    volumes: nonEmpty(s.volumes.map((v) =>
      clean({
        type: v.type,
        source: v.source,
        target: v.target,
        read_only: v.read_only,
        bind: v.type === 'bind' ? { create_host_path: v.create_host_path ?? true } : undefined,
        tmpfs: v.tmpfs_size !== undefined ? { size: v.tmpfs_size } : undefined,
      }),
    )),
    networks: s.network_mode === undefined ? Object.fromEntries(Object.entries(s.networks).map(([k, n]) => [k, clean({ aliases: n.aliases, ipv4_address: n.ipv4_address })])) : undefined,
    network_mode: s.network_mode,
    depends_on: Object.keys(s.depends_on).length > 0 ? (s.depends_on as unknown as Json) : undefined,
    healthcheck: hc && clean({
      test: hc.test,
      interval: hc.interval_ns === undefined ? undefined : formatDuration(hc.interval_ns),
      timeout: hc.timeout_ns === undefined ? undefined : formatDuration(hc.timeout_ns),
      start_period: hc.start_period_ns === undefined ? undefined : formatDuration(hc.start_period_ns),
      retries: hc.retries,
      disable: hc.disable,
    }),
    restart: s.restart,
    deploy: { replicas: s.replicas, ...(Object.keys(limits).length > 0 ? { resources: { limits } } : {}) },
    labels: nonEmpty(s.labels),
    user: s.user,
    working_dir: s.working_dir,
    init: s.init,
    stop_signal: s.stop_signal,
    stop_grace_period: s.stop_grace_period_s === undefined ? undefined : `${s.stop_grace_period_s}s`,
    profiles: s.profiles.length > 0 ? s.profiles : undefined,
    hostname: s.hostname,
    tty: s.tty,
    stdin_open: s.stdin_open,
    privileged: s.privileged,
    cap_add: s.cap_add.length > 0 ? s.cap_add : undefined,
    cap_drop: s.cap_drop.length > 0 ? s.cap_drop : undefined,
    extra_hosts: s.extra_hosts.length > 0 ? s.extra_hosts : undefined,
    dns: s.dns.length > 0 ? s.dns : undefined,
    read_only: s.read_only,
    tmpfs: s.tmpfs.length > 0 ? s.tmpfs : undefined,
    container_name: s.container_name,
    pull_policy: s.pull_policy,
  });
}

/** YAML for `berth compose config`: name, services by name in long syntax, networks, volumes. */
export function serializeProject(project: Project): string {
  const services = Object.fromEntries([...project.services].sort((a, b) => a.name.localeCompare(b.name)).map((s) => [s.name, serviceToFile(s)]));
  const networks = Object.fromEntries(
    Object.entries(project.networks).map(([k, n]) => [k, clean({ name: n.name, external: n.external || undefined, driver: n.driver, internal: n.internal, labels: Object.keys(n.labels).length > 0 ? n.labels : undefined, ipam: n.ipam ? { config: n.ipam } : undefined })]),
  );
  const volumes = Object.fromEntries(
    Object.entries(project.volumes).map(([k, v]) => [k, clean({ name: v.name, external: v.external || undefined, driver: v.driver, labels: Object.keys(v.labels).length > 0 ? v.labels : undefined })]),
  );
  const doc: Record<string, Json> = { name: project.name, services };
  if (Object.keys(networks).length > 0) doc.networks = networks;
  if (Object.keys(volumes).length > 0) doc.volumes = volumes;
  // "$" would be interpolated again when the output is loaded; compose escapes it the same way
  return stringify(escapeDollars(doc), { lineWidth: 0, aliasDuplicateObjects: false });
}

function escapeDollars(v: Json): Json {
  if (typeof v === 'string') return v.replaceAll('$', () => '$$');
  if (Array.isArray(v)) return v.map(escapeDollars);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeDollars(x)]));
  return v;
}

/** JSON with object keys sorted at every level, so equal values hash equally. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/**
 * sha256 hex over everything that shapes the container. Like compose, scale
 * (replicas) and depends_on are left out, so changing them never recreates;
 * the engine-side names of the service's networks and volumes are included.
 */
export function serviceConfigHash(service: Service, project: Project): string {
  const { replicas: _replicas, depends_on: _dependsOn, profiles: _profiles, ...rest } = service;
  const networkNames = Object.keys(service.networks).map((k) => project.networks[k]?.name ?? k);
  const volumeNames = service.volumes.filter((v) => v.type === 'volume' && v.source).map((v) => project.volumes[v.source!]?.name ?? v.source);
  return createHash('sha256').update(canonicalJson({ ...rest, networkNames, volumeNames })).digest('hex');
}
