// Platforms (os/arch/variant) and picking one image out of an index, following
// containerd's `platforms` package (Parse, Normalize, Only) as dockerd uses it
// for manifest lists.
import { endianness } from 'node:os';
import { BerthError } from '../errors/index.js';
import type { Descriptor, ImageIndex, Platform } from './types.js';

const KNOWN_OS = new Set([
  'aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux',
  'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'wasip1', 'windows', 'zos',
]);
const KNOWN_ARCH = new Set([
  '386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'loong64', 'mips', 'mipsle',
  'mips64', 'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'ppc64', 'ppc64le', 'riscv', 'riscv64',
  's390', 's390x', 'sparc', 'sparc64', 'wasm',
]);

/** The platform this process runs on, as image indexes name it. */
export function defaultPlatform(): Platform {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  switch (process.arch) {
    case 'x64':
      return { os, architecture: 'amd64' };
    case 'arm64':
      return { os, architecture: 'arm64', variant: 'v8' };
    case 'arm': {
      // Node built for armv6/armv7 records it in its build config.
      const vars = process.config.variables as Record<string, unknown>;
      const version = String(vars['arm_version'] ?? '7');
      return { os, architecture: 'arm', variant: `v${version}` };
    }
    case 'ia32':
      return { os, architecture: '386' };
    case 'ppc64':
      return { os, architecture: endianness() === 'LE' ? 'ppc64le' : 'ppc64' };
    case 'mips':
      return { os, architecture: endianness() === 'LE' ? 'mipsle' : 'mips' };
    case 'mipsel':
      return { os, architecture: 'mipsle' };
    default:
      // s390x, riscv64, loong64, ppc: Node's names are Go's.
      return { os, architecture: process.arch };
  }
}

/** containerd's normalizeArch: aliases to canonical names, default variants dropped or filled. */
function normalizeArch(arch: string, variant: string): { architecture: string; variant: string } {
  arch = arch.toLowerCase();
  variant = variant.toLowerCase();
  switch (arch) {
    case 'i386':
      return { architecture: '386', variant: '' };
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return { architecture: 'amd64', variant: variant === 'v1' ? '' : variant };
    case 'aarch64':
    case 'arm64':
      if (['8', 'v8', 'v8.0'].includes(variant)) variant = '';
      else if (['9', '9.0', 'v9.0'].includes(variant)) variant = 'v9';
      else if (/^\d+\.\d+$/.test(variant)) variant = `v${variant}`;
      return { architecture: 'arm64', variant };
    case 'armhf':
      return { architecture: 'arm', variant: 'v7' };
    case 'armel':
      return { architecture: 'arm', variant: 'v6' };
    case 'arm':
      if (variant === '' || variant === '7') variant = 'v7';
      else if (['5', '6', '8'].includes(variant)) variant = `v${variant}`;
      return { architecture: 'arm', variant };
    default:
      return { architecture: arch, variant };
  }
}

function normalizeOs(os: string): string {
  os = os.toLowerCase();
  return os === 'macos' ? 'darwin' : os;
}

/** Canonical form for comparison: `arm64/v8` and `arm64` are the same platform. */
export function normalizePlatform(p: Platform): Platform {
  const { architecture, variant } = normalizeArch(p.architecture, p.variant ?? '');
  const out: Platform = { os: normalizeOs(p.os), architecture };
  if (variant) out.variant = variant;
  if (p['os.version'] !== undefined) out['os.version'] = p['os.version'];
  if (p['os.features'] !== undefined) out['os.features'] = p['os.features'];
  return out;
}

function badSpecifier(s: string, why: string): BerthError {
  return new BerthError('invalid_argument', `"${s}": ${why}: invalid argument`);
}

/**
 * containerd's platforms.Parse: `linux`, `amd64`, `linux/arm64/v8`,
 * `linux/arm` (-> v7). Missing parts default to this machine's.
 */
