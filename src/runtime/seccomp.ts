// docker's seccomp profile format -> the OCI linux.seccomp a container gets,
// as dockerd does it (moby profiles/seccomp setupSeccomp): only this
// machine's architectures, and only the rules whose conditions (capabilities,
// architecture, kernel version) hold for this container.
import { BerthError } from '../errors/index.js';
import type { HostInfo, LinuxSeccomp, LinuxSyscall, SeccompFilter, SeccompProfile } from './types.js';

export interface SeccompContext {
  /** the container's CAP_ names (its bounding set) */
  caps: readonly string[];
  host: Pick<HostInfo, 'seccompArch' | 'goArch' | 'kernel'>;
}

function kernelAtLeast(kernel: [number, number], min: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(min);
  if (!m) throw new BerthError('invalid_argument', `seccomp profile: invalid minKernel "${min}"`);
  const [maj, minor] = [Number(m[1]), Number(m[2])];
  return kernel[0] > maj || (kernel[0] === maj && kernel[1] >= minor);
}

function holds(filter: SeccompFilter | undefined, ctx: SeccompContext, all: boolean): boolean {
  if (!filter) return all;
  const tests: boolean[] = [];
  if (filter.arches?.length) tests.push(filter.arches.includes(ctx.host.goArch));
  if (filter.caps?.length) tests.push(all ? filter.caps.every((c) => ctx.caps.includes(c)) : filter.caps.some((c) => ctx.caps.includes(c)));
  if (filter.minKernel) tests.push(kernelAtLeast(ctx.host.kernel, filter.minKernel));
  return all ? tests.every(Boolean) : tests.some(Boolean);
}

export function seccompFromProfile(profile: SeccompProfile, ctx: SeccompContext): LinuxSeccomp {
  if (!profile.defaultAction) throw new BerthError('invalid_argument', 'seccomp profile: defaultAction is required');
  if (profile.architectures?.length && profile.archMap?.length) {
    throw new BerthError('invalid_argument', "seccomp profile: use either 'architectures' or 'archMap'");
  }
  let architectures: string[] = profile.architectures ?? [];
  for (const entry of profile.archMap ?? []) {
    if (entry.architecture === ctx.host.seccompArch) architectures = [entry.architecture, ...entry.subArchitectures];
  }
  const syscalls: LinuxSyscall[] = [];
  for (const call of profile.syscalls ?? []) {
    const names = call.names?.length ? call.names : call.name ? [call.name] : [];
    if (!names.length) throw new BerthError('invalid_argument', 'seccomp profile: a syscall rule has no names');
    if (call.name && call.names?.length) throw new BerthError('invalid_argument', "seccomp profile: use either 'name' or 'names'");
    // includes: every listed condition must hold; excludes: none may.
    if (!holds(call.includes, ctx, true) || holds(call.excludes, ctx, false)) continue;
    const rule: LinuxSyscall = { names: [...names], action: call.action };
    if (call.errnoRet !== undefined) rule.errnoRet = call.errnoRet;
    if (call.args?.length) rule.args = call.args.map((a) => ({ ...a }));
    syscalls.push(rule);
  }
  const out: LinuxSeccomp = { defaultAction: profile.defaultAction, syscalls };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (architectures.length) out.architectures = architectures;
  return out;
}

/** Parse a profile given as JSON text (--security-opt seccomp=FILE's contents). */
export function parseSeccompProfile(json: string): SeccompProfile {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new BerthError('invalid_argument', `decoding seccomp profile failed: ${(err as Error).message}`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || typeof (value as { defaultAction?: unknown }).defaultAction !== 'string') {
    throw new BerthError('invalid_argument', 'decoding seccomp profile failed: defaultAction is required');
  }
  return value as SeccompProfile;
}
