import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'node:test';
import { isCode } from '../errors/index.js';
import { tempRoot } from '../testing/index.js';
import { parseGroup, parsePasswd, resolveUser, resolveUserFrom, writeBundle } from './bundle.js';
import { buildSpec } from './spec.js';
import { probeHost } from './host.js';

const passwd = parsePasswd(
  'root:x:0:0:root:/root:/bin/sh\n' + 'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n' + '# comment\n' + 'app:x:1000:1000::/home/app:/bin/sh\n' + 'broken line\n',
);
const group = parseGroup('root:x:0:\n' + 'daemon:x:1:\n' + 'app:x:1000:\n' + 'audio:x:29:app,daemon\n' + 'video:x:44:app\n' + 'staff:x:50:\n');

test('user resolution follows docker', () => {
  const cases: [string, string[], { uid: number; gid: number; additionalGids: number[]; home: string }][] = [
    ['', [], { uid: 0, gid: 0, additionalGids: [], home: '/root' }],
    ['root', [], { uid: 0, gid: 0, additionalGids: [], home: '/root' }],
    ['app', [], { uid: 1000, gid: 1000, additionalGids: [29, 44], home: '/home/app' }],
    ['1000', [], { uid: 1000, gid: 1000, additionalGids: [29, 44], home: '/home/app' }],
    ['app:staff', [], { uid: 1000, gid: 50, additionalGids: [], home: '/home/app' }],
    ['app:29', [], { uid: 1000, gid: 29, additionalGids: [], home: '/home/app' }],
    ['4242', [], { uid: 4242, gid: 0, additionalGids: [], home: '/' }],
    ['4242:4343', [], { uid: 4242, gid: 4343, additionalGids: [], home: '/' }],
    ['daemon', ['staff', '777'], { uid: 1, gid: 1, additionalGids: [29, 50, 777], home: '/usr/sbin' }],
  ];
  for (const [spec, groupAdd, want] of cases) assert.deepEqual(resolveUserFrom(spec, passwd, group, groupAdd), want, spec);
  assert.deepEqual(resolveUserFrom('5:6', null, null), { uid: 5, gid: 6, additionalGids: [], home: '/' }, 'no passwd file: numeric ids still work');

  const err = (spec: string, re: RegExp, files: [typeof passwd | null, typeof group | null] = [passwd, group], add: string[] = []) =>
    assert.throws(() => resolveUserFrom(spec, files[0], files[1], add), (e) => isCode(e, 'invalid_argument') && re.test(e.message), spec);
  err('nobody', /^unable to find user nobody: no matching entries in passwd file$/);
  err('nobody', /unable to find user nobody/, [null, null]);
  err('app:nogroup', /^unable to find group nogroup: no matching entries in group file$/);
  err('app', /Unable to find group wheel/, [passwd, group], ['wheel']);
  err('99999999999', /uids and gids must be in range/);
});

test('resolveUser reads the rootfs files, following symlinks inside the rootfs only', async (t) => {
  const dir = await tempRoot(t);
  const rootfs = join(dir, 'rootfs');
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await mkdir(join(rootfs, 'data'), { recursive: true });
  await writeFile(join(rootfs, 'data', 'passwd'), 'web:x:33:33::/var/www:/bin/sh\n');
  // An absolute link must resolve against the rootfs, not the host's /data or /etc.
  await symlink('/data/passwd', join(rootfs, 'etc', 'passwd'));
  await symlink('../../../../../../data/group', join(rootfs, 'etc', 'group')); // climbs out: clamped to rootfs/data/group, absent
  assert.deepEqual(await resolveUser(rootfs, 'web'), { uid: 33, gid: 33, additionalGids: [], home: '/var/www' });
  await assert.rejects(resolveUser(rootfs, 'root'), /unable to find user root: no matching entries in passwd file/);
  await assert.rejects(resolveUser(rootfs, 'web:www-data'), /unable to find group www-data/);
});

test('writeBundle writes config.json atomically, leaving no temp files', async (t) => {
  const dir = await tempRoot(t);
  const spec = buildSpec({ rootfs: 'rootfs', args: ['true'], env: [], host: await probeHost() });
  const path = await writeBundle(dir, spec);
  assert.equal(path, join(dir, 'config.json'));
  assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), spec);
  assert.deepEqual(await readdir(dir), ['config.json']);
});
