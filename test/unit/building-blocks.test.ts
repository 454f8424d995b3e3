import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { idKind, isIdOf, newId } from '../../contracts/ids.ts';
import { KeyedQueue } from '../../actors/keyed-queue.ts';
import { parseMarkdown } from '../../actors/rooms/markdown.ts';
import { hashPassword, verifyPassword } from '../../actors/people/passwords.ts';
import { MemoryRateLimitStore } from '../../storage/embedded/memory-rate-limits.ts';
import { parseClientFrame } from '../../gateway/live/live-protocol.ts';
import { InFlightRequests } from '../../gateway/http/in-flight.ts';
import { OwnerStrategy, ownerOf } from '../../routing/owner-strategy.ts';

test('ids are Webex-style base64 of ciscospark URIs and name their kind', () => {
  const id = newId('ROOM');
  assert.match(Buffer.from(id, 'base64').toString(), /^ciscospark:\/\/us\/ROOM\/[0-9a-f-]{36}$/);
  assert.equal(idKind(id), 'ROOM');
  assert.equal(isIdOf('PEOPLE', id), false);
  assert.equal(idKind('not-an-id'), undefined);
  assert.equal(idKind('x'.repeat(1000)), undefined);
});

test('a keyed queue runs one task at a time per key, in order, and keys in parallel', async () => {
  const queue = new KeyedQueue();
  const log: string[] = [];
  const task = (key: string, i: number, ms: number) => queue.run(key, async () => {
    log.push(`${key}${i} start`);
    await sleep(ms);
    log.push(`${key}${i} end`);
  });
  await Promise.all([task('a', 1, 20), task('a', 2, 1), task('b', 1, 5)]);
  assert.ok(log.indexOf('a1 end') < log.indexOf('a2 start'));
  assert.ok(log.indexOf('b1 start') < log.indexOf('a1 end'));
  await assert.rejects(queue.run('a', async () => { throw new Error('boom'); }));
  assert.equal(await queue.run('a', async () => 'still runs'), 'still runs');
  await sleep(1);
  assert.equal(queue.size, 0, 'idle keys are forgotten');
});

