import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { createReadStream, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isCode } from '../errors/index.js';
import { sys } from '../native/index.js';
import { tempRoot } from '../testing/index.js';
import { sha256 } from '../util/index.js';
import { applyLayer, cleanEntryPath } from './apply.js';
import { packTar, type TestEntry } from './testlayers.js';

const mtime = new Date('2020-01-02T03:04:05Z');
const secs = mtime.getTime() / 1000;

const featureLayer: TestEntry[] = [
  { name: 'etc/', type: 'directory', mode: 0o750, uid: 0, gid: 0, mtime },
  { name: 'etc/hosts', type: 'file', mode: 0o644, mtime, content: '127.0.0.1 localhost\n' },
  { name: 'bin/', type: 'directory', mode: 0o755, mtime },
  { name: 'bin/su', type: 'file', mode: 0o4755, uid: 1000, gid: 1001, mtime, content: 'setuid' },
  { name: 'bin/su-hard', type: 'link', linkname: 'bin/su', mtime },
  { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox', uid: 5, gid: 6, mtime },
  { name: 'dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3, mtime },
  { name: 'run/fifo', type: 'fifo', mode: 0o600, mtime },
  { name: 'tagged', type: 'file', mode: 0o600, mtime, content: 'x', pax: { 'SCHILY.xattr.user.note': 'hello' } },
  { name: '.wh.gone', type: 'file', mode: 0o600, mtime, content: '' },
  { name: 'opq/.wh..wh..opq', type: 'file', mode: 0o600, mtime, content: '' },
  { name: 'opq/new', type: 'file', mode: 0o644, mtime, content: 'new' },
  { name: '.wh..wh.plnk/123', type: 'file', mode: 0o600, mtime, content: 'aufs' },
  { name: '/abs/file', type: 'file', mode: 0o644, mtime, content: 'abs' },
  { name: 'sticky/', type: 'directory', mode: 0o1777, mtime },
];

function checkFeatureLayer(dir: string): void {
  assert.equal(readFileSync(join(dir, 'etc/hosts'), 'utf8'), '127.0.0.1 localhost\n');
  assert.equal(lstatSync(join(dir, 'etc')).mode & 0o7777, 0o750);
  assert.equal(lstatSync(join(dir, 'etc')).mtimeMs / 1000, secs, 'directory mtime set after its contents');
  const su = lstatSync(join(dir, 'bin/su'));
  assert.equal(su.mode & 0o7777, 0o4755, 'setuid kept after chown');
  assert.deepEqual([su.uid, su.gid, su.mtimeMs / 1000], [1000, 1001, secs]);
  assert.equal(lstatSync(join(dir, 'bin/su-hard')).ino, su.ino, 'hardlink shares the inode');
  assert.equal(readlinkSync(join(dir, 'bin/sh')), '/bin/busybox');
  const sh = lstatSync(join(dir, 'bin/sh'));
  assert.deepEqual([sh.uid, sh.gid, sh.mtimeMs / 1000], [5, 6, secs]);
  const devnull = lstatSync(join(dir, 'dev/null'));
  assert.ok(devnull.isCharacterDevice());
  assert.equal(devnull.rdev, (1 << 8) | 3);
  assert.ok(lstatSync(join(dir, 'run/fifo')).isFIFO());
  assert.equal(sys.lgetxattr(join(dir, 'tagged'), 'user.note')?.toString(), 'hello');
  const gone = lstatSync(join(dir, 'gone'));
  assert.ok(gone.isCharacterDevice() && gone.rdev === 0, 'whiteout is a 0/0 char device');
  assert.equal(existsSync(join(dir, '.wh.gone')), false);
  assert.equal(sys.lgetxattr(join(dir, 'opq'), 'trusted.overlay.opaque')?.toString(), 'y');
  assert.deepEqual(readdirSync(join(dir, 'opq')), ['new']);
  assert.equal(existsSync(join(dir, '.wh..wh.plnk')), false, 'aufs metadata skipped');
  assert.equal(readFileSync(join(dir, 'abs/file'), 'utf8'), 'abs');
  assert.equal(lstatSync(join(dir, 'sticky')).mode & 0o7777, 0o1777);
}

for (const compression of ['none', 'gzip', 'zstd'] as const) {
  test(`applyLayer unpacks every entry kind (${compression}) and digests the uncompressed tar`, async (t) => {
    const root = await tempRoot(t);
    const plain = await packTar(featureLayer);
    let layer = plain;
    if (compression === 'gzip') layer = gzipSync(plain);
    if (compression === 'zstd') layer = execFileSync('zstd', ['-c', '-q'], { input: plain });
    const dir = join(root, 'layer');
    // Small chunks so headers and contents straddle chunk boundaries.
    const chunks = Array.from({ length: Math.ceil(layer.length / 100) }, (_, i) => layer.subarray(i * 100, (i + 1) * 100));
    const result = await applyLayer(Readable.from(chunks), dir);
    assert.deepEqual(result, { diffId: sha256(plain), tarSize: plain.length, unpackedSize: 20 + 6 + 1 + 3 + 3, impliedDirs: ['dev', 'run', 'opq', 'abs'] });
    checkFeatureLayer(dir);
  });
}

test('a later entry replaces an earlier one; a re-declared directory keeps its contents', async (t) => {
  const dir = join(await tempRoot(t), 'layer');
  const tarball = await packTar([
    { name: 'a', type: 'file', content: 'file first' },
    { name: 'a/', type: 'directory', mode: 0o700 },
    { name: 'a/inner', type: 'file', content: 'inner' },
    { name: 'a/', type: 'directory', mode: 0o711 },
    { name: 'b/', type: 'directory' },
    { name: 'b/x', type: 'file', content: 'x' },
    { name: 'b', type: 'symlink', linkname: 'a' },
    { name: 'c', type: 'file', content: 'one' },
    { name: 'c', type: 'file', content: 'two' },
  ]);
  await applyLayer(Readable.from([tarball]), dir);
  assert.equal(readFileSync(join(dir, 'a/inner'), 'utf8'), 'inner');
  assert.equal(lstatSync(join(dir, 'a')).mode & 0o777, 0o711);
  assert.equal(readlinkSync(join(dir, 'b')), 'a');
  assert.equal(readFileSync(join(dir, 'c'), 'utf8'), 'two');
});

test('cleanEntryPath strips leading slashes and dots and refuses to climb out', () => {
  assert.equal(cleanEntryPath('/usr//bin/./ls'), 'usr/bin/ls');
  assert.equal(cleanEntryPath('./a/b/../c'), 'a/c');
  assert.equal(cleanEntryPath('./'), '');
  assert.throws(() => cleanEntryPath('a/../../evil'), (err) => isCode(err, 'invalid_argument') && /escapes the root/.test(err.message));
  assert.throws(() => cleanEntryPath('../evil'), (err) => isCode(err, 'invalid_argument'));
});

test('hostile layers are refused and write nothing outside the layer directory', async (t) => {
  const root = await tempRoot(t);
  const outside = join(root, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'secret');
  writeFileSync(join(root, 'x'), 'x');
  const cases: Record<string, TestEntry[]> = {
    'dot-dot': [{ name: '../evil', type: 'file', content: 'evil' }],
    'inner dot-dot': [{ name: 'a/../../evil', type: 'file', content: 'evil' }],
    'through absolute symlink': [
      { name: 'link', type: 'symlink', linkname: outside },
      { name: 'link/evil', type: 'file', content: 'evil' },
    ],
    'through relative symlink': [
      { name: 'up', type: 'symlink', linkname: '..' },
      { name: 'up/evil', type: 'file', content: 'evil' },
    ],
    'directory through symlink': [
      { name: 'link', type: 'symlink', linkname: outside },
      { name: 'link/evil/', type: 'directory' },
    ],
    'hardlink outside': [{ name: 'hl', type: 'link', linkname: '../../x' }],
    'hardlink through symlink': [
      { name: 'link', type: 'symlink', linkname: outside },
      { name: 'hl', type: 'link', linkname: 'link/secret' },
    ],
    'hardlink to a missing file': [{ name: 'hl', type: 'link', linkname: 'nothing' }],
    'whiteout through symlink': [
      { name: 'link', type: 'symlink', linkname: outside },
      { name: 'link/.wh.secret', type: 'file', content: '' },
    ],
    'opaque through symlink': [
      { name: 'link', type: 'symlink', linkname: outside },
      { name: 'link/.wh..wh..opq', type: 'file', content: '' },
    ],
  };
  for (const [label, entries] of Object.entries(cases)) {
    const dir = join(root, 'layers', label.replace(/ /g, '-'));
    const reason = label === 'hardlink to a missing file' ? /not an earlier file/ : /escapes the root/;
    await assert.rejects(
      applyLayer(Readable.from([await packTar(entries)]), dir),
      (err) => isCode(err, 'invalid_argument') && reason.test(err.message),
      label,
    );
  }
  assert.deepEqual(readdirSync(outside), ['secret']);
  assert.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'secret');
  assert.equal(sys.lgetxattr(outside, 'trusted.overlay.opaque'), null);
  assert.deepEqual(readdirSync(root).sort(), ['layers', 'outside', 'x']);
  assert.equal(lstatSync(join(root, 'x')).nlink, 1);
});

test('corrupt and truncated layers are invalid_argument', async (t) => {
  const root = await tempRoot(t);
  const plain = await packTar([{ name: 'f', type: 'file', content: 'a'.repeat(5000) }]);
  const gz = gzipSync(plain);
  const corrupt = Buffer.from(gz);
  corrupt.fill(0x55, 20, 60);
  await assert.rejects(applyLayer(Readable.from([corrupt]), join(root, 'a')), (err) => isCode(err, 'invalid_argument'));
  await assert.rejects(applyLayer(Readable.from([plain.subarray(0, 1200)]), join(root, 'b')), (err) => isCode(err, 'invalid_argument'));
  const zstdBad = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(64, 0x41)]);
  await assert.rejects(applyLayer(Readable.from([zstdBad]), join(root, 'c')), (err) => isCode(err, 'invalid_argument'));
  const junk = Buffer.alloc(1024, 0x41);
  await assert.rejects(applyLayer(Readable.from([junk]), join(root, 'd')), (err) => isCode(err, 'invalid_argument'));
});

