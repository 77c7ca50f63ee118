// The real bin/berth process against a socket where nothing listens and
// against a small fake Engine API server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempRoot } from '../testing/index.js';
import { startFakeEngine, BUSYBOX_ID, BUSYBOX_DIGEST, BUSYBOX_INSPECT, DANGLING_ID, type FakeEngine } from './fakeengine.js';

const BIN = fileURLToPath(new URL('../../../bin/berth', import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function berth(args: string[], env: Record<string, string>, input?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

async function withEngine(t: Parameters<typeof tempRoot>[0]): Promise<{ engine: FakeEngine; env: Record<string, string>; dir: string }> {
  const dir = await tempRoot(t, 'berth-cli-');
  const engine = await startFakeEngine(dir);
  t.after(() => engine.close());
  return { engine, dir, env: { BERTH_HOST: `unix://${engine.socket}`, BERTH_CONFIG: join(dir, 'config') } };
}

test('no daemon: version prints the client part, then one line of error, exit 1', async (t) => {
  const dir = await tempRoot(t, 'berth-cli-');
  const host = `unix://${join(dir, 'nothing.sock')}`;
  const r = await berth(['version'], { BERTH_HOST: host });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^Client:\n Version: +\d+\.\d+\.\d+\n API version: +1\.50\n/);
  assert.equal(r.stderr, `Cannot connect to the berth daemon at ${host}. Is the berth daemon running?\n`);
  // -H takes precedence over BERTH_HOST and accepts a bare path.
  const r2 = await berth(['-H', join(dir, 'other.sock'), 'images'], { BERTH_HOST: host });
  assert.equal(r2.code, 1);
  assert.equal(r2.stderr, `Cannot connect to the berth daemon at unix://${join(dir, 'other.sock')}. Is the berth daemon running?\n`);
});

test('usage errors: unknown flag exits 125, missing argument exits 1, --help exits 0', async (t) => {
  const { env } = await withEngine(t);
  const r = await berth(['images', '--bogus'], env);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^unknown flag: --bogus\n\nUsage:  berth images \[OPTIONS\] \[REPOSITORY\[:TAG\]\]\n/);
  const r2 = await berth(['rmi'], env);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /'berth rmi' requires at least 1 argument/);
  const r3 = await berth(['image', 'ls', '--help'], env);
  assert.equal(r3.code, 0);
  assert.match(r3.stdout, /Usage:  berth image ls/);
});

test('images: template, quiet, json, default table, filters on the wire', async (t) => {
  const { engine, env } = await withEngine(t);
  const r = await berth(['images', '--format', '{{.Repository}}:{{.Tag}}'], env);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'busybox:latest\nlocalhost:5000/tools/busybox:1.36\n<none>:<none>\n');
  // Version negotiated with /_ping, then used as the path prefix.
  assert.deepEqual(
    engine.requests.map((q) => `${q.method} ${q.path}`),
    ['GET /_ping', 'GET /v1.50/images/json'],
  );

  const q = await berth(['images', '-q'], env);
  const short = (id: string) => id.slice('sha256:'.length, 'sha256:'.length + 12);
  assert.equal(q.stdout, `${short(BUSYBOX_ID)}\n${short(BUSYBOX_ID)}\n${short(DANGLING_ID)}\n`);

  const j = await berth(['images', '--format', 'json'], env);
  const rows = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  assert.equal(rows.length, 3);
  assert.deepEqual(Object.keys(rows[0] ?? {}), ['Containers', 'CreatedAt', 'CreatedSince', 'Digest', 'ID', 'Repository', 'SharedSize', 'Size', 'Tag', 'UniqueSize', 'VirtualSize']);
  assert.equal(rows[0]?.Size, '4.26MB');
  assert.equal(rows[0]?.CreatedSince, '2 hours ago');
  assert.equal(rows[2]?.Repository, '<none>');

  const table = await berth(['images', '--digests', '--no-trunc', '-a', '--filter', 'dangling=false', 'busybox'], env);
  const lines = table.stdout.split('\n');
  assert.match(lines[0] ?? '', /^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE$/);
  assert.ok(lines[1]?.startsWith(`busybox                        latest    ${BUSYBOX_DIGEST}   ${BUSYBOX_ID}   2 hours ago`), lines[1]);
  const last = engine.requests[engine.requests.length - 1];
  assert.equal(last?.query.get('all'), '1');
  assert.deepEqual(JSON.parse(last?.query.get('filters') ?? '{}'), { dangling: { false: true }, reference: { busybox: true } });
});

