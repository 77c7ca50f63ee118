import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempRoot } from '../../testing/index.js';
import type { Project } from '../types.js';
import { ComposeModelError, dependencyOrder, interpolate, loadProject, parseDotenv, serializeProject, serviceConfigHash, splitShellWords } from './index.js';

type T = Parameters<typeof tempRoot>[0];

/** A project directory with the given files. */
async function fixture(t: T, files: Record<string, string>, dirName = 'app'): Promise<string> {
  const dir = join(await tempRoot(t), dirName);
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

const svc = (p: Project, name: string) => {
  const s = p.services.find((x) => x.name === name);
  assert.ok(s, `service ${name}`);
  return s;
};

async function issuesOf(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ComposeModelError, String(err));
    assert.equal(err.code, 'invalid_argument');
    return err.message.split('\n');
  }
  assert.fail('expected a ComposeModelError');
}

test('interpolation table', () => {
  const env = { SET: 'v', EMPTY: '' };
  const cases: [string, string][] = [
    ['${SET}', 'v'],
    ['$SET/x', 'v/x'],
    ['${UNSET}', ''],
    ['${UNSET:-d}', 'd'],
    ['${EMPTY:-d}', 'd'],
    ['${EMPTY-d}', ''],
    ['${UNSET-d}', 'd'],
    ['${SET:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET:-${SET}-x}', 'v-x'],
    ['${UNSET:-${ALSO:-deep}}', 'deep'],
    ['$$SET', '$SET'],
    ['a$$b$', 'a$b$'],
    ['cost $5', 'cost $5'],
  ];
  for (const [input, want] of cases) assert.equal(interpolate(input, env), want, input);
  assert.throws(() => interpolate('${UNSET:?need it}', env), /required variable UNSET is missing a value: need it/);
  assert.throws(() => interpolate('${EMPTY:?e}', env), /EMPTY/);
  assert.equal(interpolate('${EMPTY?e}', env), '');
  assert.throws(() => interpolate('${UNSET?e}', env), /UNSET/);
  assert.throws(() => interpolate('${SET', env), /invalid interpolation/);
  assert.throws(() => interpolate('${SET/a/b}', env), /invalid interpolation/);
});

test('dotenv rules', () => {
  const parsed = parseDotenv(
    ['# comment', 'A=1', 'export B=two words', "C='lit $A # x'", 'D="q\\n$A"', 'E=val # comment', 'F=a#b', 'G', 'H=${A}-${OUT}', ''].join('\n'),
    { OUT: 'o', G: 'from-lookup' },
  );
  assert.deepEqual(parsed, { A: '1', B: 'two words', C: 'lit $A # x', D: 'q\n1', E: 'val', F: 'a#b', G: 'from-lookup', H: '1-o' });
});

test('shell words', () => {
  assert.deepEqual(splitShellWords(`sh -c 'echo "hi there"' a\\ b "x\\"y"`), ['sh', '-c', 'echo "hi there"', 'a b', 'x"y']);
  assert.deepEqual(splitShellWords('  '), []);
  assert.throws(() => splitShellWords('echo "x'), /unterminated/);
});

test('.env feeds interpolation, the process env wins, env_file then environment', async (t) => {
  const dir = await fixture(t, {
    '.env': 'TAG=from-dotenv\nPORT=8080\nCOMPOSE_PROJECT_NAME=fromdotenv\n',
    'web.env': 'A=file\nB=file\n',
    'compose.yaml': `
services:
  web:
    image: "nginx:\${TAG}"
    ports: ["\${PORT}:80"]
    env_file: web.env
    environment:
      B: env
      C:
      PRICE: "$$5"
`,
  });
  const p = await loadProject({ cwd: dir, env: { TAG: 'from-process' } });
  assert.equal(p.name, 'fromdotenv');
  const web = svc(p, 'web');
  assert.equal(web.image, 'nginx:from-process');
  assert.deepEqual(web.ports, [{ target: 80, published: '8080', protocol: 'tcp' }]);
  assert.deepEqual(web.environment, { A: 'file', B: 'env', C: null, PRICE: '$5' });

  const other = await fixture(t, { 'custom.env': 'TAG=custom\n', 'compose.yaml': 'services:\n  web:\n    image: "x:${TAG:?tag required}"\n' });
  const q = await loadProject({ cwd: other, env: {}, envFiles: [join(other, 'custom.env')] });
  assert.equal(svc(q, 'web').image, 'x:custom');
  const lines = await issuesOf(loadProject({ cwd: other, env: {} }));
  assert.deepEqual(lines, ['services.web.image required variable TAG is missing a value: tag required']);
});

