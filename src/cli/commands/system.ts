// version, info and system df: the daemon's view of itself, printed in the
// shape docker prints it.
import { arch, platform } from 'node:os';
import { CLIENT_API_VERSION } from '../client.js';
import { CliError, str, bool, type Handler, type CommandContext } from '../context.js';
import { cliVersion } from '../version.js';
import { Template, renderRows, context, formatList, TemplateError } from '../format/index.js';
import { humanSize, bytesSize, sinceUnix } from '../format/units.js';
import { imageRows, truncateId, IMAGE_HEADERS, type ImageSummary } from './images.js';

const GO_ARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

function runTemplate(format: string, data: unknown): string {
  let tmpl: Template;
  try {
    tmpl = Template.parse(format.replaceAll('\\t', '\t').replaceAll('\\n', '\n'));
  } catch (err) {
    throw new CliError(`template parsing error: ${(err as Error).message}`);
  }
  try {
    return tmpl.execute(data) + '\n';
  } catch (err) {
    if (err instanceof TemplateError) throw new CliError(err.message);
    throw err;
  }
}

const field = (label: string, value: unknown, width: number, indent: string) => `${indent}${`${label}:`.padEnd(width)}${String(value ?? '')}\n`;

// ---------------------------------------------------------------- version

interface ServerVersion {
  Platform?: { Name?: string };
  Components?: Array<{ Name: string; Version: string; Details?: Record<string, string> }>;
  Version?: string;
  ApiVersion?: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os?: string;
  Arch?: string;
  KernelVersion?: string;
  Experimental?: boolean;
  BuildTime?: string;
}

export const version: Handler = async (ctx, { flags }) => {
  const client = {
    Platform: { Name: '' },
    Version: cliVersion(),
    ApiVersion: CLIENT_API_VERSION,
    DefaultAPIVersion: CLIENT_API_VERSION,
    NodeVersion: process.version,
    Os: platform(),
    Arch: GO_ARCH[arch()] ?? arch(),
  };
  const format = str(flags, 'format');
  let server: ServerVersion | undefined;
  let failure: unknown;
  try {
    server = await ctx.client().json<ServerVersion>('GET', '/version');
  } catch (err) {
    failure = err;
  }
  if (format) {
    ctx.stdout.write(runTemplate(format, { Client: client, Server: server ?? null }));
  } else {
    let out = 'Client:\n';
    out += field('Version', client.Version, 19, ' ');
    out += field('API version', client.ApiVersion, 19, ' ');
    out += field('Node version', client.NodeVersion, 19, ' ');
    out += field('OS/Arch', `${client.Os}/${client.Arch}`, 19, ' ');
    if (server) {
      out += `\nServer:${server.Platform?.Name ? ` ${server.Platform.Name}` : ''}\n`;
      out += ' Engine:\n';
      out += field('Version', server.Version, 18, '  ');
      out += field('API version', `${server.ApiVersion ?? ''}${server.MinAPIVersion ? ` (minimum version ${server.MinAPIVersion})` : ''}`, 18, '  ');
      if (server.GoVersion) out += field(server.GoVersion.startsWith('v') ? 'Node version' : 'Go version', server.GoVersion, 18, '  ');
      if (server.GitCommit) out += field('Git commit', server.GitCommit, 18, '  ');
      if (server.BuildTime) out += field('Built', server.BuildTime, 18, '  ');
      out += field('OS/Arch', `${server.Os ?? ''}/${server.Arch ?? ''}`, 18, '  ');
      out += field('Experimental', server.Experimental ?? false, 18, '  ');
      for (const c of server.Components ?? []) {
        if (c.Name === 'Engine') continue;
        out += ` ${c.Name}:\n`;
        out += field('Version', c.Version, 18, '  ');
        for (const [k, v] of Object.entries(c.Details ?? {})) out += field(k, v, 18, '  ');
      }
    }
    ctx.stdout.write(out);
  }
  if (failure) throw failure;
};

// ---------------------------------------------------------------- info

interface InfoResponse {
  ID?: string;
  Containers?: number;
  ContainersRunning?: number;
  ContainersPaused?: number;
  ContainersStopped?: number;
  Images?: number;
  Driver?: string;
  DriverStatus?: Array<[string, string]> | null;
  LoggingDriver?: string;
  CgroupDriver?: string;
  CgroupVersion?: string;
  KernelVersion?: string;
  OperatingSystem?: string;
  OSVersion?: string;
  OSType?: string;
  Architecture?: string;
  NCPU?: number;
  MemTotal?: number;
  Name?: string;
  DockerRootDir?: string;
  ServerVersion?: string;
  Debug?: boolean;
  ExperimentalBuild?: boolean;
  LiveRestoreEnabled?: boolean;
  Labels?: string[] | null;
  DefaultRuntime?: string;
  Runtimes?: Record<string, unknown> | null;
  RegistryConfig?: {
    InsecureRegistryCIDRs?: string[] | null;
    IndexConfigs?: Record<string, { Name: string; Secure: boolean }> | null;
  } | null;
  Warnings?: string[] | null;
}

