// The json-file format byte for byte (Go's encoding/json escaping, RFC3339Nano),
// line splitting and rotation, through the binary's --log-only mode; and the
// parser and the rotation-following reader on files we rotate by hand.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'node:test';
import { tempRoot } from '../testing/index.js';
import { JsonLogParser, JsonLogReader, monitorBinary, secondsOf } from './index.js';

const T = '1700000000.120000000'; // 2023-11-14T22:13:20.12Z

function logOnly(file: string, input: Buffer | string, extra: string[] = []): void {
  execFileSync(monitorBinary(), ['--log-only', '--log-path', file, ...extra], { input });
}

test('escaping is Go encoding/json: HTML-safe <>&, \\" \\\\, \\b \\f \\n \\r \\t, other controls as \\u00xx', async (t) => {
  const dir = await tempRoot(t);
  const file = join(dir, 'log');
  logOnly(file, Buffer.from('a<b>&"\\\x01\x1f\b\f\t\r\x7f\n', 'latin1'), ['--fixed-time', T]);
  assert.equal(
    await readFile(file, 'utf8'),
    '{"log":"a\\u003cb\\u003e\\u0026\\"\\\\\\u0001\\u001f\\b\\f\\t\\r\x7f\\n","stream":"stdout","time":"2023-11-14T22:13:20.12Z"}\n',
  );
});

test('invalid UTF-8 becomes \\ufffd per bad byte; U+2028/2029 escaped; valid multibyte kept', async (t) => {
  const dir = await tempRoot(t);
  const file = join(dir, 'log');
  const input = Buffer.concat([
    Buffer.from([0xff]), // never valid
    Buffer.from([0xc0, 0xaf]), // overlong '/'
    Buffer.from([0xed, 0xa0, 0x80]), // a UTF-16 surrogate
    Buffer.from('é😀', 'utf8'),
    Buffer.from([0xe2, 0x80, 0xa8, 0xe2, 0x80, 0xa9]), // U+2028 U+2029
    Buffer.from([0xe2, 0x82]), // truncated at the end
  ]);
  logOnly(file, input, ['--fixed-time', T, '--stream', 'stderr']);
  const want = Buffer.concat([
    Buffer.from('{"log":"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd', 'latin1'),
    Buffer.from('é😀', 'utf8'),
    Buffer.from('\\u2028\\u2029\\ufffd\\ufffd","stream":"stderr","time":"2023-11-14T22:13:20.12Z"}\n', 'latin1'),
  ]);
  assert.deepEqual(await readFile(file), want);
});

test('time is RFC3339Nano in UTC: trailing zeros trimmed, no fraction when zero', async (t) => {
  const dir = await tempRoot(t);
  const cases: [string, string][] = [
    ['0.000000000', '1970-01-01T00:00:00Z'],
    ['1700000000.000000001', '2023-11-14T22:13:20.000000001Z'],
    ['1700000000.500000000', '2023-11-14T22:13:20.5Z'],
    ['1700000000.123456789', '2023-11-14T22:13:20.123456789Z'],
    ['1700000000.100200000', '2023-11-14T22:13:20.1002Z'],
  ];
  for (const [i, [at, want]] of cases.entries()) {
    const file = join(dir, `log${i}`);
    logOnly(file, 'x\n', ['--fixed-time', at]);
    assert.equal(await readFile(file, 'utf8'), `{"log":"x\\n","stream":"stdout","time":"${want}"}\n`);
  }
  assert.equal(secondsOf('2023-11-14T22:13:20.5Z'), 1700000000.5);
  assert.equal(secondsOf('1970-01-01T00:00:00Z'), 0);
  assert.ok(Number.isNaN(secondsOf('yesterday')));
});

test('lines split at \\n; longer than 16 KiB become 16 KiB partials; the rest is flushed at the end', async (t) => {
  const dir = await tempRoot(t);
  const file = join(dir, 'log');
  logOnly(file, `one\ntwo\n\n${'x'.repeat(16384 * 2 + 10)}\nlast`);
  const records = new JsonLogParser().push(await readFile(file));
  assert.deepEqual(
    records.map((r) => r.line.toString()),
    ['one\n', 'two\n', '\n', 'x'.repeat(16384), 'x'.repeat(16384), 'x'.repeat(10) + '\n', 'last'],
  );
  assert.ok(records.every((r) => r.stream === 'stdout' && Number.isFinite(r.seconds)));
});