test('short syntaxes are normalized', async (t) => {
  const dir = await fixture(t, {
    'compose.yaml': `
services:
  web:
    build: ./src
    command: sh -c "echo hi"
    entrypoint: ["/bin/tini", "--"]
    ports:
      - "8080:80"
      - "127.0.0.1:5353:53/udp"
      - "9000"
      - 9001
      - "8000-8001:80-81"
      - "[::1]:7000:70"
      - target: 443
        published: 8443
        host_ip: 0.0.0.0
    volumes:
      - data:/var/lib/data:ro
      - ./conf:/etc/conf
      - /abs:/abs
      - /anon
      - type: tmpfs
        target: /tmp
        tmpfs: { size: 64m }
    environment: ["A=1", "B"]
    labels: ["x=1", "y"]
    depends_on: [db]
    healthcheck:
      test: curl -f http://localhost
      interval: 1m30s
      timeout: 10s
      retries: 3
    deploy:
      replicas: 3
      resources:
        limits: { memory: 512m, cpus: '0.5', pids: 100 }
    restart: on-failure:3
    stop_grace_period: 1m
    expose: [3000, "4000"]
    dns: 8.8.8.8
    extra_hosts: ["host.example:10.0.0.1"]
    pull_policy: if_not_present
  db:
    image: postgres
    build:
      context: db
      args: { V: 1, EMPTY: null }
    depends_on:
      cache: { condition: service_healthy, restart: true }
    scale: 2
    healthcheck: { disable: true }
    network_mode: "service:cache"
  cache:
    image: redis
    networks:
      back: { aliases: [r] }
networks:
  back:
  outside: { external: true, name: real-outside }
volumes:
  data:
`,
  }, 'My.App');
  const p = await loadProject({ cwd: dir, env: {} });
  assert.equal(p.name, 'myapp');
  const web = svc(p, 'web');
  assert.deepEqual(web.build, { context: join(dir, 'src'), dockerfile: 'Dockerfile', args: {}, labels: {} });
  assert.deepEqual(web.command, ['sh', '-c', 'echo hi']);
  assert.deepEqual(web.entrypoint, ['/bin/tini', '--']);
  assert.deepEqual(web.ports, [
    { target: 80, published: '8080', protocol: 'tcp' },
    { target: 53, published: '5353', host_ip: '127.0.0.1', protocol: 'udp' },
    { target: 9000, protocol: 'tcp' },
    { target: 9001, protocol: 'tcp' },
    { target: 80, published: '8000', protocol: 'tcp' },
    { target: 81, published: '8001', protocol: 'tcp' },
    { target: 70, published: '7000', host_ip: '::1', protocol: 'tcp' },
    { target: 443, published: '8443', host_ip: '0.0.0.0', protocol: 'tcp' },
  ]);
  assert.deepEqual(web.volumes, [
    { type: 'volume', source: 'data', target: '/var/lib/data', read_only: true },
    { type: 'bind', source: join(dir, 'conf'), target: '/etc/conf', read_only: false, create_host_path: true },
    { type: 'bind', source: '/abs', target: '/abs', read_only: false, create_host_path: true },
    { type: 'volume', target: '/anon', read_only: false },
    { type: 'tmpfs', target: '/tmp', read_only: false, tmpfs_size: 64 * 1024 * 1024 },
  ]);
  assert.deepEqual(web.environment, { A: '1', B: null });
  assert.deepEqual(web.labels, { x: '1', y: '' });
  assert.deepEqual(web.depends_on, { db: { condition: 'service_started', required: true, restart: false } });
  assert.deepEqual(web.healthcheck, { test: ['CMD-SHELL', 'curl -f http://localhost'], interval_ns: 90e9, timeout_ns: 10e9, retries: 3 });
  assert.equal(web.replicas, 3);
  assert.deepEqual(web.resources, { memory_bytes: 512 * 1024 * 1024, nano_cpus: 5e8, pids: 100 });
  assert.equal(web.restart, 'on-failure:3');
  assert.equal(web.stop_grace_period_s, 60);
  assert.deepEqual(web.expose, ['3000', '4000']);
  assert.deepEqual(web.dns, ['8.8.8.8']);
  assert.deepEqual(web.extra_hosts, ['host.example:10.0.0.1']);
  assert.equal(web.pull_policy, 'missing');
  assert.deepEqual(web.networks, { default: { aliases: [] } });

  const db = svc(p, 'db');
  assert.deepEqual(db.build, { context: join(dir, 'db'), dockerfile: 'Dockerfile', args: { V: '1', EMPTY: null }, labels: {} });
  assert.equal(db.replicas, 2);
  assert.deepEqual(db.healthcheck, { test: ['NONE'], disable: true });
  assert.deepEqual(db.networks, {});
  assert.equal(db.network_mode, 'service:cache');
  assert.deepEqual(db.depends_on, { cache: { condition: 'service_healthy', required: true, restart: true } });
  assert.deepEqual(svc(p, 'cache').networks, { back: { aliases: ['r'] } });

  assert.deepEqual(p.networks, {
    back: { name: 'myapp_back', external: false, labels: {} },
    outside: { name: 'real-outside', external: true, labels: {} },
    default: { name: 'myapp_default', external: false, labels: {} },
  });
  assert.deepEqual(p.volumes, { data: { name: 'myapp_data', external: false, labels: {} } });
  assert.deepEqual(dependencyOrder(p), ['cache', 'db', 'web']);
  assert.deepEqual(dependencyOrder(p, ['db']), ['cache', 'db']);
});

