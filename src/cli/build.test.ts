// berth build and berth builder prune: the real bin/berth against the fake
// engine (the request it sends, the context tar it streams, how it renders
// the scripted answer, exit codes), plus the context preparation and the tty
// renderer driven directly with a clock the test controls.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PassThrough, Readable } from 'node:stream';
import tar from 'tar-stream';
import { tempRoot } from '../testing/index.js';
import { startFakeEngine, BUILT_ID, type FakeEngine, type RecordedRequest } from './fakeengine.js';
import { readAll } from './client.js';
import { isArchiveHeader, prepareContext, type CreateContextTar } from './buildcontext.js';
import { PlainProgress, TtyProgress } from './buildprogress.js';
import type { BuildMessage } from '../build/types.js';

const BIN = fileURLToPath(new URL('../../../bin/berth', import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function withEngine(t: TestContext) {
  const dir = await tempRoot(t, 'berth-cli-build-');
  const engine = await startFakeEngine(dir);
  t.after(() => engine.close());
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', BERTH_HOST: `unix://${engine.socket}`, BERTH_CONFIG: join(dir, 'config'), FROM_CLI_ENV: 'inherited' };
  const children = new Set<ReturnType<typeof spawn>>();
  t.after(async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('close', r));
      }
    }
  });
  /** Runs bin/berth in `cwd` (default the test dir) with `input` on stdin. */
  const start = (args: string[], input: string | Buffer = '', cwd = dir) => {
    const child = spawn(BIN, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<Result>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    child.stdin.on('error', () => undefined); // the CLI may exit before reading it all
    child.stdin.end(input);
    return { child, done };
  };
  const berth = (args: string[], input: string | Buffer = '', cwd = dir) => start(args, input, cwd).done;
  return { dir, engine, env, berth, start };
}

const builds = (engine: FakeEngine): RecordedRequest[] => engine.requests.filter((r) => r.method === 'POST' && /\/build$/.test(r.path));

/** Entries of a (maybe gzipped) tar, as tar-stream reads them: name -> content. */
async function tarEntries(bytes: Buffer): Promise<Map<string, string>> {
  const plain = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  const entries = new Map<string, string>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    readAll(stream as unknown as Readable).then((data) => {
      entries.set(header.name.replace(/^\.\//, '').replace(/\/$/, ''), data.toString());
      next();
    }, next);
  });
  const finished = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(plain);
  await finished;
  return entries;
}

async function makeTar(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, content);
  pack.finalize();
  return readAll(pack as unknown as Readable);
}

const DOCKERFILE = 'FROM busybox\nRUN echo hi\n';

// ---------------------------------------------------------------- request

