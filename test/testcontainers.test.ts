// testcontainers (npm) against berth, its reaper off (its image can't be
// pulled here): a GenericContainer from the fixture image with an exposed
// port, wait strategies on a log line and on the port, files copied in, exec,
// and a Network with aliases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { daemonWithBusybox, freePort } from './harness/index.js';

const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url));

test('testcontainers: GenericContainer with ports and wait strategies, copied files, exec, a Network, a DockerComposeEnvironment', async (t) => {
  // node:test runs after-hooks first-registered-first: ours (stop what testcontainers
  // started, newest first) is registered before the daemon's, so it runs while the daemon is up
  const undo: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    for (const fn of undo.reverse()) await fn().catch(() => undefined);
  });
  const d = await daemonWithBusybox(t);
  // testcontainers reads these once, when it first connects
  process.env.DOCKER_HOST = d.host;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
  // `docker compose` is berth compose through the CLI plugin bin/docker-compose, in this test's docker config
  const dockerConfig = join(d.dir, 'docker-config');
  await mkdir(join(dockerConfig, 'cli-plugins'), { recursive: true });
  await symlink(join(CHECKOUT, 'bin/docker-compose'), join(dockerConfig, 'cli-plugins', 'docker-compose'));
  process.env.DOCKER_CONFIG = dockerConfig;
  const { DockerComposeEnvironment, GenericContainer, Network, Wait } = await import('testcontainers');

  const file = join(d.dir, 'index.html');
  await writeFile(file, 'served from a copied file\n');
  const web = await new GenericContainer('busybox')
    .withCommand(['sh', '-c', 'echo server ready; exec httpd -f -p 8080 -h /www'])
    .withExposedPorts(8080)
    .withCopyFilesToContainer([{ source: file, target: '/www/index.html' }])
    .withWaitStrategy(Wait.forAll([Wait.forLogMessage('server ready'), Wait.forListeningPorts()]))
    .start();
  undo.push(() => web.stop());
  const res = await fetch(`http://${web.getHost()}:${web.getMappedPort(8080)}/`);
  assert.equal(await res.text(), 'served from a copied file\n');
  const exec = await web.exec(['sh', '-c', 'echo from exec; cat /www/index.html']);
  assert.equal(exec.exitCode, 0);
  assert.equal(exec.output, 'from exec\nserved from a copied file\n');

  const network = await new Network().start();
  undo.push(() => network.stop());
  const server = await new GenericContainer('busybox')
    .withCommand(['sh', '-c', 'echo pong > /tmp/index.html; echo listening; exec httpd -f -p 80 -h /tmp'])
    .withNetwork(network)
    .withNetworkAliases('pong-server')
    .withWaitStrategy(Wait.forLogMessage('listening'))
    .start();
  undo.push(() => server.stop());
  const client = await new GenericContainer('busybox').withCommand(['sleep', '60']).withNetwork(network).start();
  undo.push(() => client.stop());
  const fetched = await client.exec(['wget', '-q', '-O', '-', 'http://pong-server/']);
  assert.equal(fetched.exitCode, 0, fetched.output);
  assert.equal(fetched.output, 'pong\n');

  // the three-service Compose app of the compose tests, brought up by testcontainers (docker compose → berth compose)
  const appDir = join(d.dir, 'app');
  await cp(join(CHECKOUT, 'test/fixtures/compose/app'), appDir, { recursive: true });
  const port = await freePort();
  const environment = await new DockerComposeEnvironment(appDir, 'compose.yaml')
    .withEnvironment({ WEB_PORT: String(port) })
    .withWaitStrategy('web-1', Wait.forHealthCheck())
    .up();
  undo.push(() => environment.down({ removeVolumes: true }));
  const composedWeb = environment.getContainer('web-1');
  const page = await fetch(`http://${composedWeb.getHost()}:${composedWeb.getMappedPort(8080)}/`);
  assert.equal(await page.text(), 'hello from web (hi)\n');
});
