import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessFor } from './http.js';
import { libtrustKeyId, parseCertBundle, TokenAuth, type Access } from './token.js';

interface Issuer {
  key: KeyObject;
  cert: X509Certificate;
  pem: string;
}

/** A self-signed certificate and its key, made by openssl in a temp dir. */
function makeIssuer(t: TestContext, kind: 'rsa' | 'ec'): Issuer {
  const dir = mkdtempSync(join(tmpdir(), 'berth-token-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const newkey = kind === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  execFileSync('openssl', ['req', '-x509', ...newkey, '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=test-issuer'], { stdio: 'ignore' });
  const pem = readFileSync(join(dir, 'c.pem'), 'utf8');
  return { key: createPrivateKey(readFileSync(join(dir, 'k.pem'))), cert: new X509Certificate(pem), pem };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function token(issuer: Issuer, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const ec = issuer.key.asymmetricKeyType === 'ec';
  const h = { typ: 'JWT', alg: ec ? 'ES256' : 'RS256', x5c: [issuer.cert.raw.toString('base64')], ...header };
  const input = `${b64(h)}.${b64(claims)}`;
  const sig = sign('sha256', Buffer.from(input), ec ? { key: issuer.key, dsaEncoding: 'ieee-p1363' } : issuer.key);
  return `${input}.${sig.toString('base64url')}`;
}

const now = () => Math.floor(Date.now() / 1000);
const pull: Access = { type: 'repository', name: 'team/app', actions: ['pull'] };
const push: Access = { type: 'repository', name: 'team/app', actions: ['pull', 'push'] };
const claims = (access: Access[], extra: Record<string, unknown> = {}) => ({ iss: 'iss', aud: 'svc', sub: 'alice', exp: now() + 300, nbf: now() - 5, access, ...extra });

function auth(roots: Issuer[]): TokenAuth {
  return new TokenAuth({ realm: 'http://127.0.0.1:1/token', service: 'svc', issuer: 'iss', roots: roots.map((r) => r.cert) });
}

test('a token from a trusted issuer grants what its access claim says, and no more', (t) => {
  const issuer = makeIssuer(t, 'rsa');
  const a = auth([issuer]);
  const bearer = `Bearer ${token(issuer, claims([pull]))}`;
  const ok = a.authorize(bearer, [pull]);
  assert.ok(ok.ok);
  assert.equal(ok.subject, 'alice');
  assert.equal(ok.granted({ type: 'repository', name: 'other', actions: ['pull'] }), false);
  const denied = a.authorize(bearer, [push]);
  assert.ok(!denied.ok);
  assert.match(denied.challenge, /^Bearer realm="http:\/\/127\.0\.0\.1:1\/token",service="svc",scope="repository:team\/app:pull,push",error="insufficient_scope"$/);
  // '*' grants every action
  assert.ok(a.authorize(`Bearer ${token(issuer, claims([{ type: 'repository', name: 'team/app', actions: ['*'] }]))}`, [push]).ok);
});

test('no token: a challenge naming realm, service and the scope needed', (t) => {
  const a = auth([makeIssuer(t, 'rsa')]);
  const d = a.authorize(undefined, [pull]);
  assert.ok(!d.ok);
  assert.equal(d.challenge, 'Bearer realm="http://127.0.0.1:1/token",service="svc",scope="repository:team/app:pull"');
  const basic = a.authorize('Basic YTpi', []);
  assert.ok(!basic.ok);
  assert.equal(basic.challenge, 'Bearer realm="http://127.0.0.1:1/token",service="svc"');
});

test('bad tokens are refused as invalid_token: wrong issuer, audience, expired, not yet valid, tampered, untrusted, alg none, garbage', (t) => {
  const issuer = makeIssuer(t, 'rsa');
  const stranger = makeIssuer(t, 'rsa');
  const a = auth([issuer]);
  const refused = (tok: string, why: RegExp) => {
    const d = a.authorize(`Bearer ${tok}`, [pull]);
    assert.ok(!d.ok, `accepted: ${why}`);
    assert.match(d.message, why);
    assert.match(d.challenge, /error="invalid_token"$/);
  };
  refused(token(issuer, claims([pull], { iss: 'other' })), /issuer/);
  refused(token(issuer, claims([pull], { aud: 'other' })), /audience/);
  assert.ok(a.authorize(`Bearer ${token(issuer, claims([pull], { aud: ['x', 'svc'] }))}`, [pull]).ok, 'an audience list holding the service');
  refused(token(issuer, claims([pull], { exp: now() - 120 })), /expired/);
  refused(token(issuer, claims([pull], { exp: undefined })), /expired/);
  refused(token(issuer, claims([pull], { nbf: now() + 600 })), /not valid yet/);
  const good = token(issuer, claims([pull]));
  const [h, , s] = good.split('.');
  refused(`${h}.${b64(claims([push]))}.${s}`, /signature/);
  refused(token(stranger, claims([pull])), /untrusted/);
  // a stranger's key presented with the trusted certificate: the signature fails
  refused(token({ ...stranger, cert: issuer.cert }, claims([pull])), /signature/);
  refused(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims([pull]))}.`, /algorithm/);
  refused(token(issuer, claims([pull]), { x5c: undefined }), /no signing key/);
  refused('not-a-jwt', /malformed/);
  refused('a.b.c', /malformed/);
});

test('kid: a token naming a trusted certificate by its libtrust key ID (ES256)', (t) => {
  const issuer = makeIssuer(t, 'ec');
  const a = auth([issuer]);
  const kid = libtrustKeyId(issuer.cert.publicKey);
  assert.match(kid, /^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
  assert.ok(a.authorize(`Bearer ${token(issuer, claims([pull]), { x5c: undefined, kid })}`, [pull]).ok);
  const d = a.authorize(`Bearer ${token(issuer, claims([pull]), { x5c: undefined, kid: 'AAAA:' + kid.slice(5) })}`, [pull]);
  assert.ok(!d.ok);
  assert.match(d.message, /unknown key/);
});

test('parseCertBundle reads every certificate and refuses a file without one', (t) => {
  const one = makeIssuer(t, 'rsa');
  const two = makeIssuer(t, 'ec');
  assert.equal(parseCertBundle(`${one.pem}\n${two.pem}`).length, 2);
  assert.throws(() => parseCertBundle('nothing here'), /no PEM certificate/);
});

test('accessFor: what each request needs under token auth', () => {
  assert.deepEqual(accessFor('GET', '/v2/'), []);
  assert.deepEqual(accessFor('GET', '/v2/_catalog'), [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
  assert.deepEqual(accessFor('HEAD', '/v2/a/b/manifests/latest'), [{ type: 'repository', name: 'a/b', actions: ['pull'] }]);
  assert.deepEqual(accessFor('GET', '/v2/a/tags/list'), [{ type: 'repository', name: 'a', actions: ['pull'] }]);
  assert.deepEqual(accessFor('PUT', '/v2/a/manifests/v1'), [{ type: 'repository', name: 'a', actions: ['pull', 'push'] }]);
  assert.deepEqual(accessFor('POST', '/v2/a/blobs/uploads/'), [{ type: 'repository', name: 'a', actions: ['pull', 'push'] }]);
  assert.deepEqual(accessFor('DELETE', '/v2/a/blobs/uploads/u1'), [{ type: 'repository', name: 'a', actions: ['pull', 'push'] }]);
  assert.deepEqual(accessFor('DELETE', '/v2/a/manifests/sha256:00'), [{ type: 'repository', name: 'a', actions: ['delete'] }]);
});