test('markdown renders safely and resolves mentions', () => {
  const parsed = parseMarkdown('**hi** <img src=x onerror=alert(1)> [x](javascript:alert(1)) <@personEmail:bob@example.com|Bob & "Co"> <@all>');
  const { html, text } = parsed.render((t) => ('personEmail' in t ? 'BOB_ID' : undefined));
  assert.match(html, /<strong>hi<\/strong>/);
  assert.doesNotMatch(html, /<img|href="javascript/i);
  assert.match(html, /<spark-mention data-object-type="person" data-object-id="BOB_ID">Bob &amp; &quot;Co&quot;<\/spark-mention>/);
  assert.match(html, /data-group-type="all"/);
  assert.deepEqual(parsed.targets, [{ personEmail: 'bob@example.com' }, { group: 'all' }]);
  assert.match(text, /Bob & "Co"/);
});

test('passwords: scrypt hashes verify, wrong passwords and unknown people do not', async () => {
  const hash = await hashPassword('correct horse');
  assert.match(hash, /^scrypt\$32768\$8\$1\$/);
  assert.equal(await verifyPassword('correct horse', hash), true);
  assert.equal(await verifyPassword('wrong horse', hash), false);
  assert.equal(await verifyPassword('anything', undefined), false);
});

test('token buckets allow a burst, then refill at the rate', async () => {
  let now = 0;
  const store = new MemoryRateLimitStore(() => now);
  for (let i = 0; i < 3; i++) assert.equal((await store.take('k', 3, 1)).allowed, true);
  const refused = await store.take('k', 3, 1);
  assert.deepEqual(refused, { allowed: false, retryAfterSeconds: 1 });
  assert.equal((await store.take('other', 3, 1)).allowed, true);
  now += 1000;
  assert.equal((await store.take('k', 3, 1)).allowed, true);
});

test('live frames are validated at runtime', () => {
  assert.deepEqual(parseClientFrame('{"type":"hello","token":"t","resume":{"r":3}}'), { type: 'hello', token: 't', resume: { r: 3 } });
  for (const bad of ['x', '[]', '{"type":"hello"}', '{"type":"hello","token":"t","resume":{"r":-1}}', '{"type":"ping","x":1}', '{"type":"nope"}']) {
    assert.ok('problem' in parseClientFrame(bad), bad);
  }
});

test('a draining gateway ends once every connection has closed, or after a quiet period with only connections long open left', async () => {
  const inFlight = new InFlightRequests();
  // The normal end: the last request answered (Connection: close) and its connection closed.
  inFlight.connectionOpened();
  inFlight.enter();
  setTimeout(() => inFlight.leave(), 30);
  setTimeout(() => inFlight.connectionClosed(), 40);
  let started = performance.now();
  assert.equal(await inFlight.settled(1000, 5000, 1000), true);
  let took = performance.now() - started;
  assert.ok(took >= 35 && took < 900, `ended when the connection closed, not after the quiet period (${took} ms)`);

  // A socket upgraded to a WebSocket is no longer an HTTP connection (uWS reports no close for it).
  inFlight.connectionOpened();
  inFlight.connectionUpgraded();
  started = performance.now();
  assert.equal(await inFlight.settled(1000, 5000, 1000), true);
  assert.ok(performance.now() - started < 900, 'an upgraded socket does not hold the drain');

  // A connection that stays open (keep-alive, or its first request not written yet): a request on
  // it restarts the quiet period, and one accepted just before gets freshMs for its first request.
  const opened = performance.now();
  inFlight.connectionOpened();
  inFlight.enter();
  setTimeout(() => inFlight.leave(), 30);
  setTimeout(() => inFlight.enter(), 60);
  setTimeout(() => inFlight.leave(), 70);
  assert.equal(await inFlight.settled(100, 2000, 300), true);
  took = performance.now() - opened;
  assert.ok(took >= 300, `waited freshMs for the fresh connection (${took} ms)`);
  // Accepted long ago, it holds the drain for the quiet period only.
  started = performance.now();
  assert.equal(await inFlight.settled(20, 2000, 300), true);
  took = performance.now() - started;
  assert.ok(took >= 20 && took < 280, `quiet period only (${took} ms)`);

  inFlight.enter();
  assert.equal(await inFlight.settled(10, 50), false, 'a request still in flight at the deadline');
  inFlight.leave();
});

test('the owner strategy routes a key by the endpoints it is given, even when they change without a node event', () => {
  // Only the local bus of a broker is used by the strategy (for node events).
  const bus = { on: () => undefined };
  const strategy = new OwnerStrategy({} as never, { localBus: bus } as never, { shardKey: 'meetingId' });
  const endpoint = (id: string) => ({ id }) as never;
  const ctx = (meetingId: string) => ({ params: { meetingId } }) as never;
  const keys = Array.from({ length: 200 }, (_, i) => `meeting-${i}`);
  // Built while only node-a had the service...
  for (const key of keys) assert.equal((strategy.select([endpoint('node-a')], ctx(key)) as unknown as { id: string }).id, 'node-a');
  // ...then node-b's service shows up: the ring includes it, and agrees with a fresh strategy.
  const fresh = new OwnerStrategy({} as never, { localBus: bus } as never, { shardKey: 'meetingId' });
  const both = [endpoint('node-a'), endpoint('node-b')];
  const owners = keys.map((key) => (strategy.select(both, ctx(key)) as unknown as { id: string }).id);
  assert.deepEqual(owners, keys.map((key) => (fresh.select(both, ctx(key)) as unknown as { id: string }).id));
  assert.ok(owners.includes('node-b') && owners.includes('node-a'), 'keys are spread over both nodes');
});

test('the owner of a key is found among every node offering the action, not the local one the registry prefers', () => {
  const bus = { on: () => undefined };
  const endpoints = [{ id: 'node-a', local: true, isAvailable: true }, { id: 'node-b', local: false, isAvailable: true }, { id: 'node-c', local: false, isAvailable: false }];
  // What the registry of node-a holds: its own endpoint, first and local, and two others.
  const broker = {
    nodeID: 'node-a',
    localBus: bus,
    options: { registry: { strategyOptions: { shardKey: 'meetingId' } } },
    registry: { getActionEndpoints: (action: string) => (action === 'conferences.signal' ? { endpoints } : undefined) },
  } as never;
  const gateway = new OwnerStrategy({} as never, { localBus: bus } as never, { shardKey: 'meetingId' });
  const available = endpoints.filter((e) => e.isAvailable) as never[];
  const keys = Array.from({ length: 200 }, (_, i) => `meeting-${i}`);
  const owners = keys.map((meetingId) => ownerOf(broker, 'conferences.signal', { meetingId }));
  assert.deepEqual(owners, keys.map((meetingId) => (gateway.select(available, { params: { meetingId } } as never) as unknown as { id: string }).id), 'the node a gateway routes to');
  assert.ok(owners.includes('node-b') && owners.includes('node-a') && !owners.includes('node-c'));
  assert.equal(ownerOf(broker, 'conferences.nothing', { meetingId: 'x' }), undefined);
});
