// dockerode (npm) against berth: the same surface as the docker-py suite, from
// Node: pull and build followed with modem.followProgress, containers with
// demultiplexed log streams, hijacked attach and exec streams, list, remove.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import Docker from 'dockerode';
import tar from 'tar-stream';
import { daemonWithBusybox, startRegistry, type Daemon } from './harness/index.js';
import { busybox, pushFixture } from './fixtures/index.js';

function client(d: Daemon): Docker {
  return new Docker({ socketPath: d.socket });
}

const follow = (docker: Docker, stream: NodeJS.ReadableStream) =>
  new Promise<Record<string, unknown>[]>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, out: Record<string, unknown>[]) => (err ? reject(err) : resolve(out)));
  });

/** stdout and stderr of a multiplexed stream, apart. */
async function demuxed(docker: Docker, stream: NodeJS.ReadableStream): Promise<{ stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  out.on('data', (b: Buffer) => chunks.stdout.push(b));
  err.on('data', (b: Buffer) => chunks.stderr.push(b));
  docker.modem.demuxStream(stream, out, err);
  await new Promise((r) => stream.on('end', r));
  return { stdout: Buffer.concat(chunks.stdout).toString(), stderr: Buffer.concat(chunks.stderr).toString() };
}

test('dockerode: ping, pull with followProgress, create/start/wait/logs, list with filters, remove', async (t) => {
  const reg = await startRegistry(t);
  await pushFixture(await busybox(), reg.host, 'tools/bb:1');
  const d = await daemonWithBusybox(t, { insecureRegistries: [reg.host] });
  const docker = client(d);
  assert.equal(String(await docker.ping()), 'OK');
  assert.match((await docker.version()).ApiVersion, /^1\.\d+$/);

  const events = await follow(docker, await docker.pull(`${reg.host}/tools/bb:1`));
  assert.ok(events.some((e) => String(e.status).includes('Digest: sha256:')), JSON.stringify(events));
  assert.ok((await docker.listImages()).some((i) => (i.RepoTags ?? []).includes(`${reg.host}/tools/bb:1`)));

  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo to-out; echo to-err >&2; exit 5'], Labels: { suite: 'node' } });
  await c.start();
  assert.equal((await c.wait()).StatusCode, 5);
  const logs = await c.logs({ stdout: true, stderr: true, follow: true });
  assert.deepEqual(await demuxed(docker, logs), { stdout: 'to-out\n', stderr: 'to-err\n' });
  const listed = await docker.listContainers({ all: true, filters: { label: ['suite=node'] } });
  assert.deepEqual(listed.map((x) => x.Id), [c.id]);
  assert.equal(listed[0]?.State, 'exited');
  await c.remove();
  await assert.rejects(c.inspect(), (err: { statusCode?: number }) => err.statusCode === 404);
});

test('dockerode: hijacked attach with stdin, exec with a hijacked stream, buildImage with followProgress', async (t) => {
  const d = await daemonWithBusybox(t);
  const docker = client(d);

  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'read line; echo "got $line"'], OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true });
  const stream = await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true });
  const output = demuxed(docker, stream);
  await c.start();
  stream.write('hello\n');
  assert.equal((await output).stdout, 'got hello\n');
  assert.equal((await c.wait()).StatusCode, 0);
  await c.remove();

  const runner = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '60'] });
  await runner.start();
  const exec = await runner.exec({ Cmd: ['sh', '-c', 'cat; echo err >&2'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
  const duplex = await exec.start({ hijack: true, stdin: true });
  const execOut = demuxed(docker, duplex);
  duplex.end('through exec\n');
  assert.deepEqual(await execOut, { stdout: 'through exec\n', stderr: 'err\n' });
  assert.equal((await exec.inspect()).ExitCode, 0);
  await runner.remove({ force: true });

  // a build context made in memory
  const pack = tar.pack();
  pack.entry({ name: 'Dockerfile' }, 'FROM busybox\nRUN echo built > /built\nCMD ["cat", "/built"]\n');
  pack.finalize();
  const build = await docker.buildImage(pack as unknown as Readable, { t: 'node-built:1' });
  const progress = await follow(docker, build);
  assert.ok(progress.some((e) => String(e.stream ?? '').includes('Step 2/3 : RUN echo built')), JSON.stringify(progress));
  const built = await docker.createContainer({ Image: 'node-built:1' });
  await built.start();
  await built.wait();
  assert.equal((await demuxed(docker, await built.logs({ stdout: true, follow: true }))).stdout, 'built\n');
  await built.remove();
});
