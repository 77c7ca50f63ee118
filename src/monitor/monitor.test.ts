// berth-monitor with real runc containers: logs, exit codes, detachment,
// failed creates, rotation, stdin, terminals, and the exec -t relay.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type TestContext } from 'node:test';
import { isCode } from '../errors/index.js';
import { box, PATH_ENV } from '../runtime/testbox.js';
import type { Box } from '../runtime/testbox.js';
import { attachStdin, JsonLogReader, resizeTerminal, spawnExecTty, startMonitor, type LogRecord, type MonitorOptions } from './index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Only a process that is one of our monitors, by its command line. */
function isMonitor(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('berth-monitor');
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 3000; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(10);
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A box whose monitors are killed first at cleanup (before runc delete and the temp dir removal). */
async function monitoredBox(t: TestContext): Promise<{ b: Box; setup: (name: string, args: string[], o?: Partial<MonitorOptions>) => Promise<MonitorOptions> }> {
  const pidFiles: string[] = [];
  t.after(async () => {
    for (const f of pidFiles) {
      const pid = Number((await readFile(f, 'utf8').catch(() => '')).trim());
      if (pid > 0 && isMonitor(pid)) {
        process.kill(pid, 'SIGKILL');
        await until('monitor gone', () => (isMonitor(pid) ? undefined : true));
      }
    }
  });
  const b = await box(t);
  return {
    b,
    async setup(name, args, o = {}) {
      const { path } = await b.bundle(name, { args, env: [PATH_ENV], terminal: !!o.terminal, cgroupsPath: `${b.cgroupParent}/${name}` });
      const opts: MonitorOptions = {
        runtimeBinary: b.runc.binary,
        runtimeRoot: b.runc.root,
        id: name,
        bundle: path,
        runtimeLog: join(path, 'runc-create.json'),
        logPath: join(path, 'container.log'),
        exitFiles: [join(path, 'exit'), join(b.dir, `${name}.exit`)],
        containerPidFile: join(path, 'container.pid'),
        monitorPidFile: join(path, 'monitor.pid'),
        terminal: false,
        stdin: false,
        stdinOnce: false,
        ...o,
      };
      pidFiles.push(opts.monitorPidFile);
      return opts;
    },
  };
}

const exitOf = (file: string) =>
  until(`exit file ${file}`, async () => {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    return text === undefined ? undefined : Number(text);
  });

async function records(path: string): Promise<LogRecord[]> {
  const reader = new JsonLogReader(path);
  try {
    return await reader.readMore();
  } finally {
    await reader.close();
  }
}

function ppidOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

test('stdout and stderr land in json-file lines with their streams; exit 3 is written to every exit file', async (t) => {
  const { b, setup } = await monitoredBox(t);
  const o = await setup('streams', ['/bin/sh', '-c', 'echo out; echo err >&2; echo "<tag> & \\"q\\""; exit 3']);
  const before = Date.now() / 1000;
  const created = await startMonitor(o);
  assert.ok(created.pid > 0 && created.monitorPid > 0);
  assert.notEqual(ppidOf(created.monitorPid), process.pid, 'the monitor is not our child');
  assert.equal(Number(await readFile(o.containerPidFile, 'utf8')), created.pid);
  assert.ok(existsSync(join(o.bundle, 'attach')) && existsSync(join(o.bundle, 'ctl')));
  await b.runc.start('streams');
  assert.equal(await exitOf(o.exitFiles[0] as string), 3);
  assert.equal(await exitOf(o.exitFiles[1] as string), 3);
  const logged = await records(o.logPath);
  const byStream = (s: string) => logged.filter((r) => r.stream === s).map((r) => r.line.toString());
  assert.deepEqual(byStream('stdout'), ['out\n', '<tag> & "q"\n']);
  assert.deepEqual(byStream('stderr'), ['err\n']);
  for (const r of logged) {
    assert.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    assert.ok(r.seconds >= Math.floor(before) && r.seconds <= Date.now() / 1000 + 1, r.time);
  }
  const raw = await readFile(o.logPath, 'utf8');
  assert.match(raw, /^\{"log":"\\u003ctag\\u003e \\u0026 \\"q\\"\\n","stream":"stdout","time":"[^"]+"\}$/m);
  await until('monitor exit', () => (isMonitor(created.monitorPid) ? undefined : true));
  assert.equal(existsSync(join(o.bundle, 'attach')), false, 'attach socket removed at exit');
  assert.equal(existsSync(join(o.bundle, 'ctl')), false, 'ctl fifo removed at exit');
});

test('a container killed with SIGKILL exits 137', async (t) => {
  const { b, setup } = await monitoredBox(t);
  const o = await setup('killed', ['/bin/sleep', '1000']);
  await startMonitor(o);
  await b.runc.start('killed');
  await b.runc.kill('killed', 'SIGKILL');
  assert.equal(await exitOf(o.exitFiles[0] as string), 137);
});

test('the monitor survives the SIGKILL of the process that started it and still records the exit', async (t) => {
  const { b, setup } = await monitoredBox(t);
  const o = await setup('orphan', ['/bin/sh', '-c', 'read x; echo "got $x"; exit 5'], { stdin: true, stdinOnce: true });
  const moduleUrl = new URL('./index.js', import.meta.url).href;
  const script = `import { startMonitor } from ${JSON.stringify(moduleUrl)};
    const r = await startMonitor(JSON.parse(process.argv[1]));
    process.stdout.write(JSON.stringify(r) + '\\n');
    setInterval(() => {}, 1000);`;
  const starter = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(o)], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    starter.kill('SIGKILL');
  });
  let out = '';
  starter.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const created = await until('starter reports', () => (out.includes('\n') ? (JSON.parse(out) as { pid: number; monitorPid: number }) : undefined));
  const gone = new Promise((r) => starter.once('exit', r));
  starter.kill('SIGKILL');
  await gone;
  assert.ok(isMonitor(created.monitorPid), 'the monitor outlives its starter');
  assert.notEqual(ppidOf(created.monitorPid), starter.pid);
  await b.runc.start('orphan');
  const stdin = await attachStdin(o.bundle);
  stdin.end('hi\n');
  assert.equal(await exitOf(o.exitFiles[0] as string), 5);
  assert.deepEqual((await records(o.logPath)).map((r) => r.line.toString()), ['got hi\n']);
});