test('flags become the query exactly; credentials go in X-Registry-Config; a Dockerfile on stdin is a one-file tar', async (t) => {
  const { engine, berth, dir } = await withEngine(t);
  await mkdir(join(dir, 'config'));
  await writeFile(
    join(dir, 'config', 'config.json'),
    JSON.stringify({ auths: { 'localhost:5000': { auth: Buffer.from('joe:pw').toString('base64') }, 'https://index.docker.io/v1/': { auth: Buffer.from('hub:tok').toString('base64') } } }),
  );
  const r = await berth(
    [
      'build', '-t', 'app', '--tag', 'localhost:5000/team/app:1.0', '--build-arg', 'A=1', '--build-arg', 'FROM_CLI_ENV', '--build-arg', 'NOT_SET_ANYWHERE',
      '--label', 'tier=web', '--label', 'bare', '--target', 'final', '--no-cache', '--pull', '--platform', 'Linux/AMD64', '--force-rm', '--rm=false',
      '--progress', 'plain', '-',
    ],
    DOCKERFILE,
  );
  assert.equal(r.code, 0, r.stderr);
  const [req] = builds(engine);
  assert.ok(req);
  assert.deepEqual([...req.query.keys()].sort(), ['berthprogress', 'buildargs', 'dockerfile', 'forcerm', 'labels', 'nocache', 'platform', 'pull', 'rm', 't', 't', 'target'].sort());
  assert.deepEqual(req.query.getAll('t'), ['app', 'localhost:5000/team/app:1.0']);
  assert.equal(req.query.get('buildargs'), '{"A":"1","FROM_CLI_ENV":"inherited"}');
  assert.equal(req.query.get('labels'), '{"tier":"web","bare":""}');
  assert.equal(req.query.get('dockerfile'), 'Dockerfile');
  assert.equal(req.query.get('target'), 'final');
  assert.equal(req.query.get('nocache'), '1');
  assert.equal(req.query.get('pull'), '1');
  assert.equal(req.query.get('rm'), '0');
  assert.equal(req.query.get('forcerm'), '1');
  assert.equal(req.query.get('platform'), 'linux/amd64');
  assert.equal(req.query.get('berthprogress'), '1');
  assert.equal(req.headers['content-type'], 'application/x-tar');
  const registryConfig = JSON.parse(Buffer.from(String(req.headers['x-registry-config']), 'base64url').toString()) as unknown;
  assert.deepEqual(registryConfig, {
    'localhost:5000': { username: 'joe', password: 'pw', serveraddress: 'localhost:5000' },
    'https://index.docker.io/v1/': { username: 'hub', password: 'tok', serveraddress: 'https://index.docker.io/v1/' },
  });
  assert.deepEqual(Object.fromEntries(await tarEntries(req.body)), { Dockerfile: DOCKERFILE });

  // The defaults: rm=1, no optional keys, an empty X-Registry-Config is still sent; -q drops berthprogress and sets q.
  await writeFile(join(dir, 'config', 'config.json'), '{}');
  const q = await berth(['build', '-q', '-'], DOCKERFILE);
  assert.equal(q.code, 0, q.stderr);
  const quiet = builds(engine)[1] as RecordedRequest;
  assert.deepEqual(Object.fromEntries(quiet.query), { dockerfile: 'Dockerfile', buildargs: '{}', labels: '{}', q: '1', rm: '1' });
  assert.equal(Buffer.from(String(quiet.headers['x-registry-config']), 'base64url').toString(), '{}');
  const raw = await berth(['build', '--progress=rawjson', '-'], DOCKERFILE);
  assert.equal(raw.code, 0, raw.stderr);
  assert.equal((builds(engine)[2] as RecordedRequest).query.get('berthprogress'), null);
});

test('stdin holding a tar.gz is sent byte for byte; -f names the Dockerfile inside it', async (t) => {
  const { engine, berth } = await withEngine(t);
  const archive = gzipSync(await makeTar({ 'build/Containerfile': DOCKERFILE, 'app.txt': 'payload' }));
  assert.ok(isArchiveHeader(archive));
  const r = await berth(['build', '-f', 'build/Containerfile', '--progress', 'plain', '-'], archive);
  assert.equal(r.code, 0, r.stderr);
  const [req] = builds(engine);
  assert.ok(req);
  assert.ok(req.body.equals(archive), 'the archive arrives unchanged');
  assert.equal(req.query.get('dockerfile'), 'build/Containerfile');

  // An uncompressed tar is recognised by its ustar header.
  const plainTar = await makeTar({ Dockerfile: DOCKERFILE });
  const r2 = await berth(['build', '--progress', 'plain', '-'], plainTar);
  assert.equal(r2.code, 0, r2.stderr);
  assert.ok((builds(engine)[1] as RecordedRequest).body.equals(plainTar));
});

