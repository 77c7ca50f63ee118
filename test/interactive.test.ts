// stdin, terminals and json-file logs end to end, with the real docker CLI:
// `run -i` with piped input, `run -it` and `exec -it` under a real pty (util-linux
// `script`), resize, and log rotation with --log-opt max-size/max-file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CLI_MAIN, daemonWithBusybox, run, type Daemon } from './harness/index.js';

const DOCKER = '/usr/local/bin/docker';

/** Run a shell line under a real pseudo-terminal of 40 rows and 100 columns (script gives it one). */
function underPty(d: Daemon, line: string, input = '') {
  return run('script', ['-qec', `stty rows 40 cols 100; ${line}`, '/dev/null'], {
    input,
    env: { ...process.env, DOCKER_HOST: d.host, HOME: d.dir, TERM: 'xterm' },
  });
}

/** Wait (inside the container) until the client's resize arrived (busybox stty fails on 0x0), then print the size and the tty's name. */
const SHOW_TTY = `for i in $(seq 100); do s=$(stty size 2>/dev/null); [ -n "$s" ] && [ "$s" != "0 0" ] && break; sleep 0.05; done; echo "size=$s"; tty`;

test('docker run -i: piped stdin reaches the container, EOF closes it', async (t) => {
  const d = await daemonWithBusybox(t);
  const cat = await d.docker(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'hello\nworld\n' });
  assert.equal(cat.code, 0, cat.stderr);
  assert.equal(cat.stdout, 'hello\nworld\n');
  const read = await d.docker(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'read x; echo "got $x"; wc -l'], { input: 'abc\n1\n2\n' });
  assert.equal(read.code, 0, read.stderr);
  assert.equal(read.stdout, 'got abc\n2\n');
  // no input at all: stdin is at EOF at once, nothing hangs
  const empty = await d.docker(['run', '-i', '--rm', 'busybox', 'wc', '-c'], { input: '' });
  assert.equal(empty.stdout.trim(), '0');
  // berth's own CLI does the same
  const ours = await d.cli(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'from berth\n' });
  assert.equal(ours.code, 0, ours.stderr);
  assert.equal(ours.stdout, 'from berth\n');
});

test('docker run -it and exec -it: a real terminal, sized like the client\'s', async (t) => {
  const d = await daemonWithBusybox(t);
  const r = await underPty(d, `${DOCKER} run -it --rm busybox sh -c '${SHOW_TTY}; exit 3'`);
  assert.equal(r.code, 3, r.stdout + r.stderr);
  assert.match(r.stdout, /size=40 100\r?\n/);
  assert.match(r.stdout, /\/dev\/pts\/\d+/);

  const c = await d.docker(['run', '-d', '--name', 'box', 'busybox', 'sleep', '1000']);
  assert.equal(c.code, 0, c.stderr);
  const e = await underPty(d, `${DOCKER} exec -it box sh -c '${SHOW_TTY}; exit 4'`);
  assert.equal(e.code, 4, e.stdout + e.stderr);
  assert.match(e.stdout, /size=40 100\r?\n/);
  assert.match(e.stdout, /\/dev\/pts\/\d+/);
  // typed input reaches an interactive shell through the terminal
  const typed = await underPty(d, `${DOCKER} exec -it box sh`, 'echo typed-$((6*7))\nexit\n');
  assert.equal(typed.code, 0, typed.stdout + typed.stderr);
  assert.match(typed.stdout, /typed-42/);
  // berth's own CLI under the same terminal
  const ours = await underPty(d, `node ${CLI_MAIN} -H ${d.host} run -it --rm busybox sh -c '${SHOW_TTY}'`);
  assert.equal(ours.code, 0, ours.stdout + ours.stderr);
  assert.match(ours.stdout, /size=40 100\r?\n/);
});

test('json-file logs: docker\'s format on disk, rotation with max-size/max-file, logs reads across files', async (t) => {
  const d = await daemonWithBusybox(t);
  const c = await d.docker(['run', '--name', 'chatty', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', 'for i in $(seq 1 300); do echo "line $i"; done; echo oops >&2']);
  assert.equal(c.code, 0, c.stderr);
  const path = (await d.docker(['inspect', '-f', '{{.LogPath}}', 'chatty'])).stdout.trim();
  const id = (await d.docker(['inspect', '-f', '{{.Id}}', 'chatty'])).stdout.trim();
  assert.equal(path.split('/').at(-1), `${id}-json.log`);
  const files = (await readdir(dirname(path))).filter((f) => f.startsWith(`${id}-json.log`)).sort();
  assert.deepEqual(files, [`${id}-json.log`, `${id}-json.log.1`, `${id}-json.log.2`]);
  const last = (await readFile(path, 'utf8')).trim().split('\n').at(-1) ?? '';
  const entry = JSON.parse(last) as { log: string; stream: string; time: string };
  assert.deepEqual(Object.keys(entry), ['log', 'stream', 'time']);
  assert.equal(entry.log, 'oops\n');
  assert.equal(entry.stream, 'stderr');
  assert.match(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);

  const logs = await d.docker(['logs', 'chatty']);
  assert.equal(logs.code, 0, logs.stderr);
  const lines = logs.stdout.trim().split('\n');
  assert.equal(lines.at(-1), 'line 300');
  assert.ok(!lines.includes('line 1'), 'the oldest lines were rotated away');
  // what is kept is consecutive: no line lost between the rotated files
  const first = Number(lines[0]?.split(' ')[1]);
  assert.deepEqual(lines, Array.from({ length: 300 - first + 1 }, (_, i) => `line ${first + i}`));
  assert.equal(logs.stderr, 'oops\n');
  // --tail counts entries of both streams, as docker's
  const tail = await d.docker(['logs', '--tail', '2', 'chatty']);
  assert.equal(tail.stdout, 'line 300\n');
  assert.equal(tail.stderr, 'oops\n');

  const bad = await d.docker(['run', '--rm', '--log-driver', 'syslogx', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /no log driver named 'syslogx'/);
  const none = await d.docker(['run', '--name', 'quiet', '--log-driver', 'none', 'busybox', 'echo', 'hi']);
  assert.equal(none.stdout, 'hi\n');
  const noLogs = await d.docker(['logs', 'quiet']);
  assert.notEqual(noLogs.code, 0);
  assert.match(noLogs.stderr, /does not support reading/);
});
