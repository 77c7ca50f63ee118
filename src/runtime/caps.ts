// Linux capabilities by number, docker's default set, and docker's
// --cap-add/--cap-drop arithmetic (moby oci/caps TweakCapabilities).
import { BerthError } from '../errors/index.js';

/** Index = capability number (linux/capability.h), up to CAP_CHECKPOINT_RESTORE (40). */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** docker's default capabilities (moby oci/caps/defaults.go), in its order. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** "net_admin", "NET_ADMIN", "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; "all" -> "ALL". */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/** Capability names of a /proc/<pid>/status Cap* hex mask. */
export function capabilitiesOfMask(hex: string): string[] {
  const mask = BigInt(`0x${hex}`);
  return ALL_CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

/** The /proc/<pid>/status style hex mask (16 digits) of a set of names. */
export function maskOfCapabilities(names: readonly string[]): string {
  let mask = 0n;
  for (const n of names) {
    const i = ALL_CAPABILITIES.indexOf(n);
    if (i < 0) throw new BerthError('invalid_argument', `unknown capability: "${n}"`);
    mask |= 1n << BigInt(i);
  }
  return mask.toString(16).padStart(16, '0');
}

/**
 * The container's capability set, as docker computes it: drops win over the
 * defaults, adds win over drops, ALL in adds means every capability and ALL in
 * drops means none but the adds. The result is clamped to `available` (the
 * daemon's bounding set): runc cannot grant what it does not hold. Naming a
 * capability the daemon lacks explicitly is an error rather than a silent gap.
 */
export function tweakCapabilities(opts: {
  add?: readonly string[];
  drop?: readonly string[];
  privileged?: boolean;
  available: readonly string[];
}): string[] {
  const add = (opts.add ?? []).map(normalizeCapability);
  const drop = (opts.drop ?? []).map(normalizeCapability);
  for (const c of [...add, ...drop]) {
    if (c !== 'ALL' && !ALL_CAPABILITIES.includes(c)) throw new BerthError('invalid_argument', `unknown capability: "${c}"`);
  }
  const available = new Set(opts.available);
  const ordered = (set: Set<string>) => ALL_CAPABILITIES.filter((c) => set.has(c) && available.has(c));
  if (opts.privileged || add.includes('ALL')) {
    // Explicit drops still apply with ALL (docker: --cap-add ALL --cap-drop X).
    const all = new Set(ALL_CAPABILITIES);
    if (!opts.privileged) for (const c of drop) all.delete(c);
    return ordered(all);
  }
  for (const c of add) {
    if (!available.has(c)) {
      throw new BerthError('invalid_argument', `capability ${c} is not available to the daemon, so it cannot be added`);
    }
  }
  const result = new Set<string>(drop.includes('ALL') ? [] : DEFAULT_CAPABILITIES);
  for (const c of drop) result.delete(c);
  for (const c of add) result.add(c);
  return ordered(result);
}
