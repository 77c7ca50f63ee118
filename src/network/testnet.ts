// Test helpers for real networking: unique bridge names and free subnets so
// that tests and daemons can run side by side, and cleanup of what the CNI
// plugins make outside the test's directory.
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

interface AfterHook {
  after(fn: () => Promise<void> | void): void;
}

/** `bt<8 hex>`: fits IFNAMSIZ and is unique per call. */
export function uniqueBridgeName(prefix = 'bt'): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

/** A random 10.x.y.0/24 that no host route touches. */
export async function freeTestSubnet(): Promise<{ subnet: string; gateway: string; prefix: string }> {
  const { stdout } = await execFileP('ip', ['-4', 'route', 'show', 'table', 'all']);
  for (;;) {
    const prefix = `10.${randomInt(100, 250)}.${randomInt(1, 250)}`;
    if (!stdout.includes(`${prefix}.`)) return { subnet: `${prefix}.0/24`, gateway: `${prefix}.1`, prefix };
  }
}

/** Register deletion of a bridge device (the bridge plugin never deletes bridges). */
export function cleanupBridge(t: AfterHook, name: string): void {
  t.after(async () => {
    await execFileP('ip', ['link', 'del', 'dev', name]).catch(() => undefined);
    // and the network's outbound NAT rule (berth's one per network), whichever service made it
    const { stdout } = await execFileP('iptables', ['-w', '5', '-t', 'nat', '-S', 'POSTROUTING']).catch(() => ({ stdout: '' }));
    for (const line of stdout.split('\n')) {
      if (!line.startsWith('-A POSTROUTING ') || !line.includes(`! -o ${name} `) || !line.includes('berth masquerade')) continue;
      const args = line.replace(/^-A /, '-D ').match(/"[^"]*"|\S+/g)?.map((a) => a.replace(/^"|"$/g, '')) ?? [];
      await execFileP('iptables', ['-w', '5', '-t', 'nat', ...args]).catch(() => undefined);
    }
  });
}

export async function sh(cmd: string, args: string[]): Promise<string> {
  const { stdout } = await execFileP(cmd, args);
  return stdout;
}

export async function iptablesSave(): Promise<string> {
  return (await sh('iptables-save', [])).split('\n').filter((l) => !l.startsWith('#')).join('\n');
}

export async function linkExists(name: string): Promise<boolean> {
  return execFileP('ip', ['link', 'show', 'dev', name]).then(
    () => true,
    () => false,
  );
}
