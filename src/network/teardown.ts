// Undoing all of a stopped daemon's networking on the host: endpoints (CNI DEL
// from the cache, masquerade leftovers), namespace files, the bridges of its
// networks and portmap's idle chains. For `berth`'s test harness and for an
// uninstall: nothing here runs while the daemon does.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openDatabase } from '../db/index.js';
import { createLogger } from '../util/index.js';
import { createNetworkService } from './service.js';
import { removeIdlePortmapChains } from './iptables.js';

const execFileP = promisify(execFile);

/**
 * `sharedChains`: also remove portmap's host-wide chains when no mapping is left in them.
 * Leave them when other runtimes may be adding mappings at the same moment (tests running
 * in parallel): removing a chain another runtime is about to use breaks its ADD.
 */
export async function teardownNetworking(root: string, opts: { defaultBridge?: string; sharedChains?: boolean } = {}): Promise<void> {
  const dbPath = join(root, 'berth.db');
  if (!(await stat(dbPath).then(() => true, () => false))) return;
  const db = openDatabase(dbPath);
  try {
    const svc = await createNetworkService({ db, root, log: createLogger('error'), ...(opts.defaultBridge ? { defaultBridge: opts.defaultBridge } : {}) });
    try {
      await svc.reconcile(new Set());
      for (const n of await svc.list()) {
        if (n.Driver !== 'bridge') continue;
        const info = await svc.inspect(n.Id);
        const device = info.Options?.['com.docker.network.bridge.name'] ?? (n.Name === 'bridge' ? opts.defaultBridge : undefined) ?? `br-${n.Id.slice(0, 12)}`;
        await execFileP('ip', ['link', 'del', 'dev', device]).catch(() => undefined);
        await svc.dropMasquerade(n.Id);
      }
      if (opts.sharedChains) await removeIdlePortmapChains();
    } finally {
      await svc.close();
    }
  } finally {
    db.close();
  }
}
