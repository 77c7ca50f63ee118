// The daemon's table of contents: the one place that builds the services, in
// dependency order, and knows how to close them.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openDatabase } from '../db/index.js';
import { LocalContentStore } from '../content/index.js';
import { OverlaySnapshotter } from '../storage/index.js';
import { createRegistryClient } from '../registry/index.js';
import { createImageService } from '../image/index.js';
import { Builder } from '../build/index.js';
import { createContainerService, ExecManager, execProber } from '../container/index.js';
import { VolumeStore } from '../volume/index.js';
import { createNetworkService } from '../network/index.js';
import { EventBus, feedEvents } from '../events/index.js';
import { goArch, type Logger, type LogLevel } from '../util/index.js';
import type { ApiServices } from './server.js';
import { createSystemInfo } from './sysinfo.js';
import { acquireRootLock } from './lock.js';
import { BERTH_VERSION } from './apiversion.js';

export interface DaemonConfig {
  /** State directory (dockerd's /var/lib/docker). */
  root: string;
  /** Unix socket path of the Engine API. */
  socket: string;
  /** Registries reached over plain HTTP: host[:port] names or CIDRs. */
  insecureRegistries: string[];
  logLevel: LogLevel;
  /** Parent cgroup of every container; default /berth. */
  cgroupParent?: string;
  /** The default network's bridge device; default berth0. */
  bridge?: string;
  /** The default network's gateway/prefix (dockerd's --bip). */
  bip?: string;
}

export interface Daemon extends ApiServices {
  close(): Promise<void>;
}

export async function composeDaemon(cfg: DaemonConfig, log: Logger): Promise<Daemon> {
  await mkdir(cfg.root, { recursive: true, mode: 0o700 });
  const lock = await acquireRootLock(join(cfg.root, 'berth.pid'));
  const cleanups: (() => Promise<void> | void)[] = [() => lock.release()];
  const close = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        log.warn('close failed', { err });
      }
    }
  };
  try {
    const db = openDatabase(join(cfg.root, 'berth.db'));
    cleanups.push(() => {
      db.close();
    });
    const content = await LocalContentStore.open(join(cfg.root, 'content'));
    const snapshots = await OverlaySnapshotter.open(join(cfg.root, 'overlay'), db);
    const registry = createRegistryClient({ insecureRegistries: cfg.insecureRegistries, userAgent: `berth/${BERTH_VERSION}` });
    const images = await createImageService({ db, content, snapshots, registry, log: log.child({ module: 'image' }), root: cfg.root });
    const volumes = new VolumeStore({ db, root: cfg.root });
    const networks = await createNetworkService({
      db,
      root: cfg.root,
      log: log.child({ module: 'network' }),
      ...(cfg.bridge ? { defaultBridge: cfg.bridge } : {}),
      ...(cfg.bip ? { defaultSubnet: subnetOf(cfg.bip) } : {}),
    });
    cleanups.push(() => networks.close());
    const containers = createContainerService({
      db,
      root: cfg.root,
      images,
      snapshots,
      volumes,
      networks,
      log: log.child({ module: 'container' }),
      ...(cfg.cgroupParent ? { cgroupParent: cfg.cgroupParent } : {}),
    });
    volumes.setUsedBy((name) => containers.volumeUsers(name));
    const events = new EventBus();
    feedEvents(events, { containers, images });
    // closed before the database (cleanups run in reverse); containers keep running under conmon
    cleanups.push(() => containers.close());
    images.setImageUsers(async (imageId) =>
      (await containers.list({ all: true })).filter((c) => c.ImageID === imageId).map((c) => ({ id: c.Id, running: c.State === 'running' || c.State === 'paused' || c.State === 'restarting' })),
    );
    const exec = new ExecManager({ containers, log: log.child({ module: 'exec' }) });
    containers.setHealthProber(execProber(exec));
    await containers.restore();
    // endpoints of containers that are gone (exited or removed while the daemon was down) are undone
    await networks.reconcile(new Set((await containers.list({ all: true })).filter((c) => c.State === 'running' || c.State === 'paused').map((c) => c.Id)));
    const system = createSystemInfo({ root: cfg.root, insecureRegistries: cfg.insecureRegistries, images, containers });
    const builder = new Builder({
      images,
      containers,
      db,
      tmpDir: join(cfg.root, 'tmp', 'build'),
      log: log.child({ module: 'build' }),
      platform: `linux/${goArch()}`,
    });
    await builder.init();
    return { images, containers, exec, volumes, networks, registry, system, events, builder, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** dockerd's --bip is the gateway with the prefix (172.17.0.1/16); the subnet is its network part. */
function subnetOf(bip: string): string {
  const [addr = '', prefixText = '24'] = bip.split('/');
  const prefix = Number(prefixText);
  const n = addr.split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  const base = (n & mask) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (base >>> s) & 255).join('.')}/${prefix}`;
}
