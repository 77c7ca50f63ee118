import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { sys } from '../native/index.js';
import { tempRoot } from '../testing/index.js';
import { sha256 } from '../util/index.js';
import { applyLayer } from './apply.js';
import { layerTarFromDir } from './diff.js';
import { mountAll, unmount } from './mount.js';
import { packTar, type TestEntry } from './testlayers.js';

const mtime = new Date('2021-05-06T07:08:09Z');
const layer: TestEntry[] = [
  { name: 'bin/', type: 'directory', mode: 0o755, mtime },
  { name: 'bin/su', type: 'file', mode: 0o4755, uid: 1000, gid: 1000, mtime, content: 'setuid binary' },
  { name: 'bin/su-hard', type: 'link', linkname: 'bin/su' },
  { name: 'bin/sh', type: 'symlink', linkname: 'busybox', mtime },
  { name: 'dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3, mtime },
  { name: 'dev/sda', type: 'block-device', mode: 0o660, devmajor: 8, devminor: 0, mtime },
  { name: 'fifo', type: 'fifo', mode: 0o644, mtime },
  { name: 'tagged', type: 'file', mode: 0o600, mtime, content: 'x', pax: { 'SCHILY.xattr.user.note': 'hello' } },
  { name: '.wh.gone', type: 'file', mtime, content: '' },
  { name: 'opq/.wh..wh..opq', type: 'file', mtime, content: '' },
  { name: 'opq/new', type: 'file', mode: 0o644, mtime, content: 'new' },
  { name: `long/${'n'.repeat(150)}/${'m'.repeat(120)}`, type: 'file', mode: 0o644, mtime, content: 'deep' },
  { name: 'big', type: 'file', mode: 0o644, mtime, content: Buffer.alloc(3 << 20, 7) },
];

/** Everything a layer preserves, per path; hardlinks as the first path of their inode. */
function describe(root: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const inodes = new Map<number, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(rel ? join(root, rel) : root).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const abs = join(root, path);
      const st = lstatSync(abs);
      const xattrs = Object.fromEntries(sys.llistxattr(abs).map((n) => [n, sys.lgetxattr(abs, n)?.toString('hex')]));
      const first = inodes.get(st.ino);
      if (!st.isDirectory()) inodes.set(st.ino, first ?? path);
      out[path] = {
        mode: st.mode,
        uid: st.uid,
        gid: st.gid,
        rdev: st.rdev,
        // a whiteout is made by mknod at unpack time; its mtime is not part of the layer
        mtime: st.isCharacterDevice() && st.rdev === 0 ? undefined : Math.floor(st.mtimeMs / 1000),
        link: st.isSymbolicLink() ? readlinkSync(abs) : undefined,
        content: st.isFile() ? createHash('sha256').update(readFileSync(abs)).digest('hex') : undefined,
        hardlinkOf: first,
        xattrs,
      };
      if (st.isDirectory()) walk(path);
    }
  };
  walk('');
  return out;
}

async function bytes(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Entry names and types as tar-stream (an independent parser) reads them. */
async function listTar(data: Buffer): Promise<string[]> {
  const names: string[] = [];
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      names.push(`${entry.header.type} ${entry.header.name}${entry.header.linkname ? ` -> ${entry.header.linkname}` : ''}`);
      entry.resume();
    }
  })();
  extract.end(data);
  await done;
  return names;
}

test('layerTarFromDir round-trips through applyLayer, with whiteouts, opaque dirs, hardlinks and xattrs', async (t) => {
  const root = await tempRoot(t);
  const first = join(root, 'first');
  await applyLayer(Readable.from([await packTar(layer)]), first);
  const tarball = await bytes(layerTarFromDir(first));
  assert.ok(tarball.equals(await bytes(layerTarFromDir(first))), 'the same tree gives the same bytes');

  const names = await listTar(tarball);
  assert.ok(names.includes('file .wh.gone'), names.join('\n'));
  assert.ok(names.includes('file opq/.wh..wh..opq'));
  assert.ok(names.includes('link bin/su-hard -> bin/su'));
  assert.ok(names.includes(`file long/${'n'.repeat(150)}/${'m'.repeat(120)}`));
  assert.deepEqual([...names].sort(), names.slice().sort(), 'entries are sorted');

  const second = join(root, 'second');
  const result = await applyLayer(Readable.from([tarball]), second);
  assert.equal(result.diffId, sha256(tarball));
  assert.deepEqual(describe(second), describe(first));
});

test('the diff of a real overlay upper dir becomes whiteouts and an opaque directory', async (t) => {
  const root = await tempRoot(t);
  const lowerDir = join(root, 'lower');
  await applyLayer(
    Readable.from([
      await packTar([
        { name: 'keep', type: 'file', content: 'keep' },
        { name: 'delete-me', type: 'file', content: 'x' },
        { name: 'recreated/', type: 'directory' },
        { name: 'recreated/old', type: 'file', content: 'old' },
      ]),
    ]),
    lowerDir,
  );
  const [upperDir, workDir, target] = ['upper', 'work', 'merged'].map((d) => join(root, d)) as [string, string, string];
  for (const d of [upperDir, workDir, target]) mkdirSync(d);
  // Two lowers so overlay needs its own whiteouts for what it deletes.
  const emptyLower = join(root, 'empty');
  mkdirSync(emptyLower);
  mountAll([{ type: 'overlay', source: 'overlay', options: [`lowerdir=${emptyLower}:${lowerDir}`, `upperdir=${upperDir}`, `workdir=${workDir}`] }], target);
  unlinkSync(join(target, 'delete-me'));
  rmSync(join(target, 'recreated'), { recursive: true });
  mkdirSync(join(target, 'recreated'));
  writeFileSync(join(target, 'recreated', 'fresh'), 'fresh');
  unmount(target);

  const names = await listTar(await bytes(layerTarFromDir(upperDir)));
  assert.deepEqual(names, ['file .wh.delete-me', 'directory recreated/', 'file recreated/.wh..wh..opq', 'file recreated/fresh']);
});