test('a tar file as PATH is sent as it is', async (t) => {
  const { engine, berth, dir } = await withEngine(t);
  const archive = gzipSync(await makeTar({ Dockerfile: DOCKERFILE }));
  await writeFile(join(dir, 'ctx.tgz'), archive);
  const r = await berth(['build', '-q', join(dir, 'ctx.tgz')]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok((builds(engine)[0] as RecordedRequest).body.equals(archive));
});

test('a directory context arrives as a tar with .dockerignore applied (src/build/context)', async (t) => {
  const { engine, berth, dir } = await withEngine(t);
  const ctx = join(dir, 'ctx');
  await mkdir(join(ctx, 'src'), { recursive: true });
  await mkdir(join(ctx, 'node_modules'));
  await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
  await writeFile(join(ctx, 'src', 'main.ts'), 'main');
  await writeFile(join(ctx, 'secret.env'), 'x');
  await writeFile(join(ctx, 'node_modules', 'dep.js'), 'dep');
  await writeFile(join(ctx, '.dockerignore'), 'node_modules\n*.env\nDockerfile\n');
  const r = await berth(['build', '--progress', 'plain', 'ctx']);
  assert.equal(r.code, 0, r.stderr);
  const [req] = builds(engine);
  assert.ok(req);
  assert.equal(req.query.get('dockerfile'), 'Dockerfile');
  const entries = await tarEntries(req.body);
  assert.equal(entries.get('src/main.ts'), 'main');
  assert.equal(entries.get('Dockerfile'), DOCKERFILE, 'the Dockerfile is sent even when .dockerignore names it');
  assert.ok(!entries.has('secret.env'));
  assert.ok(![...entries.keys()].some((k) => k.startsWith('node_modules')));

  // -f - : the Dockerfile from stdin is added under a random name and ignored for COPY.
  const r2 = await berth(['build', '-f', '-', '--progress', 'plain', 'ctx'], 'FROM scratch\n');
  assert.equal(r2.code, 0, r2.stderr);
  const req2 = builds(engine)[1] as RecordedRequest;
  const name = req2.query.get('dockerfile') ?? '';
  assert.match(name, /^\.dockerfile\.[0-9a-f]{20}$/);
  const entries2 = await tarEntries(req2.body);
  assert.equal(entries2.get(name), 'FROM scratch\n');
  assert.equal(entries2.get('src/main.ts'), 'main');
  assert.match(entries2.get('.dockerignore') ?? '', new RegExp(`\\n${name.replaceAll('.', '\\.')}\\n$`));
});

test('the docker CLI as a peer: the same flags and context give the same query values and tar entries', async (t) => {
  const { engine, berth, dir, env } = await withEngine(t);
  const ctx = join(dir, 'ctx');
  await mkdir(join(ctx, 'src', 'deep'), { recursive: true });
  await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
  await writeFile(join(ctx, 'src', 'deep', 'a.ts'), 'a');
  await writeFile(join(ctx, 'skip.log'), 'log');
  await writeFile(join(ctx, '.dockerignore'), '*.log\n');
  const flags = ['-t', 'app', '-t', 'localhost:5000/app:2', '--build-arg', 'K=V', '--build-arg', 'FROM_CLI_ENV', '--label', 'l=1', '--label', 'bare', '-f', join(ctx, 'Dockerfile')];
  const peer = await new Promise<Result>((resolve, reject) => {
    const child = spawn('/usr/local/bin/docker', ['build', ...flags, ctx], {
      env: { ...env, DOCKER_BUILDKIT: '0', DOCKER_HOST: `unix://${engine.socket}`, DOCKER_CONFIG: join(dir, 'docker-config') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  assert.equal(peer.code, 0, peer.stderr);
  const r = await berth(['build', ...flags, '--progress', 'plain', ctx]);
  assert.equal(r.code, 0, r.stderr);
  const [theirs, ours] = builds(engine) as [RecordedRequest, RecordedRequest];
  assert.deepEqual(ours.query.getAll('t'), theirs.query.getAll('t'));
  assert.equal(ours.query.get('dockerfile'), theirs.query.get('dockerfile'));
  for (const key of ['buildargs', 'labels']) {
    assert.deepEqual(JSON.parse(ours.query.get(key) ?? ''), JSON.parse(theirs.query.get(key) ?? ''), key);
  }
  assert.equal(ours.headers['content-type'], theirs.headers['content-type']);
  assert.equal(ours.headers['x-registry-config'], theirs.headers['x-registry-config']);
  const [theirEntries, ourEntries] = [await tarEntries(theirs.body), await tarEntries(ours.body)];
  assert.deepEqual([...ourEntries].sort(), [...theirEntries].sort());
  assert.ok(!ourEntries.has('skip.log'));
});

// ---------------------------------------------------------------- context preparation (no daemon)

test('prepareContext: -f outside the context, -f -, a lower-case dockerfile, and docker\'s errors', async (t) => {
  const dir = await tempRoot(t, 'berth-cli-buildctx-');
  const ctx = join(dir, 'ctx');
  await mkdir(join(ctx, 'sub'), { recursive: true });
  await writeFile(join(ctx, 'a.txt'), 'a');
  await writeFile(join(ctx, '.dockerignore'), '*.log');
  await writeFile(join(dir, 'Outside.Dockerfile'), 'FROM outside\n');
  await writeFile(join(ctx, 'sub', 'Dockerfile'), 'FROM sub\n');
  const seen: { dir: string; opts: { dockerfile?: string } }[] = [];
  // A stand-in for src/build/context's tar maker: records its call, tars two files.
  const createContextTar: CreateContextTar = (d, opts) => {
    seen.push({ dir: d, opts });
    const out = new PassThrough();
    void makeTar({ 'a.txt': 'a', '.dockerignore': '*.log' }).then((b) => out.end(b));
    return out;
  };
  const stdin = () => Readable.from([Buffer.from('FROM stdin\n')]);

  // -f relative to the current directory, inside the context: its path in the context.
  const inside = await prepareContext({ path: 'ctx', file: 'ctx/sub/Dockerfile', stdin: stdin(), cwd: dir, createContextTar });
  assert.equal(inside.dockerfile, 'sub/Dockerfile');
  assert.deepEqual(seen.at(-1), { dir: ctx, opts: { dockerfile: 'sub/Dockerfile' } });
  await readAll(inside.body);

  // Outside the context: added under a random name, appended to the existing .dockerignore.
  const outside = await prepareContext({ path: ctx, file: join(dir, 'Outside.Dockerfile'), stdin: stdin(), cwd: '/', createContextTar });
  assert.match(outside.dockerfile, /^\.dockerfile\.[0-9a-f]{20}$/);
  const entries = await tarEntries(await readAll(outside.body));
  assert.deepEqual(Object.fromEntries(entries), { 'a.txt': 'a', [outside.dockerfile]: 'FROM outside\n', '.dockerignore': `*.log\n${outside.dockerfile}\n` });
  assert.deepEqual(seen.at(-1)?.opts, {});

  // -f - needs no Dockerfile in the context.
  const fromStdin = await prepareContext({ path: ctx, file: '-', stdin: stdin(), cwd: '/', createContextTar });
  const entries2 = await tarEntries(await readAll(fromStdin.body));
  assert.equal(entries2.get(fromStdin.dockerfile), 'FROM stdin\n');

  // docker looks for "dockerfile" when "Dockerfile" is missing.
  await writeFile(join(ctx, 'dockerfile'), 'FROM lower\n');
  const lower = await prepareContext({ path: ctx, file: '', stdin: stdin(), cwd: '/', createContextTar });
  assert.equal(lower.dockerfile, 'dockerfile');
  await readAll(lower.body);

  // A symlinked context resolves, as docker's EvalSymlinks.
  await symlink(ctx, join(dir, 'link'));
  const linked = await prepareContext({ path: join(dir, 'link'), file: '', stdin: stdin(), cwd: '/', createContextTar });
  assert.equal(seen.at(-1)?.dir, ctx);
  await readAll(linked.body);

  await assert.rejects(prepareContext({ path: join(dir, 'link'), file: 'sub/none/Dockerfile', stdin: stdin(), cwd: ctx, createContextTar }), {
    message: `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${join(ctx, 'sub', 'none')}: no such file or directory`,
  });
  await assert.rejects(prepareContext({ path: '-', file: '-', stdin: stdin(), cwd: dir, createContextTar }), {
    message: "invalid argument: can't use stdin for both build context and dockerfile",
  });
  await writeFile(join(dir, 'notes.txt'), 'not an archive');
  await assert.rejects(prepareContext({ path: join(dir, 'notes.txt'), file: '', stdin: stdin(), cwd: dir, createContextTar }), {
    message: `unable to prepare context: path "${join(dir, 'notes.txt')}" not found`,
  });
});

test('isArchiveHeader: each compression magic and the ustar header; text is not an archive', () => {
  for (const magic of [[0x1f, 0x8b, 8], [0x42, 0x5a, 0x68, 0x39], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], [0x28, 0xb5, 0x2f, 0xfd]]) {
    assert.ok(isArchiveHeader(Buffer.from(magic)), magic.join(','));
  }
  const header = Buffer.alloc(512);
  header.write('ustar', 257, 'latin1');
  assert.ok(isArchiveHeader(header));
  assert.ok(!isArchiveHeader(Buffer.from(DOCKERFILE)));
  assert.ok(!isArchiveHeader(Buffer.alloc(0)));
});

// ---------------------------------------------------------------- errors

test('errors as docker: missing PATH and missing Dockerfile exit 1, a bad tag is a flag error (125)', async (t) => {
  const { berth, dir, engine } = await withEngine(t);
  const missing = await berth(['build', 'nope']);
  assert.deepEqual(missing, { code: 1, stdout: '', stderr: 'unable to prepare context: path "nope" not found\n' });
  await mkdir(join(dir, 'empty'));
  const noDockerfile = await berth(['build', 'empty']);
  assert.deepEqual(noDockerfile, { code: 1, stdout: '', stderr: `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${join(dir, 'empty', 'Dockerfile')}: no such file or directory\n` });
  const upper = await berth(['build', '-t', 'UPPER', '-'], DOCKERFILE);
  assert.equal(upper.code, 125);
  assert.match(upper.stderr, /^invalid argument "UPPER" for "-t, --tag" flag: invalid reference format: repository name \(library\/UPPER\) must be lowercase\n\nUsage: {2}berth build /);
  const noArg = await berth(['build']);
  assert.equal(noArg.code, 1);
  assert.match(noArg.stderr, /'berth build' requires exactly 1 argument/);
  const mode = await berth(['build', '--progress', 'fancy', '-'], DOCKERFILE);
  assert.equal(mode.code, 125);
  assert.equal(builds(engine).length, 0, 'nothing reached the daemon');

  // An error status from the daemon (a Dockerfile it cannot parse).
  engine.buildScript = { messages: [], status: 400, message: 'dockerfile parse error on line 1: unknown instruction: FORM' };
  const parse = await berth(['build', '-'], 'FORM busybox\n');
  assert.deepEqual(parse, { code: 1, stdout: '', stderr: 'Error response from daemon: dockerfile parse error on line 1: unknown instruction: FORM\n' });
});

// ---------------------------------------------------------------- rendering

const step = (vertex: number, name: string, state: 'started' | 'cached' | 'done' | 'error', extra: { elapsedMs?: number; error?: string } = {}): BuildMessage => ({
  id: 'berth.step',
  aux: { vertex, name, state, ...extra },
});
const log = (vertex: number, data: string, stream: 'stdout' | 'stderr' = 'stdout'): BuildMessage => ({ id: 'berth.log', aux: { vertex, stream, data } });

const FAILING: BuildMessage[] = [
  { stream: 'pulling busybox\n' },
  { status: 'Downloading', id: 'aaaa', progressDetail: { current: 1, total: 2 } },
  { status: 'Downloading', id: 'aaaa', progressDetail: { current: 2, total: 2 } },
  { status: 'Pull complete', id: 'aaaa' },
  step(1, '[1/3] FROM docker.io/library/busybox:latest', 'started'),
  step(1, '[1/3] FROM docker.io/library/busybox:latest', 'done', { elapsedMs: 300 }),
  step(2, '[2/3] COPY . /app', 'cached', { elapsedMs: 0 }),
  step(3, '[3/3] RUN make', 'started'),
  log(3, 'cc -o app main.c\nmain.c:1: err'),
  log(3, 'or\n'),
  log(3, 'warning: x\n', 'stderr'),
  step(3, '[3/3] RUN make', 'error', { elapsedMs: 1250, error: 'process "/bin/sh -c make" did not complete successfully: exit code: 2' }),
  { errorDetail: { code: 2, message: 'process "/bin/sh -c make" did not complete successfully: exit code: 2' }, error: 'process "/bin/sh -c make" did not complete successfully: exit code: 2' },
];

test('plain: steps, their output with elapsed seconds, CACHED, DONE, ERROR, exit 1 on a failed build', async (t) => {
  const { engine, berth } = await withEngine(t);
  engine.buildScript = { messages: FAILING };
  const r = await berth(['build', '--progress', 'plain', '-'], DOCKERFILE);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  const normalised = r.stderr.replace(/^(#\d+) \d+\.\d{3} /gm, '$1 T ');
  assert.equal(
    normalised,
    [
      'pulling busybox',
      'aaaa: Downloading',
      'aaaa: Pull complete',
      '',
      '#1 [1/3] FROM docker.io/library/busybox:latest',
      '#1 DONE 0.3s',
      '',
      '#2 [2/3] COPY . /app',
      '#2 CACHED',
      '',
      '#3 [3/3] RUN make',
      '#3 T cc -o app main.c',
      '#3 T main.c:1: error',
      '#3 T warning: x',
      '#3 ERROR: process "/bin/sh -c make" did not complete successfully: exit code: 2',
      'ERROR: process "/bin/sh -c make" did not complete successfully: exit code: 2',
      '',
    ].join('\n'),
  );
});

test('plain: the export lines name every tag; --iidfile gets the ID; -q prints only the ID', async (t) => {
  const { berth, dir } = await withEngine(t);
  const iid = join(dir, 'iid');
  await writeFile(iid, 'stale');
  const r = await berth(['build', '-t', 'app', '-t', 'localhost:5000/app:2', '--iidfile', iid, '--progress', 'plain', '-'], DOCKERFILE);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(
    r.stderr.replace(/^(#\d+) \d+\.\d{3} /gm, '$1 T '),
    new RegExp(
      `#2 \\[2/2\\] RUN echo hi\\n#2 T hi\\n#2 DONE 1\\.2s\\n\\n#3 exporting to image\\n#3 writing image ${BUILT_ID} done\\n` +
        `#3 naming to docker\\.io/library/app:latest done\\n#3 naming to localhost:5000/app:2 done\\n#3 DONE 0\\.0s\\n$`,
    ),
  );
  assert.equal(await readFile(iid, 'utf8'), BUILT_ID);

  const q = await berth(['build', '-q', '-'], DOCKERFILE);
  assert.deepEqual(q, { code: 0, stdout: `${BUILT_ID}\n`, stderr: '' });
  const quietProgress = await berth(['build', '--progress', 'quiet', '-'], DOCKERFILE);
  assert.deepEqual(quietProgress, { code: 0, stdout: `${BUILT_ID}\n`, stderr: '' });
});

test('-q: a failed build shows what the daemon said and the error on stderr', async (t) => {
  const { engine, berth, dir } = await withEngine(t);
  engine.buildScript = { messages: [{ stream: 'Step 1/1 : RUN false\n' }, { errorDetail: { message: 'exit code: 1' }, error: 'exit code: 1' }] };
  const iid = join(dir, 'iid');
  await writeFile(iid, 'stale');
  const r = await berth(['build', '-q', '--iidfile', iid, '-'], DOCKERFILE);
  assert.deepEqual(r, { code: 1, stdout: '', stderr: 'Step 1/1 : RUN false\nERROR: exit code: 1\n' });
  await assert.rejects(readFile(iid), { code: 'ENOENT' }, 'a stale ID file is removed');
});

test('rawjson: the lines as received, on stderr', async (t) => {
  const { engine, berth } = await withEngine(t);
  const r = await berth(['build', '--progress', 'rawjson', '-'], DOCKERFILE);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.deepEqual(
    r.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown),
    engine.buildScript.messages,
  );
});

const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');

test('tty: frames redrawn in place, the final frame stays, a failed step\'s output follows it', () => {
  let now = 0;
  let out = '';
  const tty = new TtyProgress({ write: (s) => (out += s), now: () => now, width: 60, tags: ['app'] }, { tick: false });
  tty.handle(step(1, '[1/3] FROM docker.io/library/busybox:latest', 'started'));
  // The first frame is drawn at once.
  assert.equal(stripAnsi(out), `[+] Building 0.0s (0/1)\n => [1/3] FROM docker.io/library/busybox:latest        0.0s\n`);
  now = 300;
  tty.handle(step(1, '[1/3] FROM docker.io/library/busybox:latest', 'done', { elapsedMs: 300 }));
  tty.handle(step(2, '[2/3] COPY . /app', 'cached'));
  now = 400;
  tty.handle(step(3, '[3/3] RUN make', 'started'));
  for (let i = 1; i <= 8; i++) tty.handle(log(3, `line ${i}\n`));
  now = 1650;
  // A running step shows its last 6 lines below it.
  assert.deepEqual(tty.frame().slice(3), [
    ' => [3/3] RUN make                                     1.3s',
    ' => => # line 3',
    ' => => # line 4',
    ' => => # line 5',
    ' => => # line 6',
    ' => => # line 7',
    ' => => # line 8',
  ]);
  tty.handle(step(3, '[3/3] RUN make', 'error', { elapsedMs: 1250, error: 'exit code: 2' }));
  out = '';
  tty.finish({ error: 'process "/bin/sh -c make" did not complete successfully: exit code: 2' });
  // The redraw moves up over the previous frame and erases it.
  assert.match(out, /^\x1b\[\d+A\r\x1b\[J/);
  assert.equal(
    stripAnsi(out.replace(/^\x1b\[\d+A\r\x1b\[J/, '')),
    [
      '[+] Building 1.6s (2/3) FINISHED',
      ' => [1/3] FROM docker.io/library/busybox:latest        0.3s',
      ' => CACHED [2/3] COPY . /app                           0.0s',
      ' => ERROR [3/3] RUN make                               1.3s',
      '------',
      ' > [3/3] RUN make:',
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => `0.000 line ${i}`),
      '------',
      'ERROR: process "/bin/sh -c make" did not complete successfully: exit code: 2',
      '',
    ].join('\n'),
  );
});

test('tty: a successful build ends with the export lines; text that is not a step goes above the frame', () => {
  let now = 0;
  let out = '';
  const tty = new TtyProgress({ write: (s) => (out += s), now: () => now, width: 50, tags: ['app:1'] }, { tick: false });
  tty.handle(step(1, '[1/1] FROM busybox', 'started'));
  tty.handle({ stream: 'pulling busybox\n' });
  const afterStream = out.slice(out.lastIndexOf('\x1b[J') + 3);
  assert.equal(stripAnsi(afterStream), 'pulling busybox\n[+] Building 0.0s (0/1)\n => [1/1] FROM busybox                       0.0s\n');
  now = 2000;
  tty.handle(step(1, '[1/1] FROM busybox', 'done', { elapsedMs: 2000 }));
  tty.finish({ imageId: BUILT_ID });
  const final = stripAnsi(out.slice(out.lastIndexOf('\x1b[J') + 3));
  assert.equal(
    final,
    [
      '[+] Building 2.0s (2/2) FINISHED',
      ' => [1/1] FROM busybox                       2.0s',
      ' => exporting to image                       0.0s',
      ` => => writing image ${BUILT_ID.slice(0, 23)} 0.0s`,
      ' => => naming to docker.io/library/app:1     0.0s',
      '',
    ].join('\n'),
  );
});

test('tty through bin/berth: the final frame is on stderr, nothing on stdout', async (t) => {
  const { berth } = await withEngine(t);
  const r = await berth(['build', '--progress', 'tty', '-t', 'app', '-'], DOCKERFILE);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  const final = stripAnsi(r.stderr.slice(r.stderr.lastIndexOf('\x1b[J') + 3)).split('\n');
  assert.match(final[0] ?? '', /^\[\+\] Building \d+\.\ds \(3\/3\) FINISHED$/);
  assert.match(final[1] ?? '', /^ => \[1\/2\] FROM docker\.io\/library\/busybox:latest +0\.1s$/);
  assert.match(final[2] ?? '', /^ => \[2\/2\] RUN echo hi +1\.2s$/);
  assert.match(final[3] ?? '', /^ => exporting to image +0\.0s$/);
});

test('plain renderer: output split across records is joined into lines; a switch of step repeats its header', () => {
  let out = '';
  let now = 1000;
  const plain = new PlainProgress({ write: (s) => (out += s), now: () => now, tags: [] });
  plain.handle(step(1, '[a 1/2] RUN one', 'started'));
  plain.handle(step(2, '[b 1/2] RUN two', 'started'));
  now = 1500;
  plain.handle(log(1, 'par'));
  plain.handle(log(1, 'tial\nnext'));
  now = 2250;
  plain.handle(step(1, '[a 1/2] RUN one', 'done', { elapsedMs: 1250 }));
  plain.finish({ imageId: BUILT_ID });
  assert.equal(
    out,
    [
      '#1 [a 1/2] RUN one',
      '',
      '#2 [b 1/2] RUN two',
      '',
      '#1 [a 1/2] RUN one',
      '#1 0.500 partial',
      '#1 1.250 next',
      '#1 DONE 1.3s',
      '',
      '#3 exporting to image',
      `#3 writing image ${BUILT_ID} done`,
      '#3 DONE 0.0s',
      '',
    ].join('\n'),
  );
});

// ---------------------------------------------------------------- Ctrl-C

test('Ctrl-C closes the connection (which cancels the build on the daemon) and exits 130', async (t) => {
  const { engine, start } = await withEngine(t);
  engine.buildScript = { messages: [step(1, '[1/1] RUN sleep 100', 'started')], hold: true };
  const closed = new Promise((resolve) => engine.events.once('build-closed', resolve));
  const { child, done } = start(['build', '--progress', 'plain', '-'], DOCKERFILE);
  // Interrupt once the CLI has drawn the running step: the build is under way.
  let seen = '';
  await new Promise<void>((resolve) => {
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (!seen.includes('#1 [1/1] RUN sleep 100\n')) return;
      child.stderr?.off('data', onData);
      resolve();
    };
    child.stderr?.on('data', onData);
    child.once('close', () => resolve()); // exited early: the assertions below say how
  });
  assert.equal(engine.requests.filter((r) => r.path.endsWith('/build')).length, 1);
  child.kill('SIGINT');
  await closed;
  const r = await done;
  assert.equal(r.code, 130);
  assert.match(r.stderr, /#1 \[1\/1\] RUN sleep 100\n/);
  assert.match(r.stderr, /ERROR: canceled\n$/);
});

// ---------------------------------------------------------------- builder prune

test('builder prune: docker\'s question, no request on "no", the report on "yes"; -a -f --filter --keep-storage', async (t) => {
  const { engine, berth } = await withEngine(t);
  const pruneRequests = () => engine.requests.filter((r) => r.path.endsWith('/build/prune'));
  const no = await berth(['builder', 'prune'], 'n\n');
  assert.deepEqual(no, { code: 0, stdout: 'WARNING! This will remove all dangling build cache. Are you sure you want to continue? [y/N] ', stderr: '' });
  assert.equal(pruneRequests().length, 0);

  engine.pruneReport = { CachesDeleted: ['abc123', 'def456'], SpaceReclaimed: 941_300_000 };
  const yes = await berth(['builder', 'prune'], 'y\n');
  assert.equal(yes.code, 0, yes.stderr);
  assert.equal(
    yes.stdout,
    'WARNING! This will remove all dangling build cache. Are you sure you want to continue? [y/N] Deleted build cache objects:\nabc123\ndef456\n\nTotal reclaimed space: 941.3MB\n',
  );
  assert.deepEqual(Object.fromEntries((pruneRequests()[0] as RecordedRequest).query), {});

  engine.pruneReport = { CachesDeleted: null, SpaceReclaimed: 0 };
  const all = await berth(['builder', 'prune', '-a', '-f', '--filter', 'until=24h', '--keep-storage', '1gb']);
  assert.deepEqual(all, { code: 0, stdout: 'Total reclaimed space: 0B\n', stderr: '' });
  assert.deepEqual(Object.fromEntries((pruneRequests()[1] as RecordedRequest).query), { all: '1', 'keep-storage': '1073741824', filters: '{"until":{"24h":true}}' });

  const allNo = await berth(['builder', 'prune', '--all'], '\n');
  assert.equal(allNo.stdout, 'WARNING! This will remove all build cache. Are you sure you want to continue? [y/N] ');
  assert.equal(pruneRequests().length, 2);
});

test('build is also `image build` and `builder build`', async (t) => {
  const { engine, berth } = await withEngine(t);
  for (const words of [['image', 'build'], ['builder', 'build']]) {
    const r = await berth([...words, '-q', '-'], DOCKERFILE);
    assert.deepEqual(r, { code: 0, stdout: `${BUILT_ID}\n`, stderr: '' });
  }
  assert.equal(builds(engine).length, 2);
});
