import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import {
  configDir,
  loadConfig,
  storeCredentials,
  removeCredentials,
  credentialsFor,
  serverKey,
  encodeAuthHeader,
  DEFAULT_INDEX_SERVER,
} from './config.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cli-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('config dir: flag, then BERTH_CONFIG, then ~/.berth', () => {
  assert.equal(configDir('/x', { BERTH_CONFIG: '/y' }), '/x');
  assert.equal(configDir(undefined, { BERTH_CONFIG: '/y' }), '/y');
  assert.match(configDir(undefined, {}), /\/\.berth$/);
});

test('server keys follow docker: Hub index URL, else host[:port]', () => {
  assert.equal(serverKey(undefined), DEFAULT_INDEX_SERVER);
  assert.equal(serverKey('docker.io'), DEFAULT_INDEX_SERVER);
  assert.equal(serverKey('https://index.docker.io/v1/'), DEFAULT_INDEX_SERVER);
  assert.equal(serverKey('localhost:5000'), 'localhost:5000');
  assert.equal(serverKey('http://127.0.0.1:5000/v2/'), '127.0.0.1:5000');
});

test('credentials are stored in docker format, mode 0600, other keys kept', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'config.json'), JSON.stringify({ psFormat: 'table {{.ID}}', auths: { 'other:1': { auth: 'eDp5' } } }));
  await storeCredentials(dir, 'localhost:5000', 'alice', 'pa:ss');
  const raw = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(raw, {
    psFormat: 'table {{.ID}}',
    auths: { 'other:1': { auth: 'eDp5' }, 'localhost:5000': { auth: Buffer.from('alice:pa:ss').toString('base64') } },
  });
  assert.equal((await stat(join(dir, 'config.json'))).mode & 0o777, 0o600);
  const creds = credentialsFor(await loadConfig(dir), 'localhost:5000');
  assert.deepEqual(creds, { username: 'alice', password: 'pa:ss', serveraddress: 'localhost:5000' });
  assert.deepEqual(JSON.parse(Buffer.from(encodeAuthHeader(creds), 'base64url').toString()), creds);
  assert.equal(await removeCredentials(dir, 'localhost:5000'), true);
  assert.equal(await removeCredentials(dir, 'localhost:5000'), false);
  assert.equal(credentialsFor(await loadConfig(dir), 'localhost:5000'), undefined);
  assert.equal(credentialsFor(await loadConfig(dir), 'other:1')?.username, 'x');
});

test('a missing config file reads as empty', async (t) => {
  const dir = await tempDir(t);
  assert.deepEqual(await loadConfig(join(dir, 'none')), {});
});