export function parsePlatform(specifier: string): Platform {
  if (specifier.includes('*')) throw badSpecifier(specifier, 'wildcards not yet supported');
  const parts = specifier.split('/');
  for (const part of parts) {
    if (!/^[A-Za-z0-9_.-]+$/.test(part)) {
      throw badSpecifier(specifier, `"${part}" is an invalid component of "${specifier}": platform specifier component must match "^[A-Za-z0-9_.-]+$"`);
    }
  }
  const here = defaultPlatform();
  let p: Platform;
  if (parts.length === 1) {
    const only = parts[0] as string;
    const os = normalizeOs(only);
    if (KNOWN_OS.has(os)) {
      // An OS alone means this machine's architecture when the OS is ours.
      p = os === here.os ? { ...here, os } : { os, architecture: here.architecture };
      return normalizePlatform(p);
    }
    const { architecture, variant } = normalizeArch(only, '');
    if (!KNOWN_ARCH.has(architecture)) throw badSpecifier(specifier, 'unknown operating system or architecture');
    p = { os: here.os, architecture };
    if (variant) p.variant = variant;
    return p;
  }
  if (parts.length > 3) throw badSpecifier(specifier, 'cannot parse platform specifier');
  p = { os: parts[0] as string, architecture: parts[1] as string };
  if (parts.length === 3) p.variant = parts[2] as string;
  p = normalizePlatform(p);
  if (!KNOWN_OS.has(p.os) || !KNOWN_ARCH.has(p.architecture)) {
    throw badSpecifier(specifier, 'unknown operating system or architecture');
  }
  return p;
}

/** os/arch[/variant], as given (not normalised): `linux/arm64/v8`. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((x) => !!x).join('/');
}

/**
 * containerd's platformVector: the platforms `want` can run, best first.
 * amd64 vN runs v(N-1)..v1 and 386; armvN runs down to v5; arm64 runs arm.
 */
function compatible(want: Platform): Platform[] {
  const p = normalizePlatform(want);
  const out: Platform[] = [p];
  const level = (v: string | undefined) => Number.parseInt((v ?? '').replace(/^v/, ''), 10);
  switch (p.architecture) {
    case 'amd64': {
      const n = level(p.variant);
      if (n > 1) for (let v = n - 1; v >= 1; v--) out.push(normalizePlatform({ ...p, variant: `v${v}` }));
      out.push({ os: p.os, architecture: '386' });
      break;
    }
    case 'arm': {
      const n = level(p.variant);
      if (n > 5) for (let v = n - 1; v >= 5; v--) out.push({ os: p.os, architecture: 'arm', variant: `v${v}` });
      break;
    }
    case 'arm64':
      out.push(...compatible({ os: p.os, architecture: 'arm', variant: p.variant ?? 'v8' }));
      break;
  }
  return out;
}

function samePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? '') === (b.variant ?? '');
}

/** Attestations and other non-image entries docker's buildx adds to indexes. */
function isAttestation(d: Descriptor): boolean {
  if (d.annotations?.['vnd.docker.reference.type'] !== undefined) return true;
  return d.platform?.os === 'unknown' || d.platform?.architecture === 'unknown';
}

/**
 * The best entry of `index` for `want`, like dockerd's filterManifests with
 * platforms.Only: exact matches first, then compatible ones (arm64 -> arm
 * v8..v5, amd64 -> 386); entries without a platform match last.
 * 'not_found' with docker's message when nothing fits.
 */
export function selectManifest(index: ImageIndex, want: Platform): Descriptor {
  const vector = compatible(want);
  let best: { d: Descriptor; rank: number } | undefined;
  for (const d of index.manifests) {
    if (isAttestation(d)) continue;
    let rank: number;
    if (!d.platform) {
      rank = vector.length;
    } else {
      const have = normalizePlatform(d.platform);
      rank = vector.findIndex((c) => samePlatform(c, have));
      if (rank < 0) continue;
    }
    // Stable: the first entry wins among equals, as dockerd's sort.SliceStable.
    if (!best || rank < best.rank) best = { d, rank };
  }
  if (!best) {
    throw new BerthError('not_found', `no matching manifest for ${formatPlatform(want)} in the manifest list entries`);
  }
  return best.d;
}
