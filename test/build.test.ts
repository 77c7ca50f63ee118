// berth build end to end: real daemon, real runc for RUN steps, real overlay
// commits; through berth's CLI and the docker CLI (classic builder API).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile, utimes, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonWithBusybox, type Daemon } from './harness/index.js';

/** A context directory with these files (name → content). */
async function context(d: Daemon, name: string, files: Record<string, string>): Promise<string> {
  const dir = join(d.dir, name);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

async function ok(p: Promise<{ code: number; stdout: string; stderr: string }>): Promise<{ stdout: string; stderr: string }> {
  const r = await p;
  assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

interface Inspected {
  Id: string;
  Parent: string;
  Config: Record<string, unknown> & { Env: string[]; Labels: Record<string, string> | null };
  RootFS: { Layers: string[] };
}

async function inspect(d: Daemon, ref: string): Promise<Inspected> {
  const r = await ok(d.cli(['image', 'inspect', ref]));
  return (JSON.parse(r.stdout) as Inspected[])[0] as Inspected;
}

const cachedSteps = (out: string) => (out.match(/^#\d+ CACHED$/gm) ?? []).length;

test('every instruction lands in the image config and history as docker writes them; the image runs', async (t) => {
  const d = await daemonWithBusybox(t);
  const dir = await context(d, 'all', {
    'Dockerfile': [
      'ARG BASE=busybox',
      'FROM ${BASE} AS base',
      'ARG GREETING=hello',
      'ENV APP_HOME=/app PATH_EXTRA="with space"',
      'LABEL org.example.name="demo app" version=1',
      'WORKDIR $APP_HOME',
      'COPY hello.txt ./',
      'COPY --chmod=755 bin/ /usr/local/bin/',
      'ADD files.tar /opt/',
      'RUN echo "$GREETING from run" > greeting && chown 65534 greeting',
      'RUN <<EOF',
      'echo heredoc line one > /app/heredoc',
      'echo "${APP_HOME}" >> /app/heredoc',
      'EOF',
      'COPY <<EOF /etc/inline.conf',
      'key=${APP_HOME}',
      'EOF',
      'EXPOSE 8080 53/udp',
      'VOLUME ["/data"]',
      'USER nobody',
      'HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD true',
      'STOPSIGNAL SIGINT',
      'ONBUILD RUN echo triggered',
      'ENTRYPOINT ["/usr/local/bin/show"]',
      'CMD ["default-arg"]',
      '',
    ].join('\n'),
    'hello.txt': 'hello file\n',
    'bin/show': '#!/bin/sh\necho "args: $*"; cat /app/hello.txt /app/greeting /app/heredoc /etc/inline.conf /opt/inside.txt; id -u\n',
  });
  // a tar for ADD to unpack
  await mkdir(join(d.dir, 'tarsrc'), { recursive: true });
  await writeFile(join(d.dir, 'tarsrc', 'inside.txt'), 'from the tar\n');
  const { run } = await import('./harness/index.js');
  assert.equal((await run('tar', ['-C', join(d.dir, 'tarsrc'), '-cf', join(dir, 'files.tar'), 'inside.txt'])).code, 0);

  await ok(d.cli(['build', '-t', 'demo:1', '--build-arg', 'GREETING=hi', '--label', 'extra=yes', '--progress', 'plain', dir]));
  const img = await inspect(d, 'demo:1');
  const c = img.Config;
  assert.ok(c.Env.includes('APP_HOME=/app'));
  assert.ok(c.Env.includes('PATH_EXTRA=with space'));
  assert.ok(c.Env.some((e) => e.startsWith('PATH=')));
  assert.ok(!c.Env.some((e) => e.startsWith('GREETING=')), 'build args are not in the image env');
  assert.equal(c.WorkingDir, '/app');
  assert.equal(c.User, 'nobody');
  assert.deepEqual(c.Entrypoint, ['/usr/local/bin/show']);
  assert.deepEqual(c.Cmd, ['default-arg']);
  assert.deepEqual(c.ExposedPorts, { '8080/tcp': {}, '53/udp': {} });
  assert.deepEqual(c.Volumes, { '/data': {} });
  assert.deepEqual(c.Labels, { 'org.example.name': 'demo app', version: '1', extra: 'yes' });
  assert.equal(c.StopSignal, 'SIGINT');
  assert.deepEqual(c.OnBuild, ['RUN echo triggered']);
  assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Timeout: 2e9, Retries: 4 });

  // history: one entry per instruction after FROM, metadata steps as empty layers
  const hist = await ok(d.cli(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}', 'demo:1']));
  const lines = hist.stdout.trim().split('\n').reverse();
  const ours = lines.slice(lines.indexOf('ARG GREETING=hello|0B')); // the busybox fixture's own history comes first
  assert.ok(ours.length > 1, hist.stdout);
  assert.match(ours.find((l) => l.startsWith('RUN |1 GREETING=hi /bin/sh -c echo')) ?? '', /# buildkit\|/);
  assert.ok(ours.some((l) => /^COPY hello\.txt \.\/ # buildkit\|\d/.test(l)), hist.stdout);
  assert.ok(ours.some((l) => l === 'USER nobody|0B'), hist.stdout);
  assert.ok(ours.some((l) => l.startsWith('LABEL extra=yes|0B')), hist.stdout);
  // layers: busybox's + COPY, COPY, ADD, RUN, RUN, COPY heredoc
  assert.equal(img.RootFS.Layers.length, (await inspect(d, 'busybox')).RootFS.Layers.length + 6);

  const out = await ok(d.cli(['run', '--rm', 'demo:1', 'x', 'y']));
  assert.equal(out.stdout, 'args: x y\nhello file\nhi from run\nheredoc line one\n/app\nkey=/app\nfrom the tar\n65534\n');
  // the intermediate images stay out of `images`, listed with -a
  const listed = (await ok(d.cli(['images', '-q']))).stdout.trim().split('\n');
  const all = (await ok(d.cli(['images', '-a', '-q']))).stdout.trim().split('\n');
  assert.equal(listed.length, 2, (await d.cli(['images'])).stdout);
  assert.ok(all.length > listed.length);
  // ONBUILD fires in a child build
  const child = await context(d, 'child', { Dockerfile: 'FROM demo:1\nRUN test -f /app/hello.txt\n' });
  const built = await ok(d.cli(['build', '--progress', 'plain', '-t', 'child', child]));
  assert.match(built.stderr, /triggered/);
  assert.equal((await inspect(d, 'child')).Config.OnBuild ?? null, null);
});

test('the cache: hits shown, content not mtimes, exactly the dependent steps rebuilt, --no-cache, restarts, builder prune', async (t) => {
  const d = await daemonWithBusybox(t);
  const dir = await context(d, 'cache', {
    Dockerfile: 'FROM busybox\nRUN echo one > /one\nCOPY a.txt /a.txt\nRUN cat /a.txt > /copy\nCOPY b.txt /b.txt\nCMD ["cat", "/copy"]\n',
    'a.txt': 'a1\n',
    'b.txt': 'b1\n',
  });
  const build = (...extra: string[]) => ok(d.cli(['build', '--progress', 'plain', '-t', 'cached', ...extra, dir]));
  const first = await build();
  assert.equal(cachedSteps(first.stderr), 0);
  const id1 = (await inspect(d, 'cached')).Id;

  const again = await build();
  assert.equal(cachedSteps(again.stderr), 4, again.stderr);
  assert.equal((await inspect(d, 'cached')).Id, id1, 'a fully cached build gives the same image');

  // a new mtime alone changes nothing
  await utimes(join(dir, 'a.txt'), new Date(), new Date(Date.now() + 60_000));
  assert.equal(cachedSteps((await build()).stderr), 4);

  // new content in a.txt: its COPY and everything after rebuild, the RUN before stays cached
  await writeFile(join(dir, 'a.txt'), 'a2\n');
  const changed = await build();
  assert.equal(cachedSteps(changed.stderr), 1, changed.stderr);
  assert.equal((await ok(d.cli(['run', '--rm', 'cached']))).stdout, 'a2\n');

  // a mode change is a change too
  await chmod(join(dir, 'b.txt'), 0o600);
  assert.equal(cachedSteps((await build()).stderr), 3);

  const nocache = await build('--no-cache');
  assert.equal(cachedSteps(nocache.stderr), 0);

  // the cache survives a daemon restart
  await d.restart();
  assert.equal(cachedSteps((await build()).stderr), 4);

  // builder prune -a forgets it
  const pruned = await ok(d.cli(['builder', 'prune', '-a', '-f']));
  assert.match(pruned.stdout, /Total/);
  assert.equal(cachedSteps((await build()).stderr), 0);
});

test('multi-stage: only what the target needs is built, independent stages run at once, COPY --from', async (t) => {
  const d = await daemonWithBusybox(t);
  const dir = await context(d, 'multi', {
    Dockerfile: [
      'FROM busybox AS left',
      'RUN sleep 1; echo left > /left',
      'FROM busybox AS right',
      'RUN sleep 1; echo right > /right',
      'FROM busybox AS broken',
      'RUN exit 9',
      'FROM scratch AS final',
      'COPY --from=left /left /out/left',
      'COPY --from=right /right /out/',
      'COPY --from=busybox /bin/busybox /bin/busybox',
      'CMD ["/bin/busybox", "cat", "/out/left", "/out/right"]',
      'FROM final AS extra',
      '',
    ].join('\n'),
  });
  const since = Math.floor(Date.now() / 1000);
  await ok(d.cli(['build', '--progress', 'plain', '--target', 'final', '-t', 'multi', dir]));
  const out = await ok(d.cli(['run', '--rm', 'multi']));
  assert.equal(out.stdout, 'left\nright\n');
  // the two RUN containers overlapped: both started before either died
  const ev = await ok(d.cli(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=container', '--format', '{{.Action}}']));
  const actions = ev.stdout.split('\n').filter((a) => a === 'start' || a === 'die');
  assert.deepEqual(actions.slice(0, 2), ['start', 'start'], ev.stdout);
  // the broken stage was never built (its RUN would fail the build)
  const unknown = await d.cli(['build', '--target', 'nope', dir]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /target stage "nope" could not be found/);
});

test('failures: parse errors with their line, a failing RUN with its exit code, a missing COPY source; nothing half-made', async (t) => {
  const d = await daemonWithBusybox(t);
  const before = (await ok(d.cli(['images', '-a', '-q']))).stdout;
  const cases: [string, RegExp][] = [
    ['FROM busybox\nRUN true\nFROB x\n', /line 3: unknown instruction: FROB/i],
    ['FROM busybox\nRUN echo start\nRUN exit 7\n', /Dockerfile:3.*RUN exit 7.*exit code: 7/s],
    ['FROM busybox\nCOPY missing.txt /x\n', /missing\.txt.*not found/],
    ['RUN true\n', /no build stage|FROM/i],
  ];
  for (const [i, [dockerfile, expected]] of cases.entries()) {
    const dir = await context(d, `bad${i}`, { Dockerfile: dockerfile });
    const r = await d.cli(['build', '--progress', 'plain', '-t', `bad${i}`, dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, expected);
  }
  // no tag, no build container left; only the cached RUN of the failing build is new
  assert.equal((await d.cli(['image', 'inspect', 'bad1'])).code, 1);
  assert.equal((await ok(d.cli(['ps', '-a', '-q']))).stdout, '');
  const after = (await ok(d.cli(['images', '-a', '-q']))).stdout.trim().split('\n');
  assert.equal(after.length, before.trim().split('\n').length + 1, 'only "RUN echo start" was committed (cache of a finished step)');
});

test('the docker CLI builds through berth (classic builder API), .dockerignore applied, -q prints the ID', async (t) => {
  const d = await daemonWithBusybox(t);
  const dir = await context(d, 'docker', {
    Dockerfile: 'FROM busybox\nCOPY . /ctx/\nRUN ls /ctx | sort > /listing\nCMD ["cat", "/listing"]\n',
    '.dockerignore': '*.log\nsecret/\n!secret/public.txt\n',
    'keep.txt': 'k',
    'debug.log': 'x',
    'secret/key': 's',
    'secret/public.txt': 'p',
  });
  const r = await d.docker(['build', '-t', 'viadocker', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Step 1\/4 : FROM busybox/);
  assert.match(r.stdout, /Successfully tagged viadocker:latest/);
  const listing = await d.docker(['run', '--rm', 'viadocker']);
  assert.equal(listing.stdout, 'Dockerfile\nkeep.txt\nsecret\n');
  const files = await d.docker(['run', '--rm', 'viadocker', 'find', '/ctx/secret']);
  assert.equal(files.stdout, '/ctx/secret\n/ctx/secret/public.txt\n');
  const again = await d.docker(['build', '-q', '-t', 'viadocker', dir]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trim(), (await inspect(d, 'viadocker')).Id);
  // --add-host and --network reach the RUN containers; a resource limit the builder can't apply is refused by name
  const netctx = await context(d, 'dockernet', { Dockerfile: 'FROM busybox\nRUN grep -q "10.1.2.3.*myhost" /etc/hosts && ls /sys/class/net > /ifaces\nCMD ["cat", "/ifaces"]\n' });
  const withNet = await d.docker(['build', '-q', '--add-host', 'myhost:10.1.2.3', '--network', 'none', '-t', 'netbuilt', netctx]);
  assert.equal(withNet.code, 0, withNet.stderr);
  assert.equal((await d.docker(['run', '--rm', 'netbuilt'])).stdout, 'lo\n');
  const limited = await d.docker(['build', '-m', '64m', netctx]);
  assert.notEqual(limited.code, 0);
  assert.match(limited.stderr, /build resource limits \(memory\) are not supported/);
  // a failing RUN: the docker CLI exits with errorDetail.code, the command's exit code, as with dockerd
  const bad = await context(d, 'dockerbad', { Dockerfile: 'FROM busybox\nRUN exit 3\n' });
  const failed = await d.docker(['build', bad]);
  assert.equal(failed.code, 3);
  assert.match(failed.stderr, /exit code: 3/);
});

test('a realistic build: RUN apt-get install on the Debian fixture image, then the result runs', async (t) => {
  const d = await daemonWithBusybox(t);
  const { debianMinbase } = await import('./fixtures/index.js');
  const { run } = await import('./harness/index.js');
  const deb = await debianMinbase();
  const archive = join(d.dir, 'debian.tar');
  assert.equal((await run('tar', ['-C', deb.layoutDir, '-cf', archive, '.'])).code, 0);
  await ok(d.cli(['load', '-i', archive]));
  await ok(d.cli(['tag', deb.configDigest, 'debian:minbase']));
  const dir = await context(d, 'apt', {
    Dockerfile: [
      'FROM debian:minbase',
      'ENV DEBIAN_FRONTEND=noninteractive',
      'RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends jq >/dev/null && rm -rf /var/lib/apt/lists/*',
      'CMD ["jq", "-n", "{built: true}"]',
      '',
    ].join('\n'),
  });
  await ok(d.cli(['build', '--progress', 'plain', '-t', 'withjq', dir]));
  const out = await ok(d.cli(['run', '--rm', 'withjq', 'jq', '-c', '-n', '{built: true}']));
  assert.equal(out.stdout, '{"built":true}\n');
});

test('FROM pulls a missing base from a registry (and --pull refreshes it); contexts from stdin, a tarball, and ADD of a URL', async (t) => {
  const { startRegistry } = await import('./harness/index.js');
  const { busybox: busyboxFixture, pushFixture } = await import('./fixtures/index.js');
  const { createServer } = await import('node:http');
  const { run } = await import('./harness/index.js');
  const reg = await startRegistry(t);
  await pushFixture(await busyboxFixture(), reg.host, 'base/bb:1');
  const d = await daemonWithBusybox(t);
  // a file server on loopback for ADD <url>
  const server = createServer((req, res) => {
    if (req.url === '/files/notes.txt') res.end('fetched over http\n');
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;

  const dockerfile = `FROM ${reg.host}/base/bb:1\nADD http://127.0.0.1:${port}/files/notes.txt /srv/\nRUN cat /srv/notes.txt > /srv/copy\nCMD ["cat", "/srv/copy"]\n`;
  // `-`: the Dockerfile on stdin, no context
  const fromStdin = await d.cli(['build', '--progress', 'plain', '-t', 'stdin', '-'], { input: dockerfile });
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  assert.match(fromStdin.stderr, /Pulling from base\/bb|Pull complete|Downloaded newer image|Status/, 'the base was pulled during the build');
  assert.equal((await ok(d.cli(['run', '--rm', 'stdin']))).stdout, 'fetched over http\n');
  // the pulled base is now a local image under the registry's name
  assert.match((await ok(d.cli(['image', 'inspect', '-f', '{{join .RepoTags ","}}', `${reg.host}/base/bb:1`]))).stdout, new RegExp(`${reg.host}/base/bb:1`));

  // --pull asks the registry again even though the base is present; the steps stay cached
  const pulled = await ok(d.cli(['build', '--pull', '--progress', 'plain', '-t', 'stdin', '-'], { input: dockerfile }));
  assert.equal(cachedSteps(pulled.stderr), 2, pulled.stderr);

  // a gzipped tarball as the context, given as PATH, and the same on stdin
  const dir = await context(d, 'tarctx', { Dockerfile: 'FROM busybox\nCOPY msg /msg\nCMD ["cat", "/msg"]\n', msg: 'from a tarball\n' });
  const tgz = join(d.dir, 'ctx.tar.gz');
  assert.equal((await run('tar', ['-C', dir, '-czf', tgz, '.'])).code, 0);
  await ok(d.cli(['build', '-q', '-t', 'fromtar', tgz]));
  assert.equal((await ok(d.cli(['run', '--rm', 'fromtar']))).stdout, 'from a tarball\n');
  const { readFile } = await import('node:fs/promises');
  const onStdin = await d.cli(['build', '-q', '-t', 'fromtar2', '-'], { input: await readFile(tgz) });
  assert.equal(onStdin.code, 0, onStdin.stderr);
  assert.match(onStdin.stdout.trim(), /^sha256:[0-9a-f]{64}$/);

  // a URL that answers 404 fails the step with the status
  const missing = await d.cli(['build', '-'], { input: `FROM busybox\nADD http://127.0.0.1:${port}/nope /x\n` });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /404/);
});
