import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedMutex, RwLock } from './limit.js';

/** A task that records when it starts and ends, and ends when `release` is called. */
function gate(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return {
    task: async () => {
      log.push(`${name}+`);
      await done;
      log.push(`${name}-`);
      return name;
    },
    release: () => release(),
  };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

test('RwLock: shared tasks overlap, an exclusive one runs alone, and shared ones queued after it wait for it', async () => {
  const lock = new RwLock();
  const log: string[] = [];
  const [r1, r2, w, r3] = [gate(log, 'r1'), gate(log, 'r2'), gate(log, 'w'), gate(log, 'r3')];
  const p1 = lock.shared(r1.task);
  const p2 = lock.shared(r2.task);
  const pw = lock.exclusive(w.task);
  const p3 = lock.shared(r3.task);
  await tick();
  assert.deepEqual(log, ['r1+', 'r2+'], 'both shared run; the exclusive waits, and r3 behind it');
  r1.release();
  await tick();
  assert.deepEqual(log, ['r1+', 'r2+', 'r1-']);
  r2.release();
  await tick();
  assert.deepEqual(log, ['r1+', 'r2+', 'r1-', 'r2-', 'w+']);
  w.release();
  await tick();
  assert.deepEqual(log.slice(-2), ['w-', 'r3+']);
  r3.release();
  assert.deepEqual(await Promise.all([p1, p2, pw, p3]), ['r1', 'r2', 'w', 'r3']);
});

test('RwLock: a failed task releases the lock and rejects its caller only', async () => {
  const lock = new RwLock();
  await assert.rejects(lock.exclusive(async () => Promise.reject(new Error('boom'))), /boom/);
  await assert.rejects(lock.shared(async () => Promise.reject(new Error('bang'))), /bang/);
  assert.equal(await lock.exclusive(async () => 'after'), 'after');
});

test('KeyedMutex: one task at a time per key, keys independent, a failure does not block the next, idle waits for all', async () => {
  const m = new KeyedMutex();
  const log: string[] = [];
  const [a1, a2, b1] = [gate(log, 'a1'), gate(log, 'a2'), gate(log, 'b1')];
  const pa1 = m.run('a', a1.task);
  const pa2 = m.run('a', a2.task);
  const pb1 = m.run('b', b1.task);
  await tick();
  assert.deepEqual(log, ['a1+', 'b1+']);
  let idle = false;
  const pIdle = m.idle().then(() => (idle = true));
  a1.release();
  await tick();
  assert.deepEqual(log, ['a1+', 'b1+', 'a1-', 'a2+']);
  a2.release();
  b1.release();
  await Promise.all([pa1, pa2, pb1]);
  await pIdle;
  assert.ok(idle);
  await assert.rejects(m.run('c', async () => Promise.reject(new Error('no'))), /no/);
  assert.equal(await m.run('c', async () => 'next'), 'next');
});
