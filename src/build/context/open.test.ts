import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { isCode } from '../../errors/index.js';
import { tempRoot } from '../../testing/index.js';
import { compress, makeTar } from './fixtures.js';
import { openContext } from './index.js';

const sample = () =>
  makeTar([
    { name: 'Dockerfile', content: 'FROM scratch\n' },
    { name: 'src/', type: 'directory', mode: 0o750 },
    { name: 'src/run.sh', content: '#!/bin/sh\n', mode: 0o755 },
    { name: 'src/link', type: 'symlink', linkname: 'run.sh' },
    { name: 'src/hard', type: 'link', linkname: 'src/run.sh' },
    { name: '/abs/x.txt', content: 'abs' }, // an absolute name lands inside
    { name: 'implied/deep/y.txt', content: 'y' }, // parents without entries are made
  ]);

test('openContext unpacks files, dirs, symlinks and hard links with their modes, for every compression', async (t) => {
  const tmp = await tempRoot(t);
  for (const how of ['none', 'gzip', 'bzip2', 'xz', 'zstd'] as const) {
    const data = how === 'none' ? sample() : compress(sample(), how);
    const ctx = await openContext(Readable.from([data]), { tmpDir: tmp });
    assert.ok(ctx.dir.startsWith(`${tmp}/`), how);
    assert.equal(readFileSync(`${ctx.dir}/Dockerfile`, 'utf8'), 'FROM scratch\n', how);
    assert.equal(lstatSync(`${ctx.dir}/src`).mode & 0o7777, 0o750, how);
    assert.equal(lstatSync(`${ctx.dir}/src/run.sh`).mode & 0o7777, 0o755, how);
    assert.equal(lstatSync(`${ctx.dir}/src/run.sh`).mtimeMs, 1_600_000_000_000, how);
    assert.equal(readlinkSync(`${ctx.dir}/src/link`), 'run.sh', how);
    assert.equal(lstatSync(`${ctx.dir}/src/hard`).ino, lstatSync(`${ctx.dir}/src/run.sh`).ino, how);
    assert.equal(readFileSync(`${ctx.dir}/abs/x.txt`, 'utf8'), 'abs', how);
    assert.equal(readFileSync(`${ctx.dir}/implied/deep/y.txt`, 'utf8'), 'y', how);
    await ctx.close();
    assert.equal(existsSync(ctx.dir), false, how);
  }
  assert.deepEqual(readdirSync(tmp), []);
});

test('openContext refuses a ../ entry and leaves nothing behind', async (t) => {
  const tmp = await tempRoot(t);
  const outside = `${tmp}/evil`;
  const tar = makeTar([
    { name: 'ok.txt', content: 'fine' },
    { name: '../evil', content: 'pwned' },
  ]);
  await assert.rejects(openContext(Readable.from([tar]), { tmpDir: tmp }), (err) => isCode(err, 'invalid_argument') && /failed to read build context/.test(err.message));
  assert.equal(existsSync(outside), false);
  assert.deepEqual(readdirSync(tmp), []);
});

test('openContext never writes through a symlink the tar planted', async (t) => {
  const tmp = await tempRoot(t);
  const victim = `${tmp}/victim`;
  await mkdir(victim);
  writeFileSync(`${victim}/keep.txt`, 'original');
  const work = `${tmp}/work`;
  await mkdir(work);
  // a symlink to a host directory, then entries through it: a file, and a hard link to a host file
  for (const second of [
    { name: 'escape/keep.txt', content: 'overwritten' },
    { name: 'stolen', type: 'link' as const, linkname: 'escape/keep.txt' },
  ]) {
    const tar = makeTar([{ name: 'escape', type: 'symlink', linkname: victim }, second]);
    await assert.rejects(openContext(Readable.from([tar]), { tmpDir: work }), (err) => isCode(err, 'invalid_argument'));
    assert.equal(readFileSync(`${victim}/keep.txt`, 'utf8'), 'original');
    assert.equal(lstatSync(`${victim}/keep.txt`).nlink, 1);
    assert.deepEqual(readdirSync(work), []);
  }
});

test('openContext: a truncated tar is invalid_argument and nothing is left', async (t) => {
  const tmp = await tempRoot(t);
  const full = makeTar([{ name: 'big.bin', content: Buffer.alloc(5000, 7) }]);
  const truncated = full.subarray(0, 512 + 1000);
  await assert.rejects(
    openContext(Readable.from([truncated]), { tmpDir: tmp }),
    (err) => isCode(err, 'invalid_argument') && err.message.startsWith('failed to read build context: '),
  );
  assert.deepEqual(readdirSync(tmp), []);
  // a truncated gzip stream too
  const gz = compress(full, 'gzip');
  await assert.rejects(openContext(Readable.from([gz.subarray(0, gz.length - 20)]), { tmpDir: tmp }), (err) => isCode(err, 'invalid_argument'));
  // garbage that is no tar at all
  await assert.rejects(openContext(Readable.from([Buffer.alloc(1024, 0x41)]), { tmpDir: tmp }), (err) => isCode(err, 'invalid_argument'));
  assert.deepEqual(readdirSync(tmp), []);
});

test('openContext enforces maxBytes on the unpacked size', async (t) => {
  const tmp = await tempRoot(t);
  const tar = makeTar([
    { name: 'a', content: Buffer.alloc(600) },
    { name: 'b', content: Buffer.alloc(600) },
  ]);
  await assert.rejects(openContext(Readable.from([tar]), { tmpDir: tmp, maxBytes: 1000 }), (err) => isCode(err, 'invalid_argument') && /larger than/.test(err.message));
  assert.deepEqual(readdirSync(tmp), []);
  const ctx = await openContext(Readable.from([tar]), { tmpDir: tmp, maxBytes: 1200 });
  t.after(() => ctx.close());
  assert.equal(lstatSync(`${ctx.dir}/b`).size, 600);
});

test('openContext: a later entry of the same name replaces the earlier one', async (t) => {
  const tmp = await tempRoot(t);
  const tar = makeTar([
    { name: 'x', type: 'directory' },
    { name: 'x/inner', content: '1' },
    { name: 'x', content: 'now a file' },
  ]);
  const ctx = await openContext(Readable.from([tar]), { tmpDir: tmp });
  t.after(() => ctx.close());
  assert.equal(readFileSync(`${ctx.dir}/x`, 'utf8'), 'now a file');
});

test('openContext: a full disk is a clear error and the partial directory is removed', async (t) => {
  const tmp = await tempRoot(t); // unmounts what is below it afterwards
  const small = `${tmp}/small`;
  await mkdir(small);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', small]);
  assert.equal(mounted.status, 0, mounted.stderr.toString());
  const tar = makeTar([{ name: 'huge.bin', content: Buffer.alloc(1 << 20, 1) }]);
  await assert.rejects(openContext(Readable.from([tar]), { tmpDir: small }), (err) => isCode(err, 'unavailable') && /no space left on device/.test(err.message));
  assert.deepEqual(readdirSync(small), []);
});
