import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, lchownSync, mkdirSync, readFileSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { isCode } from '../../errors/index.js';
import { tempRoot } from '../../testing/index.js';
import { checksumSources, contentCacheStats, fileDigest, resolveSources } from './index.js';

/** A small context tree; returns its root. */
async function context(t: Parameters<typeof tempRoot>[0]): Promise<string> {
  const root = `${await tempRoot(t)}/ctx`;
  mkdirSync(`${root}/src/lib`, { recursive: true });
  mkdirSync(`${root}/docs`);
  writeFileSync(`${root}/a.txt`, 'a');
  writeFileSync(`${root}/b.txt`, 'b');
  writeFileSync(`${root}/ab.md`, 'ab');
  writeFileSync(`${root}/arr[0].txt`, 'arr');
  writeFileSync(`${root}/src/main.ts`, 'main');
  writeFileSync(`${root}/src/util.ts`, 'util');
  writeFileSync(`${root}/src/lib/deep.ts`, 'deep');
  writeFileSync(`${root}/docs/readme.md`, 'docs');
  return root;
}

const rels = (ms: { relPath: string }[]) => ms.map((m) => m.relPath);

test('resolveSources: wildcard table, Go filepath.Match per segment', async (t) => {
  const root = await context(t);
  const rows: [string, string[]][] = [
    ['*.txt', ['a.txt', 'arr[0].txt', 'b.txt']],
    ['?.txt', ['a.txt', 'b.txt']],
    ['[a-a]*', ['a.txt', 'ab.md', 'arr[0].txt']],
    ['[^a]*', ['b.txt', 'docs', 'src']],
    ['arr[[]0].txt', ['arr[0].txt']],
    ['src/*.ts', ['src/main.ts', 'src/util.ts']],
    ['*/*.md', ['docs/readme.md']],
    ['s*/l*', ['src/lib']],
    ['src/*', ['src/lib', 'src/main.ts', 'src/util.ts']],
    ['*', ['a.txt', 'ab.md', 'arr[0].txt', 'b.txt', 'docs', 'src']],
  ];
  for (const [pattern, want] of rows) {
    const matches = await resolveSources(root, [pattern]);
    assert.deepEqual(rels(matches), want, pattern);
    assert.ok(matches.every((m) => m.wildcard && m.pattern === pattern), pattern);
  }
  const [lib] = await resolveSources(root, ['src/l?b']);
  assert.equal(lib?.isDir, true);
  assert.equal(lib?.hostPath, `${root}/src/lib`);
});

test('resolveSources: plain paths are cleaned and rooted at the context, never above it', async (t) => {
  const root = await context(t);
  const rows: [string, string, boolean][] = [
    ['a.txt', 'a.txt', false],
    ['/a.txt', 'a.txt', false],
    ['./src/../a.txt', 'a.txt', false],
    ['../../a.txt', 'a.txt', false], // '..' stops at the root, as docker
    ['src/', 'src', true],
    ['.', '', true],
    ['/', '', true],
  ];
  for (const [pattern, rel, isDir] of rows) {
    const [m] = await resolveSources(root, [pattern]);
    assert.equal(m?.relPath, rel, pattern);
    assert.equal(m?.isDir, isDir, pattern);
    assert.equal(m?.wildcard, false, pattern);
    assert.equal(m?.hostPath, rel === '' ? root : `${root}/${rel}`, pattern);
  }
});

test("resolveSources: a missing source is not_found with docker's message", async (t) => {
  const root = await context(t);
  await assert.rejects(
    resolveSources(root, ['a.txt', 'missing.txt']),
    (err) => isCode(err, 'not_found') && err.message === 'failed to compute cache key: failed to calculate checksum of ref: "/missing.txt": not found',
  );
  await assert.rejects(resolveSources(root, ['../x/*.nope']), (err) => isCode(err, 'not_found') && err.message.includes('"/x/*.nope": not found'));
  await assert.rejects(resolveSources(root, ['src/[']), (err) => isCode(err, 'invalid_argument'));
});

