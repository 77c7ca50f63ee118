import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, readdir, symlink, writeFile, stat, link } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { tempRoot } from '../testing/index.js';
import { isCode } from '../errors/index.js';
import { encodeHeader, END_OF_ARCHIVE, padding, TarParser, type TarHeader } from '../storage/index.js';
import { archivePath, exportRootfs, extractArchive, GoFileMode, resolveInRootfs, statPath } from './archive.js';
import type { RootfsView } from './types.js';

interface Entry {
  name: string;
  type: TarHeader['type'];
  mode: number;
  uid: number;
  linkname: string;
  body: string;
}

async function readTar(tar: Readable): Promise<Entry[]> {
  const out: Entry[] = [];
  const parser = new TarParser((h) => {
    const e: Entry = { name: h.name, type: h.type, mode: h.mode, uid: h.uid, linkname: h.linkname, body: '' };
    out.push(e);
    return { data: (c) => (e.body += c.toString()), end: () => {} };
  });
  for await (const chunk of tar) parser.push(chunk as Buffer);
  parser.finish();
  return out;
}

type Spec = Partial<TarHeader> & { name: string; body?: string };

function makeTar(entries: Spec[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const type = e.type ?? 'file';
    parts.push(
      encodeHeader({
        type,
        mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        size: type === 'file' ? body.length : 0,
        mtime: e.mtime ?? 1_700_000_000,
        linkname: e.linkname ?? '',
        devmajor: 0,
        devminor: 0,
        xattrs: null,
        name: e.name,
      }),
    );
    if (type === 'file') parts.push(body, Buffer.alloc(padding(body.length)));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

/** A small container root: /etc files, links that try to escape, a volume at /data. */
async function fixture(t: Parameters<typeof tempRoot>[0]): Promise<{ dir: string; view: RootfsView; vol: string }> {
  const dir = await tempRoot(t, 'berth-archive-');
  const rootfs = join(dir, 'rootfs');
  const vol = join(dir, 'vol');
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await mkdir(join(rootfs, 'data'));
  await mkdir(join(rootfs, 'proc', 'self'), { recursive: true });
  await writeFile(join(rootfs, 'proc', 'self', 'status'), 'x');
  await mkdir(join(rootfs, 'dst'));
  await writeFile(join(rootfs, 'etc', 'hostname'), 'box\n', { mode: 0o640 });
  await writeFile(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n');
  await writeFile(join(rootfs, 'etc', 'group'), 'root:x:0:\napp:x:1001:\nstaff:x:50:\n');
  await link(join(rootfs, 'etc', 'hostname'), join(rootfs, 'etc', 'hostname.hard'));
  await symlink('/', join(rootfs, 'toroot'));
  await symlink('../../../../..', join(rootfs, 'up'));
  await symlink('/etc', join(rootfs, 'etclink'));
  await symlink('hostname', join(rootfs, 'etc', 'rel'));
  await symlink('/data', join(rootfs, 'datalink'));
  await mkdir(join(vol, 'sub'), { recursive: true });
  await writeFile(join(vol, 'sub', 'v.txt'), 'volume');
  const view: RootfsView = {
    rootfs,
    running: false,
    mounts: [
      { destination: '/data', source: vol, readOnly: false, type: 'volume' },
      { destination: '/ro', source: join(dir, 'ro'), readOnly: true, type: 'bind' },
      { destination: '/tmpfs', source: '', readOnly: false, type: 'tmpfs' },
    ],
  };
  await mkdir(join(dir, 'ro'));
  await mkdir(join(rootfs, 'ro'));
  return { dir, view, vol };
}

test('symlinks resolve inside the container root, never above it', async (t) => {
  const { view } = await fixture(t);
  const r = view.rootfs;
  assert.equal(resolveInRootfs(view, '/toroot/etc/hostname'), join(r, 'etc/hostname'));
  assert.equal(resolveInRootfs(view, '/up/etc/passwd'), join(r, 'etc/passwd'));
  assert.equal(resolveInRootfs(view, '/../../../etc'), join(r, 'etc'));
  assert.equal(resolveInRootfs(view, '/etclink/rel', { followLast: true }), join(r, 'etc/hostname'));
  // the last element is kept as is unless asked to follow it
  assert.equal(resolveInRootfs(view, '/etclink'), join(r, 'etclink'));
  assert.equal(resolveInRootfs(view, '/toroot', { followLast: true }), r);
  assert.equal(resolveInRootfs(view, '/up', { followLast: true }), r);
});

test('paths under a mount map to its source; a stopped container\'s tmpfs maps to the rootfs', async (t) => {
  const { view, vol } = await fixture(t);
  assert.equal(resolveInRootfs(view, '/data/sub/v.txt'), join(vol, 'sub/v.txt'));
  assert.equal(resolveInRootfs(view, '/datalink/sub', { followLast: true }), join(vol, 'sub'));
  assert.equal(resolveInRootfs(view, '/database'), join(view.rootfs, 'database'));
  assert.equal(resolveInRootfs(view, '/tmpfs/x'), join(view.rootfs, 'tmpfs/x'));
});

test('statPath gives Go FileMode bits, sizes, link targets; a missing path is not_found', async (t) => {
  const { view } = await fixture(t);
  const etc = await statPath(view, '/etc');
  assert.equal(etc.name, 'etc');
  assert.equal(etc.mode, GoFileMode.dir + 0o755);
  assert.equal(etc.linkTarget, '');
  const host = await statPath(view, '/etc/hostname');
  assert.equal(host.mode, 0o640);
  assert.equal(host.size, 4);
  assert.match(host.mtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.equal(Date.parse(host.mtime), Math.floor((await stat(join(view.rootfs, 'etc/hostname'))).mtimeMs));
  const rel = await statPath(view, '/etclink/rel');
  assert.equal(rel.mode, GoFileMode.symlink + 0o777);
  assert.equal(rel.linkTarget, '/etc/hostname');
  assert.equal((await statPath(view, '/up')).linkTarget, '/');
  await assert.rejects(statPath(view, '/nope', { container: 'box' }), (err) => isCode(err, 'not_found') && err.message === 'Could not find the file /nope in container box');
  await assert.rejects(statPath(view, '/etc/hostname/'), (err) => isCode(err, 'invalid_argument'));
});

test('archivePath names entries from the basename and includes volume contents', async (t) => {
  const { view } = await fixture(t);
  const file = await archivePath(view, '/etc/hostname');
  assert.equal(file.stat.name, 'hostname');
  assert.deepEqual((await readTar(file.tar)).map((e) => [e.name, e.type, e.mode, e.body]), [['hostname', 'file', 0o640, 'box\n']]);

  const etc = await readTar((await archivePath(view, '/etclink/')).tar);
  assert.equal(etc[0]?.name, 'etclink/');
  const names = etc.map((e) => e.name);
  assert.deepEqual(names, ['etclink/', 'etclink/group', 'etclink/hostname', 'etclink/hostname.hard', 'etclink/passwd', 'etclink/rel']);
  const hard = etc.find((e) => e.name === 'etclink/hostname.hard');
  assert.deepEqual([hard?.type, hard?.linkname], ['link', 'etclink/hostname']);
  assert.deepEqual([etc[5]?.type, etc[5]?.linkname], ['symlink', 'hostname']);

  // the link itself, not its target, when the last element is a symlink
  const link = await readTar((await archivePath(view, '/etclink')).tar);
  assert.deepEqual(link.map((e) => [e.name, e.type, e.linkname]), [['etclink', 'symlink', '/etc']]);

  // a directory holding a mount point shows the volume's files
  const root = await readTar((await archivePath(view, '/')).tar);
  assert.ok(root.some((e) => e.name === './data/sub/v.txt' && e.body === 'volume'), JSON.stringify(root.map((e) => e.name)));
  const data = await readTar((await archivePath(view, '/data')).tar);
  assert.deepEqual(data.map((e) => e.name), ['data/', 'data/sub/', 'data/sub/v.txt']);
  await assert.rejects(archivePath(view, '/data/none', { container: 'c1' }), (err) => isCode(err, 'not_found') && /\/data\/none in container c1/.test(err.message));
});

test('extractArchive writes relative to the directory, through mounts, keeping owners and modes', async (t) => {
  const { view, vol } = await fixture(t);
  const tar = makeTar([
    { name: './', type: 'directory', mode: 0o700 },
    { name: 'a/', type: 'directory', mode: 0o750, uid: 7 },
    { name: 'a/f.txt', body: 'hello', mode: 0o600, uid: 1234, gid: 99 },
    { name: 'a/l', type: 'symlink', linkname: 'f.txt' },
    { name: 'a/h', type: 'link', linkname: 'a/f.txt' },
    { name: 'implied/deep/x', body: 'x' },
  ]);
  await extractArchive(view, '/dst', Readable.from([gzipSync(tar)]));
  const dst = join(view.rootfs, 'dst');
  assert.equal((await stat(dst)).mode & 0o777, 0o755, 'the extraction point keeps its own mode');
  const f = await stat(join(dst, 'a/f.txt'));
  assert.deepEqual([f.mode & 0o7777, f.uid, f.gid, f.nlink], [0o600, 1234, 99, 2]);
  assert.equal((await stat(join(dst, 'a'))).mode & 0o7777, 0o750);
  assert.equal((await stat(join(dst, 'a'))).mtimeMs, 1_700_000_000_000);
  assert.equal(await readFile(join(dst, 'a/l'), 'utf8'), 'hello');
  assert.equal(await readFile(join(dst, 'implied/deep/x'), 'utf8'), 'x');

  // into a volume path, and through a symlink to it
  await extractArchive(view, '/datalink/sub', Readable.from([makeTar([{ name: 'new.txt', body: 'v2' }])]));
  assert.equal(await readFile(join(vol, 'sub/new.txt'), 'utf8'), 'v2');
  assert.equal(await lstat(join(view.rootfs, 'data/sub')).catch(() => null), null);

  // copyUIDGID: owned by the container's user instead of the tar's
  await extractArchive(view, '/dst', Readable.from([makeTar([{ name: 'mine', body: 'm', uid: 5, gid: 5 }])]), { copyUIDGID: true, user: 'app' });
  const mine = await stat(join(dst, 'mine'));
  assert.deepEqual([mine.uid, mine.gid], [1000, 1001]);
  await extractArchive(view, '/dst', Readable.from([makeTar([{ name: 'mine2', body: 'm' }])]), { copyUIDGID: true, user: 'app:staff' });
  assert.equal((await stat(join(dst, 'mine2'))).gid, 50);
});

test('extractArchive never writes outside the root: .. entries fail, symlinked parents stay inside', async (t) => {
  const { dir, view } = await fixture(t);
  // A symlink to "/" in the archive, then a file written through it: lands in the container's /etc.
  await extractArchive(view, '/dst', Readable.from([makeTar([
    { name: 'esc', type: 'symlink', linkname: '/' },
    { name: 'esc/etc/written', body: 'inside' },
    { name: 'up', type: 'symlink', linkname: '../../../../../../..' },
    { name: 'up/tmp-written', body: 'inside' },
  ])]));
  assert.equal(await readFile(join(view.rootfs, 'etc/written'), 'utf8'), 'inside');
  assert.equal(await readFile(join(view.rootfs, 'tmp-written'), 'utf8'), 'inside');
  assert.equal(await lstat(join(dir, 'tmp-written')).catch(() => null), null);

  await assert.rejects(
    extractArchive(view, '/dst', Readable.from([makeTar([{ name: 'ok-before', body: '1' }, { name: '../../escape', body: 'x' }])])),
    (err) => isCode(err, 'invalid_argument') && /escapes/.test(err.message),
  );
  assert.equal(await lstat(join(view.rootfs, 'dst/ok-before')).catch(() => null), null, 'what the failed extraction created is removed');
  assert.equal(await lstat(join(view.rootfs, 'escape')).catch(() => null), null);
  assert.equal(await lstat(join(dir, 'escape')).catch(() => null), null);
});

test('extractArchive refusals: missing dir, a file, noOverwriteDirNonDir, read-only, a corrupt tar', async (t) => {
  const { view } = await fixture(t);
  const small = () => Readable.from([makeTar([{ name: 'x', body: 'x' }])]);
  await assert.rejects(extractArchive(view, '/missing', small(), { container: 'c' }), (err) => isCode(err, 'not_found') && err.message === 'Could not find the file /missing in container c');
  await assert.rejects(extractArchive(view, '/etc/hostname', small()), (err) => isCode(err, 'invalid_argument') && /not a directory/.test(err.message));
  await assert.rejects(extractArchive(view, '/ro', small()), (err) => isCode(err, 'forbidden') && err.message === 'mounted volume is marked read-only');
  await assert.rejects(extractArchive(view, '/dst', small(), { readonlyRootfs: true }), (err) => isCode(err, 'forbidden') && err.message === 'container rootfs is marked read-only');
  // a read-only rootfs still takes writes into a writable volume
  await extractArchive(view, '/data', small(), { readonlyRootfs: true });

  await mkdir(join(view.rootfs, 'dst', 'adir'));
  await writeFile(join(view.rootfs, 'dst', 'afile'), '');
  await assert.rejects(
    extractArchive(view, '/dst', Readable.from([makeTar([{ name: 'adir', body: 'x' }])]), { noOverwriteDirNonDir: true }),
    (err) => isCode(err, 'invalid_argument') && /cannot overwrite directory/.test(err.message),
  );
  await assert.rejects(
    extractArchive(view, '/dst', Readable.from([makeTar([{ name: 'afile/', type: 'directory' }])]), { noOverwriteDirNonDir: true }),
    (err) => isCode(err, 'invalid_argument') && /cannot overwrite non-directory/.test(err.message),
  );
  // without the flag a file replaces a directory (as dockerd)
  await extractArchive(view, '/dst', Readable.from([makeTar([{ name: 'adir', body: 'now a file' }])]));
  assert.equal(await readFile(join(view.rootfs, 'dst/adir'), 'utf8'), 'now a file');

  const corrupt = makeTar([{ name: 'good', body: 'g' }, { name: 'bad', body: 'b' }]);
  corrupt.fill(0x41, 1024 + 100, 1024 + 140); // damage the second header
  await assert.rejects(extractArchive(view, '/dst', Readable.from([corrupt])), (err) => isCode(err, 'invalid_argument'));
  assert.equal(await lstat(join(view.rootfs, 'dst/good')).catch(() => null), null);
  const truncated = makeTar([{ name: 'partial', body: 'p'.repeat(2000) }]).subarray(0, 1024);
  await assert.rejects(extractArchive(view, '/dst', Readable.from([truncated])), (err) => isCode(err, 'invalid_argument'));
  assert.equal(await lstat(join(view.rootfs, 'dst/partial')).catch(() => null), null);
});

test('exportRootfs: the whole root, without volume contents or /proc contents', async (t) => {
  const { view } = await fixture(t);
  const entries = await readTar(exportRootfs(view));
  const names = entries.map((e) => e.name);
  assert.ok(names.includes('etc/hostname'));
  assert.ok(names.includes('proc/'));
  assert.ok(!names.some((n) => n.startsWith('proc/self')), 'no /proc contents');
  assert.ok(names.includes('data/'));
  assert.ok(!names.some((n) => n.startsWith('data/sub')), 'no volume contents');
  assert.deepEqual(names.filter((n) => !n.includes('/') || n.split('/').length === 2 && n.endsWith('/')).slice(0, 3), ['data/', 'datalink', 'dst/']);
  const root = await readdir(view.rootfs);
  assert.equal(names.filter((n) => !n.replace(/\/$/, '').includes('/')).length, root.length);
});
