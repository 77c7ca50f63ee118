// The berth CLI's network commands against the real routes and service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { ApiClient } from '../cli/client.js';
import { parseArgs } from '../cli/args.js';
import { NETWORK_COMMANDS } from '../cli/network-commands.js';
import type { CommandContext } from '../cli/context.js';
import { serveNetworks } from './testroutes.js';

async function run(socket: string, argv: string[], input = ''): Promise<{ code: number; out: string; err: string }> {
  const def = NETWORK_COMMANDS.find((d) => argv.slice(0, 2).join(' ') === d.path.join(' ') || d.aliases.some((a) => a.join(' ') === argv.slice(0, 2).join(' ')));
  if (!def) throw new Error(`no command ${argv.join(' ')}`);
  const { flags, args } = parseArgs(def.flags, argv.slice(2));
  let out = '';
  let err = '';
  const client = new ApiClient(`unix://${socket}`);
  const ctx: CommandContext = {
    host: `unix://${socket}`,
    configDir: '/nonexistent',
    logLevel: 'info',
    stdout: { write: (s) => ((out += String(s)), true) },
    stderr: { write: (s) => ((err += String(s)), true) },
    stdin: Readable.from([input]),
    client: () => client,
  };
  const handler = await def.load();
  const code = (await handler(ctx, { flags, args })) ?? 0;
  return { code, out, err };
}

test('cli: network create/ls/inspect/connect/disconnect/rm/prune with docker output', async (t) => {
  const { socket, calls } = await serveNetworks(t);
  const created = await run(socket, ['network', 'create', '--subnet', '10.248.7.0/24', '--gateway', '10.248.7.254', '--ip-range', '10.248.7.0/25', '--internal', '--label', 'team=a', 'backend']);
  assert.match(created.out, /^[0-9a-f]{64}\n$/);
  const id = created.out.trim();
  const ls = await run(socket, ['network', 'ls']);
  const lines = ls.out.trimEnd().split('\n');
  assert.match(lines[0] as string, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
  assert.ok(lines.some((l) => new RegExp(`^${id.slice(0, 12)}\\s+backend\\s+bridge\\s+local$`).test(l)), ls.out);
  assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[1]), ['backend', 'bridge', 'host', 'none']);
  assert.equal((await run(socket, ['network', 'ls', '-q', '--no-trunc', '--filter', 'label=team=a'])).out, `${id}\n`);
  assert.equal((await run(socket, ['network', 'ls', '--format', '{{.Name}} {{.Internal}}', '-f', 'type=custom'])).out, 'backend true\n');

  const insp = await run(socket, ['network', 'inspect', '-f', '{{.Name}} {{(index .IPAM.Config 0).Gateway}} {{.Internal}}', 'backend']);
  assert.equal(insp.out, 'backend 10.248.7.254 true\n');
  const full = JSON.parse((await run(socket, ['network', 'inspect', 'backend'])).out) as Array<{ Id: string; IPAM: { Config: unknown[] } }>;
  assert.equal(full[0]?.Id, id);
  assert.deepEqual(full[0]?.IPAM.Config, [{ Subnet: '10.248.7.0/24', IPRange: '10.248.7.0/25', Gateway: '10.248.7.254' }]);
  const missing = await run(socket, ['network', 'inspect', 'backend', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /Error response from daemon: network nope not found/);

  await run(socket, ['network', 'connect', '--alias', 'db', '--ip', '10.248.7.5', 'backend', 'c1']);
  assert.deepEqual(calls.at(-1), { op: 'connect', container: 'c1', network: 'backend', config: { IPAMConfig: { IPv4Address: '10.248.7.5' }, Aliases: ['db'], DriverOpts: {} } });
  await run(socket, ['network', 'disconnect', '-f', 'backend', 'c1']);
  assert.deepEqual(calls.at(-1), { op: 'disconnect', container: 'c1', network: 'backend', force: true });

  const dup = await run(socket, ['network', 'create', 'backend']).catch((e: Error) => ({ code: -1, out: '', err: e.message }));
  assert.match(dup.err, /network with name backend already exists/);

  const rm = await run(socket, ['network', 'rm', 'backend', 'nope', 'host']);
  assert.equal(rm.code, 1);
  assert.equal(rm.out, 'backend\n');
  assert.match(rm.err, /Error response from daemon: network nope not found\nError response from daemon: host is a pre-defined network and cannot be removed\n/);
  assert.equal((await run(socket, ['network', 'rm', '-f', 'nope'])).code, 0);

  await run(socket, ['network', 'create', 'spare']);
  const declined = await run(socket, ['network', 'prune'], 'n\n');
  assert.match(declined.out, /WARNING! This will remove all custom networks not used by at least one container\.\nAre you sure you want to continue\? \[y\/N\] $/);
  assert.equal((await run(socket, ['network', 'ls', '-q', '-f', 'name=spare'])).out.trim().length, 12);
  const pruned = await run(socket, ['network', 'prune', '-f']);
  assert.equal(pruned.out, 'Deleted Networks:\nspare\n');
});
