// The Engine API create body of one service container, as docker compose v2
// builds it: config, host config and the first network's endpoint.
import type { Project, Service } from '../types.js';
import { LABELS } from '../types.js';

export const COMPOSE_VERSION = '2.0.0-berth';

/** The engine name of a service's container number `n` (container_name wins). */
export function containerName(project: Project, service: Service, n: number): string {
  return service.container_name ?? `${project.name}-${service.name}-${n}`;
}

/** The network keys a service joins, in declaration order; none with network_mode. */
export function serviceNetworkKeys(service: Service): string[] {
  if (service.network_mode) return [];
  const keys = Object.keys(service.networks);
  return keys.length ? keys : ['default'];
}

/** The engine name of a project network key. */
export function networkName(project: Project, key: string): string {
  return project.networks[key]?.name ?? `${project.name}_${key}`;
}

function restartPolicy(restart: string | undefined): { Name: string; MaximumRetryCount?: number } | undefined {
  if (!restart) return undefined;
  const [name, count] = restart.split(':');
  return count === undefined ? { Name: name ?? 'no' } : { Name: name ?? 'no', MaximumRetryCount: Number(count) };
}

function portKey(spec: string, protocol = 'tcp'): string {
  return spec.includes('/') ? spec : `${spec}/${protocol}`;
}

export interface CreateBodyOptions {
  number: number;
  configHash: string;
  imageId: string;
  oneoff?: boolean;
  /** run: overrides of the service */
  command?: string[];
  entrypoint?: string[];
  env?: string[];
  tty?: boolean;
  stdinOpen?: boolean;
  name: string;
}

export function createBody(project: Project, service: Service, opts: CreateBodyOptions): Record<string, unknown> {
  const env = Object.entries(service.environment)
    .filter((e): e is [string, string] => e[1] !== null)
    .map(([k, v]) => `${k}=${v}`);
  const exposed: Record<string, object> = {};
  for (const p of service.ports) exposed[`${p.target}/${p.protocol}`] = {};
  for (const e of service.expose) exposed[portKey(e)] = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of service.ports) (bindings[`${p.target}/${p.protocol}`] ??= []).push({ HostIp: p.host_ip ?? '', HostPort: p.published ?? '' });

  const binds: string[] = [];
  const mounts: Record<string, unknown>[] = [];
  for (const v of service.volumes) {
    if (v.type === 'bind') binds.push(`${v.source}:${v.target}${v.read_only ? ':ro' : ''}`);
    else if (v.type === 'volume') {
      const source = v.source === undefined ? undefined : (project.volumes[v.source]?.name ?? v.source);
      mounts.push({ Type: 'volume', ...(source ? { Source: source } : {}), Target: v.target, ReadOnly: v.read_only });
    } else mounts.push({ Type: 'tmpfs', Target: v.target, ...(v.tmpfs_size ? { TmpfsOptions: { SizeBytes: v.tmpfs_size } } : {}) });
  }
  const tmpfs: Record<string, string> = {};
  for (const t of service.tmpfs) {
    const [path, options] = t.split(':', 2);
    if (path) tmpfs[path] = options ?? '';
  }

  const networks = serviceNetworkKeys(service);
  const first = networks[0];
  const hc = service.healthcheck;
  const labels: Record<string, string> = {
    ...service.labels,
    [LABELS.project]: project.name,
    [LABELS.service]: service.name,
    [LABELS.number]: String(opts.number),
    [LABELS.oneoff]: opts.oneoff ? 'True' : 'False',
    [LABELS.configHash]: opts.configHash,
    [LABELS.workingDir]: project.workingDir,
    [LABELS.configFiles]: project.files.join(','),
    [LABELS.version]: COMPOSE_VERSION,
    [LABELS.image]: opts.imageId,
    [LABELS.dependsOn]: Object.entries(service.depends_on)
      .map(([name, d]) => `${name}:${d.condition}:${d.restart}`)
      .join(','),
  };
  const command = opts.command ?? service.command;
  const entrypoint = opts.entrypoint ?? service.entrypoint;
  return {
    Image: service.image ?? `${project.name}-${service.name}`,
    ...(command ? { Cmd: command } : {}),
    ...(entrypoint ? { Entrypoint: entrypoint } : {}),
    Env: [...env, ...(opts.env ?? [])],
    ExposedPorts: exposed,
    Labels: labels,
    ...(service.user !== undefined ? { User: service.user } : {}),
    ...(service.working_dir !== undefined ? { WorkingDir: service.working_dir } : {}),
    ...(hc
      ? {
          Healthcheck: hc.disable
            ? { Test: ['NONE'] }
            : { Test: hc.test, Interval: hc.interval_ns, Timeout: hc.timeout_ns, StartPeriod: hc.start_period_ns, Retries: hc.retries },
        }
      : {}),
    ...(service.stop_signal ? { StopSignal: service.stop_signal } : {}),
    ...(service.stop_grace_period_s !== undefined ? { StopTimeout: service.stop_grace_period_s } : {}),
    Tty: opts.tty ?? service.tty ?? false,
    OpenStdin: opts.stdinOpen ?? service.stdin_open ?? false,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ...(service.hostname ? { Hostname: service.hostname } : {}),
    HostConfig: {
      PortBindings: bindings,
      Binds: binds,
      Mounts: mounts,
      NetworkMode: service.network_mode ?? (first ? networkName(project, first) : 'default'),
      ...(restartPolicy(service.restart) ? { RestartPolicy: restartPolicy(service.restart) } : {}),
      ...(service.resources.memory_bytes !== undefined ? { Memory: service.resources.memory_bytes } : {}),
      ...(service.resources.nano_cpus !== undefined ? { NanoCpus: service.resources.nano_cpus } : {}),
      ...(service.resources.pids !== undefined ? { PidsLimit: service.resources.pids } : {}),
      ...(service.init !== undefined ? { Init: service.init } : {}),
      Privileged: service.privileged ?? false,
      CapAdd: service.cap_add,
      CapDrop: service.cap_drop,
      ExtraHosts: service.extra_hosts,
      Dns: service.dns,
      ReadonlyRootfs: service.read_only ?? false,
      Tmpfs: tmpfs,
    },
    NetworkingConfig: first
      ? { EndpointsConfig: { [networkName(project, first)]: { Aliases: [service.name, ...(service.networks[first]?.aliases ?? [])], ...ipam(service, first) } } }
      : {},
  };
}

function ipam(service: Service, key: string): Record<string, unknown> {
  const ip = service.networks[key]?.ipv4_address;
  return ip ? { IPAMConfig: { IPv4Address: ip } } : {};
}

/** The endpoint config of a further network (connected before start). */
export function endpointConfig(service: Service, key: string, name: string): Record<string, unknown> {
  return { Aliases: [service.name, name, ...(service.networks[key]?.aliases ?? [])], ...ipam(service, key) };
}
