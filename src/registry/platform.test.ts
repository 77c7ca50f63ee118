import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCode } from '../errors/index.js';
import { defaultPlatform, formatPlatform, parsePlatform, selectManifest, type Descriptor, type ImageIndex, type Platform } from './index.js';

test('defaultPlatform follows process.arch', () => {
  const p = defaultPlatform();
  assert.equal(p.os, 'linux');
  const expected: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', riscv64: 'riscv64' };
  if (expected[process.arch]) assert.equal(p.architecture, expected[process.arch]);
  if (process.arch === 'arm64') assert.equal(p.variant, 'v8');
  if (process.arch === 'x64') assert.equal(p.variant, undefined);
});

test('parsePlatform normalises like containerd', () => {
  const here = defaultPlatform();
  const cases: [string, Platform][] = [
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
    ['linux/x86_64', { os: 'linux', architecture: 'amd64' }],
    ['Linux/AMD64', { os: 'linux', architecture: 'amd64' }],
    ['linux/amd64/v1', { os: 'linux', architecture: 'amd64' }],
    ['linux/amd64/v3', { os: 'linux', architecture: 'amd64', variant: 'v3' }],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64' }],
    ['linux/aarch64', { os: 'linux', architecture: 'arm64' }],
    ['linux/arm64/v9', { os: 'linux', architecture: 'arm64', variant: 'v9' }],
    ['linux/arm', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/arm/v6', { os: 'linux', architecture: 'arm', variant: 'v6' }],
    ['linux/armhf', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/armel', { os: 'linux', architecture: 'arm', variant: 'v6' }],
    ['linux/i386', { os: 'linux', architecture: '386' }],
    ['windows/amd64', { os: 'windows', architecture: 'amd64' }],
    ['arm64', { os: here.os, architecture: 'arm64' }],
    ['s390x', { os: here.os, architecture: 's390x' }],
  ];
  for (const [input, want] of cases) assert.deepEqual(parsePlatform(input), want, input);
  // An OS alone means this machine's architecture.
  assert.equal(parsePlatform('linux').architecture, here.architecture);
  assert.equal(parsePlatform('windows').architecture, here.architecture);
  for (const bad of ['', 'linux/', 'foo', 'linux/foo', 'foo/amd64', 'linux/amd64/v1/x', 'linux/*', 'linux amd64']) {
    assert.throws(() => parsePlatform(bad), (err: unknown) => isCode(err, 'invalid_argument') && err.message.includes(`"${bad}"`), bad);
  }
});

test('formatPlatform', () => {
  assert.equal(formatPlatform({ os: 'linux', architecture: 'amd64' }), 'linux/amd64');
  assert.equal(formatPlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }), 'linux/arm64/v8');
});

const digestOf = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}` as const;
function entry(n: number, platform?: Platform, annotations?: Record<string, string>): Descriptor {
  const d: Descriptor = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(n), size: 100 };
  if (platform) d.platform = platform;
  if (annotations) d.annotations = annotations;
  return d;
}
const index = (...manifests: Descriptor[]): ImageIndex => ({ schemaVersion: 2, manifests });

test('selectManifest: exact os/arch, variants, fallbacks, attestations', () => {
  const amd64 = entry(1, { os: 'linux', architecture: 'amd64' });
  const arm64v8 = entry(2, { os: 'linux', architecture: 'arm64', variant: 'v8' });
  const armv7 = entry(3, { os: 'linux', architecture: 'arm', variant: 'v7' });
  const armv6 = entry(4, { os: 'linux', architecture: 'arm', variant: 'v6' });
  const i386 = entry(5, { os: 'linux', architecture: '386' });
  const arm64bare = entry(6, { os: 'linux', architecture: 'arm64' });
  const win = entry(7, { os: 'windows', architecture: 'amd64' });
  const attestation = entry(8, { os: 'unknown', architecture: 'unknown' }, {
    'vnd.docker.reference.type': 'attestation-manifest',
    'vnd.docker.reference.digest': digestOf(1),
  });
  const noPlatform = entry(9);

  const full = index(attestation, win, amd64, arm64v8, armv7, armv6, i386);
  assert.equal(selectManifest(full, { os: 'linux', architecture: 'amd64' }), amd64);
  assert.equal(selectManifest(full, { os: 'windows', architecture: 'amd64' }), win);
  // arm64 with or without v8 on either side is the same platform.
  assert.equal(selectManifest(full, { os: 'linux', architecture: 'arm64' }), arm64v8);
  assert.equal(selectManifest(full, { os: 'linux', architecture: 'arm64', variant: 'v8' }), arm64v8);
  assert.equal(selectManifest(index(arm64bare), { os: 'linux', architecture: 'arm64', variant: 'v8' }), arm64bare);
  // arm v7 prefers v7 over v6 regardless of order; v6 cannot run v7.
  assert.equal(selectManifest(index(armv6, armv7), { os: 'linux', architecture: 'arm', variant: 'v7' }), armv7);
  assert.equal(selectManifest(index(armv6, armv7), { os: 'linux', architecture: 'arm', variant: 'v6' }), armv6);
  assert.equal(selectManifest(index(armv7), { os: 'linux', architecture: 'arm' }), armv7, 'arm means arm/v7');
  // Fallbacks: amd64 runs 386, arm64 runs arm.
  assert.equal(selectManifest(index(i386, armv7), { os: 'linux', architecture: 'amd64' }), i386);
  assert.equal(selectManifest(index(armv6, armv7), { os: 'linux', architecture: 'arm64' }), armv7);
  // A platform-less entry is a last resort; an attestation never is.
  assert.equal(selectManifest(index(noPlatform, amd64), { os: 'linux', architecture: 'amd64' }), amd64);
  assert.equal(selectManifest(index(attestation, noPlatform), { os: 'linux', architecture: 's390x' }), noPlatform);
  // First of equals wins.
  const amd64b = entry(10, { os: 'linux', architecture: 'amd64' });
  assert.equal(selectManifest(index(amd64, amd64b), { os: 'linux', architecture: 'amd64' }), amd64);
});

test('selectManifest: nothing matching is not_found with docker message', () => {
  const only = index(
    entry(1, { os: 'linux', architecture: 'arm64', variant: 'v8' }),
    entry(2, { os: 'unknown', architecture: 'unknown' }, { 'vnd.docker.reference.type': 'attestation-manifest' }),
  );
  assert.throws(
    () => selectManifest(only, { os: 'linux', architecture: 'amd64' }),
    (err: unknown) => isCode(err, 'not_found') && err.message === 'no matching manifest for linux/amd64 in the manifest list entries',
  );
  assert.throws(
    () => selectManifest(index(entry(3, { os: 'linux', architecture: 'arm', variant: 'v7' })), { os: 'linux', architecture: 'arm', variant: 'v6' }),
    (err: unknown) => isCode(err, 'not_found') && err.message.includes('linux/arm/v6'),
  );
  assert.throws(() => selectManifest(index(), { os: 'linux', architecture: 'amd64' }), (err: unknown) => isCode(err, 'not_found'));
});
