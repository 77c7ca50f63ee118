// Compose end to end on a real berth daemon: the engine (through the CLI's
// API client) brings a two-service project up with a network, a named volume
// and a dependency, lists and logs it, execs into it with the CLI, and takes
// it down again, volumes included. The project is built by hand, so this
// exercises the engine and the daemon, not the model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonWithBusybox } from './harness/index.js';
import { ApiClient } from '../src/cli/client.js';
import { ComposeEngine } from '../src/compose/engine/index.js';
import { LABELS, type Project, type Service } from '../src/compose/types.js';

function svc(name: string, extra: Partial<Service>): Service {
  return {
    name, image: 'busybox', environment: {}, ports: [], expose: [], volumes: [], networks: { default: { aliases: [] } }, depends_on: {}, replicas: 1,
    resources: {}, labels: {}, profiles: [], cap_add: [], cap_drop: [], extra_hosts: [], dns: [], tmpfs: [], ...extra,
  };
}

test('engine up -d / ps / logs / exec / down -v against a real daemon', async (t) => {
  const d = await daemonWithBusybox(t);
  const client = new ApiClient(d.host);
  t.after(() => client.close());
  const api = { json: client.json.bind(client), stream: client.request.bind(client) };
  const project: Project = {
    name: 'smoke', workingDir: d.dir, files: [`${d.dir}/compose.yaml`], disabledServices: [], warnings: [],
    services: [
      svc('web', {
        command: ['sh', '-c', 'echo web says $GREETING; echo hi > /data/f; exec sleep 1000'], environment: { GREETING: 'hello' },
        volumes: [{ type: 'volume', source: 'data', target: '/data', read_only: false }],
        depends_on: { db: { condition: 'service_started', required: true, restart: false } }, stop_grace_period_s: 1,
      }),
      svc('db', { command: ['sh', '-c', 'echo db ready; exec sleep 1000'], stop_grace_period_s: 1 }),
    ],
    networks: { default: { name: 'smoke_default', external: false, labels: {} } },
    volumes: { data: { name: 'smoke_data', external: false, labels: {} } },
  };
  let stdout = '';
  let stderr = '';
  const out = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, isTTY: false };
  const engine = new ComposeEngine(api, project, out);
  // Registered first so a failing assertion still leaves nothing behind.
  t.after(() => engine.down({ volumes: true, timeout: 1 }).catch(() => undefined));

  assert.equal(await engine.up({ detach: true }), 0);
  assert.match(stderr, /Network smoke_default {2}Created/);
  assert.ok(stderr.indexOf('Container smoke-db-1  Started') < stderr.indexOf('Container smoke-web-1  Started'), stderr);

  const list = await engine.containers();
  assert.deepEqual(list.map((c) => [c.Names[0], c.State, c.Labels[LABELS.service], c.Labels[LABELS.number]]), [
    ['/smoke-db-1', 'running', 'db', '1'],
    ['/smoke-web-1', 'running', 'web', '1'],
  ]);

  stdout = '';
  await engine.ps();
  assert.match(stdout, /^NAME +IMAGE +COMMAND +SERVICE +CREATED +STATUS +PORTS\nsmoke-db-1 +busybox .* db .* Up /);

  // Output appears once the processes have run; poll the logs for it.
  for (let i = 0; i < 100 && !/web says hello/.test(stdout); i++) {
    stdout = '';
    await engine.logs();
  }
  assert.match(stdout, /^smoke-db-1 {3}\| db ready$/m);
  assert.match(stdout, /^smoke-web-1 {2}\| web says hello$/m);

  const cat = await d.cli(['exec', 'smoke-web-1', 'cat', '/data/f']);
  assert.equal(cat.stdout, 'hi\n', cat.stderr);

  // Unchanged config: kept as they are.
  stderr = '';
  await engine.up({ detach: true });
  assert.equal(stderr, 'Container smoke-db-1  Running\nContainer smoke-web-1  Running\n');

  await engine.down({ volumes: true, timeout: 1 });
  assert.deepEqual(await engine.containers({ oneoff: 'any' }), []);
  const nets = await d.request('GET', '/networks/smoke_default');
  assert.equal(nets.status, 404);
  const vol = await d.request('GET', '/volumes/smoke_data');
  assert.equal(vol.status, 404);
});
