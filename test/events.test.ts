// GET /events end to end: the real docker CLI and berth's against a berth
// daemon running real containers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { daemonWithBusybox } from './harness/index.js';

const nowArg = () => (Date.now() / 1000).toFixed(9);
const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container (create|start|die|destroy) ([0-9a-f]{64}) \((.*)\)$/;

test('docker events --since --until: a --rm run is create, start, die, destroy; filters and image events', async (t) => {
  const d = await daemonWithBusybox(t);
  const since = nowArg();
  const ran = await d.docker(['run', '--rm', '--name', 'once', '--label', 'tier=front', 'busybox', 'true']);
  assert.equal(ran.code, 0, ran.stderr);
  const tagged = await d.docker(['tag', 'busybox', 'mine:1']);
  assert.equal(tagged.code, 0, tagged.stderr);
  const until = nowArg();

  const actions = await d.docker(['events', '--since', since, '--until', until, '--filter', 'type=container', '--format', '{{.Action}}']);
  assert.equal(actions.code, 0, actions.stderr);
  assert.equal(actions.stdout, 'create\nstart\ndie\ndestroy\n');

  const json = await d.docker(['events', '--since', since, '--until', until, '--filter', 'event=die', '--format', '{{json .}}']);
  assert.equal(json.code, 0, json.stderr);
  const die = JSON.parse(json.stdout) as { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> }; scope: string; time: number; timeNano: number };
  assert.equal(die.Type, 'container');
  assert.equal(die.scope, 'local');
  assert.deepEqual(die.Actor.Attributes, { exitCode: '0', image: 'busybox', name: 'once', tier: 'front' });
  assert.ok(die.time >= Math.floor(Number(since)) && die.time <= Number(until));

  const byLabel = await d.docker(['events', '--since', since, '--until', until, '--filter', 'label=tier=back', '--format', '{{.Action}}']);
  assert.equal(byLabel.code, 0, byLabel.stderr);
  assert.equal(byLabel.stdout, '');

  const images = await d.docker(['events', '--since', since, '--until', until, '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
  assert.equal(images.code, 0, images.stderr);
  assert.equal(images.stdout, 'tag mine:1\n');

  const bad = await d.docker(['events', '--until', until, '--filter', 'bogus=1']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid filter 'bogus'/);
});

test('berth events prints docker\'s default line format, attributes sorted', async (t) => {
  const d = await daemonWithBusybox(t);
  const since = nowArg();
  const ran = await d.cli(['run', '--rm', '--name', 'xy', 'busybox', 'true']);
  assert.equal(ran.code, 0, ran.stderr);
  const until = nowArg();
  const out = await d.cli(['events', '--since', since, '--until', until]);
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 4, out.stdout);
  const parsed = lines.map((l) => LINE.exec(l));
  assert.ok(parsed.every((m) => m !== null), out.stdout);
  assert.deepEqual(parsed.map((m) => m?.[1]), ['create', 'start', 'die', 'destroy']);
  assert.equal(new Set(parsed.map((m) => m?.[2])).size, 1, 'one container');
  assert.equal(parsed[0]?.[3], 'image=busybox, name=xy');
  assert.equal(parsed[2]?.[3], 'exitCode=0, image=busybox, name=xy');
  const templ = await d.cli(['events', '--since', since, '--until', until, '--filter', 'event=start', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}']);
  assert.equal(templ.code, 0, templ.stderr);
  assert.equal(templ.stdout, 'container start xy\n');
});

test('docker events (live, no --until) sees a container start as it happens', async (t) => {
  const d = await daemonWithBusybox(t);
  const dockerConfig = join(d.dir, 'docker-config-events');
  await mkdir(dockerConfig, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: dockerConfig, HOME: d.dir };
  for (const k of ['DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) delete env[k];
  // since = now: the stream includes anything between our request and the subscription, so no race
  const child = spawn('docker', ['events', '--since', nowArg(), '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  const seen: string[] = [];
  const gotStart = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      seen.push(line);
      if (line === 'container start live1') resolve();
    });
    child.once('exit', (code) => reject(new Error(`docker events exited early (${code}): ${seen.join('|')}`)));
  });
  const ran = await d.docker(['run', '-d', '--name', 'live1', 'busybox', 'sleep', '1000']);
  assert.equal(ran.code, 0, ran.stderr);
  await gotStart;
  assert.deepEqual(seen.slice(0, 2), ['container create live1', 'container start live1']);
  child.kill('SIGTERM');
  await exited;
  // the daemon noticed the client leaving and still serves
  const ps = await d.docker(['ps', '--format', '{{.Names}}']);
  assert.equal(ps.stdout.trim(), 'live1');
});