test('resolveSources: symlinks resolve inside the root, even absolute or ../ ones', async (t) => {
  const root = await context(t);
  const outside = `${root}/../outside`;
  mkdirSync(outside);
  writeFileSync(`${outside}/secret`, 'host secret');
  symlinkSync('/a.txt', `${root}/abs-link`); // absolute: the context's /a.txt, not the host's
  symlinkSync('../../outside/secret', `${root}/src/up-link`);
  symlinkSync('/src', `${root}/dir-link`);
  for (const scoped of [false, true]) {
    const [abs] = await resolveSources(root, ['abs-link'], { scoped });
    assert.equal(abs?.hostPath, `${root}/a.txt`);
    assert.equal(abs?.relPath, 'abs-link'); // the name docker copies it under
    await assert.rejects(resolveSources(root, ['src/up-link'], { scoped }), (err) => isCode(err, 'not_found'));
    const through = await resolveSources(root, ['dir-link/*.ts'], { scoped });
    assert.deepEqual(through.map((m) => m.hostPath), [`${root}/src/main.ts`, `${root}/src/util.ts`]);
  }
});

test('resolveSources: excludes remove matches with dockerignore semantics', async (t) => {
  const root = await context(t);
  const ms = await resolveSources(root, ['*'], { excludes: ['*.txt', '!b.txt', 'docs'] });
  assert.deepEqual(rels(ms), ['ab.md', 'b.txt', 'src']);
  assert.deepEqual(ms[0]?.excludes, ['*.txt', '!b.txt', 'docs']);
});

test('checksumSources: stable under touch and owner changes, changed by content, mode, names and links', async (t) => {
  const root = await context(t);
  const sum = async (patterns = ['src', 'a.txt']) => checksumSources(await resolveSources(root, patterns));
  const base = await sum();
  assert.match(base, /^sha256:[0-9a-f]{64}$/);
  assert.equal(await sum(), base);

  utimesSync(`${root}/src/main.ts`, new Date(0), new Date(0));
  utimesSync(`${root}/src`, new Date(0), new Date(0));
  assert.equal(await sum(), base, 'mtime is not content');

  lchownSync(`${root}/src/util.ts`, 1234, 5678);
  assert.equal(await sum(), base, 'owners are not content');

  writeFileSync(`${root}/src/lib/deep.ts`, 'deeP');
  const changed = await sum();
  assert.notEqual(changed, base, 'one byte changed');

  chmodSync(`${root}/src/lib/deep.ts`, 0o600);
  const moded = await sum();
  assert.notEqual(moded, changed, 'mode changed');

  symlinkSync('main.ts', `${root}/src/l1`);
  const linked = await sum();
  assert.notEqual(linked, moded, 'new symlink');
  unlinkSync(`${root}/src/l1`);
  symlinkSync('util.ts', `${root}/src/l1`);
  assert.notEqual(await sum(), linked, 'symlink target changed');

  // the same content under another name is a different source set
  assert.notEqual(await sum(['a.txt']), await sum(['b.txt']));
  // excluded entries do not count
  const excluded = async (ex: string[]) => checksumSources(await resolveSources(root, ['src'], { excludes: ex }));
  const withoutLib = await excluded(['lib']);
  writeFileSync(`${root}/src/lib/deep.ts`, 'changed again');
  assert.equal(await excluded(['lib']), withoutLib);
});

test('fileDigest reads an unchanged file once, and re-reads a file rewritten in the same clock tick', async (t) => {
  const root = await context(t);
  // a file changed long ago (the racy margin is a second): cached after the first read
  const old = '/etc/passwd';
  const want = createHash('sha256').update(readFileSync(old)).digest('hex');
  assert.equal(await fileDigest(old), want);
  const before = contentCacheStats();
  assert.equal(await fileDigest(old), want);
  assert.equal(contentCacheStats().reads, before.reads, 'served from the cache');

  // a fresh file rewritten at once with the same size: never a stale answer
  const path = `${root}/a.txt`;
  assert.equal(await fileDigest(path), 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb'); // sha256("a")
  writeFileSync(path, 'b');
  assert.equal(await fileDigest(path), '3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d'); // sha256("b")
});