test('a failed create reports runc\'s message (missing entrypoint) and the monitor exits', async (t) => {
  const { setup } = await monitoredBox(t);
  const o = await setup('missing', ['/no-such-entrypoint']);
  await assert.rejects(startMonitor(o), (err: unknown) => {
    assert.ok(isCode(err, 'not_found'), String(err));
    assert.match((err as Error).message, /no-such-entrypoint/);
    return true;
  });
  const pid = Number(await readFile(o.monitorPidFile, 'utf8'));
  await until('monitor exit', () => (alive(pid) && isMonitor(pid) ? undefined : true));
  assert.equal(existsSync(o.exitFiles[0] as string), false, 'no exit file for a container that never ran');
});

test('rotation at 1 KiB with 3 files: at most 3 files, each within the limit, the newest lines in order', async (t) => {
  const { b, setup } = await monitoredBox(t);
  const script = 'i=0; while [ $i -lt 100 ]; do echo "line $i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; i=$((i+1)); done';
  const o = await setup('rotate', ['/bin/sh', '-c', script], { logMaxSize: 1024, logMaxFiles: 3 });
  await startMonitor(o);
  await b.runc.start('rotate');
  assert.equal(await exitOf(o.exitFiles[0] as string), 0);
  for (const f of [o.logPath, `${o.logPath}.1`, `${o.logPath}.2`]) assert.ok((await stat(f)).size <= 1024, f);
  assert.equal(existsSync(`${o.logPath}.3`), false);
  const reader = new JsonLogReader(o.logPath, { maxFiles: 3 });
  t.after(() => reader.close());
  const numbers = (await reader.readMore()).map((r) => Number(/^line (\d+) x+\n$/.exec(r.line.toString())?.[1]));
  assert.ok(numbers.length >= 15, `kept ${numbers.length}`);
  assert.deepEqual(numbers, Array.from({ length: numbers.length }, (_, i) => 100 - numbers.length + i));
});

