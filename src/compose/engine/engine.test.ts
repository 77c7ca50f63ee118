// The engine against the in-memory Engine API: create bodies, names and
// labels, convergence by config hash, scaling, down, dependency order and
// conditions, ps and logs output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ComposeEngine, listProjects } from './engine.js';
import { FakeEngineApi } from './fakeapi.js';
import { LABELS, type Project, type Service } from '../types.js';

function svc(name: string, extra: Partial<Service> = {}): Service {
  return {
    name, image: 'busybox', environment: {}, ports: [], expose: [], volumes: [], networks: { default: { aliases: [] } }, depends_on: {}, replicas: 1,
    resources: {}, labels: {}, profiles: [], cap_add: [], cap_drop: [], extra_hosts: [], dns: [], tmpfs: [], ...extra,
  };
}
function project(services: Service[], extra: Partial<Project> = {}): Project {
  return {
    name: 'demo', workingDir: '/srv/demo', files: ['/srv/demo/compose.yaml'], services, disabledServices: [],
    networks: { default: { name: 'demo_default', external: false, labels: {} } }, volumes: {}, warnings: [], ...extra,
  };
}
function sink() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) }, isTTY: false } };
}
const hashOf = (s: Service) => JSON.stringify([s.image, s.command, s.environment]);

test('up -d: the create body carries every service field, names and labels', async () => {
  const api = new FakeEngineApi();
  const web = svc('web', {
    command: ['sh', '-c', 'httpd -f'], entrypoint: ['/bin/env'], environment: { A: '1', DROPPED: null },
    ports: [{ target: 80, published: '8080', host_ip: '127.0.0.1', protocol: 'tcp' }], expose: ['9000', '53/udp'],
    volumes: [
      { type: 'volume', source: 'data', target: '/data', read_only: false },
      { type: 'bind', source: '/srv/demo/conf', target: '/conf', read_only: true },
      { type: 'tmpfs', target: '/scratch', read_only: false, tmpfs_size: 1024 },
      { type: 'volume', target: '/anon', read_only: false },
    ],
    networks: { front: { aliases: ['www'] }, back: { aliases: [] } },
    healthcheck: { test: ['CMD', 'true'], interval_ns: 1e9, timeout_ns: 2e9, start_period_ns: 0, retries: 3 },
    restart: 'on-failure:3', resources: { memory_bytes: 64 << 20, nano_cpus: 5e8, pids: 100 }, labels: { tier: 'web' },
    user: '1000', working_dir: '/www', init: true, stop_signal: 'SIGINT', stop_grace_period_s: 5, hostname: 'box', tty: true, stdin_open: true,
    privileged: false, cap_add: ['NET_ADMIN'], cap_drop: ['MKNOD'], extra_hosts: ['db:10.0.0.2'], dns: ['10.0.0.53'], read_only: true, tmpfs: ['/run:size=1m'],
  });
  const p = project([web], {
    networks: { front: { name: 'demo_front', external: false, labels: {}, ipam: [{ subnet: '10.99.0.0/24' }] }, back: { name: 'demo_back', external: false, internal: true, labels: {} } },
    volumes: { data: { name: 'demo_data', external: false, labels: {} } },
  });
  const { io, out } = sink();
  assert.equal(await new ComposeEngine(api, p, io, { configHash: hashOf }).up({ detach: true }), 0);

  assert.deepEqual(api.networks.get('demo_front')?.body, {
    Name: 'demo_front', Driver: 'bridge', Internal: false, IPAM: { Driver: 'default', Config: [{ Subnet: '10.99.0.0/24' }] },
    Labels: { [LABELS.project]: 'demo', [LABELS.network]: 'front', [LABELS.version]: '2.0.0-berth' },
  });
  assert.equal(api.networks.get('demo_back')?.body.Internal, true);
  assert.deepEqual(api.volumes.get('demo_data')?.Labels, { [LABELS.project]: 'demo', [LABELS.volume]: 'data', [LABELS.version]: '2.0.0-berth' });
  const [c] = [...api.containers.values()];
  assert.ok(c);
  assert.equal(c.name, 'demo-web-1');
  assert.equal(c.state, 'running');
  assert.deepEqual(c.networks, ['demo_front', 'demo_back']);
  const connect = api.calls.find((x) => x.path === '/networks/demo_back/connect');
  assert.deepEqual(connect?.body, { Container: c.id, EndpointConfig: { Aliases: ['web', 'demo-web-1'] } });
  assert.deepEqual(c.body, {
    Image: 'busybox',
    Cmd: ['sh', '-c', 'httpd -f'],
    Entrypoint: ['/bin/env'],
    Env: ['A=1'],
    ExposedPorts: { '80/tcp': {}, '9000/tcp': {}, '53/udp': {} },
    Labels: {
      tier: 'web', [LABELS.project]: 'demo', [LABELS.service]: 'web', [LABELS.number]: '1', [LABELS.oneoff]: 'False', [LABELS.configHash]: hashOf(web),
      [LABELS.workingDir]: '/srv/demo', [LABELS.configFiles]: '/srv/demo/compose.yaml', [LABELS.version]: '2.0.0-berth', [LABELS.image]: 'sha256:' + 'ab'.repeat(32), [LABELS.dependsOn]: '',
    },
    User: '1000', WorkingDir: '/www',
    Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9, Timeout: 2e9, StartPeriod: 0, Retries: 3 },
    StopSignal: 'SIGINT', StopTimeout: 5, Tty: true, OpenStdin: true, AttachStdin: false, AttachStdout: false, AttachStderr: false, Hostname: 'box',
    HostConfig: {
      PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] },
      Binds: ['/srv/demo/conf:/conf:ro'],
      Mounts: [
        { Type: 'volume', Source: 'demo_data', Target: '/data', ReadOnly: false },
        { Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 1024 } },
        { Type: 'volume', Target: '/anon', ReadOnly: false },
      ],
      NetworkMode: 'demo_front', RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 }, Memory: 64 << 20, NanoCpus: 5e8, PidsLimit: 100, Init: true,
      Privileged: false, CapAdd: ['NET_ADMIN'], CapDrop: ['MKNOD'], ExtraHosts: ['db:10.0.0.2'], Dns: ['10.0.0.53'], ReadonlyRootfs: true, Tmpfs: { '/run': 'size=1m' },
    },
    NetworkingConfig: { EndpointsConfig: { demo_front: { Aliases: ['web', 'www'] } } },
  });
  assert.match(out.stderr, /^Network demo_front {2}Creating\nNetwork demo_front {2}Created\n/);
  assert.match(out.stderr, /Container demo-web-1 {2}Created\nContainer demo-web-1 {2}Starting\nContainer demo-web-1 {2}Started\n$/);
});

