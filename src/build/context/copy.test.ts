import assert from 'node:assert/strict';
import { existsSync, lchownSync, linkSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { isCode } from '../../errors/index.js';
import { tempRoot } from '../../testing/index.js';
import { compress, makeTar } from './fixtures.js';
import { copyInto, isTarArchive, resolveChown, resolveSources } from './index.js';
import type { CopyOptions } from './index.js';

type T = Parameters<typeof tempRoot>[0];

async function setup(t: T) {
  const base = await tempRoot(t);
  const ctx = `${base}/ctx`;
  const rootfs = `${base}/rootfs`;
  mkdirSync(`${ctx}/dir/sub`, { recursive: true });
  mkdirSync(`${rootfs}/etc`, { recursive: true });
  writeFileSync(`${ctx}/a.txt`, 'A', { mode: 0o640 });
  writeFileSync(`${ctx}/b.txt`, 'B');
  writeFileSync(`${ctx}/run.sh`, '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(`${ctx}/dir/one`, '1');
  writeFileSync(`${ctx}/dir/sub/two`, '2');
  symlinkSync('one', `${ctx}/dir/link`);
  linkSync(`${ctx}/dir/one`, `${ctx}/dir/hard`);
  lchownSync(`${ctx}/a.txt`, 1234, 1234);
  utimesSync(`${ctx}/a.txt`, new Date(1_500_000_000_000), new Date(1_500_000_000_000));
  return { base, ctx, rootfs, view: { rootfs, mounts: [], running: false } };
}

const opts = (o: Partial<CopyOptions> = {}): CopyOptions => ({ workdir: '/', ...o });
const mode = (p: string) => lstatSync(p).mode & 0o7777;
const owner = (p: string) => `${lstatSync(p).uid}:${lstatSync(p).gid}`;

test('copyInto: a file to a dir dest, relative to WORKDIR; parents made 0755; mode and mtime kept; owner 0:0', async (t) => {
  const { ctx, rootfs, view } = await setup(t);
  await copyInto(view, await resolveSources(ctx, ['a.txt']), 'app/', opts({ workdir: '/work' }));
  const out = `${rootfs}/work/app/a.txt`;
  assert.equal(readFileSync(out, 'utf8'), 'A');
  assert.equal(mode(out), 0o640);
  assert.equal(owner(out), '0:0');
  assert.equal(lstatSync(out).mtimeMs, 1_500_000_000_000);
  assert.equal(mode(`${rootfs}/work`), 0o755);
  assert.equal(mode(`${rootfs}/work/app`), 0o755);
});

test('copyInto: dest without a slash is the file name, unless it is an existing directory', async (t) => {
  const { ctx, rootfs, view } = await setup(t);
  await copyInto(view, await resolveSources(ctx, ['a.txt']), '/renamed', opts());
  assert.equal(readFileSync(`${rootfs}/renamed`, 'utf8'), 'A');
  await copyInto(view, await resolveSources(ctx, ['b.txt']), '/etc', opts());
  assert.equal(readFileSync(`${rootfs}/etc/b.txt`, 'utf8'), 'B');
  // an existing file is overwritten
  await copyInto(view, await resolveSources(ctx, ['b.txt']), '/renamed', opts());
  assert.equal(readFileSync(`${rootfs}/renamed`, 'utf8'), 'B');
  // "." with a WORKDIR is a directory
  await copyInto(view, await resolveSources(ctx, ['run.sh']), '.', opts({ workdir: '/srv' }));
  assert.equal(mode(`${rootfs}/srv/run.sh`), 0o755);
});

test('copyInto: a directory copies its contents; symlinks and hard links stay; a new dest takes the source mode', async (t) => {
  const { ctx, rootfs, view } = await setup(t);
  await copyInto(view, await resolveSources(ctx, ['dir']), '/opt/d', opts());
  assert.equal(existsSync(`${rootfs}/opt/d/dir`), false, 'contents, not the directory itself');
  assert.equal(readFileSync(`${rootfs}/opt/d/one`, 'utf8'), '1');
  assert.equal(readFileSync(`${rootfs}/opt/d/sub/two`, 'utf8'), '2');
  assert.equal(readlinkSync(`${rootfs}/opt/d/link`), 'one');
  assert.equal(lstatSync(`${rootfs}/opt/d/hard`).ino, lstatSync(`${rootfs}/opt/d/one`).ino);
  assert.equal(mode(`${rootfs}/opt/d`), mode(`${ctx}/dir`));
  // a wildcard matching a directory copies its contents too (docker's behaviour)
  await copyInto(view, await resolveSources(ctx, ['d?r']), '/w/', opts());
  assert.equal(readFileSync(`${rootfs}/w/sub/two`, 'utf8'), '2');
});

test('copyInto: several sources need a directory dest', async (t) => {
  const { ctx, rootfs, view } = await setup(t);
  const want = 'When using COPY with more than one source file, the destination must be a directory and end with a /';
  await assert.rejects(copyInto(view, await resolveSources(ctx, ['a.txt', 'b.txt']), '/x', opts()), (err) => isCode(err, 'invalid_argument') && err.message === want);
  await assert.rejects(copyInto(view, await resolveSources(ctx, ['?.txt']), '/x', opts()), (err) => isCode(err, 'invalid_argument') && err.message === want);
  await assert.rejects(copyInto(view, await resolveSources(ctx, ['?.txt']), '/x', opts({ extractArchives: true })), (err) => isCode(err, 'invalid_argument') && /^When using ADD/.test(err.message));
  assert.equal(existsSync(`${rootfs}/x`), false);
  await copyInto(view, await resolveSources(ctx, ['?.txt']), '/x/', opts());
  assert.equal(readFileSync(`${rootfs}/x/a.txt`, 'utf8'), 'A');
  assert.equal(readFileSync(`${rootfs}/x/b.txt`, 'utf8'), 'B');
});

test('copyInto: --chown owns files and created parents, --chmod sets every mode', async (t) => {
  const { ctx, rootfs, view } = await setup(t);
  await copyInto(view, await resolveSources(ctx, ['dir']), '/home/app/data/', opts({ owner: { uid: 1000, gid: 2000 }, chmod: 0o700 }));
  for (const p of ['home', 'home/app', 'home/app/data', 'home/app/data/one', 'home/app/data/sub', 'home/app/data/link']) {
    assert.equal(owner(`${rootfs}/${p}`), '1000:2000', p);
  }
  assert.equal(mode(`${rootfs}/home/app/data/one`), 0o700);
  assert.equal(mode(`${rootfs}/home/app/data/sub`), 0o700);
  assert.equal(mode(`${rootfs}/home`), 0o755, 'created parents are 0755');
});

test('copyInto: symlinks in the destination resolve inside the rootfs', async (t) => {
  const { base, ctx, rootfs, view } = await setup(t);
  mkdirSync(`${base}/victim`);
  symlinkSync('/../../victim', `${rootfs}/escape`); // absolute and ../ : both stay in the rootfs
  symlinkSync('../../../victim', `${rootfs}/etc/up`);
  await copyInto(view, await resolveSources(ctx, ['a.txt']), '/escape/', opts());
  await copyInto(view, await resolveSources(ctx, ['b.txt']), '/etc/up/', opts());
  assert.equal(readFileSync(`${rootfs}/victim/a.txt`, 'utf8'), 'A');
  assert.equal(readFileSync(`${rootfs}/victim/b.txt`, 'utf8'), 'B');
  assert.equal(existsSync(`${base}/victim/a.txt`), false);
  assert.equal(existsSync(`${base}/victim/b.txt`), false);
  // below the destination nothing is followed: a symlink where the copy needs a directory is refused
  mkdirSync(`${rootfs}/t`);
  symlinkSync(`${base}/victim`, `${rootfs}/t/sub`);
  await assert.rejects(copyInto(view, await resolveSources(ctx, ['dir']), '/t', opts()), (err) => isCode(err, 'invalid_argument') && /non-directory/.test(err.message));
  assert.equal(existsSync(`${base}/victim/two`), false);
});

test('copyInto: a directory onto a file, or a file onto a directory, is an error', async (t) => {
  const { ctx, rootfs, view } = await setup(t);
  writeFileSync(`${rootfs}/file`, 'x');
  await assert.rejects(copyInto(view, await resolveSources(ctx, ['dir']), '/file', opts()), (err) => isCode(err, 'invalid_argument'));
  mkdirSync(`${rootfs}/dest/a.txt`, { recursive: true });
  await assert.rejects(copyInto(view, await resolveSources(ctx, ['a.txt']), '/dest/', opts()), (err) => isCode(err, 'invalid_argument'));
});

test('copyInto: excludes leave out entries inside a copied directory', async (t) => {
  const { ctx, rootfs, view } = await setup(t);
  await copyInto(view, await resolveSources(ctx, ['dir'], { excludes: ['sub', 'dir/hard'] }), '/e/', opts());
  assert.equal(existsSync(`${rootfs}/e/one`), true);
  assert.equal(existsSync(`${rootfs}/e/sub`), false);
  assert.equal(existsSync(`${rootfs}/e/hard`), false);
});

test('ADD extracts local tars by content (gzip, bzip2, xz, plain) keeping archive owners, and copies the rest', async (t) => {
  const { ctx, rootfs, view } = await setup(t);
  const tar = makeTar([
    { name: 'pkg/', type: 'directory' },
    { name: 'pkg/bin', content: 'binary', mode: 0o755, uid: 1234, gid: 99 },
  ]);
  writeFileSync(`${ctx}/real.tar.gz`, compress(tar, 'gzip'));
  writeFileSync(`${ctx}/real.tbz`, compress(tar, 'bzip2'));
  writeFileSync(`${ctx}/noext`, compress(tar, 'xz'));
  writeFileSync(`${ctx}/plain.tar`, tar);
  writeFileSync(`${ctx}/fake.tar.gz`, 'not an archive at all');
  for (const [name, dest] of [['real.tar.gz', '/gz'], ['real.tbz', '/bz/'], ['noext', '/xz'], ['plain.tar', '/plain']] as const) {
    assert.equal(await isTarArchive(`${ctx}/${name}`), true, name);
    await copyInto(view, await resolveSources(ctx, [name]), dest, opts({ extractArchives: true, owner: { uid: 5, gid: 5 } }));
    const bin = `${rootfs}${dest.replace(/\/$/, '')}/pkg/bin`;
    assert.equal(readFileSync(bin, 'utf8'), 'binary', name);
    assert.equal(owner(bin), '1234:99', `${name}: the archive's owner, as docker`);
    assert.equal(mode(bin), 0o755);
  }
  assert.equal(await isTarArchive(`${ctx}/fake.tar.gz`), false);
  await copyInto(view, await resolveSources(ctx, ['fake.tar.gz']), '/f/', opts({ extractArchives: true }));
  assert.equal(readFileSync(`${rootfs}/f/fake.tar.gz`, 'utf8'), 'not an archive at all');
  // COPY never extracts
  await copyInto(view, await resolveSources(ctx, ['real.tar.gz']), '/c/', opts());
  assert.equal(await isTarArchive(`${rootfs}/c/real.tar.gz`), true);
});

test('resolveChown: numbers as given, names from the rootfs passwd and group', async (t) => {
  const { rootfs, view } = await setup(t);
  writeFileSync(`${rootfs}/etc/passwd`, 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n');
  writeFileSync(`${rootfs}/etc/group`, 'root:x:0:\nstaff:x:50:\napp:x:1001:\n');
  assert.deepEqual(resolveChown(view, '1000'), { uid: 1000, gid: 1000 });
  assert.deepEqual(resolveChown(view, '10:11'), { uid: 10, gid: 11 });
  assert.deepEqual(resolveChown(view, 'app'), { uid: 1000, gid: 1001 });
  assert.deepEqual(resolveChown(view, 'app:staff'), { uid: 1000, gid: 50 });
  assert.deepEqual(resolveChown(view, '55:staff'), { uid: 55, gid: 50 });
  assert.throws(
    () => resolveChown(view, 'bob'),
    (err) => isCode(err, 'invalid_argument') && err.message === "unable to convert uid/gid chown string to host mapping: can't find uid for user bob: no such user: bob",
  );
  assert.throws(() => resolveChown(view, 'app:nogroup'), (err) => isCode(err, 'invalid_argument') && /can't find gid for group nogroup: no such group: nogroup/.test(err.message));
});
