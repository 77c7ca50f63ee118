// docker-py (Debian's python3-docker 5.x) against berth: the scenario suite in
// test/clients/test_docker_py.py, run with Debian's pytest against a harness
// daemon; each pytest case is reported here so a failure names it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { daemonWithBusybox, run, startRegistry } from './harness/index.js';

const SUITE = fileURLToPath(new URL('../../test/clients/test_docker_py.py', import.meta.url));

test('docker-py: containers, logs, exec (stream, demux), archives, stats, images, build, push and pull, networks, volumes, events, df, prunes, attach socket', async (t) => {
  const reg = await startRegistry(t);
  const d = await daemonWithBusybox(t);
  const r = await run('/usr/bin/python3', ['-m', 'pytest', '-q', '-rA', '-p', 'no:cacheprovider', '-W', 'ignore::DeprecationWarning', SUITE], {
    env: { ...process.env, DOCKER_HOST: d.host, HOME: d.dir, BERTH_TEST_REGISTRY: reg.host },
    timeoutMs: 300_000,
  });
  const passed = (r.stdout.match(/^PASSED /gm) ?? []).length;
  assert.equal(r.code, 0, `${r.stdout.slice(-8000)}\n${r.stderr}`);
  assert.equal(passed, 12, r.stdout);
});
