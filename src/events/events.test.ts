import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus, encodeEvent, HISTORY, matchEvent, parseGoDuration, parseTimestamp, validateEventFilters, type EventMessage } from './index.js';

const ev = (over: Partial<EventMessage> & Pick<EventMessage, 'Type' | 'Action'>): EventMessage => ({
  Actor: { ID: 'abc123def456', Attributes: {} },
  scope: 'local',
  time: 1,
  timeNano: 1_000_000_000n,
  ...over,
});

test('parseTimestamp: unix seconds, RFC 3339 forms, durations back from now', () => {
  const now = Date.UTC(2024, 0, 2, 3, 4, 5); // ms
  assert.equal(parseTimestamp('1700000000', now), 1700000000);
  assert.equal(parseTimestamp('1700000000.25', now), 1700000000.25);
  assert.equal(parseTimestamp('2024-01-02T03:04:05Z', now), now / 1000);
  assert.equal(parseTimestamp('2024-01-02T03:04:05.5Z', now), now / 1000 + 0.5);
  assert.equal(parseTimestamp('2024-01-02T04:04:05+01:00', now), now / 1000);
  assert.equal(parseTimestamp('2024-01-02T03:04:05', now), now / 1000);
  assert.equal(parseTimestamp('2024-01-02', now), Date.UTC(2024, 0, 2) / 1000);
  assert.equal(parseTimestamp('10m', now), now / 1000 - 600);
  assert.equal(parseTimestamp('1h30m', now), now / 1000 - 5400);
  assert.equal(parseTimestamp('-1m', now), now / 1000 + 60);
  assert.equal(parseGoDuration('1.5s'), 1.5);
  assert.equal(parseGoDuration('250ms'), 0.25);
  assert.equal(parseGoDuration('10'), undefined);
  assert.throws(() => parseTimestamp('yesterday', now), /failed to parse value as time or duration/);
  assert.throws(() => parseTimestamp('', now));
});

test('matchEvent: type, event, container by id prefix or name, image with or without tag, labels', () => {
  const start = ev({ Type: 'container', Action: 'start', Actor: { ID: 'abc123def456', Attributes: { name: 'web', image: 'busybox:latest', tier: 'front' } } });
  const pull = ev({ Type: 'image', Action: 'pull', Actor: { ID: 'busybox:latest', Attributes: { name: 'busybox' } } });
  assert.equal(matchEvent({}, start), true);
  assert.equal(matchEvent({ type: ['container'] }, start), true);
  assert.equal(matchEvent({ type: ['image'] }, start), false);
  assert.equal(matchEvent({ type: ['image', 'container'] }, start), true);
  assert.equal(matchEvent({ event: ['start'] }, start), true);
  assert.equal(matchEvent({ event: ['die'] }, start), false);
  assert.equal(matchEvent({ event: ['exec_start'] }, ev({ Type: 'container', Action: 'exec_start: sh -c true' })), true);
  assert.equal(matchEvent({ container: ['web'] }, start), true);
  assert.equal(matchEvent({ container: ['abc123'] }, start), true);
  assert.equal(matchEvent({ container: ['other'] }, start), false);
  assert.equal(matchEvent({ image: ['busybox'] }, start), true);
  assert.equal(matchEvent({ image: ['busybox:latest'] }, start), true);
  assert.equal(matchEvent({ image: ['alpine'] }, start), false);
  assert.equal(matchEvent({ image: ['busybox'] }, pull), true);
  assert.equal(matchEvent({ label: ['tier'] }, start), true);
  assert.equal(matchEvent({ label: ['tier=front'] }, start), true);
  assert.equal(matchEvent({ label: ['tier=back'] }, start), false);
  assert.equal(matchEvent({ label: ['tier=front', 'missing'] }, start), false);
  assert.equal(matchEvent({ type: ['container'], event: ['start'], container: ['web'] }, start), true);
  assert.equal(matchEvent({ type: ['container'], event: ['stop'], container: ['web'] }, start), false);
  assert.equal(matchEvent({ volume: ['v'] }, start), false);
  assert.equal(matchEvent({ scope: ['local'] }, start), true);
  assert.doesNotThrow(() => validateEventFilters({ type: ['container'], label: ['a'] }));
  assert.throws(() => validateEventFilters({ bogus: ['x'] }), /invalid filter 'bogus'/);
});

test('EventBus: history by since/until with filters, bounded, strictly increasing times', () => {
  let clock = 5_000_000_000n; // 5 s
  const bus = new EventBus(() => clock);
  bus.publish({ Type: 'container', Action: 'create', Actor: { ID: 'a', Attributes: {} } });
  clock = 6_000_000_000n;
  const second = bus.publish({ Type: 'image', Action: 'pull', Actor: { ID: 'busybox:latest', Attributes: {} } });
  const third = bus.publish({ Type: 'container', Action: 'start', Actor: { ID: 'a', Attributes: {} } });
  assert.equal(second.timeNano, 6_000_000_000n);
  assert.equal(third.timeNano, 6_000_000_001n, 'same clock reading: bumped by 1ns');
  assert.equal(third.time, 6);
  assert.deepEqual(bus.history({ since: 5.5 }).map((e) => e.Action), ['pull', 'start']);
  assert.deepEqual(bus.history({ until: 5.5 }).map((e) => e.Action), ['create']);
  assert.deepEqual(bus.history({ since: 0, filters: { type: ['container'] } }).map((e) => e.Action), ['create', 'start']);
  for (let i = 0; i < HISTORY + 5; i++) bus.publish({ Type: 'container', Action: 'kill', Actor: { ID: String(i), Attributes: {} } });
  const all = bus.history();
  assert.equal(all.length, HISTORY);
  assert.equal(all[0]?.Actor.ID, '5');
});

test('EventBus.stream: past until ends after history; live events until aborted', async () => {
  const bus = new EventBus();
  bus.publish({ Type: 'container', Action: 'create', Actor: { ID: 'a', Attributes: {} } });
  const now = Date.now() / 1000;
  const past: string[] = [];
  for await (const e of bus.stream({ since: 0, until: now + 0.001 })) past.push(e.Action);
  assert.deepEqual(past, ['create']);

  const abort = new AbortController();
  const live: string[] = [];
  const reading = (async () => {
    for await (const e of bus.stream({ filters: { event: ['start', 'die'] }, signal: abort.signal })) {
      live.push(e.Action);
      if (live.length === 2) abort.abort();
    }
  })();
  bus.publish({ Type: 'container', Action: 'start', Actor: { ID: 'a', Attributes: {} } });
  bus.publish({ Type: 'container', Action: 'kill', Actor: { ID: 'a', Attributes: {} } });
  bus.publish({ Type: 'container', Action: 'die', Actor: { ID: 'a', Attributes: { exitCode: '0' } } });
  await reading;
  assert.deepEqual(live, ['start', 'die'], 'no history without since; filtered live events');
});

test('encodeEvent writes timeNano exactly', () => {
  const line = encodeEvent(ev({ Type: 'container', Action: 'start', timeNano: 1704164645123456789n, time: 1704164645 }));
  assert.match(line, /,"timeNano":1704164645123456789}\n$/);
  const parsed = JSON.parse(line) as Record<string, unknown>;
  assert.equal(parsed.Type, 'container');
  assert.equal(parsed.scope, 'local');
  assert.deepEqual(parsed.Actor, { ID: 'abc123def456', Attributes: {} });
});