test('inspect prints found objects as a 4-space JSON array; missing ones fail with exit 1', async (t) => {
  const { env } = await withEngine(t);
  const r = await berth(['image', 'inspect', 'busybox'], env);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, JSON.stringify([BUSYBOX_INSPECT], null, 4) + '\n');
  assert.ok(r.stdout.startsWith('[\n    {\n        "Id": '));

  const both = await berth(['inspect', 'busybox', 'nope'], env);
  assert.equal(both.code, 1);
  assert.deepEqual(JSON.parse(both.stdout), [BUSYBOX_INSPECT]);
  assert.equal(both.stderr, 'Error: No such object: nope\n');

  const img = await berth(['image', 'inspect', 'nope'], env);
  assert.equal(img.code, 1);
  assert.equal(img.stdout, '[]\n');
  assert.equal(img.stderr, 'Error response from daemon: No such image: nope\n');

  const f = await berth(['inspect', '-f', '{{.Id}} {{json .Config.Cmd}} {{index .RepoTags 0}}', 'busybox'], env);
  assert.equal(f.stdout, `${BUSYBOX_ID} ["sh"] busybox:latest\n`);
});

test('rmi prints what was untagged and deleted; errors go to stderr with exit 1', async (t) => {
  const { engine, env } = await withEngine(t);
  const r = await berth(['rmi', '-f', 'busybox', 'nope'], env);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, `Untagged: busybox:latest\nUntagged: busybox@${BUSYBOX_DIGEST}\nDeleted: ${BUSYBOX_ID}\n`);
  assert.equal(r.stderr, 'Error response from daemon: No such image: nope\n');
  const del = engine.requests.find((q) => q.method === 'DELETE');
  assert.equal(del?.path, '/v1.50/images/busybox');
  assert.equal(del?.query.get('force'), '1');
});

test('login stores credentials that pull then sends; logout removes them', async (t) => {
  const { engine, env, dir } = await withEngine(t);
  const bad = await berth(['login', '-u', 'alice', '--password-stdin', 'localhost:5000'], env, 'wrong\n');
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'Error response from daemon: login attempt failed: unauthorized\n');

  const ok = await berth(['login', '-u', 'alice', '--password-stdin', 'localhost:5000'], env, 'secret\n');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'Login Succeeded\n');
  const auth = engine.requests.find((q) => q.path === '/v1.50/auth' && q.body.includes('secret'));
  assert.deepEqual(JSON.parse(auth?.body.toString() ?? '{}'), { username: 'alice', password: 'secret', serveraddress: 'localhost:5000' });
  const config = JSON.parse(await readFile(join(dir, 'config', 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
  assert.equal(config.auths['localhost:5000']?.auth, Buffer.from('alice:secret').toString('base64'));

  const pull = await berth(['pull', 'localhost:5000/tools/busybox'], env);
  assert.equal(pull.code, 0, pull.stderr);
  assert.ok(pull.stdout.startsWith('Using default tag: latest\nlatest: Pulling from library/busybox\naaaaaaaaaaaa: Pulling fs layer\n'), pull.stdout);
  assert.ok(pull.stdout.endsWith(`Digest: ${BUSYBOX_DIGEST}\nStatus: Downloaded newer image for busybox:latest\nlocalhost:5000/tools/busybox:latest\n`), pull.stdout);
  assert.doesNotMatch(pull.stdout, /Downloading|\x1b/);
  const create = engine.requests.find((q) => q.path === '/v1.50/images/create');
  assert.equal(create?.query.get('fromImage'), 'localhost:5000/tools/busybox');
  assert.equal(create?.query.get('tag'), 'latest');
  const sent = JSON.parse(Buffer.from(String(create?.headers['x-registry-auth']), 'base64url').toString()) as Record<string, string>;
  assert.deepEqual(sent, { username: 'alice', password: 'secret', serveraddress: 'localhost:5000' });

  const out = await berth(['logout', 'localhost:5000'], env);
  assert.equal(out.stdout, 'Removing login credentials for localhost:5000\n');
  const after = JSON.parse(await readFile(join(dir, 'config', 'config.json'), 'utf8')) as { auths: Record<string, unknown> };
  assert.deepEqual(after.auths, {});
});

test('pull: -q prints only the reference; a stream error exits 1 with its message', async (t) => {
  const { env } = await withEngine(t);
  const q = await berth(['pull', '-q', 'busybox'], env);
  assert.equal(q.code, 0);
  assert.equal(q.stdout, 'docker.io/library/busybox:latest\n');
  const bad = await berth(['pull', 'localhost:5000/broken:1'], env);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'manifest unknown\n');
});

