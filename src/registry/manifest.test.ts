import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCode } from '../errors/index.js';
import { MediaType, parseManifest, sniffManifestMediaType } from './index.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const enc = (v: unknown) => Buffer.from(JSON.stringify(v));

const manifest = {
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  config: { mediaType: MediaType.OciConfig, digest: D1, size: 10 },
  layers: [{ mediaType: MediaType.OciLayerGzip, digest: D2, size: 0 }],
};
const index = {
  schemaVersion: 2,
  mediaType: MediaType.OciIndex,
  manifests: [{ mediaType: MediaType.OciManifest, digest: D1, size: 5, platform: { os: 'linux', architecture: 'amd64' } }],
};

test('parseManifest decodes manifests and indexes', () => {
  const m = parseManifest(enc(manifest), MediaType.OciManifest);
  assert.equal(m.kind, 'manifest');
  assert.ok(m.kind === 'manifest' && m.manifest.layers[0]?.digest === D2);

  const i = parseManifest(enc(index), MediaType.OciIndex);
  assert.ok(i.kind === 'index' && i.index.manifests[0]?.platform?.architecture === 'amd64');

  const list = { ...index, mediaType: MediaType.DockerManifestList };
  assert.equal(parseManifest(enc(list), MediaType.DockerManifestList).kind, 'index');
  const docker = { ...manifest, mediaType: MediaType.DockerManifest };
  assert.equal(parseManifest(enc(docker), MediaType.DockerManifest).kind, 'manifest');
});

test('parseManifest: without a mediaType field, the given type or the shape decides', () => {
  const { mediaType: _m, ...bareManifest } = manifest;
  const { mediaType: _i, ...bareIndex } = index;
  assert.equal(parseManifest(enc(bareManifest), MediaType.OciManifest).kind, 'manifest');
  assert.equal(parseManifest(enc(bareIndex), MediaType.OciIndex).kind, 'index');
  assert.equal(parseManifest(enc(bareIndex), 'application/json').kind, 'index');
  assert.equal(parseManifest(enc(bareManifest), 'application/octet-stream').kind, 'manifest');
  assert.equal(sniffManifestMediaType(enc(bareIndex), 'application/json'), MediaType.OciIndex);
  assert.equal(sniffManifestMediaType(enc(bareManifest), ''), MediaType.OciManifest);
  assert.equal(sniffManifestMediaType(enc(manifest), MediaType.DockerManifest), MediaType.OciManifest, 'own field wins');
  assert.equal(sniffManifestMediaType(enc(bareManifest), MediaType.DockerManifest), MediaType.DockerManifest);
  assert.equal(sniffManifestMediaType(Buffer.from('nope'), 'x/y'), 'x/y');
});

test('parseManifest rejects invalid documents with clear invalid_argument errors', () => {
  const cases: [unknown, RegExp][] = [
    ['{not json', /^invalid manifest: malformed JSON/],
    [[1, 2], /not a JSON object/],
    [{ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }, /^unsupported manifest schema1/],
    [{ ...manifest, schemaVersion: 3 }, /unsupported schemaVersion 3/],
    [{ ...manifest, schemaVersion: undefined }, /unsupported schemaVersion/],
    [{ ...manifest, config: { ...manifest.config, digest: 'sha256:abc' } }, /config\.digest "sha256:abc" is not a valid sha256 digest/],
    [{ ...manifest, config: { ...manifest.config, digest: `sha512:${'a'.repeat(128)}` } }, /unsupported digest algorithm sha512/],
    [{ ...manifest, config: { ...manifest.config, size: -1 } }, /config\.size must be a non-negative integer/],
    [{ ...manifest, config: { ...manifest.config, size: 1.5 } }, /config\.size must be a non-negative integer/],
    [{ ...manifest, config: { ...manifest.config, size: '10' } }, /config\.size must be a non-negative integer/],
    [{ ...manifest, config: { ...manifest.config, mediaType: '' } }, /config\.mediaType must be a non-empty string/],
    [{ ...manifest, config: undefined }, /config must be an object/],
    [{ ...manifest, layers: undefined }, /no layers array/],
    [{ ...manifest, layers: [{ ...manifest.config, urls: [1] }] }, /layers\[0\]\.urls must be an array of strings/],
    [{ ...manifest, layers: [{ ...manifest.config, annotations: { a: 1 } }] }, /layers\[0\]\.annotations/],
    [{ ...manifest, annotations: 'x' }, /annotations must be an object of strings/],
    [{ ...index, manifests: undefined }, /index has no manifests array/],
    [{ ...index, manifests: [{ ...index.manifests[0], platform: { os: 'linux' } }] }, /manifests\[0\]\.platform must have string os and architecture/],
    [{ ...index, manifests: [{ ...index.manifests[0], digest: D1.toUpperCase() }] }, /manifests\[0\]\.digest/],
    [{ schemaVersion: 2, mediaType: 'application/x-other' }, /unsupported media type "application\/x-other"/],
    [{ ...manifest, mediaType: 7 }, /mediaType must be a string/],
  ];
  for (const [doc, re] of cases) {
    const bytes = typeof doc === 'string' ? Buffer.from(doc) : enc(doc);
    assert.throws(
      () => parseManifest(bytes, MediaType.OciManifest),
      (err: unknown) => isCode(err, 'invalid_argument') && re.test(err.message),
      `${JSON.stringify(doc)} should fail with ${re}`,
    );
  }
  // A schema1 signed manifest is recognised by its media type too.
  assert.throws(
    () => parseManifest(enc({ schemaVersion: 2 }), 'application/vnd.docker.distribution.manifest.v1+prettyjws'),
    (err: unknown) => isCode(err, 'invalid_argument') && /schema1/.test(err.message),
  );
});
