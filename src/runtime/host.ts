// What the spec builder must know of the machine: the cgroup version, the
// daemon's own rlimits and capability bounding set, the architecture and the
// kernel. Read from /proc once; the parsers are pure for tests.
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { capabilitiesOfMask } from './caps.js';
import type { HostInfo } from './types.js';
import { goArch } from '../util/index.js';

/** /proc/self/limits row titles -> RLIMIT_ names. */
const LIMIT_ROWS: Record<string, string> = {
  'Max cpu time': 'RLIMIT_CPU',
  'Max file size': 'RLIMIT_FSIZE',
  'Max data size': 'RLIMIT_DATA',
  'Max stack size': 'RLIMIT_STACK',
  'Max core file size': 'RLIMIT_CORE',
  'Max resident set': 'RLIMIT_RSS',
  'Max processes': 'RLIMIT_NPROC',
  'Max open files': 'RLIMIT_NOFILE',
  'Max locked memory': 'RLIMIT_MEMLOCK',
  'Max address space': 'RLIMIT_AS',
  'Max file locks': 'RLIMIT_LOCKS',
  'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE',
  'Max nice priority': 'RLIMIT_NICE',
  'Max realtime priority': 'RLIMIT_RTPRIO',
  'Max realtime timeout': 'RLIMIT_RTTIME',
};

/** Hard limits from /proc/<pid>/limits text (Node has no getrlimit); "unlimited" = Infinity. */
export function parseProcLimits(text: string): Record<string, number> {
  const hard: Record<string, number> = {};
  for (const line of text.split('\n')) {
    for (const [title, name] of Object.entries(LIMIT_ROWS)) {
      if (!line.startsWith(title + ' ')) continue;
      const fields = line.slice(title.length).trim().split(/\s+/);
      const value = fields[1];
      if (value !== undefined) hard[name] = value === 'unlimited' ? Infinity : Number(value);
    }
  }
  return hard;
}

/** cgroup v2 only when /sys/fs/cgroup itself is cgroup2 (a hybrid host has it at /sys/fs/cgroup/unified). */
export function cgroupVersionOf(mountinfo: string): 1 | 2 {
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const sep = fields.indexOf('-');
    if (fields[4] === '/sys/fs/cgroup' && sep > 0 && fields[sep + 1] === 'cgroup2') return 2;
  }
  return 1;
}

const SECCOMP_ARCH: Record<string, string> = {
  x64: 'SCMP_ARCH_X86_64',
  ia32: 'SCMP_ARCH_X86',
  arm64: 'SCMP_ARCH_AARCH64',
  arm: 'SCMP_ARCH_ARM',
  s390x: 'SCMP_ARCH_S390X',
  ppc64: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64',
};

export function kernelVersionOf(rel: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

let cached: Promise<HostInfo> | undefined;

/** The host, read once per process. */
export function probeHost(): Promise<HostInfo> {
  cached ??= (async () => {
    const [limits, status, mountinfo] = await Promise.all([
      readFile('/proc/self/limits', 'utf8'),
      readFile('/proc/self/status', 'utf8'),
      readFile('/proc/self/mountinfo', 'utf8'),
    ]);
    const capBnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0';
    return {
      cgroupVersion: cgroupVersionOf(mountinfo),
      rlimitHard: parseProcLimits(limits),
      boundingCaps: capabilitiesOfMask(capBnd),
      seccompArch: SECCOMP_ARCH[process.arch] ?? 'SCMP_ARCH_NATIVE',
      goArch: goArch(),
      kernel: kernelVersionOf(release()),
    };
  })();
  return cached;
}