test('multi-file merge: override changes a port, adds env, replaces command', async (t) => {
  const dir = await fixture(t, {
    'compose.yaml': `
services:
  web:
    image: web:1
    command: ["serve", "--base"]
    ports: ["8080:80", "9090:90"]
    volumes: ["a:/data"]
    environment: { A: "1", B: "1" }
    labels: { keep: "yes" }
    cap_add: [NET_ADMIN]
volumes: { a: {}, b: {} }
`,
    'compose.override.yaml': `
services:
  web:
    image: web:2
    command: serve --override
    ports: ["9090:90", "8081:81"]
    volumes: ["b:/data:ro"]
    environment: ["B=2", "C=3"]
    cap_add: [NET_ADMIN, SYS_TIME]
`,
    'prod.yaml': `
services:
  web:
    ports: !override ["443:443"]
    labels: !reset {}
`,
  });
  const p = await loadProject({ cwd: dir, env: {} });
  assert.equal(p.files.length, 2, 'the override file is found beside compose.yaml');
  const web = svc(p, 'web');
  assert.equal(web.image, 'web:2');
  assert.deepEqual(web.command, ['serve', '--override']);
  assert.deepEqual(web.ports.map((x) => `${x.published}:${x.target}`), ['8080:80', '9090:90', '8081:81']);
  assert.deepEqual(web.volumes, [{ type: 'volume', source: 'b', target: '/data', read_only: true }]);
  assert.deepEqual(web.environment, { A: '1', B: '2', C: '3' });
  assert.deepEqual(web.labels, { keep: 'yes' });
  assert.deepEqual(web.cap_add, ['NET_ADMIN', 'SYS_TIME']);

  const q = await loadProject({ cwd: dir, env: {}, files: ['compose.yaml', 'prod.yaml'] });
  assert.deepEqual(svc(q, 'web').ports, [{ target: 443, published: '443', protocol: 'tcp' }]);
  assert.deepEqual(svc(q, 'web').labels, {});
});

test('extends within the file and from another file', async (t) => {
  const dir = await fixture(t, {
    'common/base.yaml': `
services:
  base:
    image: busybox
    user: root
    volumes: ["./data:/data"]
    environment: { TZ: utc, PORT: "80" }
`,
    'compose.yaml': `
services:
  common:
    extends: { file: common/base.yaml, service: base }
    security_opt: ["label:role:ROLE"]
  cli:
    extends: common
    environment: ["PORT=8080"]
    security_opt: ["label:user:USER"]
`,
  });
  const p = await loadProject({ cwd: dir, env: {} });
  const cli = svc(p, 'cli');
  assert.equal(cli.image, 'busybox');
  assert.equal(cli.user, 'root');
  assert.deepEqual(cli.environment, { TZ: 'utc', PORT: '8080' });
  assert.deepEqual(cli.volumes, [{ type: 'bind', source: join(dir, 'common', 'data'), target: '/data', read_only: false, create_host_path: true }]);

  const loop = await fixture(t, { 'compose.yaml': 'services:\n  a: { image: x, extends: b }\n  b: { image: x, extends: a }\n' });
  const lines = await issuesOf(loadProject({ cwd: loop, env: {} }));
  assert.match(lines[0], /^services\.[ab]\.extends circular reference with extends/);
});

