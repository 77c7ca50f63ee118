import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lchownSync, linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import { TarParser, type TarHeader } from '../../storage/index.js';
import { tempRoot } from '../../testing/index.js';
import { createContextTar, openContext } from './index.js';

function headersOf(tar: Buffer): TarHeader[] {
  const out: TarHeader[] = [];
  const parser = new TarParser((h) => {
    out.push(h);
    return null;
  });
  parser.push(tar);
  parser.finish();
  return out;
}

async function project(t: Parameters<typeof tempRoot>[0]): Promise<string> {
  const dir = `${await tempRoot(t)}/proj`;
  for (const d of ['src/gen', 'node_modules/pkg', 'docs/api', 'build']) mkdirSync(`${dir}/${d}`, { recursive: true });
  const files: Record<string, string> = {
    Dockerfile: 'FROM scratch\n',
    'src/main.ts': 'main',
    'src/gen/out.js': 'generated',
    'src/app.log': 'log',
    'debug.log': 'log',
    'node_modules/pkg/index.js': 'dep',
    'docs/README.md': 'readme',
    'docs/api/ref.md': 'ref',
    'docs/notes.txt': 'notes',
    'build/Dockerfile.ci': 'FROM scratch\n',
    'build/out.bin': 'bin',
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(`${dir}/${name}`, content);
  symlinkSync('main.ts', `${dir}/src/alias.ts`);
  linkSync(`${dir}/src/main.ts`, `${dir}/src/main-hard.ts`);
  lchownSync(`${dir}/src/main.ts`, 1234, 1234);
  return dir;
}

test('createContextTar: relative names, directories first, byte order, uid/gid 0, links kept', async (t) => {
  const dir = await project(t);
  const tar = await buffer(createContextTar(dir));
  const hs = headersOf(tar);
  const names = hs.map((h) => h.name);
  assert.deepEqual(names.slice(0, 3), ['Dockerfile', 'build/', 'build/Dockerfile.ci']);
  for (const h of hs) {
    assert.ok(!h.name.startsWith('/') && !h.name.startsWith('./'), h.name);
    assert.equal(h.uid, 0, h.name);
    assert.equal(h.gid, 0, h.name);
    const parent = h.name.replace(/\/$/, '').split('/').slice(0, -1).join('/');
    if (parent) assert.ok(names.indexOf(`${parent}/`) < names.indexOf(h.name), `${parent}/ before ${h.name}`);
  }
  const sorted = [...names].sort((a, b) => Buffer.compare(Buffer.from(a.replace(/\/$/, '')), Buffer.from(b.replace(/\/$/, ''))));
  assert.deepEqual(names, sorted);
  assert.equal(hs.find((h) => h.name === 'src/alias.ts')?.type, 'symlink');
  const hard = hs.filter((h) => h.name === 'src/main-hard.ts' || h.name === 'src/main.ts');
  assert.deepEqual(hard.map((h) => h.type), ['file', 'link']);
  assert.equal(hard[1]?.linkname, 'src/main-hard.ts');

  // GNU tar reads it as the same list (an independent reader)
  const listed = spawnSync('tar', ['-t'], { input: tar });
  assert.equal(listed.status, 0, listed.stderr.toString());
  assert.deepEqual(listed.stdout.toString().trim().split('\n'), names);
});

test('createContextTar applies .dockerignore (**, !, parents) but always sends the Dockerfile and .dockerignore', async (t) => {
  const dir = await project(t);
  writeFileSync(
    `${dir}/.dockerignore`,
    ['# build junk', '**/*.log', 'node_modules', 'docs', '!docs/README.md', 'src/gen/', 'Dockerfile', '.dockerignore', 'build', ''].join('\n'),
  );
  const names = headersOf(await buffer(createContextTar(dir, { dockerfile: 'build/Dockerfile.ci' }))).map((h) => h.name);
  assert.deepEqual(names, ['.dockerignore', 'build/Dockerfile.ci', 'docs/README.md', 'src/', 'src/alias.ts', 'src/main-hard.ts', 'src/main.ts']);
  // the default Dockerfile is kept when it is the one used
  const defaults = headersOf(await buffer(createContextTar(dir))).map((h) => h.name);
  assert.ok(defaults.includes('Dockerfile'));
  assert.ok(!defaults.includes('build/Dockerfile.ci'));
});

test('createContextTar round-trips through openContext', async (t) => {
  const dir = await project(t);
  const tmp = await tempRoot(t);
  const ctx = await openContext(createContextTar(dir), { tmpDir: tmp });
  t.after(() => ctx.close());
  assert.equal(readFileSync(`${ctx.dir}/docs/api/ref.md`, 'utf8'), 'ref');
  assert.equal(readFileSync(`${ctx.dir}/src/alias.ts`, 'utf8'), 'main');
});
