import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCode } from '../errors/index.js';
import { boolValue, decodeRegistryAuth, parseFilters } from './request.js';
import { compareVersions, negotiateVersion } from './apiversion.js';
import { pullReference } from './routes/images.js';

test('boolValue follows dockerd: only "", 0, no, false, none are false', () => {
  const q = new URLSearchParams('a=1&b=true&c=True&d=0&e=false&f=no&g=none&h=yes&i=');
  assert.deepEqual(
    ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'missing'].map((k) => boolValue(q, k)),
    [true, true, true, false, false, false, false, true, false, false],
  );
});

test('parseFilters accepts the list and legacy map forms and rejects the rest', () => {
  assert.deepEqual(parseFilters(null), {});
  assert.deepEqual(parseFilters(''), {});
  assert.deepEqual(parseFilters('{"dangling":["true"],"label":["a","b=c"]}'), { dangling: ['true'], label: ['a', 'b=c'] });
  assert.deepEqual(parseFilters('{"dangling":{"true":true,"false":false}}'), { dangling: ['true'] });
  assert.deepEqual(parseFilters('{"label":[]}', ['dangling']), {}, 'an empty filter is no filter');
  for (const bad of ['{', '[]', '"x"', '{"a":1}', '{"a":[1]}']) {
    assert.throws(() => parseFilters(bad), (e) => isCode(e, 'invalid_argument'), bad);
  }
  assert.throws(() => parseFilters('{"colour":["red"]}', ['dangling']), /invalid filter 'colour'/);
});

test('decodeRegistryAuth: base64url, standard base64, unpadded, `auth` field, empty', () => {
  const cfg = { username: 'u>?', password: 'p?>~', serveraddress: 'r:5000' };
  const json = JSON.stringify(cfg);
  assert.deepEqual(decodeRegistryAuth(Buffer.from(json).toString('base64url')), cfg);
  assert.deepEqual(decodeRegistryAuth(Buffer.from(json).toString('base64')), cfg);
  assert.deepEqual(decodeRegistryAuth(Buffer.from(json).toString('base64').replace(/=+$/, '')), cfg);
  const viaAuth = JSON.stringify({ auth: Buffer.from('bob:pa:ss').toString('base64'), serveraddress: 'r' });
  assert.deepEqual(decodeRegistryAuth(Buffer.from(viaAuth).toString('base64url')), { username: 'bob', password: 'pa:ss', serveraddress: 'r' });
  const token = JSON.stringify({ identitytoken: 'tok' });
  assert.deepEqual(decodeRegistryAuth(Buffer.from(token).toString('base64url')), { identitytoken: 'tok' });
  assert.equal(decodeRegistryAuth(undefined), undefined);
  assert.equal(decodeRegistryAuth(''), undefined);
  assert.equal(decodeRegistryAuth('e30='), undefined, '{} carries no credentials');
  assert.throws(() => decodeRegistryAuth('bm90IGpzb24'), (e) => isCode(e, 'invalid_argument'));
});

test('pullReference combines fromImage and tag like dockerd', () => {
  assert.equal(pullReference('alpine', 'latest'), 'alpine:latest');
  assert.equal(pullReference('docker.io/library/alpine', '3'), 'docker.io/library/alpine:3');
  assert.equal(pullReference('alpine:3.18', '3.19'), 'alpine:3.19', 'tag takes precedence');
  assert.equal(pullReference('localhost:5000/ns/app', '1'), 'localhost:5000/ns/app:1', 'a port is not a tag');
  assert.equal(pullReference('localhost:5000/ns/app:2', null), 'localhost:5000/ns/app:2');
  const d = `sha256:${'a'.repeat(64)}`;
  assert.equal(pullReference('alpine', d), `alpine@${d}`);
  assert.equal(pullReference(`alpine@${d}`, 'latest'), `alpine@${d}`, 'a digest in fromImage wins');
  assert.equal(pullReference('alpine:', ''), 'alpine');
});

test('version comparison is numeric and negotiation bounds are 1.24..1.50', () => {
  assert.equal(compareVersions('1.9', '1.10'), -1);
  assert.equal(compareVersions('1.50', '1.50.0'), 0);
  assert.equal(negotiateVersion(undefined), '1.50');
  assert.equal(negotiateVersion('1.24'), '1.24');
  assert.throws(() => negotiateVersion('1.23'), /too old/);
  assert.throws(() => negotiateVersion('1.51'), /too new/);
  assert.throws(() => negotiateVersion('2.0'), /too new/);
});
