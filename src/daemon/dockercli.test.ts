// The real docker CLI (a client nobody here wrote) against the API server with
// fake services: proves the reply shapes are what real clients expect.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempRoot } from '../testing/index.js';
import { serveFakes } from './fakes.js';
import { BERTH_VERSION } from './apiversion.js';

const DOCKER = '/usr/local/bin/docker';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function start(t: TestContext) {
  const dir = await tempRoot(t, 'berth-dockercli-');
  const served = await serveFakes(dir);
  t.after(() => served.api.close(1000));
  const config = join(dir, 'docker-config');
  await mkdir(config);
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, DOCKER_HOST: `unix://${served.socket}`, DOCKER_CONFIG: config };
  // Async: the server under test lives in this process, so the event loop must keep running.
  const dockerWithInput = (input: string, ...args: string[]) =>
    new Promise<Run>((resolve) => {
      const child = execFile(DOCKER, args, { env, timeout: 60_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
      child.stdin?.end(input); // always closed: a CLI waiting on stdin must not hang the test
    });
  const docker = (...args: string[]) => dockerWithInput('', ...args);
  return { ...served, dir, config, docker, dockerWithInput };
}

test('docker version and docker info', async (t) => {
  const { docker, dir } = await start(t);
  const version = await docker('version');
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, new RegExp(`Server: berth ${BERTH_VERSION.replace(/\./g, '\\.')}`));
  assert.match(version.stdout, /API version:\s+1\.50 \(minimum version 1\.24\)/);
  assert.match(version.stdout, /OS\/Arch:\s+linux\/amd64/);
  const fmt = await docker('version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}');
  assert.equal(fmt.stdout.trim(), `${BERTH_VERSION} 1.50`);

  const info = await docker('info');
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /Images: 2/);
  assert.match(info.stdout, /Storage Driver: overlay2/);
  assert.match(info.stdout, new RegExp(`Docker Root Dir: ${dir}`));
  assert.match(info.stdout, /Insecure Registries:\n\s+localhost:5000\n/);
  assert.match(info.stdout, /Cgroup Driver: cgroupfs/);
  assert.doesNotMatch(info.stderr, /WARNING|error/i);
  const json = JSON.parse((await docker('info', '--format', '{{json .}}')).stdout) as { OSType: string; ServerVersion: string };
  assert.equal(json.OSType, 'linux');
  assert.equal(json.ServerVersion, BERTH_VERSION);
});

test('docker images, image inspect, history and system df', async (t) => {
  const { docker } = await start(t);
  const images = await docker('images');
  assert.equal(images.code, 0, images.stderr);
  const rows = images.stdout.trim().split('\n');
  assert.match(rows[0] ?? '', /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  assert.match(images.stdout, /busybox\s+latest\s+aaaaaaaaaaaa\s+.*4\.26MB/);
  assert.match(images.stdout, /localhost:5000\/ns\/app\s+1\s+bbbbbbbbbbbb/);

  const inspect = await docker('image', 'inspect', 'localhost:5000/ns/app:1');
  assert.equal(inspect.code, 0, inspect.stderr);
  const [img] = JSON.parse(inspect.stdout) as { Id: string; RepoTags: string[] }[];
  assert.equal(img?.Id, `sha256:${'b'.repeat(64)}`);
  const fmt = await docker('image', 'inspect', '--format', '{{.Os}}/{{.Architecture}} {{index .Config.Cmd 0}}', 'busybox');
  assert.equal(fmt.stdout.trim(), 'linux/amd64 sh');
  const missing = await docker('image', 'inspect', 'nope');
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /No such image: nope/);

  const history = await docker('history', 'busybox');
  assert.equal(history.code, 0, history.stderr);
  assert.match(history.stdout, /CMD \["sh"\]/);

  const df = await docker('system', 'df');
  assert.equal(df.code, 0, df.stderr);
  assert.match(df.stdout, /^Images\s+2\s+/m);
});