test('a GNU tar archive (PAX, long names, binary xattrs) unpacks as tar made it', async (t) => {
  const root = await tempRoot(t);
  const src = join(root, 'src');
  const longDir = join(src, 'd'.repeat(90), 'e'.repeat(90));
  mkdirSync(longDir, { recursive: true });
  writeFileSync(join(longDir, 'f'.repeat(120)), 'long');
  writeFileSync(join(src, 'caps'), 'bin');
  const binary = Buffer.from([0x01, 0x00, 0x00, 0x02, 0xff, 0xfe, 0x00, 0x80]);
  sys.lsetxattr(join(src, 'caps'), 'user.bin', binary);
  const archive = join(root, 'layer.tar.gz');
  execFileSync('tar', ['--xattrs', '--xattrs-include=user.*', '--format=posix', '-czf', archive, '-C', src, '.']);
  const dir = join(root, 'out');
  const result = await applyLayer(createReadStream(archive), dir);
  assert.equal(result.diffId, sha256(execFileSync('gzip', ['-dc', archive], { maxBuffer: 1 << 26 })));
  assert.equal(readFileSync(join(dir, 'd'.repeat(90), 'e'.repeat(90), 'f'.repeat(120)), 'utf8'), 'long');
  assert.deepEqual(sys.lgetxattr(join(dir, 'caps'), 'user.bin'), binary);
});
