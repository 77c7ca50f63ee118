// Image management end to end: tag, rmi, prune, save/load, import, df,
// through the berth CLI and through the real docker CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startDaemon, startRegistry, run, type Daemon } from './harness/index.js';
import { busybox, multilayer, pushFixture } from './fixtures/index.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-images-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function ok(d: Daemon, args: string[], input?: string): Promise<string> {
  const r = await d.cli(args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function snapshotCount(d: Daemon): Promise<number> {
  return (await readdir(join(d.root, 'overlay', 'snapshots'))).length;
}

async function blobCount(d: Daemon): Promise<number> {
  return (await readdir(join(d.root, 'content', 'blobs', 'sha256'))).length;
}

test('tag, rmi and prune keep shared layers and drop the rest', async (t) => {
  const reg = await startRegistry(t);
  const [bb, ml] = await Promise.all([busybox(), multilayer()]);
  await pushFixture(bb, reg.host, 'bb:1');
  await pushFixture(ml, reg.host, 'ml:1');
  const d = await startDaemon(t);
  await ok(d, ['pull', `${reg.host}/bb:1`]);
  await ok(d, ['pull', `${reg.host}/ml:1`]);
  assert.equal(await snapshotCount(d), ml.layers.length); // busybox's layer is ml's bottom layer

  await ok(d, ['tag', `${reg.host}/bb:1`, 'mybox:2']);
  const listed = await ok(d, ['images', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.deepEqual(listed.trim().split('\n').sort(), [`${reg.host}/bb:1`, `${reg.host}/ml:1`, 'mybox:2'].sort());
  const filtered = await ok(d, ['images', '--filter', 'reference=mybox', '-q']);
  assert.equal(filtered.trim(), bb.configDigest.slice(7, 19));

  // by ID while two repositories use it: refused without -f, like docker
  const conflict = await d.cli(['rmi', bb.configDigest.slice(7, 19)]);
  assert.equal(conflict.code, 1);
  assert.match(conflict.stderr, /must be forced.*referenced in multiple repositories/);

  const untag = await ok(d, ['rmi', 'mybox:2']);
  assert.equal(untag.trim(), 'Untagged: mybox:2');
  const del = await ok(d, ['rmi', `${reg.host}/bb:1`]);
  assert.match(del, new RegExp(`Untagged: ${reg.host}/bb:1`));
  assert.match(del, new RegExp(`Deleted: ${bb.configDigest}`));
  // the busybox layer is still multilayer's bottom layer
  assert.equal(await snapshotCount(d), ml.layers.length);

  const missing = await d.cli(['rmi', 'nope:1']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such image: nope:1/);

  // make the multilayer image dangling by re-tagging its tag onto another image, then prune
  await ok(d, ['pull', `${reg.host}/bb:1`]);
  await ok(d, ['tag', `${reg.host}/bb:1`, `${reg.host}/ml:1`]);
  const dangling = await ok(d, ['images', '--filter', 'dangling=true', '-q']);
  assert.equal(dangling.trim(), ml.configDigest.slice(7, 19));
  const pruned = await ok(d, ['image', 'prune', '-f']);
  assert.match(pruned, new RegExp(`deleted: ${ml.configDigest}`));
  assert.match(pruned, /Total reclaimed space: [1-9]/);
  assert.equal(await snapshotCount(d), 1);

  const rmf = await ok(d, ['rmi', '-f', bb.configDigest]);
  assert.match(rmf, /Deleted: /);
  assert.equal(await snapshotCount(d), 0);
  assert.equal(await blobCount(d), 0);
});

test('save and load round-trip, and docker save/load read what berth writes', async (t) => {
  const reg = await startRegistry(t);
  const ml = await multilayer();
  await pushFixture(ml, reg.host, 'ml:1');
  const d = await startDaemon(t);
  const dir = await tempDir(t);
  const ref = `${reg.host}/ml:1`;
  await ok(d, ['pull', ref]);
  const tarPath = join(dir, 'ml.tar');
  await ok(d, ['save', '-o', tarPath, ref]);
  const listing = await run('tar', ['-tf', tarPath]);
  assert.match(listing.stdout, /^manifest\.json$/m);
  assert.match(listing.stdout, /^index\.json$/m);
  for (const diffId of ml.layers) assert.match(listing.stdout, new RegExp(`blobs/sha256/${diffId.slice(7)}`));

  // into a second, empty daemon
  const d2 = await startDaemon(t);
  const loaded = await ok(d2, ['load', '-i', tarPath]);
  assert.match(loaded, new RegExp(`Loaded image: ${ref}`));
  const inspected = JSON.parse(await ok(d2, ['image', 'inspect', ref])) as { Id: string; RootFS: { Layers: string[] } }[];
  assert.equal(inspected[0]?.Id, ml.configDigest);
  assert.deepEqual(inspected[0]?.RootFS.Layers, ml.layers);
  // it can be saved again from the loaded copy, byte for byte the same layers
  const again = join(dir, 'again.tar');
  await ok(d2, ['save', '-o', again, ref]);

  // the real docker CLI: save through berth, load through berth
  const dockerTar = join(dir, 'docker.tar');
  const ds = await d.docker(['save', '-o', dockerTar, ref]);
  assert.equal(ds.code, 0, ds.stderr);
  await ok(d, ['rmi', ref]);
  const dl = await d.docker(['load', '-i', dockerTar]);
  assert.equal(dl.code, 0, dl.stderr);
  assert.match(dl.stdout, new RegExp(`Loaded image: ${ref}`));

  // bad input: a tar that is not an image archive, and garbage
  const junk = join(dir, 'junk.tar');
  await run('tar', ['-cf', junk, '-C', dir, 'again.tar']);
  const bad = await d.cli(['load', '-i', junk]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /manifest\.json|index\.json/);
  await writeFile(join(dir, 'garbage'), 'this is not a tar file at all'.repeat(40));
  const bad2 = await d.cli(['load', '-i', join(dir, 'garbage')]);
  assert.equal(bad2.code, 1);
});

test('load reads a plain OCI image layout archive (as skopeo or buildkit write them)', async (t) => {
  const d = await startDaemon(t);
  const dir = await tempDir(t);
  const bb = await busybox();
  const archive = join(dir, 'oci.tar');
  await run('tar', ['-C', bb.layoutDir, '-cf', archive, '.']);
  const loaded = await ok(d, ['load', '-i', archive]);
  // the layout names only a tag ("latest"), no repository: docker loads it by ID
  assert.match(loaded, new RegExp(`Loaded image ID: ${bb.configDigest}`));
  const ids = await ok(d, ['images', '-a', '-q', '--no-trunc']);
  assert.equal(ids.trim(), bb.configDigest);
  const listed = await ok(d, ['images', '-a']);
  assert.match(listed, /<none>\s+<none>/);
});

test('load reads the legacy docker-archive layout (<id>/layer.tar, symlinked duplicate layers)', async (t) => {
  const d = await startDaemon(t);
  const dir = await tempDir(t);
  const bb = await busybox();
  const blob = (digest: string) => join(bb.layoutDir, 'blobs', 'sha256', digest.slice(7));
  const root = join(dir, 'archive');
  const layerId = 'a'.repeat(64);
  const dupId = 'b'.repeat(64);
  await run('mkdir', ['-p', join(root, layerId), join(root, dupId)]);
  // docker 20.10 writes each layer uncompressed as <id>/layer.tar, and a repeated layer as a symlink
  const plain = await run('sh', ['-c', `gzip -dc < '${blob(bb.layerDigests[0] as string)}' > '${join(root, layerId, 'layer.tar')}'`]);
  assert.equal(plain.code, 0, plain.stderr);
  await run('ln', ['-s', `../${layerId}/layer.tar`, join(root, dupId, 'layer.tar')]);
  await run('cp', [blob(bb.configDigest), join(root, `${bb.configDigest.slice(7)}.json`)]);
  await writeFile(
    join(root, 'manifest.json'),
    JSON.stringify([{ Config: `${bb.configDigest.slice(7)}.json`, RepoTags: ['legacy/busybox:old'], Layers: [`${dupId}/layer.tar`] }]),
  );
  const archive = join(dir, 'legacy.tar');
  await run('tar', ['-C', root, '-cf', archive, '.']);
  const loaded = await ok(d, ['load', '-i', archive]);
  assert.match(loaded, /Loaded image: legacy\/busybox:old/);
  const [img] = JSON.parse(await ok(d, ['image', 'inspect', 'legacy/busybox:old'])) as { Id: string; RootFS: { Layers: string[] } }[];
  assert.equal(img?.Id, bb.configDigest);
  assert.deepEqual(img?.RootFS.Layers, bb.layers);
});

test('import makes a one-layer image from a rootfs tarball, with --change', async (t) => {
  const d = await startDaemon(t);
  const dir = await tempDir(t);
  const root = join(dir, 'rootfs');
  await run('mkdir', ['-p', join(root, 'bin'), join(root, 'etc')]);
  await run('cp', ['/bin/busybox', join(root, 'bin', 'busybox')]);
  await writeFile(join(root, 'etc', 'hello'), 'hello\n');
  const tgz = join(dir, 'rootfs.tar.gz');
  await run('tar', ['-C', root, '-czf', tgz, '.']);
  const out = await ok(d, ['import', '-c', 'CMD ["/bin/busybox","sh"]', '-c', 'ENV A=1', '-m', 'from a test', tgz, 'imported:1']);
  assert.match(out.trim(), /^sha256:[a-f0-9]{64}$/);
  const [img] = JSON.parse(await ok(d, ['image', 'inspect', 'imported:1'])) as { Id: string; Config: { Cmd: string[]; Env: string[] }; Comment: string; RootFS: { Layers: string[] } }[];
  assert.ok(img);
  assert.equal(img.Id, out.trim());
  assert.deepEqual(img.Config.Cmd, ['/bin/busybox', 'sh']);
  assert.deepEqual(img.Config.Env, ['A=1']);
  assert.equal(img.Comment, 'from a test');
  assert.equal(img.RootFS.Layers.length, 1);
  const hist = await ok(d, ['history', '--format', '{{.Comment}}', 'imported:1']);
  assert.equal(hist.trim(), 'from a test');
  const df = await ok(d, ['system', 'df', '--format', '{{.Type}} {{.TotalCount}}']);
  assert.match(df, /^Images 1$/m);
});

test('the real docker CLI drives berth: pull, images, inspect, tag, rmi, version, info', async (t) => {
  const reg = await startRegistry(t);
  const bb = await busybox();
  await pushFixture(bb, reg.host, 'dk/busybox:1');
  const d = await startDaemon(t);
  const ref = `${reg.host}/dk/busybox:1`;
  const pull = await d.docker(['pull', ref]);
  assert.equal(pull.code, 0, pull.stderr);
  assert.match(pull.stdout, new RegExp(`Digest: ${bb.manifestDigest}`));
  assert.match(pull.stdout, new RegExp(`${ref}\\s*$`));
  const images = await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
  assert.equal(images.code, 0, images.stderr);
  assert.equal(images.stdout.trim(), `${ref} ${bb.configDigest.slice(7, 19)}`);
  const insp = await d.docker(['image', 'inspect', '--format', '{{.Id}} {{.Os}}', ref]);
  assert.equal(insp.code, 0, insp.stderr);
  assert.equal(insp.stdout.trim(), `${bb.configDigest} linux`);
  const tag = await d.docker(['tag', ref, 'other:2']);
  assert.equal(tag.code, 0, tag.stderr);
  const rmi = await d.docker(['rmi', 'other:2']);
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.match(rmi.stdout, /Untagged: other:2/);
  const missing = await d.docker(['image', 'inspect', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such image: nope/);
  const version = await d.docker(['version', '--format', '{{.Server.APIVersion}}']);
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout.trim(), '1.50');
  const info = await d.docker(['info', '--format', '{{.Images}} {{.Driver}}']);
  assert.equal(info.code, 0, info.stderr);
  assert.equal(info.stdout.trim(), '1 overlay2');
});
