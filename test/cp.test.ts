// docker cp, export and commit end to end: berth's CLI and the real docker CLI
// against a berth daemon running real containers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, writeFile, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI_MAIN, DOCKER_CLI, daemonWithBusybox, run } from './harness/index.js';

const shellQuote = (args: string[]) => args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');

/** A command's output when run on a terminal (util-linux script gives it a pty), escape codes and CRs removed. */
async function onTerminal(command: string): Promise<string> {
  const r = await run('script', ['-qec', command, '/dev/null']);
  assert.equal(r.code, 0, r.stdout);
  return r.stdout.replace(/\x1b(\[[0-9;]*[A-Za-z]|[78])/g, '').replace(/\r/g, '');
}

/** The file list of a tar, with GNU tar as an independent reader. */
async function tarList(file: string): Promise<string[]> {
  const r = await run('tar', ['-tf', file]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

test('berth cp out of and into a running container, a stopped one, and a named volume', async (t) => {
  const d = await daemonWithBusybox(t);
  const started = await d.cli(['run', '-d', '--name', 'box', '-v', 'vol1:/data', 'busybox', 'sh', '-c', 'mkdir -p /srv/app && echo hello > /srv/app/a.txt && ln -sfn /srv/app /link && echo v > /data/in-vol && sleep 1000']);
  assert.equal(started.code, 0, started.stderr);
  // wait for the command's files: the container runs it asynchronously
  for (let i = 0; i < 100; i++) {
    const r = await d.request('HEAD', '/v1.50/containers/box/archive?path=/link');
    if (r.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const out = join(d.dir, 'out');
  await mkdir(out);

  // a file out, to a new name and into a directory
  const one = await d.cli(['cp', 'box:/srv/app/a.txt', join(out, 'copy.txt')]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.stderr, '', 'no progress without a terminal');
  assert.equal(await readFile(join(out, 'copy.txt'), 'utf8'), 'hello\n');
  // on a terminal, docker's summary: a 6-byte file is a 2048-byte tar
  const tty = await onTerminal(`${shellQuote([process.execPath, CLI_MAIN, '-H', d.host, 'cp', 'box:/srv/app/a.txt', join(out, 'tty.txt')])}`);
  assert.equal(tty, `Successfully copied 2.05kB to ${join(out, 'tty.txt')}\n`);
  const ttyDocker = await onTerminal(`DOCKER_HOST=${d.host} ${shellQuote([DOCKER_CLI, 'cp', 'box:/srv/app/a.txt', join(out, 'tty2.txt')])}`);
  assert.match(ttyDocker, new RegExp(`Successfully copied 2.05kB to ${join(out, 'tty2.txt')}\n$`));
  // a directory to a new name, and its contents ("/.") into an existing directory
  assert.equal((await d.cli(['cp', '-q', 'box:/srv/app', join(out, 'app2')])).code, 0);
  assert.deepEqual(await readdir(join(out, 'app2')), ['a.txt']);
  await mkdir(join(out, 'contents'));
  assert.equal((await d.cli(['cp', '-q', 'box:/srv/app/.', join(out, 'contents')])).code, 0);
  assert.deepEqual(await readdir(join(out, 'contents')), ['a.txt']);
  // a symlink is copied as the link, -L copies its target under the link's name
  assert.equal((await d.cli(['cp', '-q', 'box:/link', join(out, 'l')])).code, 0);
  assert.equal((await lstat(join(out, 'l'))).isSymbolicLink(), true);
  assert.equal((await d.cli(['cp', '-q', '-L', 'box:/link', join(out, 'followed')])).code, 0);
  assert.deepEqual(await readdir(join(out, 'followed')), ['a.txt']);
  // out of the volume
  assert.equal((await d.cli(['cp', '-q', 'box:/data/in-vol', join(out, 'v')])).code, 0);
  assert.equal(await readFile(join(out, 'v'), 'utf8'), 'v\n');

  // missing paths: dockerd's message through GET, the CLI's own through HEAD (-L)
  const missing = await d.cli(['cp', 'box:/nope', out]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'Error response from daemon: Could not find the file /nope in container box\n');
  const missingL = await d.cli(['cp', '-L', 'box:/nope', out]);
  assert.equal(missingL.stderr, 'Error: No such container:path: box:/nope\n');

  // into the running container: a file, a directory, into the volume
  await writeFile(join(out, 'up.txt'), 'uploaded');
  await mkdir(join(out, 'updir', 'sub'), { recursive: true });
  await writeFile(join(out, 'updir', 'sub', 'f'), 'f');
  const up = await d.cli(['cp', join(out, 'up.txt'), 'box:/srv/app/renamed.txt']);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(
    await onTerminal(shellQuote([process.execPath, CLI_MAIN, '-H', d.host, 'cp', join(out, 'up.txt'), 'box:/srv/app/renamed2.txt'])),
    'Successfully copied 2.05kB to box:/srv/app/renamed2.txt\n',
  );
  assert.equal((await d.cli(['cp', '-q', join(out, 'updir'), 'box:/srv/'])).code, 0);
  assert.equal((await d.cli(['cp', '-q', join(out, 'up.txt'), 'box:/data/'])).code, 0);
  const seen = await d.cli(['exec', 'box', 'sh', '-c', 'cat /srv/app/renamed.txt /srv/updir/sub/f /data/up.txt']);
  assert.equal(seen.stdout, 'uploadedfuploaded');
  const notDir = await d.cli(['cp', join(out, 'up.txt'), 'box:/nodir/x/']);
  assert.equal(notDir.code, 1);

  // stopped: still readable and writable (the rootfs is mounted for the copy)
  assert.equal((await d.cli(['stop', '-t', '0', 'box'])).code, 0);
  assert.equal((await d.cli(['cp', '-q', join(out, 'up.txt'), 'box:/srv/while-stopped'])).code, 0);
  assert.equal((await d.cli(['cp', '-q', 'box:/srv/while-stopped', join(out, 'back')])).code, 0);
  assert.equal(await readFile(join(out, 'back'), 'utf8'), 'uploaded');
  assert.equal((await d.cli(['cp', '-q', join(out, 'up.txt'), 'box:/data/stopped-vol'])).code, 0);
  assert.equal((await d.cli(['start', 'box'])).code, 0);
  const after = await d.cli(['exec', 'box', 'cat', '/srv/while-stopped', '/data/stopped-vol']);
  assert.equal(after.stdout, 'uploadeduploaded');
  // the volume holds it: another container sees it
  const other = await d.cli(['run', '--rm', '-v', 'vol1:/v', 'busybox', 'cat', '/v/stopped-vol']);
  assert.equal(other.stdout, 'uploaded');

  // to stdout as a tar
  const tarFile = join(d.dir, 'cp.tar');
  const viaShell = await run('/bin/sh', ['-c', `node "$1" -H "$2" cp box:/srv/app - > "$3"`, 'sh', CLI_MAIN, d.host, tarFile]);
  assert.equal(viaShell.code, 0, viaShell.stderr);
  assert.deepEqual((await tarList(tarFile)).sort(), ['app/', 'app/a.txt', 'app/renamed.txt', 'app/renamed2.txt']);
});

test('export a container with an added file; commit it and run the image with the -c CMD', async (t) => {
  const d = await daemonWithBusybox(t);
  assert.equal((await d.cli(['run', '--name', 'maker', 'busybox', 'sh', '-c', 'echo made > /made.txt && rm /bin/yes'])).code, 0);
  const exported = join(d.dir, 'export.tar');
  const ex = await d.cli(['export', '-o', exported, 'maker']);
  assert.equal(ex.code, 0, ex.stderr);
  const names = await tarList(exported);
  assert.ok(names.includes('made.txt'), names.slice(0, 20).join(' '));
  assert.ok(names.includes('bin/sh'));
  assert.ok(!names.includes('bin/yes'));
  assert.ok(!names.some((n) => n.startsWith('proc/') && n !== 'proc/'));

  const committed = await d.cli(['commit', '-c', 'CMD ["cat", "/made.txt"]', '-c', 'ENV FOO=bar', '-m', 'added made.txt', '-a', 'Tester', 'maker', 'made:v1']);
  assert.equal(committed.code, 0, committed.stderr);
  assert.match(committed.stdout, /^sha256:[a-f0-9]{64}\n$/);
  const ran = await d.cli(['run', '--rm', 'made:v1']);
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout, 'made\n');
  const env = await d.cli(['run', '--rm', 'made:v1', 'sh', '-c', 'echo $FOO; ls /bin/yes 2>&1 || true']);
  assert.match(env.stdout, /^bar\n.*No such file or directory/);
  const inspect = await d.cli(['image', 'inspect', '-f', '{{.Author}}|{{.Comment}}|{{len .RootFS.Layers}}', 'made:v1']);
  const base = await d.cli(['image', 'inspect', '-f', '{{len .RootFS.Layers}}', 'busybox']);
  assert.equal(inspect.stdout.trim(), `Tester|added made.txt|${Number(base.stdout.trim()) + 1}`);
  // a terminal is never written a tar; a missing container is the daemon's 404
  const missing = await d.cli(['commit', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such container: nope/);
});

test('the docker CLI: cp both ways, commit of a running container (paused for it), export', async (t) => {
  const d = await daemonWithBusybox(t);
  assert.equal((await d.docker(['run', '-d', '--name', 'live', 'busybox', 'sleep', '1000'])).code, 0);
  const work = join(d.dir, 'work');
  await mkdir(join(work, 'tree', 'deep'), { recursive: true });
  await writeFile(join(work, 'tree', 'deep', 'x'), 'xx');
  await symlink('deep/x', join(work, 'tree', 'lnk'));
  const up = await d.docker(['cp', join(work, 'tree'), 'live:/tree']);
  assert.equal(up.code, 0, up.stderr);
  const check = await d.docker(['exec', 'live', 'sh', '-c', 'cat /tree/deep/x; readlink /tree/lnk']);
  assert.equal(check.stdout, 'xxdeep/x\n');
  const down = await d.docker(['cp', 'live:/tree', join(work, 'back')]);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(await readFile(join(work, 'back', 'deep', 'x'), 'utf8'), 'xx');
  const missing = await d.docker(['cp', 'live:/nope', work]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Could not find the file \/nope in container live/);
  const fileOverDir = await d.docker(['cp', join(work, 'tree', 'deep', 'x'), 'live:/tree/deep/x/']);
  assert.equal(fileOverDir.code, 1);

  const committed = await d.docker(['commit', '-c', 'CMD ["cat", "/tree/deep/x"]', 'live', 'fromdocker:1']);
  assert.equal(committed.code, 0, committed.stderr);
  assert.match(committed.stdout, /^sha256:[a-f0-9]{64}\n$/);
  const state = await d.docker(['inspect', '-f', '{{.State.Status}}', 'live']);
  assert.equal(state.stdout.trim(), 'running', 'unpaused after the commit');
  const ran = await d.docker(['run', '--rm', 'fromdocker:1']);
  assert.equal(ran.stdout, 'xx');

  const exported = join(work, 'live.tar');
  const ex = await d.docker(['export', '-o', exported, 'live']);
  assert.equal(ex.code, 0, ex.stderr);
  assert.ok((await tarList(exported)).includes('tree/deep/x'));
});
