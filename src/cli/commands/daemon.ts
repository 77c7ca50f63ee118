// berth daemon: the one command that runs in-process instead of calling the
// API. The daemon module is loaded only here, keeping client start-up light.
import { CliError, str, list, type Handler } from '../context.js';
import { socketPathOf } from '../client.js';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

export interface DaemonConfig {
  root: string;
  socket: string;
  insecureRegistries: string[];
  logLevel: Level;
  /** Parent cgroup of containers (dockerd's --cgroup-parent); default /berth. */
  cgroupParent?: string;
  /** The default network's bridge device (dockerd's --bridge); default berth0. */
  bridge?: string;
  /** The default network's subnet, as dockerd's --bip (gateway/prefix, e.g. 172.17.0.1/16). */
  bip?: string;
}

export const DEFAULT_SOCKET = '/run/berth/berth.sock';

/** Flags -> runDaemon's config (exported for tests). */
export function daemonConfig(flags: Record<string, unknown>, globalLogLevel = 'info'): DaemonConfig {
  const get = (k: string) => (typeof flags[k] === 'string' ? (flags[k] as string) : '');
  const socketFlag = get('socket');
  const hostFlag = get('host');
  if (socketFlag && hostFlag) throw new CliError('--socket and -H/--host are mutually exclusive');
  const socket = socketFlag || (hostFlag ? socketPathOf(hostFlag) : DEFAULT_SOCKET);
  let level = get('log-level') || 'info';
  if (level === 'info' && globalLogLevel !== 'info') level = globalLogLevel;
  if (level === 'warning') level = 'warn';
  if (!(LEVELS as readonly string[]).includes(level)) throw new CliError(`unable to parse logging level: ${level}`, 125);
  const insecure = Array.isArray(flags['insecure-registry']) ? (flags['insecure-registry'] as string[]) : [];
  const cfg: DaemonConfig = { root: get('root') || '/var/lib/berth', socket, insecureRegistries: insecure, logLevel: level as Level };
  const cgroupParent = get('cgroup-parent');
  if (cgroupParent) {
    if (!cgroupParent.startsWith('/')) throw new CliError(`--cgroup-parent must be an absolute cgroup path: ${cgroupParent}`, 125);
    cfg.cgroupParent = cgroupParent;
  }
  const bridge = get('bridge');
  if (bridge) {
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge)) throw new CliError(`invalid bridge name: ${bridge} (1-15 characters of a-z, 0-9, _ . -)`, 125);
    cfg.bridge = bridge;
  }
  const bip = get('bip');
  if (bip) {
    if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(bip)) throw new CliError(`invalid --bip: ${bip} (expected an IPv4 address with a prefix, e.g. 172.17.0.1/16)`, 125);
    cfg.bip = bip;
  }
  return cfg;
}

export const daemon: Handler = async (ctx, { flags }) => {
  const cfg = daemonConfig({ ...flags, 'insecure-registry': list(flags, 'insecure-registry'), root: str(flags, 'root') }, ctx.logLevel);
  const { runDaemon } = await import('../../daemon/index.js');
  await runDaemon(cfg);
};