test('profiles select services; COMPOSE_PROFILES and --profile', async (t) => {
  const dir = await fixture(t, {
    'compose.yaml': `
services:
  web: { image: web }
  debug: { image: dbg, profiles: [debug] }
  tools: { image: tools, profiles: [tools, ops] }
`,
  });
  const names = (p: Project) => p.services.map((s) => s.name);
  const none = await loadProject({ cwd: dir, env: {} });
  assert.deepEqual(names(none), ['web']);
  assert.deepEqual(none.disabledServices.map((s) => s.name), ['debug', 'tools']);
  assert.deepEqual(names(await loadProject({ cwd: dir, env: {}, profiles: ['ops'] })), ['web', 'tools']);
  assert.deepEqual(names(await loadProject({ cwd: dir, env: { COMPOSE_PROFILES: 'debug,ops' } })), ['web', 'debug', 'tools']);
  assert.deepEqual(names(await loadProject({ cwd: dir, env: {}, profiles: ['*'] })), ['web', 'debug', 'tools']);
  const dependsOnDisabled = await fixture(t, { 'compose.yaml': 'services:\n  web: { image: w, depends_on: [dbg] }\n  dbg: { image: d, profiles: [debug] }\n' });
  assert.deepEqual(await issuesOf(loadProject({ cwd: dependsOnDisabled, env: {} })), ['service "web" depends on undefined service "dbg": invalid compose project']);
});

test('project name derivation and invalid names', async (t) => {
  const dir = await fixture(t, { 'compose.yaml': 'services:\n  web: { image: w }\n' }, '_My Project.2');
  assert.equal((await loadProject({ cwd: dir, env: {} })).name, 'myproject2');
  assert.equal((await loadProject({ cwd: dir, env: { COMPOSE_PROJECT_NAME: 'fromenv' } })).name, 'fromenv');
  assert.equal((await loadProject({ cwd: dir, env: { COMPOSE_PROJECT_NAME: 'fromenv' }, projectName: 'flag' })).name, 'flag');
  const named = await fixture(t, { 'compose.yaml': 'name: from-file\nservices:\n  web: { image: w }\n' });
  assert.equal((await loadProject({ cwd: named, env: {} })).name, 'from-file');
  for (const bad of ['Upper', '-dash', 'has space', 'dot.name']) {
    const lines = await issuesOf(loadProject({ cwd: dir, env: {}, projectName: bad }));
    assert.match(lines[0], /must contain only lowercase letters, decimal digits, dashes, and underscores/, bad);
  }
  const sub = join(dir, 'deeper', 'down');
  await mkdir(sub, { recursive: true });
  assert.equal((await loadProject({ cwd: sub, env: {} })).workingDir, dir, 'files are found in parent directories');
});

test('validation errors carry their paths', async (t) => {
  const dir = await fixture(t, {
    'compose.yaml': `
servics: {}
services:
  web:
    image: w
    prots: ["80"]
    ports: [{ a: 1 }, ["x"], "nope:80"]
    networks: [front]
    volumes: ["missing:/data"]
    depends_on: [ghost]
  nothing: {}
  cycle-a: { image: x, depends_on: [cycle-b] }
  cycle-b: { image: x, depends_on: [cycle-a] }
`,
  });
  const lines = await issuesOf(loadProject({ cwd: dir, env: {} }));
  assert.deepEqual(lines.sort(), [
    '(root) Additional property servics is not allowed',
    'dependency cycle detected: cycle-a -> cycle-b -> cycle-a',
    'service "nothing" has neither an image nor a build context specified: invalid compose project',
    'service "web" depends on undefined service "ghost": invalid compose project',
    'service "web" refers to undefined network front: invalid compose project',
    'service "web" refers to undefined volume missing: invalid compose project',
    'services.web Additional property prots is not allowed',
    'services.web.ports[0].target must be a port number',
    'services.web.ports[1] must be a string or number',
    'services.web.ports[2] invalid port "nope:80"',
  ]);
});