test('up again: same config keeps the container, a changed hash recreates, scale adds and removes the highest numbers', async () => {
  const api = new FakeEngineApi();
  const { io, out } = sink();
  const first = project([svc('web', { replicas: 2 })]);
  await new ComposeEngine(api, first, io, { configHash: hashOf }).up({ detach: true });
  const ids = [...api.containers.values()].map((c) => c.id);
  assert.deepEqual([...api.containers.values()].map((c) => c.name), ['demo-web-1', 'demo-web-2']);

  out.stderr = '';
  await new ComposeEngine(api, first, io, { configHash: hashOf }).up({ detach: true });
  assert.deepEqual([...api.containers.values()].map((c) => c.id), ids, 'unchanged config: same containers');
  assert.equal(out.stderr, 'Container demo-web-1  Running\nContainer demo-web-2  Running\n');

  // A stopped one is started, not recreated.
  const one = api.containers.get(ids[0] as string);
  assert.ok(one);
  one.state = 'exited';
  out.stderr = '';
  await new ComposeEngine(api, first, io, { configHash: hashOf }).up({ detach: true });
  assert.equal(one.state, 'running');
  assert.deepEqual([...api.containers.values()].map((c) => c.id), ids);

  const changed = project([svc('web', { replicas: 2, environment: { NEW: 'x' } })]);
  out.stderr = '';
  await new ComposeEngine(api, changed, io, { configHash: hashOf }).up({ detach: true });
  const after = [...api.containers.values()];
  assert.deepEqual(after.map((c) => c.name).sort(), ['demo-web-1', 'demo-web-2']);
  assert.ok(after.every((c) => !ids.includes(c.id)), 'both recreated');
  assert.ok(after.every((c) => (c.body.Env as string[]).includes('NEW=x')));
  assert.match(out.stderr, /Container demo-web-1 {2}Recreate\nContainer demo-web-1 {2}Recreated\n/);

  await new ComposeEngine(api, changed, io, { configHash: hashOf }).up({ detach: true, scale: { web: 3 } });
  assert.deepEqual([...api.containers.values()].map((c) => c.name).sort(), ['demo-web-1', 'demo-web-2', 'demo-web-3']);
  await new ComposeEngine(api, changed, io, { configHash: hashOf }).up({ detach: true, scale: { web: 1 } });
  assert.deepEqual([...api.containers.values()].map((c) => c.name), ['demo-web-1']);

  const before = [...api.containers.keys()];
  await new ComposeEngine(api, changed, io, { configHash: hashOf }).up({ detach: true, forceRecreate: true });
  assert.notDeepEqual([...api.containers.keys()], before, '--force-recreate recreates an unchanged container');
});