test('docker tag and docker rmi', async (t) => {
  const { docker, images } = await start(t);
  const tag = await docker('tag', 'busybox', 'localhost:5000/copy:v2');
  assert.equal(tag.code, 0, tag.stderr);
  assert.deepEqual(images.calls.at(-1), { method: 'tag', args: ['busybox', 'localhost:5000/copy', 'v2'] });
  assert.match((await docker('images')).stdout, /localhost:5000\/copy\s+v2\s+aaaaaaaaaaaa/);

  const untag = await docker('rmi', 'localhost:5000/copy:v2');
  assert.equal(untag.code, 0, untag.stderr);
  assert.equal(untag.stdout.trim(), 'Untagged: localhost:5000/copy:v2');
  const rm = await docker('rmi', '-f', 'busybox');
  assert.equal(rm.code, 0, rm.stderr);
  assert.deepEqual(rm.stdout.trim().split('\n'), ['Untagged: busybox:latest', `Deleted: sha256:${'a'.repeat(64)}`]);
  assert.deepEqual(images.calls.at(-1), { method: 'remove', args: ['busybox', { force: true, noprune: false }] });
  const gone = await docker('rmi', 'busybox');
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /Error response from daemon: No such image: busybox/);
});

test('docker pull shows streamed progress; failures exit non-zero with the message', async (t) => {
  const { docker, images } = await start(t);
  const pull = await docker('pull', 'localhost:5000/ns/tool:3');
  assert.equal(pull.code, 0, pull.stderr);
  assert.match(pull.stdout, /c0ffee000001: Pull complete/);
  assert.match(pull.stdout, /Status: Downloaded newer image for localhost:5000\/ns\/tool:3/);
  assert.equal(pull.stdout.trim().split('\n').at(-1), 'localhost:5000/ns/tool:3');
  assert.equal(images.calls.at(-1)?.args[0], 'localhost:5000/ns/tool:3');

  images.pullFailure = 'before';
  const denied = await docker('pull', 'localhost:5000/nope');
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /Error response from daemon: pull access denied for localhost:5000\/nope:latest/);

  images.pullFailure = 'after';
  const broken = await docker('pull', 'localhost:5000/ns/tool:4');
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /layer download failed: connection reset/);
});

test('docker save, load, import and login', async (t) => {
  const { docker, dockerWithInput, dir, images, registry, config } = await start(t);
  const out = join(dir, 'saved.tar');
  const save = await docker('save', '-o', out, 'busybox');
  assert.equal(save.code, 0, save.stderr);
  assert.equal(await readFile(out, 'utf8'), 'tar of busybox');

  const load = await docker('load', '-i', out);
  assert.equal(load.code, 0, load.stderr);
  assert.equal(load.stdout.trim(), 'Loaded image: loaded:latest');
  assert.deepEqual(images.calls.at(-1), { method: 'load', args: ['tar of busybox'.length, true] });

  const imp = await docker('import', '-c', 'CMD ["sh"]', '-m', 'note', out, 'imported:1');
  assert.equal(imp.code, 0, imp.stderr);
  assert.equal(imp.stdout.trim(), `sha256:${'f'.repeat(64)}`);
  assert.deepEqual(images.calls.at(-1)?.args[1], { repo: 'imported:1', tag: undefined, message: 'note', changes: ['CMD ["sh"]'] });

  const ok = await dockerWithInput('secret\n', 'login', '-u', 'user', '--password-stdin', 'localhost:5000');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /Login Succeeded/);
  assert.deepEqual(registry.logins.at(-1), { server: 'localhost:5000', auth: { username: 'user', password: 'secret', serveraddress: 'localhost:5000' } });
  assert.match(await readFile(join(config, 'config.json'), 'utf8'), /localhost:5000/);
  const bad = await docker('login', '-u', 'user', '-p', 'wrong', 'localhost:5000');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unauthorized: incorrect username or password/);
});
