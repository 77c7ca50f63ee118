import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JSONMessageRenderer, StreamError, progressString, displayJSONMessages, type JSONMessage } from './jsonmessage.js';
import { PULL_STREAM } from './fakeengine.js';

function renderAll(messages: JSONMessage[], isTerminal: boolean): string {
  const r = new JSONMessageRenderer({ isTerminal, width: 200, now: () => 0 });
  return messages.map((m) => r.render(m)).join('');
}

test('not a terminal: status lines only, no progress bars', () => {
  assert.equal(
    renderAll(PULL_STREAM, false),
    [
      'latest: Pulling from library/busybox',
      'aaaaaaaaaaaa: Pulling fs layer',
      'aaaaaaaaaaaa: Verifying Checksum',
      'aaaaaaaaaaaa: Download complete',
      'aaaaaaaaaaaa: Pull complete',
      `${PULL_STREAM[7]?.status}`,
      'Status: Downloaded newer image for busybox:latest',
      '',
    ].join('\n'),
  );
});

test('terminal: one line per layer, rewritten in place with cursor movement', () => {
  const layerA = { status: 'Downloading', progressDetail: { current: 500_000, total: 1_000_000 }, id: 'aaa' };
  const layerB = { status: 'Waiting', progressDetail: {}, id: 'bbb' };
  const out = renderAll([{ status: 'Pulling from library/x', id: 'latest' }, { ...layerA }, layerB, { status: 'Pull complete', progressDetail: {}, id: 'aaa' }], true);
  const bar = `[${'='.repeat(25)}>${' '.repeat(25)}]    500kB/1MB`;
  assert.equal(
    out,
    'latest: Pulling from library/x\n' +
      // new id: newline, up 1, clear line, print
      `\n\x1b[1A\x1b[2K\raaa: Downloading ${bar}\r\x1b[1B` +
      '\n\x1b[1A\x1b[2K\rbbb: Waiting \r\x1b[1B' +
      // an update to the first layer moves up two lines and back down
      '\x1b[2A\x1b[2K\raaa: Pull complete \r\x1b[2B',
  );
});

test('progress strings as docker formats them', () => {
  assert.equal(progressString({}), '');
  assert.equal(progressString({ current: 1_500_000 }), '   1.5MB');
  assert.equal(progressString({ current: 2_000_000, total: 2_000_000 }, 80), '     2MB/2MB');
  assert.equal(progressString({ current: 3, total: 10, units: 'layers' }, 80), '3/10 layers');
  assert.equal(progressString({ current: 1_000_000, total: 4_000_000, start: 100 }, 80, 110), '     1MB/4MB 30s');
});

test('an error in the stream stops rendering with its message', async () => {
  let written = '';
  async function* stream(): AsyncGenerator<JSONMessage> {
    yield { status: 'Pulling from library/x', id: 'latest' };
    yield { errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' };
    yield { status: 'never printed' };
  }
  await assert.rejects(
    displayJSONMessages(stream(), (t) => (written += t), { isTerminal: false }),
    (err) => err instanceof StreamError && err.message === 'manifest unknown',
  );
  assert.equal(written, 'latest: Pulling from library/x\n');
});