test('rotation: max-size with max-file 3 keeps FILE, FILE.1, FILE.2; max-file 1 truncates', async (t) => {
  const dir = await tempRoot(t);
  const lines = Array.from({ length: 60 }, (_, i) => `line ${String(i).padStart(3, '0')}\n`).join('');
  const file = join(dir, 'log');
  logOnly(file, lines, ['--log-max-size', '300', '--log-max-files', '3', '--fixed-time', T]);
  // each entry ({"log":"line 000\n","stream":"stdout","time":"2023-11-14T22:13:20.12Z"} and \n) is 72 bytes: 4 fit in 300
  for (const f of [file, `${file}.1`, `${file}.2`]) assert.ok((await stat(f)).size <= 300, f);
  assert.equal((await stat(`${file}.1`)).size, 288);
  assert.equal(existsSync(`${file}.3`), false);
  const reader = new JsonLogReader(file, { maxFiles: 3 });
  t.after(() => reader.close());
  const got = (await reader.readMore()).map((r) => r.line.toString());
  // 60 entries, 4 per file: 15 files were written, the last three remain
  assert.deepEqual(got, Array.from({ length: 12 }, (_, i) => `line ${String(48 + i).padStart(3, '0')}\n`));

  const single = join(dir, 'single');
  logOnly(single, lines, ['--log-max-size', '300', '--log-max-files', '1', '--fixed-time', T]);
  assert.equal(existsSync(`${single}.1`), false);
  assert.deepEqual(
    new JsonLogParser().push(await readFile(single)).map((r) => r.line.toString()),
    ['line 056\n', 'line 057\n', 'line 058\n', 'line 059\n'],
  );
});

const entry = (text: string, stream = 'stdout') => `${JSON.stringify({ log: text, stream, time: '2026-01-02T03:04:05.5Z' })}\n`;

test('JsonLogParser keeps a torn last line until the rest arrives, and skips garbage', () => {
  const parser = new JsonLogParser();
  const whole = entry('hello\n') + entry('oops', 'stderr');
  const cut = whole.length - 10;
  const first = parser.push(Buffer.from(whole.slice(0, cut)));
  assert.deepEqual(first.map((r) => [r.stream, r.line.toString(), r.time, r.seconds]), [['stdout', 'hello\n', '2026-01-02T03:04:05.5Z', 1767323045.5]]);
  assert.deepEqual(parser.push(Buffer.from(whole.slice(cut) + 'not json\n{"log":1}\n')).map((r) => [r.stream, r.line.toString()]), [['stderr', 'oops']]);
  assert.deepEqual(parser.push(Buffer.from(entry('tail').trimEnd())), []);
  assert.deepEqual(parser.end().map((r) => r.line.toString()), ['tail']);
});

test('JsonLogReader reads rotated files oldest first and follows rotations, even several between calls', async (t) => {
  const dir = await tempRoot(t);
  const file = join(dir, 'log');
  const reader = new JsonLogReader(file, { maxFiles: 3 });
  t.after(() => reader.close());
  const texts = async () => (await reader.readMore()).map((r) => r.line.toString());
  const rotate = async () => {
    if (existsSync(`${file}.1`)) await rename(`${file}.1`, `${file}.2`);
    await rename(file, `${file}.1`);
    await writeFile(file, '');
  };
  assert.deepEqual(await texts(), [], 'no log yet');
  await writeFile(`${file}.2`, entry('a'));
  await writeFile(`${file}.1`, entry('b'));
  await writeFile(file, entry('c'));
  assert.deepEqual(await texts(), ['a', 'b', 'c']);
  await appendFile(file, entry('d'));
  assert.deepEqual(await texts(), ['d']);
  // one rotation: the rest of the old file, then the new one
  await appendFile(file, entry('e'));
  await rotate();
  await appendFile(file, entry('f'));
  assert.deepEqual(await texts(), ['e', 'f']);
  // two rotations between calls
  await appendFile(file, entry('g'));
  await rotate();
  await appendFile(file, entry('h'));
  await rotate();
  await appendFile(file, entry('i'));
  assert.deepEqual(await texts(), ['g', 'h', 'i']);
  // three: the file being read is dropped off the end; its open fd still has the rest
  await appendFile(file, entry('j'));
  for (const x of ['k', 'l', 'm']) {
    await rotate();
    await appendFile(file, entry(x));
  }
  assert.deepEqual(await texts(), ['j', 'k', 'l', 'm']);
  // renamed away, the new file not created yet
  await appendFile(file, entry('n'));
  await rename(`${file}.1`, `${file}.2`);
  await rename(file, `${file}.1`);
  assert.deepEqual(await texts(), ['n']);
  await writeFile(file, entry('o'));
  assert.deepEqual(await texts(), ['o']);
  assert.deepEqual(await texts(), []);
});
