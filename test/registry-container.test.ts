// `berth registry serve` as a container, the way people run registry:2: the
// image is built by berth from deploy/registry/Dockerfile (Debian's nodejs
// installed by a RUN step through NAT), run with a published port and a
// volume, and used by berth push and the docker CLI's pull.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { daemonWithBusybox, freePort, run } from './harness/index.js';
import { debianMinbase } from './fixtures/index.js';

const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url));

async function until(what: string, fn: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('the registry image: built from the repository Dockerfile, run with -p and -v, pushed to and pulled from', async (t) => {
  const d = await daemonWithBusybox(t);
  const deb = await debianMinbase();
  const archive = join(d.dir, 'debian.tar');
  assert.equal((await run('tar', ['-C', deb.layoutDir, '-cf', archive, '.'])).code, 0);
  assert.equal((await d.cli(['load', '-i', archive])).code, 0);
  assert.equal((await d.cli(['tag', deb.configDigest, 'debian:bookworm-slim'])).code, 0);

  const built = await d.cli(['build', '--progress', 'plain', '-t', 'berth-registry', '-f', join(CHECKOUT, 'deploy/registry/Dockerfile'), CHECKOUT]);
  assert.equal(built.code, 0, built.stderr);
  // the repository's .dockerignore kept the context small: no tests, no sources, no node_modules but bcryptjs
  const listing = await d.cli(['run', '--rm', '--entrypoint', 'sh', 'berth-registry', '-c', 'find /opt/berth -name "*.test.js" | wc -l; ls /opt/berth/node_modules; test -e /opt/berth/src && echo src; node --version']);
  assert.equal(listing.code, 0, listing.stderr);
  const [tests, modules, nodeVersion] = listing.stdout.trim().split('\n');
  assert.equal(tests, '0');
  assert.equal(modules, 'bcryptjs');
  assert.match(nodeVersion ?? '', /^v\d+\./);

  const port = await freePort();
  const started = await d.cli(['run', '-d', '--name', 'registry', '-p', `127.0.0.1:${port}:5000`, '-v', 'regdata:/var/lib/registry', 'berth-registry']);
  assert.equal(started.code, 0, started.stderr);
  await until('the registry to answer', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => undefined);
    return r?.status === 200 && r.headers.get('docker-distribution-api-version') === 'registry/2.0';
  });

  const ref = `127.0.0.1:${port}/tools/busybox:1`;
  assert.equal((await d.cli(['tag', 'busybox', ref])).code, 0);
  const pushed = await d.cli(['push', ref]);
  assert.equal(pushed.code, 0, pushed.stderr);
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
  assert.ok(digest, pushed.stdout);
  // the blobs are in the volume
  const stored = await d.cli(['run', '--rm', '-v', 'regdata:/data', 'busybox', 'sh', '-c', 'find /data -type f | wc -l']);
  assert.ok(Number(stored.stdout.trim()) >= 3, stored.stdout);

  assert.equal((await d.cli(['rmi', ref])).code, 0);
  const pulled = await d.docker(['pull', `127.0.0.1:${port}/tools/busybox@${digest}`]);
  assert.equal(pulled.code, 0, pulled.stderr);
  const ran = await d.docker(['run', '--rm', `127.0.0.1:${port}/tools/busybox@${digest}`, 'echo', 'from the registry container']);
  assert.equal(ran.stdout, 'from the registry container\n');

  // SIGTERM (docker stop) ends it cleanly, well before the 10 s kill
  const stopped = await d.cli(['stop', 'registry']);
  assert.equal(stopped.code, 0, stopped.stderr);
  const state = await d.cli(['inspect', '-f', '{{.State.ExitCode}}', 'registry']);
  assert.equal(state.stdout.trim(), '0');
});
