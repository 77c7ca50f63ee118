// docs/compatibility.md can't go stale: the status table must name exactly
// the swagger's operations, agree with the routes buildRouter registers, and
// the doc must be what renderCompatibility() renders from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { EventBus } from '../events/index.js';
import type { NetworkService } from '../network/index.js';
import type { VolumeService } from '../volume/index.js';
import { API_VERSION } from './apiversion.js';
import {
  CLIENTS_VERIFIED,
  ENDPOINT_STATUS,
  ENDPOINTS_BY_TAG,
  EXTRA_ROUTES,
  renderCompatibility,
  scanSwaggerOperations,
  splitKey,
} from './compat.js';
import { FakeContainerService, FakeImageService, FakeRegistry } from './fakes.js';
import { Router, type Handler } from './router.js';
import type { BuildService } from './routes/build.js';
import type { ExecService } from './routes/exec.js';
import { buildRouter } from './server.js';
import { createSystemInfo } from './sysinfo.js';

/** The package root: this file runs from dist/src/daemon/. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The Engine API spec berth implements, vendored (from the shared specs) so the check runs anywhere. */
const SWAGGER = join(ROOT, 'docs', 'api', `engine-api-v${API_VERSION}.yaml`);

const swaggerText = () => readFile(SWAGGER, 'utf8');
const keyOf = (op: { method: string; path: string }) => `${op.method} ${op.path}`;
/** `{name:.*}` → `{name}`: berth's templates carry gorilla/mux patterns, the swagger's don't. */
const plainTemplate = (path: string) => path.replace(/\{([A-Za-z_]+):[^}]*\}/g, '{$1}');
/** A request path for a template; image names get slashes and a port, as real ones do. */
const concretePath = (path: string) =>
  path.replace(/\{([A-Za-z_]+)(?::[^}]*)?\}/g, (_, name: string) => (path.startsWith('/images/') && name === 'name' ? 'localhost:5000/ns/app:1' : `sample-${name}`));

/** The router the daemon builds, with every optional service present so every route is registered. */
function daemonRouter(): Router {
  const images = new FakeImageService();
  // Registration only stores handlers; these services are never called (no request is dispatched).
  const unused = <T>() => ({}) as T;
  return buildRouter({
    images,
    containers: new FakeContainerService(images),
    registry: new FakeRegistry(),
    system: createSystemInfo({ root: '/nonexistent', insecureRegistries: [], images }),
    exec: unused<ExecService>(),
    volumes: unused<VolumeService>(),
    events: unused<EventBus>(),
    networks: unused<NetworkService>(),
    builder: unused<BuildService>(),
  });
}

test('the swagger scanner reads paths, methods and first tags, and nothing outside paths', () => {
  const yaml = [
    'swagger: "2.0"',
    'definitions:',
    '  Thing:',
    '    get:',
    '      tags: ["NotAnOperation"]',
    'paths:',
    '  /things/{id}/json:',
    '    parameters:',
    '      - name: id',
    '    get:',
    '      summary: "Inspect"',
    '      description: |',
    '        Looks like a key but is text:',
    '          post:',
    '      tags: ["Thing", "Other"]',
    '    delete:',
    '      tags:',
    '        - "Plugin"',
    '        - "Second"',
    '      responses:',
    '        200:',
    '          description: ok',
    '  "/quoted":',
    '    head:',
    '      tags: [\'Q\']',
    '# a comment at column 0 does not end the section',
    '  /untagged:',
    '    put:',
    '      summary: x',
    'tags:',
    '  - name: "Thing"',
    '  /not-a-path:',
    '    post:',
  ].join('\n');
  assert.deepEqual(scanSwaggerOperations(yaml), [
    { method: 'GET', path: '/things/{id}/json', tag: 'Thing' },
    { method: 'DELETE', path: '/things/{id}/json', tag: 'Plugin' },
    { method: 'HEAD', path: '/quoted', tag: 'Q' },
    { method: 'PUT', path: '/untagged', tag: '' },
  ]);
});

test('the scanner agrees with a YAML parser on the Engine API swagger', async () => {
  const text = await swaggerText();
  const doc = parseYaml(text) as { info: { version: string }; paths: Record<string, Record<string, { tags?: string[] }>> };
  assert.equal(doc.info.version, API_VERSION, 'the swagger read is for the API version berth serves');
  const expected = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([method]) => method !== 'parameters')
      .map(([method, op]) => ({ method: method.toUpperCase(), path, tag: op.tags?.[0] ?? '' })),
  );
  assert.ok(expected.length > 100, `only ${expected.length} operations parsed`);
  assert.deepEqual(scanSwaggerOperations(text), expected);
});