test('serializeProject round-trips through loadProject', async (t) => {
  const dir = await fixture(t, {
    'compose.yaml': `
services:
  a-web:
    build: { context: ., dockerfile: Other, args: [X=1], target: prod }
    command: echo "$$HOME" done
    ports: ["127.0.0.1:8080:80/udp", "9000"]
    volumes: ["./d:/d", "v:/v:ro", "/anon", { type: tmpfs, target: /t, tmpfs: { size: 1k } }]
    environment: { A: "1", B: null }
    healthcheck: { test: [CMD, "true"], interval: 1m30s, start_period: 1500ms }
    deploy: { replicas: 2, resources: { limits: { memory: 1g, cpus: "1.25" } } }
    stop_grace_period: 5s
    depends_on: { b-db: { condition: service_healthy } }
    labels: { l: v }
    container_name: web1
    user: "1000"
    init: true
  b-db:
    image: db
    networks: { back: { aliases: [db], ipv4_address: 10.1.0.5 } }
networks:
  back: { driver: bridge, ipam: { config: [{ subnet: 10.1.0.0/24 }] } }
  ext: { external: true }
volumes:
  v: { labels: { k: v } }
`,
  });
  const first = await loadProject({ cwd: dir, env: {} });
  const printed = serializeProject(first);
  assert.match(printed, /^name: app\n/);
  const again = join(await tempRoot(t), 'printed.yaml');
  await writeFile(again, printed);
  const second = await loadProject({ cwd: dir, files: [again], env: {} });
  assert.equal(second.name, first.name);
  assert.deepEqual(second.services, first.services);
  assert.deepEqual(second.networks, first.networks);
  assert.deepEqual(second.volumes, first.volumes);
  assert.deepEqual(svc(second, 'a-web').command, ['echo', '$HOME', 'done']);
});

test('config hash: stable under key order, changed by command, not by replicas or depends_on', async (t) => {
  const a = await fixture(t, { 'compose.yaml': 'services:\n  web:\n    image: w\n    environment: { A: "1", B: "2" }\n    command: run\n    deploy: { replicas: 1 }\n' });
  const b = await fixture(t, { 'compose.yaml': 'services:\n  web:\n    environment: { B: "2", A: "1" }\n    deploy: { replicas: 5 }\n    command: run\n    image: w\n    depends_on: [other]\n  other: { image: o }\n' });
  const c = await fixture(t, { 'compose.yaml': 'services:\n  web:\n    image: w\n    environment: { A: "1", B: "2" }\n    command: run --fast\n' });
  const hashOf = async (dir: string) => {
    const p = await loadProject({ cwd: dir, env: {}, projectName: 'same' });
    return serviceConfigHash(svc(p, 'web'), p);
  };
  const ha = await hashOf(a);
  assert.match(ha, /^[0-9a-f]{64}$/);
  assert.equal(await hashOf(b), ha);
  assert.notEqual(await hashOf(c), ha);
  const p = await loadProject({ cwd: a, env: {}, projectName: 'other' });
  assert.notEqual(serviceConfigHash(svc(p, 'web'), p), ha, 'the network names are part of the container');
});

test('dependencyOrder: dependencies first, named services pull their dependencies, cycles are errors', () => {
  const base = { environment: {}, ports: [], expose: [], volumes: [], networks: {}, replicas: 1, resources: {}, labels: {}, profiles: [], cap_add: [], cap_drop: [], extra_hosts: [], dns: [], tmpfs: [] };
  const dep = { condition: 'service_started' as const, required: true, restart: false };
  const project = (deps: Record<string, string[]>): Project => ({
    name: 'p',
    workingDir: '/',
    files: [],
    services: Object.entries(deps).map(([name, d]) => ({ ...base, name, image: 'x', depends_on: Object.fromEntries(d.map((n) => [n, dep])) })),
    disabledServices: [],
    networks: {},
    volumes: {},
    warnings: [],
  });
  const p = project({ web: ['api'], api: ['db', 'cache'], worker: ['db'], db: [], cache: [] });
  assert.deepEqual(dependencyOrder(p), ['db', 'cache', 'api', 'web', 'worker']);
  assert.deepEqual(dependencyOrder(p, ['worker']), ['db', 'worker']);
  assert.throws(() => dependencyOrder(project({ a: ['b'], b: ['c'], c: ['a'] })), (err: unknown) => err instanceof ComposeModelError && /dependency cycle detected: a -> b -> c -> a/.test(err.message));
});