test('down removes exactly the project resources; -v its volumes; --rmi local the built images', async () => {
  const api = new FakeEngineApi();
  const { io } = sink();
  const p = project([svc('web', { volumes: [{ type: 'volume', source: 'data', target: '/d', read_only: false }] }), svc('app', { image: undefined, build: { context: '/nonexistent', dockerfile: 'Dockerfile', args: {}, labels: {} } })], {
    volumes: { data: { name: 'demo_data', external: false, labels: {} }, ext: { name: 'shared', external: true, labels: {} } },
  });
  api.images.set('demo-app', 'sha256:' + 'ee'.repeat(32));
  await new ComposeEngine(api, p, io, { configHash: hashOf }).up({ detach: true });
  // Another project's resources and an external volume stay.
  await new ComposeEngine(api, project([svc('web')], { name: 'other', networks: { default: { name: 'other_default', external: false, labels: {} } } }), io).up({ detach: true });
  api.volumes.set('shared', { Name: 'shared', Labels: {} });

  await new ComposeEngine(api, p, io, { configHash: hashOf }).down({ volumes: true, rmi: 'local' });
  assert.deepEqual([...api.containers.values()].map((c) => c.name), ['other-web-1']);
  assert.deepEqual([...api.networks.keys()], ['other_default']);
  assert.deepEqual([...api.volumes.keys()], ['shared']);
  assert.equal(api.images.has('demo-app'), false);
  assert.equal(api.images.has('busybox'), true, 'rmi local keeps images with a custom name');
  const removes = api.calls.filter((c) => c.method === 'DELETE' && c.path.startsWith('/containers/'));
  assert.ok(removes.every((c) => c.query.v === true));
});

test('depends_on: dependencies start first and service_healthy waits for healthy; unhealthy fails naming the container', async () => {
  const api = new FakeEngineApi();
  const { io, out } = sink();
  api.healthScripts.set('db', ['starting', 'starting', 'healthy']);
  const p = project([
    svc('web', { depends_on: { db: { condition: 'service_healthy', required: true, restart: false } } }),
    svc('db', { healthcheck: { test: ['CMD', 'true'] } }),
  ]);
  await new ComposeEngine(api, p, io, { pollMs: 1 }).up({ detach: true });
  const starts = api.calls.filter((c) => c.path.endsWith('/start')).map((c) => api.containers.get(c.path.split('/')[2] as string)?.name);
  assert.deepEqual(starts, ['demo-db-1', 'demo-web-1']);
  const inspects = api.calls.filter((c) => c.method === 'GET' && c.path.endsWith('/json') && c.path.startsWith('/containers/') && c.path !== '/containers/json');
  assert.equal(inspects.length, 3, 'polled until healthy');
  assert.match(out.stderr, /Container demo-db-1 {2}Healthy\nContainer demo-web-1 {2}Creating/);
  assert.equal([...api.containers.values()].find((c) => c.name === 'demo-web-1')?.labels[LABELS.dependsOn], 'db:service_healthy:false');

  const api2 = new FakeEngineApi();
  api2.healthScripts.set('db', ['starting', 'unhealthy']);
  await assert.rejects(new ComposeEngine(api2, p, sink().io, { pollMs: 1 }).up({ detach: true }), /dependency failed to start: container demo-db-1 is unhealthy/);
  assert.deepEqual([...api2.containers.values()].map((c) => c.name), ['demo-db-1'], 'web never created; db stays');
});