export function renderInfo(info: InfoResponse): string {
  let out = 'Server:\n';
  const line = (label: string, value: unknown, indent = ' ') => {
    out += `${indent}${label}: ${String(value ?? '')}\n`;
  };
  line('Containers', info.Containers ?? 0);
  line('Running', info.ContainersRunning ?? 0, '  ');
  line('Paused', info.ContainersPaused ?? 0, '  ');
  line('Stopped', info.ContainersStopped ?? 0, '  ');
  line('Images', info.Images ?? 0);
  line('Server Version', info.ServerVersion);
  line('Storage Driver', info.Driver);
  for (const [k, v] of info.DriverStatus ?? []) line(k, v, '  ');
  if (info.LoggingDriver) line('Logging Driver', info.LoggingDriver);
  line('Cgroup Driver', info.CgroupDriver);
  line('Cgroup Version', info.CgroupVersion);
  if (info.Runtimes && Object.keys(info.Runtimes).length) line('Runtimes', Object.keys(info.Runtimes).sort().join(' '));
  if (info.DefaultRuntime) line('Default Runtime', info.DefaultRuntime);
  line('Kernel Version', info.KernelVersion);
  line('Operating System', info.OperatingSystem);
  line('OSType', info.OSType);
  line('Architecture', info.Architecture);
  line('CPUs', info.NCPU ?? 0);
  line('Total Memory', bytesSize(info.MemTotal ?? 0));
  line('Name', info.Name);
  line('ID', info.ID);
  line('Docker Root Dir', info.DockerRootDir);
  line('Debug Mode', info.Debug ?? false);
  if (info.Labels && info.Labels.length) {
    out += ' Labels:\n';
    for (const l of info.Labels) out += `  ${l}\n`;
  }
  line('Experimental', info.ExperimentalBuild ?? false);
  const reg = info.RegistryConfig;
  const insecureNames = Object.values(reg?.IndexConfigs ?? {}).filter((c) => !c.Secure).map((c) => c.Name);
  const cidrs = reg?.InsecureRegistryCIDRs ?? [];
  if (insecureNames.length || cidrs.length) {
    out += ' Insecure Registries:\n';
    for (const n of [...insecureNames, ...cidrs]) out += `  ${n}\n`;
  }
  line('Live Restore Enabled', info.LiveRestoreEnabled ?? false);
  return out;
}

export const info: Handler = async (ctx, { flags }) => {
  const data = await ctx.client().json<InfoResponse>('GET', '/info');
  const format = str(flags, 'format');
  if (format) {
    ctx.stdout.write(runTemplate(format === 'json' ? '{{json .}}' : format, data));
    return;
  }
  ctx.stdout.write(renderInfo(data));
  const warnings = data.Warnings ?? [];
  if (warnings.length) ctx.stderr.write(warnings.map((w) => `${w}\n`).join(''));
};

// ---------------------------------------------------------------- system df

interface DfContainer {
  Id: string;
  Names?: string[];
  Image?: string;
  Command?: string;
  Created?: number;
  State?: string;
  Status?: string;
  SizeRw?: number;
  Mounts?: Array<{ Type?: string }>;
}
interface DfVolume {
  Name: string;
  UsageData?: { Size: number; RefCount: number } | null;
}
interface DfCache {
  ID: string;
  Type?: string;
  Size: number;
  InUse?: boolean;
  Shared?: boolean;
  CreatedAt?: string;
  LastUsedAt?: string | null;
  UsageCount?: number;
}
export interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: DfContainer[] | null;
  Volumes?: DfVolume[] | null;
  BuildCache?: DfCache[] | null;
}

const DF_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const DF_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

const withPercent = (reclaimable: number, total: number): string =>
  total > 0 ? `${humanSize(reclaimable)} (${Math.trunc((reclaimable * 100) / total)}%)` : humanSize(reclaimable);

const isActiveContainer = (c: DfContainer) => /running|paused|restarting/.test(c.State ?? '');

