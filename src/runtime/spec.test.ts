import assert from 'node:assert/strict';
import test from 'node:test';
import { isCode } from '../errors/index.js';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, maskOfCapabilities, tweakCapabilities } from './caps.js';
import { cgroupVersionOf, parseProcLimits } from './host.js';
import { serializeSpec } from './bundle.js';
import { buildSpec, cgroupsPathFor, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from './spec.js';
import { seccompFromProfile } from './seccomp.js';
import { CLONE_NAMESPACE_FLAGS, DEFAULT_SECCOMP_PROFILE } from './seccomp-default.js';
import type { HostInfo, SpecInput } from './types.js';

// A host like ours: cgroup v1, nofile hard-limited to 20000, no CAP_SYS_RESOURCE.
const host: HostInfo = {
  cgroupVersion: 1,
  rlimitHard: { RLIMIT_NOFILE: 20000, RLIMIT_NPROC: 96365, RLIMIT_CORE: Infinity },
  boundingCaps: ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE'),
  seccompArch: 'SCMP_ARCH_X86_64',
  goArch: 'amd64',
  kernel: [6, 1],
};
const base: SpecInput = { rootfs: '/r', args: ['sh'], env: ['PATH=/bin'], host };
const spec = (extra: Partial<SpecInput> = {}) => buildSpec({ ...base, ...extra });
const sorted = (a: readonly string[] | undefined) => [...(a ?? [])].sort();

test('defaults: docker capabilities in bounding/effective/permitted only', () => {
  const caps = spec().process.capabilities;
  for (const set of ['bounding', 'effective', 'permitted'] as const) assert.deepEqual(sorted(caps?.[set]), sorted(DEFAULT_CAPABILITIES));
  assert.equal(caps?.inheritable, undefined);
  assert.equal(caps?.ambient, undefined);
  assert.equal(maskOfCapabilities(DEFAULT_CAPABILITIES), '00000000a80425fb');
});

test('defaults: docker mounts, masked and readonly paths, namespaces, process', () => {
  const s = spec({ hostname: 'box', cgroupsPath: cgroupsPathFor('abc') });
  const byDest = Object.fromEntries(s.mounts.map((m) => [m.destination, m]));
  assert.deepEqual(Object.keys(byDest), ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm']);
  assert.deepEqual(byDest['/proc'], { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] });
  assert.deepEqual(byDest['/dev']?.options, ['nosuid', 'strictatime', 'mode=755', 'size=65536k']);
  assert.deepEqual(byDest['/dev/pts']?.options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
  assert.equal(byDest['/sys']?.type, 'sysfs');
  assert.ok(byDest['/sys']?.options?.includes('ro'));
  assert.equal(byDest['/sys/fs/cgroup']?.type, 'cgroup');
  assert.ok(byDest['/sys/fs/cgroup']?.options?.includes('ro'));
  assert.equal(byDest['/dev/mqueue']?.type, 'mqueue');
  assert.deepEqual(byDest['/dev/shm'], { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] });
  assert.deepEqual(s.linux.maskedPaths, [...DEFAULT_MASKED_PATHS]);
  assert.ok(s.linux.maskedPaths?.includes('/proc/kcore') && s.linux.maskedPaths.includes('/sys/devices/virtual/powercap'));
  assert.deepEqual(s.linux.readonlyPaths, [...DEFAULT_READONLY_PATHS]);
  assert.deepEqual(s.linux.namespaces.map((n) => n.type), ['mount', 'network', 'uts', 'pid', 'ipc']);
  assert.equal(s.hostname, 'box');
  assert.equal(s.linux.cgroupsPath, '/berth/abc');
  assert.deepEqual(s.process.user, { uid: 0, gid: 0 });
  assert.equal(s.process.cwd, '/');
  assert.equal(s.process.noNewPrivileges, false);
  assert.equal(s.process.rlimits, undefined, 'docker passes no rlimits unless asked');
  assert.equal(s.root.readonly, false);
  assert.equal(s.linux.resources?.devices?.[0]?.allow, false);
  assert.ok(s.linux.resources?.devices?.some((d) => d.allow && d.major === 1 && d.minor === 3), '/dev/null allowed');
  // cgroup v2: a private cgroup namespace, as docker does.
  assert.deepEqual(spec({ host: { ...host, cgroupVersion: 2 } }).linux.namespaces.at(-1), { type: 'cgroup' });
});

test('namespaces: host network binds /sys and joins by path', () => {
  const s = spec({ namespaces: { network: 'host', ipc: { path: '/proc/1/ns/ipc' } } });
  assert.ok(!s.linux.namespaces.some((n) => n.type === 'network'));
  assert.deepEqual(s.linux.namespaces.find((n) => n.type === 'ipc'), { type: 'ipc', path: '/proc/1/ns/ipc' });
  assert.equal(s.mounts.find((m) => m.destination === '/sys')?.type, 'bind');
  assert.throws(() => spec({ namespaces: { mount: 'host' } }), (e) => isCode(e, 'invalid_argument'));
  assert.throws(() => spec({ namespaces: { network: 'host' }, sysctls: { 'net.ipv4.ip_forward': '1' } }), /not allowed/);
  assert.throws(() => spec({ sysctls: { 'kernel.panic': '1' } }), /sysctl 'kernel.panic' is not allowed/);
  assert.deepEqual(spec({ sysctls: { 'net.ipv4.ip_forward': '1' } }).linux.sysctl, { 'net.ipv4.ip_forward': '1' });
});

test('capabilities: add, drop, ALL, privileged, clamped to the daemon', () => {
  const caps = (extra: Partial<SpecInput>) => spec(extra).process.capabilities?.bounding ?? [];
  const added = caps({ capAdd: ['NET_ADMIN', 'cap_sys_admin'], capDrop: ['CAP_MKNOD', 'net_raw'] });
  assert.ok(added.includes('CAP_NET_ADMIN') && added.includes('CAP_SYS_ADMIN'));
  assert.ok(!added.includes('CAP_MKNOD') && !added.includes('CAP_NET_RAW'));
  assert.deepEqual(caps({ capDrop: ['ALL'], capAdd: ['CHOWN'] }), ['CAP_CHOWN']);
  assert.deepEqual(caps({ capDrop: ['ALL'] }), []);
  const all = caps({ capAdd: ['ALL'], capDrop: ['NET_ADMIN'] });
  assert.equal(all.length, ALL_CAPABILITIES.length - 2, 'every capability but the dropped one and the one the daemon lacks');
  assert.ok(!all.includes('CAP_SYS_RESOURCE') && !all.includes('CAP_NET_ADMIN'));
  assert.throws(() => caps({ capAdd: ['SYS_RESOURCE'] }), (e) => isCode(e, 'invalid_argument') && /CAP_SYS_RESOURCE is not available/.test(e.message));
  assert.throws(() => caps({ capAdd: ['NOPE'] }), /unknown capability: "CAP_NOPE"/);
  assert.deepEqual(tweakCapabilities({ available: ALL_CAPABILITIES }), ALL_CAPABILITIES.filter((c) => DEFAULT_CAPABILITIES.includes(c)));
});

test('privileged: all capabilities, no masks, rw /sys and cgroup, all devices, no seccomp', () => {
  const s = spec({ privileged: true });
  assert.equal(s.process.capabilities?.bounding?.length, host.boundingCaps.length);
  assert.deepEqual(s.linux.maskedPaths, []);
  assert.deepEqual(s.linux.readonlyPaths, []);
  assert.ok(!s.mounts.find((m) => m.destination === '/sys')?.options?.includes('ro'));
  assert.ok(!s.mounts.find((m) => m.destination === '/sys/fs/cgroup')?.options?.includes('ro'));
  assert.deepEqual(s.linux.resources?.devices, [{ allow: true, access: 'rwm' }]);
  assert.equal(s.linux.seccomp, undefined);
});

test('readonly rootfs: root and non-/dev,/proc default mounts read-only; user mounts untouched', () => {
  const s = spec({
    readonlyRootfs: true,
    tmpfs: [{ destination: '/run', options: ['size=1m'] }],
    binds: [{ source: '/data', destination: '/data', readonly: true, propagation: 'rslave' }],
  });
  assert.equal(s.root.readonly, true);
  const opts = (d: string) => s.mounts.find((m) => m.destination === d)?.options ?? [];
  assert.ok(opts('/sys').includes('ro') && opts('/sys/fs/cgroup').includes('ro'));
  for (const d of ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue']) assert.ok(!opts(d).includes('ro'), d);
  assert.deepEqual(opts('/run'), ['noexec', 'nosuid', 'nodev', 'size=1m']);
  assert.deepEqual(s.mounts.at(-2), { destination: '/data', type: 'bind', source: '/data', options: ['rbind', 'ro', 'rslave'] });
  assert.throws(() => spec({ binds: [{ source: '/a', destination: 'rel' }] }), /must be absolute/);
  assert.throws(() => spec({ binds: [{ source: '/a', destination: '/x', propagation: 'weird' }] }), /invalid propagation/);
  // A user mount over a default replaces it.
  assert.equal(spec({ tmpfs: [{ destination: '/dev/shm' }] }).mounts.filter((m) => m.destination === '/dev/shm').length, 1);
});

test('resources on cgroup v1: memory, swap rules, cpus, cpuset, pids', () => {
  const res = (r: SpecInput['resources']) => spec({ resources: r }).linux.resources;
  assert.deepEqual(res({ memory: 16 << 20 })?.memory, { limit: 16 << 20, swap: 32 << 20 }, 'unset swap = 2 x memory');
  assert.deepEqual(res({ memory: 16 << 20, memorySwap: -1 })?.memory, { limit: 16 << 20, swap: -1 });
  assert.deepEqual(res({ memory: 16 << 20, memorySwap: 20 << 20 })?.memory, { limit: 16 << 20, swap: 20 << 20 });
  assert.throws(() => res({ memory: 16 << 20, memorySwap: 8 << 20 }), /Minimum memoryswap limit should be larger than memory limit/);
  assert.throws(() => res({ memorySwap: 8 << 20 }), /always set the Memory limit when using Memoryswap/);
  assert.throws(() => res({ memory: 1 << 20 }), /Minimum memory limit allowed is 6MB/);
  assert.equal(res({})?.memory, undefined);
  assert.deepEqual(res({ nanoCpus: 1.5e9, cpuShares: 512, cpusetCpus: '0-1' })?.cpu, { shares: 512, period: 100000, quota: 150000, cpus: '0-1' });
  assert.deepEqual(res({ cpuQuota: 50000, cpuPeriod: 200000 })?.cpu, { period: 200000, quota: 50000 });
  assert.throws(() => res({ nanoCpus: 1e9, cpuQuota: 1000 }), /Nano CPUs and CPU Period/);
  assert.deepEqual(res({ pidsLimit: 64 })?.pids, { limit: 64 });
  assert.equal(res({ pidsLimit: -1 })?.pids, undefined);
  assert.equal(res({ pidsLimit: 0 })?.pids, undefined);
});

test('rlimits: clamped to the daemon hard limit, soft never above hard, unlimited serialised', () => {
  const s = spec({ ulimits: [{ name: 'nofile', soft: 1024, hard: 1048576 }, { name: 'RLIMIT_NPROC', soft: 200000, hard: 200000 }, { name: 'core', soft: -1, hard: -1 }] });
  assert.deepEqual(s.process.rlimits, [
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 20000 },
    { type: 'RLIMIT_NPROC', soft: 96365, hard: 96365 },
    { type: 'RLIMIT_CORE', soft: Infinity, hard: Infinity },
  ]);
  assert.match(serializeSpec(s), /"hard": 18446744073709551615,\s*"soft": 18446744073709551615/);
  assert.throws(() => spec({ ulimits: [{ name: 'bogus', soft: 1, hard: 1 }] }), /invalid ulimit type: bogus/);
  assert.throws(() => spec({ ulimits: [{ name: 'nofile', soft: 10, hard: 5 }] }), /soft limit must be less than or equal to hard limit/);
});

test('process: user, env, cwd, terminal, noNewPrivileges, oomScoreAdj, annotations', () => {
  const s = spec({
    user: { uid: 1000, gid: 100, additionalGids: [10, 20] },
    cwd: '/work',
    terminal: true,
    noNewPrivileges: true,
    oomScoreAdj: 500,
    annotations: { 'org.example': 'x' },
  });
  assert.deepEqual(s.process.user, { uid: 1000, gid: 100, additionalGids: [10, 20] });
  assert.equal(s.process.cwd, '/work');
  assert.equal(s.process.terminal, true);
  assert.equal(s.process.noNewPrivileges, true);
  assert.equal(s.process.oomScoreAdj, 500);
  assert.deepEqual(s.annotations, { 'org.example': 'x' });
  assert.throws(() => spec({ args: [] }), /no command specified/);
});

test('seccomp: default profile for this arch, capability rules follow the container', () => {
  const seccomp = spec().linux.seccomp;
  assert.ok(seccomp);
  assert.equal(seccomp.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(seccomp.defaultErrnoRet, 1);
  assert.deepEqual(seccomp.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const allowed = (s: typeof seccomp, name: string) => s.syscalls?.some((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args && r.names.includes(name));
  for (const name of ['read', 'execve', 'socket', 'wait4', 'arch_prctl', 'chroot', 'ptrace']) assert.ok(allowed(seccomp, name), name);
  for (const name of ['mount', 'unshare', 'setns', 'reboot', 'clone', 'arm_fadvise64_64', 'open_by_handle_at']) assert.ok(!allowed(seccomp, name), name);
  const clone = seccomp.syscalls?.find((r) => r.names.includes('clone'));
  assert.deepEqual(clone?.args, [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  assert.equal(CLONE_NAMESPACE_FLAGS, 0x7e020000);
  assert.deepEqual(seccomp.syscalls?.find((r) => r.names.includes('clone3')), { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });

  const admin = spec({ capAdd: ['SYS_ADMIN'] }).linux.seccomp;
  assert.ok(admin && allowed(admin, 'mount') && allowed(admin, 'unshare') && allowed(admin, 'clone') && allowed(admin, 'clone3'));
  assert.ok(!admin.syscalls?.some((r) => r.action === 'SCMP_ACT_ERRNO'), 'no clone3 ENOSYS with CAP_SYS_ADMIN');
  assert.ok(!allowed(spec({ capDrop: ['SYS_CHROOT'] }).linux.seccomp ?? { defaultAction: 'SCMP_ACT_ALLOW' }, 'chroot'));

  const arm = spec({ host: { ...host, seccompArch: 'SCMP_ARCH_AARCH64', goArch: 'arm64' } }).linux.seccomp;
  assert.deepEqual(arm?.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.ok(arm && allowed(arm, 'arm_fadvise64_64') && !allowed(arm, 'arch_prctl'));
  const oldKernel = seccompFromProfile(DEFAULT_SECCOMP_PROFILE, { caps: [], host: { ...host, kernel: [4, 4] } });
  assert.ok(!allowed(oldKernel, 'ptrace'), 'ptrace needs 4.8 without CAP_SYS_PTRACE');

  assert.equal(spec({ seccomp: 'unconfined' }).linux.seccomp, undefined);
  const custom = spec({ seccomp: { profile: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'mkdir', action: 'SCMP_ACT_ERRNO' }] } } }).linux.seccomp;
  assert.deepEqual(custom, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
  assert.ok(spec({ privileged: true, seccomp: { profile: { defaultAction: 'SCMP_ACT_ALLOW' } } }).linux.seccomp, 'an explicit profile applies even when privileged');
});

test('host probes: /proc/self/limits and the cgroup version', () => {
  const limits = parseProcLimits(
    'Limit                     Soft Limit           Hard Limit           Units     \n' +
      'Max cpu time              unlimited            unlimited            seconds   \n' +
      'Max open files            1024                 20000                files     \n' +
      'Max nice priority         0                    0                    \n',
  );
  assert.deepEqual(limits, { RLIMIT_CPU: Infinity, RLIMIT_NOFILE: 20000, RLIMIT_NICE: 0 });
  const hybrid =
    '30 25 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n' +
    '31 30 0:27 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n' +
    '32 30 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n';
  assert.equal(cgroupVersionOf(hybrid), 1);
  assert.equal(cgroupVersionOf('30 25 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n'), 2);
});