test('ENDPOINT_STATUS has every swagger operation, no other, grouped by tag in swagger order', async () => {
  const ops = scanSwaggerOperations(await swaggerText());
  const swaggerKeys = ops.map(keyOf);
  const tableKeys = Object.keys(ENDPOINT_STATUS);
  assert.deepEqual(
    swaggerKeys.filter((k) => !(k in ENDPOINT_STATUS)),
    [],
    'swagger operations missing from ENDPOINT_STATUS',
  );
  assert.deepEqual(
    tableKeys.filter((k) => !swaggerKeys.includes(k)),
    [],
    'ENDPOINT_STATUS entries the swagger lacks',
  );
  // Tags in the order the swagger first uses them, operations in swagger order within each.
  const grouped = new Map<string, string[]>();
  for (const op of ops) grouped.set(op.tag, [...(grouped.get(op.tag) ?? []), keyOf(op)]);
  assert.deepEqual(
    Object.entries(ENDPOINTS_BY_TAG).map(([tag, table]) => [tag, Object.keys(table)]),
    [...grouped.entries()],
  );
  for (const [key, s] of Object.entries(ENDPOINT_STATUS)) {
    assert.ok(['full', 'partial', 'none'].includes(s.status), key);
    if (s.status === 'partial') assert.ok(s.note, `${key} is partial: say what is missing`);
  }
});

test('the table agrees with the routes the daemon registers', () => {
  const router = daemonRouter();
  const registered = router.routes();
  // A twin router with the same templates in the same order says which template serves a request.
  const twin = new Router();
  const templateOf = new Map<Handler, string>();
  for (const r of registered) {
    const handler: Handler = () => undefined;
    templateOf.set(handler, r.path);
    twin.add(r.method, r.path, handler);
  }
  const registeredKeys = new Set(registered.map((r) => `${r.method} ${plainTemplate(r.path)}`));

  for (const [key, { status }] of Object.entries(ENDPOINT_STATUS)) {
    const { method, path } = splitKey(key);
    const request = concretePath(path);
    if (status === 'none') {
      assert.ok(!registeredKeys.has(key), `${key} is marked none but berth registers it`);
      assert.equal(router.match(method, request), undefined, `${key} is marked none but ${method} ${request} is served`);
    } else {
      assert.ok(registeredKeys.has(key), `${key} is marked ${status} but berth registers no such route`);
      const served = twin.match(method, request);
      assert.ok(served, `${method} ${request} finds no route`);
      assert.equal(plainTemplate(templateOf.get(served.handler) as string), path, `${method} ${request} is served by another route`);
      assert.ok(router.match(method, request), `${method} ${request}`);
    }
  }
  // Every route berth serves is documented: in the table as served, or listed as an extra.
  for (const key of registeredKeys) {
    if (key in EXTRA_ROUTES) {
      assert.ok(!(key in ENDPOINT_STATUS), `${key} is in the swagger: document it in ENDPOINT_STATUS, not EXTRA_ROUTES`);
    } else {
      assert.notEqual(ENDPOINT_STATUS[key]?.status ?? 'none', 'none', `berth registers ${key}, which the doc does not list as served`);
    }
  }
  for (const key of Object.keys(EXTRA_ROUTES)) assert.ok(registeredKeys.has(key), `EXTRA_ROUTES lists ${key}, which berth does not register`);
});

test('Router.routes() lists what was added, in order, with the original templates', () => {
  const r = new Router().get('/images/{name:.*}/json', () => undefined).add('PUT', '/containers/{id}/archive', () => undefined);
  assert.deepEqual(r.routes(), [
    { method: 'GET', path: '/images/{name:.*}/json' },
    { method: 'PUT', path: '/containers/{id}/archive' },
  ]);
});

test('the verified clients name test files that exist', async () => {
  assert.ok(CLIENTS_VERIFIED.length > 0);
  for (const c of CLIENTS_VERIFIED) {
    assert.ok(c.tests.length > 0, c.client);
    for (const file of c.tests) await access(`${ROOT}${file}`).catch(() => assert.fail(`${c.client}: ${file} does not exist`));
  }
});

test('docs/compatibility.md is the rendered table (regenerate: npx tsc && node scripts/gen-compat.mjs)', async () => {
  const doc = await readFile(`${ROOT}docs/compatibility.md`, 'utf8');
  const rendered = renderCompatibility();
  for (const key of Object.keys(ENDPOINT_STATUS)) assert.ok(rendered.includes(`| \`${key}\` |`), `${key} is not rendered`);
  assert.equal(doc, rendered);
});
