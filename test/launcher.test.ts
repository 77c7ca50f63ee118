// bin/berth and bin/docker-compose, the launchers users run: found through symlinks,
// and NODE_EXTRA_CA_CERTS left out of client calls (Node would parse it at start-up,
// about 40 ms a call) but kept for the daemon, which connects to registries over TLS.
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BERTH_BIN, REPO_ROOT, run } from './harness/index.js';

// Node warns at start-up, before any script, when it cannot load the extra certificates:
// the warning tells whether the variable reached Node.
const MISSING_CA = '/nonexistent/berth-launcher-test-ca.pem';
const WARNING = /Ignoring extra certs from/;
const env = { ...process.env, NODE_EXTRA_CA_CERTS: MISSING_CA };

test('bin/berth: client calls run without NODE_EXTRA_CA_CERTS, the daemon keeps it', async () => {
  const client = await run(BERTH_BIN, ['--version'], { env });
  assert.equal(client.code, 0, client.stderr);
  assert.match(client.stdout, /^Berth version /);
  assert.doesNotMatch(client.stderr, WARNING);

  const failing = await run(BERTH_BIN, ['-H', 'unix:///nonexistent/berth.sock', 'ps'], { env });
  assert.equal(failing.code, 1);
  assert.match(failing.stderr, /Cannot connect to the berth daemon/);
  assert.doesNotMatch(failing.stderr, WARNING);

  // `daemon --help` starts no daemon, but Node has seen the variable by then
  const daemon = await run(BERTH_BIN, ['--log-level', 'debug', 'daemon', '--help'], { env });
  assert.equal(daemon.code, 0, daemon.stderr);
  assert.match(daemon.stdout, /Usage:\s+berth daemon/);
  assert.match(daemon.stderr, WARNING);
});

test('bin/berth and bin/docker-compose work through symlinks, relative and absolute', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-launcher-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await symlink(BERTH_BIN, join(dir, 'berth'));
  await symlink(join(dir, 'berth'), join(dir, 'berth-again')); // a chain of links
  await symlink(join(REPO_ROOT, 'bin', 'docker-compose'), join(dir, 'docker-compose'));

  for (const name of ['berth', 'berth-again']) {
    const r = await run(join(dir, name), ['--version'], { env });
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.match(r.stdout, /^Berth version /);
  }
  // found through PATH, as an installed command is
  const viaPath = await run('/bin/sh', ['-c', 'berth --version'], { env: { ...env, PATH: `${dir}:${process.env.PATH ?? ''}` } });
  assert.match(viaPath.stdout, /^Berth version /, viaPath.stderr);
  // run from its own directory by a relative name
  const relative = await run('/bin/sh', ['berth', '--version'], { env, cwd: join(REPO_ROOT, 'bin') });
  assert.match(relative.stdout, /^Berth version /, relative.stderr);

  const meta = await run(join(dir, 'docker-compose'), ['docker-cli-plugin-metadata'], { env });
  assert.equal(meta.code, 0, meta.stderr);
  assert.deepEqual(JSON.parse(meta.stdout), { SchemaVersion: '0.1.0', Vendor: 'berth', Version: '2.0.0-berth', ShortDescription: 'Docker Compose (berth compose)' });
  // as docker runs a plugin: `docker-compose compose ARGS`, against DOCKER_HOST
  const ps = await run(join(dir, 'docker-compose'), ['compose', 'version'], { env: { ...env, DOCKER_HOST: 'unix:///nonexistent/berth.sock' } });
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /version/i);
  assert.doesNotMatch(ps.stderr, WARNING);
});
