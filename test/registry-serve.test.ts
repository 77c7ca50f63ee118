// `berth registry serve` as its own process, checked by independent peers:
// skopeo copies into and out of it, the berth daemon pulls from it, raw HTTP
// checks the spec's errors, and `berth registry gc` sweeps its storage.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { CLI_MAIN, daemonWithBusybox, freePort, run, runOk, startDaemon } from './harness/index.js';
import { httpAnswers, terminate } from './harness/registry.js';
import { startTokenServer } from './harness/token-server.js';
import { busybox, twoPlatform, pushFixture, type Fixture } from './fixtures/index.js';

const sha256 = (data: string | Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface BerthRegistry {
  host: string;
  root: string;
  dir: string;
}

async function tempDir(t: TestContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** `node CLI_MAIN registry serve` on a free loopback port, stopped after the test. */
async function startBerthRegistry(t: TestContext, extraArgs: string[] = []): Promise<BerthRegistry> {
  const dir = await tempDir(t, 'berth-registry-serve-');
  const root = join(dir, 'root');
  let child: ChildProcess | undefined;
  t.after(async () => {
    if (child) await terminate(child, 5000);
  });
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const logPath = join(dir, `serve-${attempt}.log`);
    const log = await open(logPath, 'w');
    child = spawn(process.execPath, [CLI_MAIN, 'registry', 'serve', '--addr', `127.0.0.1:${port}`, '--root', root, ...extraArgs], { stdio: ['ignore', log.fd, log.fd] });
    await log.close();
    let dead = false;
    child.once('exit', () => (dead = true));
    for (let i = 0; i < 200 && !dead; i++) {
      if (await httpAnswers(`http://127.0.0.1:${port}/v2/`)) return { host: `127.0.0.1:${port}`, root, dir };
      await sleep(50);
    }
    await terminate(child, 1000);
    const text = await readFile(logPath, 'utf8');
    if (!/EADDRINUSE/.test(text)) throw new Error(`berth registry serve did not start:\n${text}`);
  }
  throw new Error('berth registry serve: no free port after 3 attempts');
}

/** `skopeo copy docker://HOST/REF oci:DIR:TAG`; returns the digest of the top-level document it wrote. */
async function copyOut(t: TestContext, host: string, ref: string, opts: { all?: boolean; creds?: string } = {}): Promise<string> {
  const dir = await tempDir(t, 'berth-registry-out-');
  const args = ['copy', '--quiet', '--preserve-digests', '--src-tls-verify=false'];
  if (opts.all) args.push('--all');
  args.push(...(opts.creds ? ['--src-creds', opts.creds] : ['--src-no-creds']));
  await runOk('skopeo', [...args, `docker://${host}/${ref}`, `oci:${join(dir, 'layout')}:out`]);
  const index = JSON.parse(await readFile(join(dir, 'layout', 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const digest = index.manifests[0]?.digest as string;
  // the bytes skopeo wrote hash to the digest they are filed under
  const body = await readFile(join(dir, 'layout', 'blobs', 'sha256', digest.slice(7)));
  assert.equal(sha256(body), digest);
  return digest;
}

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  code?: string;
}

/** One HTTP request with the path sent exactly as given (fetch would normalise "..").*/
function raw(host: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Raw> {
  const [hostname, port] = host.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port: Number(port), method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let code: string | undefined;
        try {
          code = (JSON.parse(text) as { errors?: { code: string }[] }).errors?.[0]?.code;
        } catch {
          /* no JSON body */
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, ...(code ? { code } : {}) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function blobFiles(root: string): Promise<string[]> {
  return (await readdir(join(root, 'blobs', 'sha256'))).sort();
}

test('skopeo copies OCI images and indexes into and out of berth registry serve with identical digests; inspect and list-tags', async (t) => {
  const reg = await startBerthRegistry(t);
  const [bb, multi]: Fixture[] = await Promise.all([busybox(), twoPlatform()]);
  await pushFixture(bb, reg.host, 'library/busybox:latest');
  await pushFixture(bb, reg.host, 'library/busybox:1.36');
  await pushFixture(multi, reg.host, 'multi/arch:v1');

  assert.equal(await copyOut(t, reg.host, 'library/busybox:latest'), bb.manifestDigest);
  assert.equal(await copyOut(t, reg.host, `library/busybox@${bb.manifestDigest}`), bb.manifestDigest);
  assert.equal(await copyOut(t, reg.host, 'multi/arch:v1', { all: true }), multi.manifestDigest);

  const inspect = JSON.parse((await runOk('skopeo', ['inspect', '--tls-verify=false', '--no-creds', `docker://${reg.host}/library/busybox:latest`])).stdout) as { Digest: string; Layers: string[]; RepoTags: string[] };
  assert.equal(inspect.Digest, bb.manifestDigest);
  assert.deepEqual(inspect.Layers, bb.layerDigests);
  assert.deepEqual(inspect.RepoTags.sort(), ['1.36', 'latest']);
  const rawManifest = (await runOk('skopeo', ['inspect', '--raw', '--tls-verify=false', '--no-creds', `docker://${reg.host}/multi/arch:v1`])).stdout;
  assert.equal(sha256(rawManifest), multi.manifestDigest);
  const tags = JSON.parse((await runOk('skopeo', ['list-tags', '--tls-verify=false', '--no-creds', `docker://${reg.host}/library/busybox`])).stdout) as { Tags: string[] };
  assert.deepEqual(tags.Tags.sort(), ['1.36', 'latest']);
  const catalog = await raw(reg.host, 'GET', '/v2/_catalog');
  assert.deepEqual(JSON.parse(catalog.text), { repositories: ['library/busybox', 'multi/arch'] });
});

test('berth pull from berth registry serve (OCI and Docker schema2)', async (t) => {
  const reg = await startBerthRegistry(t);
  const [bb, v2] = await Promise.all([busybox(), busybox({ format: 'v2s2' })]);
  await pushFixture(bb, reg.host, 'library/busybox:latest');
  await pushFixture(v2, reg.host, 'v2/busybox:latest');
  const d = await startDaemon(t, { insecureRegistries: [reg.host] });
  for (const [fx, ref] of [
    [bb, `${reg.host}/library/busybox:latest`],
    [v2, `${reg.host}/v2/busybox:latest`],
  ] as const) {
    const pulled = await d.cli(['pull', ref]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, new RegExp(`Digest: ${fx.manifestDigest}`));
    const img = await d.request('GET', `/v1.50/images/${ref}/json`);
    assert.equal(img.status, 200, img.text());
    assert.equal(img.json<{ Id: string }>().Id, fx.configDigest);
  }
});

test('berth push and the real docker CLI push and pull through berth, against berth registry serve', async (t) => {
  const reg = await startBerthRegistry(t);
  const d = await daemonWithBusybox(t, { insecureRegistries: [reg.host] });
  assert.equal((await d.cli(['tag', 'busybox', `${reg.host}/bb:1`])).code, 0);
  const pushed = await d.cli(['push', `${reg.host}/bb:1`]);
  assert.equal(pushed.code, 0, pushed.stderr);
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
  assert.ok(digest, pushed.stdout);
  // docker push of the same image to another repository mounts the layer instead of uploading it
  assert.equal((await d.docker(['tag', `${reg.host}/bb:1`, `${reg.host}/other:2`])).code, 0);
  const dpush = await d.docker(['push', `${reg.host}/other:2`]);
  assert.equal(dpush.code, 0, dpush.stderr);
  assert.match(dpush.stdout, /Mounted from bb/);
  assert.match(dpush.stdout, new RegExp(`digest: ${digest}`));
  assert.equal((await d.docker(['rmi', `${reg.host}/other:2`, `${reg.host}/bb:1`])).code, 0);
  const pulled = await d.docker(['pull', `${reg.host}/other:2`]);
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stdout, new RegExp(`Digest: ${digest}`));
  const ran = await d.docker(['run', '--rm', `${reg.host}/other:2`, 'echo', 'pulled back']);
  assert.equal(ran.stdout, 'pulled back\n');
});

test('bad input over HTTP: spec errors and nothing stored', async (t) => {
  const reg = await startBerthRegistry(t);
  const layer = 'a layer';
  assert.equal((await raw(reg.host, 'POST', `/v2/app/blobs/uploads/?digest=${sha256(layer)}`, layer)).status, 201);
  const before = await blobFiles(reg.root);

  const manifest = (configDigest: string) =>
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: 2 },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
    });
  const ct = { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' };
  const unknown = await raw(reg.host, 'PUT', '/v2/app/manifests/v1', manifest(sha256('never uploaded')), ct);
  assert.deepEqual([unknown.status, unknown.code], [400, 'MANIFEST_BLOB_UNKNOWN']);
  const malformed = await raw(reg.host, 'PUT', '/v2/app/manifests/v1', '{"schemaVersion":2,', ct);
  assert.deepEqual([malformed.status, malformed.code], [400, 'MANIFEST_INVALID']);
  const oversized = await raw(reg.host, 'PUT', '/v2/app/manifests/v1', Buffer.alloc(4 * 1024 * 1024 + 10, 0x20), ct);
  assert.deepEqual([oversized.status, oversized.code], [413, 'SIZE_INVALID']);
  const wrongDigest = await raw(reg.host, 'POST', `/v2/app/blobs/uploads/?digest=${sha256('other')}`, 'content');
  assert.deepEqual([wrongDigest.status, wrongDigest.code], [400, 'DIGEST_INVALID']);
  const byWrongDigest = await raw(reg.host, 'PUT', `/v2/app/manifests/${sha256('x')}`, manifest(sha256(layer)), ct);
  assert.deepEqual([byWrongDigest.status, byWrongDigest.code], [400, 'DIGEST_INVALID']);

  const session = await raw(reg.host, 'POST', '/v2/app/blobs/uploads/');
  const location = session.headers.location as string;
  assert.equal((await raw(reg.host, 'PATCH', location, '0123', { 'Content-Range': '0-3' })).status, 202);
  const truncated = await raw(reg.host, 'PATCH', location, '45', { 'Content-Range': '4-9' });
  assert.equal(truncated.status, 416);
  assert.equal(truncated.headers.range, '0-3');
  const gap = await raw(reg.host, 'PATCH', location, '6789', { 'Content-Range': '6-9' });
  assert.equal(gap.status, 416);
  const status = await raw(reg.host, 'GET', location);
  assert.deepEqual([status.status, status.headers.range], [204, '0-3']);
  assert.equal((await raw(reg.host, 'DELETE', location)).status, 204);

  for (const name of ['Upper/case', 'a/../../etc', '../x', 'a/%2e%2e/b', 'a//b']) {
    const r = await raw(reg.host, 'PUT', `/v2/${name}/manifests/v1`, manifest(sha256(layer)), ct);
    assert.deepEqual([r.status, r.code], [400, 'NAME_INVALID'], name);
  }
  assert.deepEqual(await blobFiles(reg.root), before);
  assert.deepEqual(await readdir(join(reg.root, 'uploads')), []);
  assert.deepEqual(await readdir(join(reg.root, 'repositories')), ['app']);
  assert.equal((await raw(reg.host, 'GET', '/v2/app/manifests/v1')).code, 'MANIFEST_UNKNOWN');
});

test('htpasswd: skopeo needs --creds', async (t) => {
  const dir = await tempDir(t, 'berth-registry-auth-');
  const line = await runOk('htpasswd', ['-Bbn', 'alice', 'pa55word']);
  const file = join(dir, 'htpasswd');
  await writeFile(file, line.stdout.trim() + '\n');
  const reg = await startBerthRegistry(t, ['--htpasswd', file]);
  const bb = await busybox();
  const anon = await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--dest-no-creds', `oci:${bb.layoutDir}:${bb.tag}`, `docker://${reg.host}/private/busybox:latest`]);
  assert.notEqual(anon.code, 0);
  assert.match(anon.stderr, /401|unauthorized|authentication required/i);
  await pushFixture(bb, reg.host, 'private/busybox:latest', { creds: { user: 'alice', password: 'pa55word' } });
  assert.equal(await copyOut(t, reg.host, 'private/busybox:latest', { creds: 'alice:pa55word' }), bb.manifestDigest);
  const tags = await runOk('skopeo', ['list-tags', '--tls-verify=false', '--creds', 'alice:pa55word', `docker://${reg.host}/private/busybox`]);
  assert.deepEqual((JSON.parse(tags.stdout) as { Tags: string[] }).Tags, ['latest']);
  const wrong = await run('skopeo', ['list-tags', '--tls-verify=false', '--creds', 'alice:nope', `docker://${reg.host}/private/busybox`]);
  assert.notEqual(wrong.code, 0);
});

test('token auth: the challenge, then skopeo, berth login/push/pull and the docker CLI with tokens from the issuer the registry trusts', async (t) => {
  const dir = await tempDir(t, 'berth-registry-token-');
  const creds = { user: 'alice', password: 's3cret' };
  const issuer = await startTokenServer(dir, creds);
  t.after(() => issuer.close());
  const reg = await startBerthRegistry(t, [
    '--token-realm', issuer.realm, '--token-service', issuer.service, '--token-issuer', issuer.issuer, '--token-rootcertbundle', issuer.certPath,
  ]);

  // Without a token: 401 with the challenge naming realm, service and the scope asked for.
  const ping = await raw(reg.host, 'GET', '/v2/');
  assert.equal(ping.status, 401);
  assert.equal(ping.headers['www-authenticate'], `Bearer realm="${issuer.realm}",service="${issuer.service}"`);
  const anon = await raw(reg.host, 'GET', '/v2/team/bb/manifests/latest');
  assert.equal(anon.status, 401);
  assert.equal(anon.code, 'UNAUTHORIZED');
  assert.equal(anon.headers['www-authenticate'], `Bearer realm="${issuer.realm}",service="${issuer.service}",scope="repository:team/bb:pull"`);
  const forged = await raw(reg.host, 'GET', '/v2/', undefined, { Authorization: 'Bearer e30.e30.AAAA' });
  assert.equal(forged.status, 401);
  assert.match(String(forged.headers['www-authenticate']), /error="invalid_token"/);

  // skopeo gets its tokens from the realm: refused without credentials, accepted with them.
  const bb = await busybox();
  const noCreds = await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--dest-no-creds', `oci:${bb.layoutDir}:${bb.tag}`, `docker://${reg.host}/team/bb:latest`]);
  assert.notEqual(noCreds.code, 0);
  assert.match(noCreds.stderr, /401|unauthorized|authentication required|insufficient/i);
  assert.deepEqual(await blobFiles(reg.root).catch(() => []), [], 'nothing stored for the refused push');
  await pushFixture(bb, reg.host, 'team/bb:latest', { creds });
  assert.equal(await copyOut(t, reg.host, 'team/bb:latest', { creds: `${creds.user}:${creds.password}` }), bb.manifestDigest);
  const anonPull = await run('skopeo', ['inspect', '--tls-verify=false', '--no-creds', `docker://${reg.host}/team/bb:latest`]);
  assert.notEqual(anonPull.code, 0, 'an anonymous token grants nothing on this issuer');

  // The berth daemon: login checks the password through the realm, then push and pull.
  const d = await daemonWithBusybox(t, { insecureRegistries: [reg.host] });
  const badLogin = await d.cli(['login', '-u', creds.user, '--password-stdin', reg.host], { input: 'wrong\n' });
  assert.notEqual(badLogin.code, 0);
  const login = await d.cli(['login', '-u', creds.user, '--password-stdin', reg.host], { input: `${creds.password}\n` });
  assert.equal(login.code, 0, login.stderr);
  assert.equal((await d.cli(['tag', 'busybox', `${reg.host}/team/mine:1`])).code, 0);
  const pushed = await d.cli(['push', `${reg.host}/team/mine:1`]);
  assert.equal(pushed.code, 0, pushed.stderr + pushed.stdout);
  assert.ok(
    issuer.requests.some((r) => r.user === creds.user && r.scopes.some((s) => s.includes('repository:team/mine:pull,push'))),
    JSON.stringify(issuer.requests),
  );
  assert.equal((await d.cli(['rmi', `${reg.host}/team/mine:1`])).code, 0);
  // The docker CLI keeps credentials of its own. Without them the pull fails as against dockerd
  // (a 500 with the registry's words), not with a 401 that would make the CLI prompt for a login.
  const dockerAnon = await d.docker(['pull', `${reg.host}/team/bb:latest`]);
  assert.equal(dockerAnon.code, 1, dockerAnon.stderr);
  assert.match(dockerAnon.stderr, /Error response from daemon: unauthorized/);
  assert.doesNotMatch(dockerAnon.stdout, /Username/);
  // `docker login` checks them through the daemon's /auth.
  const dlogin = await d.docker(['login', '-u', creds.user, '--password-stdin', reg.host], { input: `${creds.password}\n` });
  assert.equal(dlogin.code, 0, dlogin.stderr);
  const pulled = await d.docker(['pull', `${reg.host}/team/bb:latest`]);
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stdout, new RegExp(`Digest: ${bb.manifestDigest}`));
  const ran = await d.docker(['run', '--rm', `${reg.host}/team/bb:latest`, 'echo', 'through tokens']);
  assert.equal(ran.stdout, 'through tokens\n');
});

test('token auth flags: all four together, and not with --htpasswd', async (t) => {
  const dir = await tempDir(t, 'berth-registry-token-flags-');
  const partial = await run(process.execPath, [CLI_MAIN, 'registry', 'serve', '--addr', '127.0.0.1:0', '--root', join(dir, 'r'), '--token-realm', 'http://127.0.0.1:1/token']);
  assert.equal(partial.code, 125);
  assert.match(partial.stderr, /token auth needs all of .*missing --token-service, --token-issuer, --token-rootcertbundle/);
  const empty = join(dir, 'empty.pem');
  await writeFile(empty, 'no certificate\n');
  const args = ['--token-realm', 'http://127.0.0.1:1/token', '--token-service', 's', '--token-issuer', 'i', '--token-rootcertbundle', empty];
  const noCert = await run(process.execPath, [CLI_MAIN, 'registry', 'serve', '--addr', '127.0.0.1:0', '--root', join(dir, 'r'), ...args]);
  assert.equal(noCert.code, 1);
  assert.match(noCert.stderr, /no PEM certificate/);
  const both = await run(process.execPath, [CLI_MAIN, 'registry', 'serve', '--addr', '127.0.0.1:0', '--root', join(dir, 'r'), '--htpasswd', empty, ...args]);
  assert.equal(both.code, 1);
  assert.match(both.stderr, /exclude each other/);
});

test('berth registry gc: a dry run lists the orphan; the real run removes it and keeps what manifests reference', async (t) => {
  const reg = await startBerthRegistry(t);
  const bb = await busybox();
  await pushFixture(bb, reg.host, 'library/busybox:latest');
  const orphan = 'nobody references me';
  const young = 'uploaded a moment ago';
  for (const content of [orphan, young]) assert.equal((await raw(reg.host, 'POST', `/v2/library/busybox/blobs/uploads/?digest=${sha256(content)}`, content)).status, 201);
  const blobPath = (d: string) => join(reg.root, 'blobs', 'sha256', d.slice(7));
  // everything but `young` was written "two hours ago", past gc's default one-hour grace
  const longAgo = new Date(Date.now() - 2 * 3600_000);
  for (const name of await blobFiles(reg.root)) if (name !== sha256(young).slice(7)) await utimes(join(reg.root, 'blobs', 'sha256', name), longAgo, longAgo);
  const referenced = (await blobFiles(reg.root)).filter((n) => n !== sha256(orphan).slice(7) && n !== sha256(young).slice(7));
  assert.equal(referenced.length, 3, 'manifest, config, layer');

  const dry = await runOk(process.execPath, [CLI_MAIN, 'registry', 'gc', '--dry-run', '--root', reg.root]);
  assert.match(dry.stdout, new RegExp(`would remove ${sha256(orphan)}`));
  assert.match(dry.stdout, new RegExp(`kept \\(younger than --min-age\\) ${sha256(young)}`));
  await stat(blobPath(sha256(orphan)));

  const real = await runOk(process.execPath, [CLI_MAIN, 'registry', 'gc', '--root', reg.root]);
  assert.match(real.stdout, new RegExp(`removed ${sha256(orphan)}`));
  assert.deepEqual(await blobFiles(reg.root), [...referenced, sha256(young).slice(7)].sort());
  assert.equal((await raw(reg.host, 'HEAD', `/v2/library/busybox/blobs/${sha256(orphan)}`)).status, 404);
  assert.equal(await copyOut(t, reg.host, 'library/busybox:latest'), bb.manifestDigest);
});