test('a failed pull stops up naming the service; a missing built image is built', async () => {
  const api = new FakeEngineApi();
  const p = project([svc('ok'), svc('bad', { image: 'localhost:5000/broken' })]);
  await assert.rejects(new ComposeEngine(api, p, sink().io).up({ detach: true }), /^BerthError: service "bad" failed to pull image "localhost:5000\/broken": manifest unknown$/);

  const api2 = new FakeEngineApi();
  const built = project([svc('app', { image: undefined, build: { context: '/srv', dockerfile: 'Dockerfile.dev', args: { A: '1', U: null }, target: 'dev', labels: { l: 'v' } } })]);
  // The context tar is streamed from the directory: use one that exists.
  built.services[0]!.build!.context = process.cwd() + '/src/compose/types.ts'.replace('/types.ts', '');
  await new ComposeEngine(api2, built, sink().io).up({ detach: true });
  const build = api2.calls.find((c) => c.path === '/build');
  assert.deepEqual({ ...build?.query }, { t: 'demo-app', dockerfile: 'Dockerfile.dev', buildargs: '{"A":"1"}', labels: '{"l":"v"}', target: 'dev', nocache: undefined, pull: undefined, rm: true });
  assert.equal([...api2.containers.values()][0]?.body.Image, 'demo-app');
});

test('ps prints compose v2 columns, --format json one object per line, -q ids; logs are prefixed and padded', async () => {
  const api = new FakeEngineApi();
  const { io, out } = sink();
  const p = project([svc('web', { ports: [{ target: 80, published: '8080', protocol: 'tcp' }] }), svc('worker-long', { command: ['sleep', '1000'] })]);
  const engine = new ComposeEngine(api, p, io);
  await engine.up({ detach: true });
  out.stdout = '';
  await engine.ps();
  const lines = out.stdout.split('\n');
  assert.match(lines[0] ?? '', /^NAME +IMAGE +COMMAND +SERVICE +CREATED +STATUS +PORTS$/);
  assert.match(lines[1] ?? '', /^demo-web-1 +busybox +"sh" +web +\d+ \w+ ago +Up 5 seconds +0\.0\.0\.0:8080->80\/tcp$/);
  assert.match(lines[2] ?? '', /^demo-worker-long-1 +busybox +"sleep 1000" +worker-long /);

  out.stdout = '';
  await engine.ps({ format: 'json' });
  const objs = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(objs.map((o) => [o.Name, o.Service, o.State, o.Project]), [['demo-web-1', 'web', 'running', 'demo'], ['demo-worker-long-1', 'worker-long', 'running', 'demo']]);

  [...api.containers.values()][1]!.state = 'exited';
  out.stdout = '';
  await engine.ps({ quiet: true });
  assert.equal(out.stdout, `${[...api.containers.values()][0]!.id}\n`, 'stopped ones only with -a');

  out.stdout = '';
  await engine.logs();
  assert.equal(out.stdout, 'demo-web-1          | hello from demo-web-1\ndemo-worker-long-1  | hello from demo-worker-long-1\n');

  const projects = await listProjects(api, true);
  assert.deepEqual(projects, [{ name: 'demo', status: 'exited(1), running(1)', configFiles: '/srv/demo/compose.yaml' }]);
});

test('run creates a one-off container with the oneoff label, after its dependencies', async () => {
  const api = new FakeEngineApi();
  const p = project([svc('web', { depends_on: { db: { condition: 'service_started', required: true, restart: false } }, ports: [{ target: 80, protocol: 'tcp' }] }), svc('db')]);
  const engine = new ComposeEngine(api, p, sink().io);
  const { name } = await engine.createOneOff({ service: 'web', command: ['echo', 'hi'], tty: false, stdinOpen: false, env: ['X=1'] });
  assert.match(name, /^demo-web-run-[0-9a-f]{6}$/);
  const c = [...api.containers.values()].find((x) => x.name === name);
  assert.equal(c?.labels[LABELS.oneoff], 'True');
  assert.deepEqual(c?.body.Cmd, ['echo', 'hi']);
  assert.ok((c?.body.Env as string[]).includes('X=1'));
  assert.deepEqual((c?.body.HostConfig as { PortBindings: object }).PortBindings, {});
  assert.equal([...api.containers.values()].find((x) => x.name === 'demo-db-1')?.state, 'running');
  assert.equal([...api.containers.values()].some((x) => x.name === 'demo-web-1'), false);
  // ps leaves one-offs out; down removes them.
  await engine.down();
  assert.equal(api.containers.size, 0);
});
