// The portmap plugin creates three shared top-level nat chains on first use
// (CNI-HOSTPORT-DNAT, -SETMARK, -MASQ) with jumps from PREROUTING, OUTPUT and
// POSTROUTING, and never removes them. Once no port mapping is left (the DNAT
// chain is empty: no endpoint of any runtime uses it) berth removes them, so
// the host's rules are back as they were. Another runtime adding a mapping at
// that very moment could race this; the plugin re-creates the chains on its
// next ADD.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

async function iptables(args: string[]): Promise<string> {
  const { stdout } = await execFileP('iptables', ['-w', '5', ...args]);
  return stdout;
}

const JUMPS: Array<[string, string[]]> = [
  ['PREROUTING', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'CNI-HOSTPORT-DNAT']],
  ['OUTPUT', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'CNI-HOSTPORT-DNAT']],
  ['POSTROUTING', ['-m', 'comment', '--comment', 'CNI portfwd requiring masquerade', '-j', 'CNI-HOSTPORT-MASQ']],
];

/** Remove portmap's shared chains when no mapping uses them; true when removed. */
export async function removeIdlePortmapChains(): Promise<boolean> {
  let dnat: string;
  try {
    dnat = await iptables(['-t', 'nat', '-S', 'CNI-HOSTPORT-DNAT']);
  } catch {
    return false; // no such chain (or no nat table): nothing to do
  }
  if (dnat.split('\n').some((l) => l.startsWith('-A '))) return false;
  for (const [chain, rule] of JUMPS) {
    // -D removes one copy; loop in case the plugin inserted it twice
    for (;;) {
      try {
        await iptables(['-t', 'nat', '-D', chain, ...rule]);
      } catch {
        break;
      }
    }
  }
  for (const chain of ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ']) {
    await iptables(['-t', 'nat', '-F', chain]).catch(() => undefined);
    await iptables(['-t', 'nat', '-X', chain]).catch(() => undefined);
  }
  return true;
}

/**
 * The bridge plugin's DEL only removes its masquerade rule when it can read
 * the address from the container's namespace; with the namespace already
 * gone (a crash, a reboot-less cleanup) the rule and its chain stay. This
 * removes them by the comment the plugin writes: `name: "<net>" id: "<cid>"`.
 */
export async function removeMasqueradeLeftovers(network: string, containerId: string): Promise<void> {
  let rules: string;
  try {
    rules = await iptables(['-t', 'nat', '-S', 'POSTROUTING']);
  } catch {
    return;
  }
  const comment = `name: \\"${network}\\" id: \\"${containerId}\\"`;
  for (const line of rules.split('\n')) {
    if (!line.startsWith('-A POSTROUTING ') || !line.includes(comment)) continue;
    const chain = / -j (CNI-[0-9a-f]+)$/.exec(line)?.[1];
    await iptables(['-t', 'nat', ...splitRule(line.replace(/^-A /, '-D '))]).catch(() => undefined);
    if (chain) {
      await iptables(['-t', 'nat', '-F', chain]).catch(() => undefined);
      await iptables(['-t', 'nat', '-X', chain]).catch(() => undefined);
    }
  }
}

/** Split an `iptables -S` line into arguments (double-quoted parts with \" escapes). */
function splitRule(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] as string));
  return out;
}

/**
 * Outbound NAT for a bridge network, as docker does it: one rule per network
 * (`-s SUBNET ! -o BRIDGE -j MASQUERADE`), made with the network's first
 * endpoint and removed with the network, instead of the bridge plugin's chain
 * and rules per container (two extra iptables runs on every start and stop).
 */
function masqueradeRule(subnet: string, bridge: string, tag: string): string[] {
  return ['POSTROUTING', '-s', subnet, '!', '-o', bridge, '-m', 'comment', '--comment', `berth masquerade ${tag}`, '-j', 'MASQUERADE'];
}

export async function ensureMasquerade(subnet: string, bridge: string, tag: string): Promise<void> {
  const rule = masqueradeRule(subnet, bridge, tag);
  const present = await iptables(['-t', 'nat', '-C', ...rule]).then(() => true, () => false);
  if (!present) await iptables(['-t', 'nat', '-A', ...rule]);
}

export async function removeMasquerade(subnet: string, bridge: string, tag: string): Promise<void> {
  const rule = masqueradeRule(subnet, bridge, tag);
  // -D removes one copy; a rule added twice by a race goes on the next pass
  while (await iptables(['-t', 'nat', '-D', ...rule]).then(() => true, () => false));
}
