import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCode } from '../errors/index.js';
import {
  familiarName,
  familiarString,
  formatReference,
  fullName,
  isFullId,
  isShortIdPrefix,
  isValidTag,
  parseNormalizedNamed,
  parseReference,
  parseRepositoryName,
  sameRepository,
  tagNameOnly,
  trimNamed,
  withDigest,
  withTag,
} from './index.js';

const D = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'0123456789abcdef'.repeat(4)}`;

// input -> [domain, path, tag, digest, familiarString, formatReference] after parseReference
const valid: [string, string, string, string | undefined, string | undefined, string, string][] = [
  ['busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'busybox:latest', 'docker.io/library/busybox:latest'],
  ['busybox:1.36', 'docker.io', 'library/busybox', '1.36', undefined, 'busybox:1.36', 'docker.io/library/busybox:1.36'],
  ['library/busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'busybox:latest', 'docker.io/library/busybox:latest'],
  ['docker.io/busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'busybox:latest', 'docker.io/library/busybox:latest'],
  ['docker.io/library/busybox:x', 'docker.io', 'library/busybox', 'x', undefined, 'busybox:x', 'docker.io/library/busybox:x'],
  ['index.docker.io/busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'busybox:latest', 'docker.io/library/busybox:latest'],
  ['index.docker.io/user/app:v1', 'docker.io', 'user/app', 'v1', undefined, 'user/app:v1', 'docker.io/user/app:v1'],
  ['user/app', 'docker.io', 'user/app', 'latest', undefined, 'user/app:latest', 'docker.io/user/app:latest'],
  ['user/nested/app', 'docker.io', 'user/nested/app', 'latest', undefined, 'user/nested/app:latest', 'docker.io/user/nested/app:latest'],
  ['library/nested/app', 'docker.io', 'library/nested/app', 'latest', undefined, 'library/nested/app:latest', 'docker.io/library/nested/app:latest'],
  ['localhost/foo', 'localhost', 'foo', 'latest', undefined, 'localhost/foo:latest', 'localhost/foo:latest'],
  ['localhost:5000/x:1', 'localhost:5000', 'x', '1', undefined, 'localhost:5000/x:1', 'localhost:5000/x:1'],
  ['127.0.0.1:5000/ns/name:tag', '127.0.0.1:5000', 'ns/name', 'tag', undefined, '127.0.0.1:5000/ns/name:tag', '127.0.0.1:5000/ns/name:tag'],
  ['registry.example:443/a/b/c', 'registry.example:443', 'a/b/c', 'latest', undefined, 'registry.example:443/a/b/c:latest', 'registry.example:443/a/b/c:latest'],
  ['[::1]:5000/foo', '[::1]:5000', 'foo', 'latest', undefined, '[::1]:5000/foo:latest', '[::1]:5000/foo:latest'],
  ['Upper.Host/foo', 'Upper.Host', 'foo', 'latest', undefined, 'Upper.Host/foo:latest', 'Upper.Host/foo:latest'],
  ['UPPER/foo', 'UPPER', 'foo', 'latest', undefined, 'UPPER/foo:latest', 'UPPER/foo:latest'],
  [`busybox@${D}`, 'docker.io', 'library/busybox', undefined, D, `busybox@${D}`, `docker.io/library/busybox@${D}`],
  [`busybox:1@${D}`, 'docker.io', 'library/busybox', '1', D, `busybox:1@${D}`, `docker.io/library/busybox:1@${D}`],
  [`localhost:5000/x@${D2}`, 'localhost:5000', 'x', undefined, D2, `localhost:5000/x@${D2}`, `localhost:5000/x@${D2}`],
  ['a_b__c-d---e/f.g', 'docker.io', 'a_b__c-d---e/f.g', 'latest', undefined, 'a_b__c-d---e/f.g:latest', 'docker.io/a_b__c-d---e/f.g:latest'],
  ['foo:Tag_1.2-x', 'docker.io', 'library/foo', 'Tag_1.2-x', undefined, 'foo:Tag_1.2-x', 'docker.io/library/foo:Tag_1.2-x'],
  [`foo:${'t'.repeat(128)}`, 'docker.io', 'library/foo', 't'.repeat(128), undefined, `foo:${'t'.repeat(128)}`, `docker.io/library/foo:${'t'.repeat(128)}`],
  // A short hex string is a valid name too (docker looks it up as an ID first).
  ['abcdef123456', 'docker.io', 'library/abcdef123456', 'latest', undefined, 'abcdef123456:latest', 'docker.io/library/abcdef123456:latest'],
];

for (const [input, domain, path, tag, digest, familiar, full] of valid) {
  test(`parseReference(${JSON.stringify(input)})`, () => {
    const ref = parseReference(input);
    assert.equal(ref.domain, domain);
    assert.equal(ref.path, path);
    assert.equal(ref.tag, tag);
    assert.equal(ref.digest, digest);
    assert.equal(familiarString(ref), familiar);
    assert.equal(formatReference(ref), full);
    assert.equal(fullName(ref), `${domain}/${path}`);
    // Round trip: the familiar form parses back to the same reference.
    assert.deepEqual(parseReference(familiar), ref);
    assert.deepEqual(parseReference(full), ref);
  });
}

// input -> exact message (all are invalid_argument)
const invalid: [string, string][] = [
  ['', 'invalid reference format'],
  ['a_b.c/g', 'invalid reference format'],
  ['Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase'],
  ['busybox/Foo:tag', 'invalid reference format: repository name (busybox/Foo) must be lowercase'],
  ['localhost:5000/Foo', 'invalid reference format: repository name (Foo) must be lowercase'],
  ['a'.repeat(64), `invalid repository name (${'a'.repeat(64)}), cannot specify 64-byte hexadecimal strings`],
  ['foo bar', 'invalid reference format'],
  ['foo:', 'invalid reference format'],
  [':tag', 'invalid reference format'],
  ['foo::bar', 'invalid reference format'],
  ['foo:-tag', 'invalid reference format'],
  [`foo:${'t'.repeat(129)}`, 'invalid reference format'],
  ['foo@sha256:abc', 'invalid reference format'],
  ['foo@', 'invalid reference format'],
  ['-foo', 'invalid reference format'],
  ['foo-', 'invalid reference format'],
  ['foo..bar', 'invalid reference format'],
  ['foo//bar', 'invalid reference format'],
  ['foo/', 'invalid reference format'],
  ['/foo', 'invalid reference format'],
  ['localhost:port/foo', 'invalid reference format'],
  ['https://host/foo', 'invalid reference format'],
  [`foo@sha512:${'a'.repeat(128)}`, `unsupported digest algorithm: sha512:${'a'.repeat(128)}`],
  [`foo@sha256:${'a'.repeat(63)}`, `invalid checksum digest format: sha256:${'a'.repeat(63)}`],
  [`foo@sha256:${'A'.repeat(64)}`, `invalid checksum digest format: sha256:${'A'.repeat(64)}`],
  [`${'a'.repeat(250)}/bbbbb`, 'invalid reference format: repository name must not be more than 255 characters'],
];

for (const [input, message] of invalid) {
  test(`parseReference rejects ${JSON.stringify(input.length > 40 ? input.slice(0, 40) + '...' : input)}`, () => {
    assert.throws(
      () => parseReference(input),
      (err: unknown) => isCode(err, 'invalid_argument') && err.message === message,
    );
  });
}

test('parseNormalizedNamed keeps a name-only reference name-only; tagNameOnly adds latest', () => {
  const ref = parseNormalizedNamed('busybox');
  assert.deepEqual(ref, { domain: 'docker.io', path: 'library/busybox' });
  assert.equal(familiarString(ref), 'busybox');
  assert.deepEqual(tagNameOnly(ref), { domain: 'docker.io', path: 'library/busybox', tag: 'latest' });
  const pinned = parseNormalizedNamed(`busybox@${D}`);
  assert.equal(tagNameOnly(pinned).tag, undefined, 'a digest reference gets no tag');
});

test('parseRepositoryName accepts names only', () => {
  assert.deepEqual(parseRepositoryName('localhost:5000/app'), { domain: 'localhost:5000', path: 'app' });
  assert.deepEqual(parseRepositoryName('busybox'), { domain: 'docker.io', path: 'library/busybox' });
  for (const bad of ['busybox:latest', `busybox@${D}`]) {
    assert.throws(
      () => parseRepositoryName(bad),
      (err: unknown) => isCode(err, 'invalid_argument') && /must not include a tag or digest/.test(err.message),
    );
  }
  assert.throws(() => parseRepositoryName('Busybox'), (err: unknown) => isCode(err, 'invalid_argument'));
});

test('familiarName', () => {
  assert.equal(familiarName(parseReference('busybox:1')), 'busybox');
  assert.equal(familiarName(parseReference('user/app')), 'user/app');
  assert.equal(familiarName(parseReference('localhost:5000/x:1')), 'localhost:5000/x');
  assert.equal(familiarName(parseReference('library/a/b')), 'library/a/b');
});

test('withTag, withDigest, trimNamed, sameRepository', () => {
  const ref = parseReference(`busybox:1@${D}`);
  assert.deepEqual(withTag(ref, 'v2'), { domain: 'docker.io', path: 'library/busybox', tag: 'v2' });
  assert.throws(() => withTag(ref, 'bad tag'), (err: unknown) => isCode(err, 'invalid_argument'));
  assert.throws(() => withTag(ref, ''), (err: unknown) => isCode(err, 'invalid_argument'));
  assert.deepEqual(withDigest(parseReference('busybox'), D2), {
    domain: 'docker.io',
    path: 'library/busybox',
    tag: 'latest',
    digest: D2,
  });
  assert.throws(() => withDigest(ref, 'sha256:zz'), (err: unknown) => isCode(err, 'invalid_argument'));
  assert.deepEqual(trimNamed(ref), { domain: 'docker.io', path: 'library/busybox' });
  assert.ok(sameRepository(ref, parseReference('docker.io/library/busybox:other')));
  assert.ok(!sameRepository(ref, parseReference('localhost/busybox')));
});

test('tag validity', () => {
  for (const t of ['latest', '1.0', 'a_b-c.d', '_x', 'A', 'x'.repeat(128)]) assert.ok(isValidTag(t), t);
  for (const t of ['', '.x', '-x', 'a:b', 'a/b', 'x'.repeat(129)]) assert.ok(!isValidTag(t), t);
});

test('ID detection', () => {
  const hex = 'f'.repeat(64);
  assert.ok(isFullId(hex));
  assert.ok(isFullId(`sha256:${hex}`));
  assert.ok(!isFullId(hex.slice(1)));
  assert.ok(!isFullId('F'.repeat(64)));
  assert.ok(isShortIdPrefix('abcdef'));
  assert.ok(isShortIdPrefix('sha256:abcdef12'));
  assert.ok(isShortIdPrefix(hex));
  assert.ok(!isShortIdPrefix('abcde'), 'fewer than 6 characters is not an ID prefix');
  assert.ok(!isShortIdPrefix('busybox'));
});