export function diskUsageRows(df: DiskUsage): Record<string, unknown>[] {
  const images = df.Images ?? [];
  const containers = df.Containers ?? [];
  const volumes = df.Volumes ?? [];
  const cache = df.BuildCache ?? [];
  const layers = df.LayersSize ?? 0;
  let usedByImages = 0;
  for (const i of images) {
    if ((i.Containers ?? 0) > 0 && (i.SharedSize ?? -1) !== -1) usedByImages += (i.VirtualSize ?? i.Size) - (i.SharedSize ?? 0);
  }
  const containerSize = containers.reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const containerReclaim = containers.filter((c) => !isActiveContainer(c)).reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const volumeSize = volumes.reduce((n, v) => n + (v.UsageData && v.UsageData.Size !== -1 ? v.UsageData.Size : 0), 0);
  const volumeReclaim = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((n, v) => n + (v.UsageData && v.UsageData.Size !== -1 ? v.UsageData.Size : 0), 0);
  const cacheSize = cache.filter((c) => !c.Shared).reduce((n, c) => n + c.Size, 0);
  const cacheReclaim = cache.filter((c) => !c.Shared && !c.InUse).reduce((n, c) => n + c.Size, 0);
  return [
    context({ Type: 'Images', TotalCount: String(images.length), Active: String(images.filter((i) => (i.Containers ?? 0) > 0).length), Size: humanSize(layers), Reclaimable: withPercent(layers - usedByImages, layers) }),
    context({ Type: 'Containers', TotalCount: String(containers.length), Active: String(containers.filter(isActiveContainer).length), Size: humanSize(containerSize), Reclaimable: withPercent(containerReclaim, containerSize) }),
    context({ Type: 'Local Volumes', TotalCount: String(volumes.length), Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), Size: humanSize(volumeSize), Reclaimable: withPercent(volumeReclaim, volumeSize) }),
    context({ Type: 'Build Cache', TotalCount: String(cache.length), Active: String(cache.filter((c) => c.InUse).length), Size: humanSize(cacheSize), Reclaimable: humanSize(cacheReclaim) }),
  ];
}

function verboseDiskUsage(df: DiskUsage): string {
  const images = imageRows(df.Images ?? [], { trunc: true, digests: false });
  let out = 'Images space usage:\n\n';
  out += renderRows('table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}', images, IMAGE_HEADERS);
  out += '\nContainers space usage:\n\n';
  const containers = (df.Containers ?? []).map((c) =>
    context({
      ID: truncateId(c.Id),
      Image: c.Image ?? '',
      Command: JSON.stringify(c.Command ?? ''),
      LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Type === 'volume').length),
      Size: humanSize(c.SizeRw ?? 0),
      RunningFor: c.Created ? sinceUnix(c.Created) : '',
      Status: c.Status ?? '',
      Names: (c.Names ?? []).map((n) => n.replace(/^\//, '')).join(','),
    }),
  );
  out += renderRows('table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}', containers, {
    ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE', RunningFor: 'CREATED', Status: 'STATUS', Names: 'NAMES',
  });
  out += '\nLocal Volumes space usage:\n\n';
  const volumes = (df.Volumes ?? []).map((v) => context({ Name: v.Name, Links: String(v.UsageData?.RefCount ?? 0), Size: humanSize(v.UsageData?.Size ?? 0) }));
  out += renderRows('table {{.Name}}\t{{.Links}}\t{{.Size}}', volumes, { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' });
  const cache = df.BuildCache ?? [];
  out += `\nBuild cache usage: ${humanSize(cache.reduce((n, c) => n + c.Size, 0))}\n\n`;
  const cacheRows = cache.map((c) =>
    context({
      ID: c.ID,
      CacheType: c.Type ?? '',
      Size: humanSize(c.Size),
      CreatedSince: c.CreatedAt ? sinceUnix(Date.parse(c.CreatedAt) / 1000) : '',
      LastUsedSince: c.LastUsedAt ? sinceUnix(Date.parse(c.LastUsedAt) / 1000) : '',
      UsageCount: String(c.UsageCount ?? 0),
      Shared: String(c.Shared ?? false),
    }),
  );
  out += renderRows('table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}', cacheRows, {
    ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED',
  });
  return out;
}

export const diskUsage: Handler = async (ctx: CommandContext, { flags }) => {
  const df = (await ctx.client().json<DiskUsage>('GET', '/system/df')) ?? {};
  const format = str(flags, 'format');
  if (bool(flags, 'verbose') && !format) {
    ctx.stdout.write(verboseDiskUsage(df));
    return;
  }
  ctx.stdout.write(formatList(diskUsageRows(df), { format, defaultTable: DF_TABLE, headers: DF_HEADERS }));
};