test('prune asks first (declining does nothing), -f prunes dangling images and reports space', async (t) => {
  const { engine, env } = await withEngine(t);
  const declined = await berth(['image', 'prune'], env, 'n\n');
  assert.equal(declined.code, 0);
  assert.equal(declined.stdout, 'WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ');
  assert.equal(engine.requests.filter((q) => q.path.endsWith('/images/prune')).length, 0);

  const r = await berth(['image', 'prune', '-f'], env);
  assert.equal(r.stdout, `Deleted Images:\nuntagged: busybox:latest\ndeleted: ${BUSYBOX_ID}\n\nTotal reclaimed space: 4.262MB\n`);
  const q = engine.requests.find((x) => x.path.endsWith('/images/prune'));
  assert.deepEqual(JSON.parse(q?.query.get('filters') ?? '{}'), { dangling: { true: true } });
});

test('save writes the archive to -o or stdout; load and import send the tar as the body', async (t) => {
  const { engine, env, dir } = await withEngine(t);
  const out = join(dir, 'images.tar');
  const s = await berth(['save', '-o', out, 'busybox', 'alpine'], env);
  assert.equal(s.code, 0, s.stderr);
  assert.equal(await readFile(out, 'utf8'), 'TAR:busybox,alpine');
  const s2 = await berth(['save', 'busybox'], env);
  assert.equal(s2.stdout, 'TAR:busybox');

  const l = await berth(['load', '-i', out], env);
  assert.equal(l.code, 0, l.stderr);
  assert.equal(l.stdout, 'Loaded image: busybox:latest (18 bytes)\n');
  const load = engine.requests.find((x) => x.path.endsWith('/images/load'));
  assert.equal(load?.headers['content-type'], 'application/x-tar');

  const i = await berth(['import', '-c', 'CMD ["sh"]', '-m', 'hello', '-', 'example/app:v1'], env, 'ROOTFS-TAR');
  assert.equal(i.code, 0, i.stderr);
  assert.equal(i.stdout, `${DANGLING_ID}\n`);
  const imp = engine.requests.find((x) => x.query.get('fromSrc') === '-');
  assert.equal(imp?.body.toString(), 'ROOTFS-TAR');
  assert.equal(imp?.query.get('repo'), 'docker.io/example/app');
  assert.equal(imp?.query.get('tag'), 'v1');
  assert.equal(imp?.query.get('message'), 'hello');
  assert.deepEqual(imp?.query.getAll('changes'), ['CMD ["sh"]']);

  const url = await berth(['import', 'https://example.invalid/x.tar'], env);
  assert.equal(url.code, 1);
  assert.match(url.stderr, /importing from a URL is not supported/);
});
