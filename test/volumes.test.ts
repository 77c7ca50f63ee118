// Named volumes end to end: the real docker CLI and the berth CLI against a
// berth daemon running real containers with volumes mounted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonWithBusybox } from './harness/index.js';


test('a named volume keeps data across containers; ls, inspect, rm (409 while in use)', async (t) => {
  const d = await daemonWithBusybox(t);
  const write = await d.docker(['run', '--rm', '-v', 'data:/data', 'busybox', 'sh', '-c', 'echo persisted > /data/f']);
  assert.equal(write.code, 0, write.stderr);
  const read = await d.docker(['run', '--rm', '-v', 'data:/data:ro', 'busybox', 'cat', '/data/f']);
  assert.equal(read.code, 0, read.stderr);
  assert.equal(read.stdout, 'persisted\n');
  // --rm leaves a named volume in place
  const ls = await d.docker(['volume', 'ls']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^DRIVER\s+VOLUME NAME\nlocal\s+data\n$/);
  const inspect = await d.docker(['volume', 'inspect', '--format', '{{.Name}} {{.Driver}} {{.Mountpoint}} {{.Scope}}', 'data']);
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.equal(inspect.stdout, `data local ${join(d.root, 'volumes', 'data', '_data')} local\n`);

  const kept = await d.docker(['create', '--name', 'holder', '-v', 'data:/data', 'busybox', 'true']);
  assert.equal(kept.code, 0, kept.stderr);
  const holderId = kept.stdout.trim();
  const mounts = await d.docker(['inspect', '--format', '{{json .Mounts}}', 'holder']);
  assert.deepEqual(JSON.parse(mounts.stdout), [
    { Type: 'volume', Name: 'data', Source: join(d.root, 'volumes', 'data', '_data'), Destination: '/data', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
  ]);
  const busy = await d.docker(['volume', 'rm', 'data']);
  assert.equal(busy.code, 1);
  assert.equal(busy.stderr, `Error response from daemon: remove data: volume is in use - [${holderId}]\n`);
  const status = await d.request('DELETE', '/v1.50/volumes/data');
  assert.equal(status.status, 409);
  assert.equal(await d.docker(['rm', 'holder']).then((r) => r.code), 0);
  const removed = await d.docker(['volume', 'rm', 'data']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(removed.stdout, 'data\n');
  await assert.rejects(stat(join(d.root, 'volumes', 'data')), { code: 'ENOENT' });
  const missing = await d.request('DELETE', '/v1.50/volumes/data');
  assert.equal(missing.status, 404);
  assert.equal(missing.json<{ message: string }>().message, 'get data: no such volume');
});

test('copy-up: a new volume mounted over image content starts with that content', async (t) => {
  const d = await daemonWithBusybox(t);
  const modes = ['stat', '-c', '%n %a %u:%g', '/etc', '/etc/passwd'];
  const plain = await d.cli(['run', '--rm', 'busybox', ...modes]);
  assert.equal(plain.code, 0, plain.stderr);
  // --mount type=volume takes the same path: owners and modes as in the image
  const viaMount = await d.docker(['run', '--rm', '--mount', 'type=volume,source=etc,target=/etc', 'busybox', ...modes]);
  assert.equal(viaMount.code, 0, viaMount.stderr);
  assert.equal(viaMount.stdout, plain.stdout);
  const first = await d.cli(['run', '--rm', '-v', 'etc:/etc', 'busybox', 'sh', '-c', 'cat /etc/passwd | head -1; echo added > /etc/added']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^root:/);
  const data = join(d.root, 'volumes', 'etc', '_data');
  const [img, vol] = await Promise.all([stat(join(data, 'passwd')), stat(join(data, 'added'))]);
  assert.ok(img.isFile() && vol.isFile());
  // not empty any more: a second mount does not copy again over the container's changes
  const second = await d.cli(['run', '--rm', '-v', 'etc:/etc', 'busybox', 'sh', '-c', 'rm /etc/passwd; cat /etc/added']);
  assert.equal(second.stdout, 'added\n', second.stderr);
  const third = await d.cli(['run', '--rm', '-v', 'etc:/etc', 'busybox', 'ls', '/etc']);
  assert.doesNotMatch(third.stdout, /passwd/);
  assert.match(third.stdout, /added/);
});

test('anonymous volumes: rm -v removes them; prune takes anonymous unless -a; create, filters, labels', async (t) => {
  const d = await daemonWithBusybox(t);
  const created = await d.cli(['volume', 'create', '--label', 'team=a', 'named']);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stdout, 'named\n');
  const again = await d.cli(['volume', 'create', 'named']);
  assert.equal(again.code, 0, again.stderr);
  const bad = await d.cli(['volume', 'create', 'bad/name']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /includes invalid characters for a local volume name/);

  const anon = await d.docker(['create', '--name', 'anon', '-v', '/scratch', 'busybox', 'true']);
  assert.equal(anon.code, 0, anon.stderr);
  const names = await d.docker(['inspect', '--format', '{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}}{{end}}', 'anon']);
  const m = /^volume ([0-9a-f]{64}) \/scratch$/.exec(names.stdout.trim());
  assert.ok(m, names.stdout);
  const anonName = m[1] as string;
  const labelled = await d.cli(['volume', 'ls', '-q', '--filter', 'label=team=a']);
  assert.equal(labelled.stdout, 'named\n');
  const dangling = await d.cli(['volume', 'ls', '-q', '--filter', 'dangling=true']);
  assert.equal(dangling.stdout, 'named\n');
  const df = await d.docker(['system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Active}}']);
  assert.equal(df.code, 0, df.stderr);
  assert.match(df.stdout, /^Local Volumes 2 1$/m);
  // --rm takes its anonymous volume along
  const once = await d.docker(['run', '--rm', '-v', '/tmpvol', 'busybox', 'sh', '-c', 'echo x > /tmpvol/f']);
  assert.equal(once.code, 0, once.stderr);
  assert.equal((await d.cli(['volume', 'ls', '-q'])).stdout.trim().split('\n').sort().join(' '), [anonName, 'named'].sort().join(' '));
  const rmv = await d.docker(['rm', '-v', 'anon']);
  assert.equal(rmv.code, 0, rmv.stderr);
  const afterRm = await d.cli(['volume', 'ls', '-q']);
  assert.equal(afterRm.stdout, 'named\n');

  // a second anonymous volume, left behind by rm without -v
  const anon2 = await d.docker(['create', '--name', 'anon2', '-v', '/scratch', 'busybox', 'true']);
  assert.equal(anon2.code, 0, anon2.stderr);
  assert.equal((await d.docker(['rm', 'anon2'])).code, 0);
  const both = await d.docker(['volume', 'ls', '-q']);
  assert.equal(both.stdout.trim().split('\n').length, 2);
  assert.ok(!both.stdout.includes(anonName));
  const pruned = await d.docker(['volume', 'prune', '-f']);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.match(pruned.stdout, /^Deleted Volumes:\n[0-9a-f]{64}\n\nTotal reclaimed space: /);
  assert.equal((await d.docker(['volume', 'ls', '-q'])).stdout, 'named\n');
  const all = await d.cli(['volume', 'prune', '-f', '-a']);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^Deleted Volumes:\nnamed\n/);
  assert.equal((await d.docker(['volume', 'ls', '-q'])).stdout, '');
});
