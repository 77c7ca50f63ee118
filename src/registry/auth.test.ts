import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCode } from '../errors/index.js';
import { describeRegistryErrors, registryError } from './auth.js';
import { endpointFor, isInsecureRegistry, normalizeServerAddress, parseWwwAuthenticate } from './index.js';

const challengeCases: [string, { scheme: string; params: Record<string, string> }[]][] = [
  [
    'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:samalba/my-app:pull,push"',
    [
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:samalba/my-app:pull,push' },
      },
    ],
  ],
  ['Basic realm="basic-realm"', [{ scheme: 'basic', params: { realm: 'basic-realm' } }]],
  ['basic Realm=simple', [{ scheme: 'basic', params: { realm: 'simple' } }]],
  [
    'Bearer realm="http://127.0.0.1:1/t", scope="repository:a/b:pull" , service="svc"',
    [{ scheme: 'bearer', params: { realm: 'http://127.0.0.1:1/t', scope: 'repository:a/b:pull', service: 'svc' } }],
  ],
  [
    'Basic realm="a", Bearer realm="b",service="s"',
    [
      { scheme: 'basic', params: { realm: 'a' } },
      { scheme: 'bearer', params: { realm: 'b', service: 's' } },
    ],
  ],
  ['Negotiate, Basic realm="x"', [{ scheme: 'negotiate', params: {} }, { scheme: 'basic', params: { realm: 'x' } }]],
  ['Bearer realm="quo\\"ted,comma"', [{ scheme: 'bearer', params: { realm: 'quo"ted,comma' } }]],
  ['Bearer realm=http://h/t,scope=repository:x:pull', [{ scheme: 'bearer', params: { realm: 'http://h/t', scope: 'repository:x:pull' } }]],
  ['', []],
];

for (const [header, expected] of challengeCases) {
  test(`parseWwwAuthenticate(${JSON.stringify(header)})`, () => {
    assert.deepEqual(parseWwwAuthenticate(header), expected);
  });
}

test('registry error bodies map to codes and docker-style messages', () => {
  const body = (code: string, message: string) => JSON.stringify({ errors: [{ code, message, detail: null }] });
  const cases: [number, string, string, string][] = [
    [404, body('MANIFEST_UNKNOWN', 'manifest unknown'), 'not_found', 'manifest unknown: manifest unknown'],
    [404, body('NAME_UNKNOWN', 'repository name not known to registry'), 'not_found', 'name unknown: repository name not known to registry'],
    [404, body('BLOB_UNKNOWN', 'blob unknown to registry'), 'not_found', 'blob unknown: blob unknown to registry'],
    [401, body('UNAUTHORIZED', 'authentication required'), 'unauthorized', 'unauthorized: authentication required'],
    [403, body('DENIED', 'requested access to the resource is denied'), 'forbidden', 'denied: requested access to the resource is denied'],
    [429, body('TOOMANYREQUESTS', 'slow down'), 'unavailable', 'toomanyrequests: slow down'],
    [404, '', 'not_found', 'not found'],
    [401, 'not json', 'unauthorized', 'unauthorized: authentication required'],
    [502, '<html>', 'unavailable', 'unexpected status 502 from registry'],
    [400, body('NAME_INVALID', 'invalid repository name'), 'invalid_argument', 'name invalid: invalid repository name'],
    [418, '{}', 'internal', 'unexpected status 418 from registry'],
  ];
  for (const [status, text, code, message] of cases) {
    const err = registryError(status, text);
    assert.ok(isCode(err, code as never), `${status} ${text} -> ${err.code}`);
    assert.equal(err.message, message);
  }
  assert.deepEqual(describeRegistryErrors(body('DENIED', 'no'))?.first, { code: 'DENIED', message: 'no' });
  assert.equal(describeRegistryErrors('{"details":"incorrect username or password"}')?.text, 'incorrect username or password');
});

test('endpoints: Docker Hub, loopback over http, insecure list, https otherwise', () => {
  assert.equal(endpointFor('docker.io', []), 'https://registry-1.docker.io');
  assert.equal(endpointFor('index.docker.io', []), 'https://registry-1.docker.io');
  assert.equal(endpointFor('localhost:5000', []), 'http://localhost:5000');
  assert.equal(endpointFor('localhost', []), 'http://localhost');
  assert.equal(endpointFor('127.0.0.1:5000', []), 'http://127.0.0.1:5000');
  assert.equal(endpointFor('127.3.4.5', []), 'http://127.3.4.5');
  assert.equal(endpointFor('[::1]:5000', []), 'http://[::1]:5000');
  assert.equal(endpointFor('reg.example:5000', []), 'https://reg.example:5000');
  assert.equal(endpointFor('reg.example:5000', ['reg.example:5000']), 'http://reg.example:5000');
  assert.equal(endpointFor('reg.example:5001', ['reg.example:5000']), 'https://reg.example:5001');
  assert.equal(endpointFor('10.1.2.3:5000', ['10.0.0.0/8']), 'http://10.1.2.3:5000');
  assert.equal(endpointFor('11.1.2.3:5000', ['10.0.0.0/8']), 'https://11.1.2.3:5000');
  assert.ok(!isInsecureRegistry('128.0.0.1', []));
  assert.ok(!isInsecureRegistry('localhost.example', []));
});

test('login server addresses normalise like docker login', () => {
  assert.equal(normalizeServerAddress('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(normalizeServerAddress('index.docker.io'), 'docker.io');
  assert.equal(normalizeServerAddress(''), 'docker.io');
  assert.equal(normalizeServerAddress('http://localhost:5000/'), 'localhost:5000');
  assert.equal(normalizeServerAddress('127.0.0.1:5000'), '127.0.0.1:5000');
});