test('stdin with --stdin-once: cat echoes what the attach socket sends and exits 0 after end()', async (t) => {
  const { b, setup } = await monitoredBox(t);
  const o = await setup('cat', ['/bin/cat'], { stdin: true, stdinOnce: true });
  await startMonitor(o);
  await b.runc.start('cat');
  const stdin = await attachStdin(o.bundle);
  stdin.write('hello\n');
  stdin.end('world\n');
  assert.equal(await exitOf(o.exitFiles[0] as string), 0);
  assert.deepEqual((await records(o.logPath)).map((r) => `${r.stream}:${r.line}`), ['stdout:hello\n', 'stdout:world\n']);
});

test('terminal: resizeTerminal sets the pty size the container sees; tty output is logged as stdout', async (t) => {
  const { b, setup } = await monitoredBox(t);
  const o = await setup('tty', ['/bin/sh', '-c', 'read x; stty size; exit 4'], { terminal: true, stdin: true });
  await startMonitor(o);
  await b.runc.start('tty');
  await resizeTerminal(o.bundle, 40, 100);
  // The size is applied before the line that lets the shell go on (the monitor reads ctl first).
  const stdin = await attachStdin(o.bundle);
  t.after(() => {
    stdin.destroy();
  });
  stdin.write('go\n');
  assert.equal(await exitOf(o.exitFiles[0] as string), 4);
  const logged = await records(o.logPath);
  assert.ok(logged.every((r) => r.stream === 'stdout'));
  assert.match(logged.map((r) => r.line.toString()).join(''), /40 100\r\n/);
  await assert.rejects(resizeTerminal(o.bundle, 1, 1), (err: unknown) => isCode(err, 'conflict'));
  await assert.rejects(attachStdin(o.bundle), (err: unknown) => isCode(err, 'conflict'));
});

test('JsonLogReader follows rotations that happen while it reads a live container', async (t) => {
  const { b, setup } = await monitoredBox(t);
  const script = 'while read n; do i=0; while [ $i -lt 10 ]; do echo "$n-$i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; i=$((i+1)); done; done';
  const o = await setup('follow', ['/bin/sh', '-c', script], { stdin: true, stdinOnce: true, logMaxSize: 1024, logMaxFiles: 5 });
  await startMonitor(o);
  const reader = new JsonLogReader(o.logPath, { maxFiles: 5 });
  t.after(() => reader.close());
  await b.runc.start('follow');
  const stdin = await attachStdin(o.bundle);
  const got: string[] = [];
  for (let batch = 0; batch < 10; batch++) {
    stdin.write(`${batch}\n`);
    await until(`batch ${batch}`, async () => {
      got.push(...(await reader.readMore()).map((r) => r.line.toString()));
      return got.length >= (batch + 1) * 10 ? true : undefined;
    });
  }
  stdin.end();
  assert.equal(await exitOf(o.exitFiles[0] as string), 0);
  got.push(...(await reader.readMore()).map((r) => r.line.toString()));
  const want = Array.from({ length: 100 }, (_, k) => `${Math.floor(k / 10)}-${k % 10} ${'x'.repeat(40)}\n`);
  assert.deepEqual(got, want);
  assert.ok(existsSync(`${o.logPath}.4`), 'the log rotated at least four times under the reader');
});

test('exec-tty relay: runc exec -t gets a pty, resize and input reach it, the relay exits with its status', async (t) => {
  const { b, setup } = await monitoredBox(t);
  const o = await setup('exec', ['/bin/sleep', '1000']);
  await startMonitor(o);
  await b.runc.start('exec');
  const socketPath = join(b.dir, 'exec.sock');
  const pidFile = join(b.dir, 'exec.pid');
  const relay = spawnExecTty({
    socketPath,
    pidFile,
    runcArgs: [b.runc.binary, '--root', b.runc.root, 'exec', '-d', '-t', '--console-socket', socketPath, '--pid-file', pidFile, 'exec', '/bin/sh', '-c', 'tty; read x; stty size; exit 7'],
  });
  const child: ChildProcess = relay.child;
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // Sent before the pty exists: the relay holds the size, and reads no input until the master is there.
  relay.resize(30, 90);
  child.stdin?.write('go\n');
  assert.equal(await exited, 7, err);
  assert.match(out, /\/dev\/pts\/\d+\r\n/);
  assert.match(out, /30 90\r\n/);
  assert.equal(existsSync(socketPath), false, 'console socket removed');
});
