// GET /info and GET /version: real values of this host and daemon, in the
// shapes dockerd returns (api/types/system.Info, types.Version).
import { readFile, statfs } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import os from 'node:os';
import { goArch, writeFileAtomic } from '../util/index.js';
import type { ContainerService } from '../container/types.js';
import type { ImageService } from '../image/types.js';
import { API_VERSION, BERTH_VERSION, MIN_API_VERSION } from './apiversion.js';

export interface SystemInfoSource {
  info(): Promise<Record<string, unknown>>;
  version(): Record<string, unknown>;
}

export interface SystemInfoDeps {
  root: string;
  insecureRegistries: string[];
  images: Pick<ImageService, 'list'>;
  containers?: Pick<ContainerService, 'list'>;
}

/** The docker CLI and most clients know overlayfs layer storage as "overlay2"; berth's layout is the same idea. */
export const STORAGE_DRIVER = 'overlay2';
const STARTED = new Date();


// statfs f_type magic numbers (linux/magic.h) for the names dockerd reports.
const FS_NAMES: Record<number, string> = {
  0xef53: 'extfs',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x01021994: 'tmpfs',
  0x794c7630: 'overlayfs',
  0x2fc12fc1: 'zfs',
};
const CGROUP2_SUPER_MAGIC = 0x63677270;

async function fsType(path: string): Promise<number | undefined> {
  try {
    return (await statfs(path)).type;
  } catch {
    return undefined;
  }
}

/** PRETTY_NAME from /etc/os-release (or /usr/lib/os-release), as dockerd's operatingsystem package reads it. */
async function osRelease(): Promise<{ pretty: string; version: string }> {
  for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      const text = await readFile(path, 'utf8');
      const field = (k: string) => {
        const m = new RegExp(`^${k}=(.*)$`, 'm').exec(text);
        return m ? (m[1] as string).trim().replace(/^["']|["']$/g, '') : '';
      };
      return { pretty: field('PRETTY_NAME') || 'Linux', version: field('VERSION_ID') };
    } catch {
      /* try the next */
    }
  }
  return { pretty: 'Linux', version: '' };
}

/** The engine's stable ID: <root>/engine-id, created once (dockerd keeps the same file). */
export async function engineId(root: string): Promise<string> {
  const path = join(root, 'engine-id');
  try {
    const id = (await readFile(path, 'utf8')).trim();
    if (id) return id;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const id = randomUUID();
  await writeFileAtomic(path, id, 0o600);
  return id;
}

/** RegistryConfig as dockerd shapes it: CIDRs in InsecureRegistryCIDRs, host names as insecure IndexConfigs. */
export function registryConfig(insecureRegistries: string[]): Record<string, unknown> {
  const cidrs = ['::1/128', '127.0.0.0/8'];
  const index: Record<string, unknown> = {
    'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true },
  };
  for (const r of insecureRegistries) {
    if (/^[0-9a-fA-F:.]+\/\d+$/.test(r)) {
      if (!cidrs.includes(r)) cidrs.push(r);
    } else {
      index[r] = { Name: r, Mirrors: [], Secure: false, Official: false };
    }
  }
  return { InsecureRegistryCIDRs: cidrs, IndexConfigs: index, Mirrors: [] };
}

export function createSystemInfo(deps: SystemInfoDeps): SystemInfoSource {
  let id: Promise<string> | undefined;
  return {
    version() {
      const details = {
        ApiVersion: API_VERSION,
        Arch: goArch(),
        BuildTime: STARTED.toISOString(),
        Experimental: 'false',
        GitCommit: '',
        GoVersion: process.version,
        KernelVersion: os.release(),
        MinAPIVersion: MIN_API_VERSION,
        Os: 'linux',
      };
      return {
        Platform: { Name: `berth ${BERTH_VERSION}` },
        Components: [{ Name: 'Engine', Version: BERTH_VERSION, Details: details }],
        Version: BERTH_VERSION,
        ApiVersion: API_VERSION,
        MinAPIVersion: MIN_API_VERSION,
        GitCommit: '',
        GoVersion: process.version,
        Os: 'linux',
        Arch: goArch(),
        KernelVersion: os.release(),
        BuildTime: STARTED.toISOString(),
      };
    },

    async info() {
      id ??= engineId(deps.root);
      const [engine, release, images, rootFs, cgroupFs, containers] = await Promise.all([
        id,
        osRelease(),
        deps.images.list({ all: true }),
        fsType(deps.root),
        fsType('/sys/fs/cgroup'),
        deps.containers?.list({ all: true }) ?? [],
      ]);
      const count = (...states: string[]) => containers.filter((c) => states.includes(c.State)).length;
      const cgroupVersion = cgroupFs === CGROUP2_SUPER_MAGIC ? '2' : '1';
      const backing = rootFs === undefined ? 'unknown' : (FS_NAMES[rootFs] ?? `0x${rootFs.toString(16)}`);
      return {
        ID: engine,
        Containers: containers.length,
        ContainersRunning: count('running', 'restarting'),
        ContainersPaused: count('paused'),
        ContainersStopped: count('created', 'exited', 'dead', 'removing'),
        Images: images.length,
        Driver: STORAGE_DRIVER,
        DriverStatus: [
          ['Backing Filesystem', backing],
          ['Supports d_type', 'true'],
          ['Using metacopy', 'false'],
          ['Native Overlay Diff', 'true'],
          ['userxattr', 'false'],
        ],
        Plugins: { Volume: [], Network: [], Authorization: null, Log: ['json-file'] },
        MemoryLimit: true,
        SwapLimit: cgroupVersion === '2',
        CpuCfsPeriod: true,
        CpuCfsQuota: true,
        CPUShares: true,
        CPUSet: true,
        PidsLimit: true,
        IPv4Forwarding: true,
        Debug: false,
        NFd: 0,
        OomKillDisable: false,
        NGoroutines: 0,
        SystemTime: new Date().toISOString(),
        LoggingDriver: 'json-file',
        CgroupDriver: 'cgroupfs',
        CgroupVersion: cgroupVersion,
        NEventsListener: 0,
        KernelVersion: os.release(),
        OperatingSystem: release.pretty,
        OSVersion: release.version,
        OSType: 'linux',
        Architecture: os.machine(),
        IndexServerAddress: 'https://index.docker.io/v1/',
        RegistryConfig: registryConfig(deps.insecureRegistries),
        NCPU: os.availableParallelism(),
        MemTotal: os.totalmem(),
        GenericResources: null,
        DockerRootDir: deps.root,
        HttpProxy: process.env.HTTP_PROXY ?? process.env.http_proxy ?? '',
        HttpsProxy: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '',
        NoProxy: process.env.NO_PROXY ?? process.env.no_proxy ?? '',
        Name: os.hostname(),
        Labels: [],
        ExperimentalBuild: false,
        ServerVersion: BERTH_VERSION,
        Runtimes: { runc: { path: 'runc' } },
        DefaultRuntime: 'runc',
        Swarm: {
          NodeID: '',
          NodeAddr: '',
          LocalNodeState: 'inactive',
          ControlAvailable: false,
          Error: '',
          RemoteManagers: null,
        },
        LiveRestoreEnabled: false,
        Isolation: '',
        InitBinary: '',
        ContainerdCommit: { ID: '' },
        RuncCommit: { ID: '' },
        InitCommit: { ID: '' },
        SecurityOptions: ['name=seccomp,profile=builtin'],
        CDISpecDirs: [],
        Containerd: null,
        Warnings: [],
      };
    },
  };
}
