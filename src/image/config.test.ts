import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges, chainIds, parseImageConfig } from './config.js';
import { humanSize, progressBar } from './progress.js';
import { matchReference, parseUntil } from './service.js';
import { isCode } from '../errors/index.js';
import type { Digest } from '../util/index.js';

const d = (c: string) => `sha256:${c.repeat(64)}` as Digest;

test('chain IDs follow the OCI definition', () => {
  const ids = chainIds([d('a'), d('b')]);
  assert.equal(ids[0], d('a'));
  assert.match(ids[1] as string, /^sha256:[a-f0-9]{64}$/);
  assert.notEqual(ids[1], d('b'));
  assert.deepEqual(chainIds([]), []);
});

test('chain ID of two layers matches sha256("<chain> <diff>")', async () => {
  const { createHash } = await import('node:crypto');
  const expect = 'sha256:' + createHash('sha256').update(`${d('a')} ${d('b')}`).digest('hex');
  assert.equal(chainIds([d('a'), d('b')])[1], expect);
});

test('image config validation rejects what is not an image config', () => {
  assert.ok(isCodeThrown(() => parseImageConfig(Buffer.from('{'))));
  assert.ok(isCodeThrown(() => parseImageConfig(Buffer.from('{"architecture":"amd64","os":"linux"}'))));
  assert.ok(isCodeThrown(() => parseImageConfig(Buffer.from(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["nope"]}}`))));
  const ok = parseImageConfig(Buffer.from(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["${d('c')}"]}}`));
  assert.equal(ok.rootfs.diff_ids.length, 1);
});

function isCodeThrown(fn: () => unknown): boolean {
  try {
    fn();
  } catch (err) {
    return isCode(err, 'invalid_argument');
  }
  return false;
}

test('import --change instructions apply like dockerd', () => {
  const c = applyChanges({}, [
    'CMD ["sh", "-c", "echo hi"]',
    'ENTRYPOINT /bin/init',
    'ENV A=1 B="two words"',
    'ENV C 3',
    'EXPOSE 80 53/udp',
    'WORKDIR /srv',
    'USER nobody',
    'LABEL a=b',
    'VOLUME /data',
    'STOPSIGNAL SIGINT',
  ]);
  assert.deepEqual(c.Cmd, ['sh', '-c', 'echo hi']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', '/bin/init']);
  assert.deepEqual(c.Env, ['A=1', 'B=two words', 'C=3']);
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.equal(c.WorkingDir, '/srv');
  assert.equal(c.User, 'nobody');
  assert.deepEqual(c.Labels, { a: 'b' });
  assert.deepEqual(c.Volumes, { '/data': {} });
  assert.equal(c.StopSignal, 'SIGINT');
  assert.throws(() => applyChanges({}, ['RUN echo']), (e) => isCode(e, 'invalid_argument'));
});

test('reference filter globs like docker', () => {
  assert.ok(matchReference('busybox', 'busybox:latest'));
  assert.ok(matchReference('busy*', 'busybox:latest'));
  assert.ok(matchReference('busybox:lat*', 'busybox:latest'));
  assert.ok(!matchReference('busybox:1', 'busybox:latest'));
  assert.ok(!matchReference('*', 'localhost:5000/app:1'));
  assert.ok(matchReference('localhost:5000/*', 'localhost:5000/app:1'));
});

test('until accepts durations, unix times and RFC 3339', () => {
  const now = Math.floor(Date.now() / 1000);
  assert.ok(Math.abs(parseUntil('1h') - (now - 3600)) <= 2);
  assert.equal(parseUntil('1700000000'), 1700000000);
  assert.equal(parseUntil('2024-01-01T00:00:00Z'), 1704067200);
  assert.throws(() => parseUntil('yesterday'), (e) => isCode(e, 'invalid_argument'));
});

test('sizes and bars render like dockerd', () => {
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(2151000), '2.151MB');
  assert.equal(humanSize(1500), '1.5kB');
  assert.equal(progressBar(50, 100), `[${'='.repeat(24)}>${' '.repeat(25)}] ${'50B/100B'.padStart(18)}`);
  assert.ok(progressBar(100, 100).startsWith(`[${'='.repeat(50)}]`));
});
