// Live sync over real WSS: authorization, per-room order, the resume seam, rooms joined
// and left while away, the resync signal under backpressure, and bad frames.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { LiveClient, type EventFrame } from '../../clients/live-client.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
before(async () => {
  // The backpressure test posts far faster than the default per-person rate limit allows;
  // sessions check their token every second (instead of every minute).
  target = await startTarget({
    SQUARED_LIVE_HELLO_TIMEOUT_MS: '1500', SQUARED_LIVE_MAX_BUFFERED_BYTES: String(256 * 1024), SQUARED_LIVE_CHECK_SECONDS: '1',
    SQUARED_RATE_BURST: '100000', SQUARED_RATE_PER_SECOND: '100000',
  });
});
after(() => target.stop());

const connect = (person: TestPerson, resume?: Record<string, number>) => LiveClient.connect(target.liveUrl, target.ca, person.token, resume);

async function roomWith(owner: TestPerson, ...members: TestPerson[]): Promise<string> {
  const room = await owner.api.post('/v1/rooms', { title: `live ${Math.random()}` });
  for (const member of members) await owner.api.post('/v1/memberships', { roomId: room.body.id, personId: member.id });
  return room.body.id;
}

async function post(person: TestPerson, roomId: string, text: string): Promise<string> {
  const response = await person.api.post('/v1/messages', { roomId, text });
  assert.equal(response.status, 200, response.text);
  return response.body.id;
}

/** Per room, the seqs a client received must be strictly contiguous: no gap, no duplicate. */
function assertContiguous(events: EventFrame[]): void {
  const byRoom = new Map<string, number[]>();
  for (const e of events) byRoom.set(e.roomId, [...(byRoom.get(e.roomId) ?? []), e.seq]);
  for (const [roomId, seqs] of byRoom) {
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, `room ${roomId}: seq ${seqs[i]} follows ${seqs[i - 1]}`);
  }
}

const messageIds = (events: EventFrame[], roomId: string) =>
  events.filter((e) => e.roomId === roomId && e.event === 'message.created').map((e) => e.data.id as string);

describe('handshake', () => {
  test('a forged token is refused with an error frame and close code 4001', async () => {
    const client = await LiveClient.open(target.liveUrl, target.ca);
    client.send({ type: 'hello', token: 'forged' });
    const closed = await client.closed;
    assert.equal(closed.code, 4001);
    assert.equal(client.frames[0].type, 'error');
  });

  test('a socket that never says hello is closed with 4001', async () => {
    const client = await LiveClient.open(target.liveUrl, target.ca);
    const closed = await client.closed;
    assert.equal(closed.code, 4001);
  });

  test('a first frame other than hello is refused', async () => {
    const client = await LiveClient.open(target.liveUrl, target.ca);
    client.send({ type: 'ping' });
    assert.equal((await client.closed).code, 4001);
  });

  test('a first frame of too many members is refused before its token is looked at', async () => {
    // 12,000 resume entries of short keys (within the 256 KiB a frame may have): a costly
    // parse from a client nobody knows yet.
    const resume = Object.fromEntries(Array.from({ length: 12_000 }, (_, i) => [`r${i}`, i]));
    const client = await LiveClient.open(target.liveUrl, target.ca);
    client.send({ type: 'hello', token: 'forged', resume });
    assert.equal((await client.closed).code, 4001);
    assert.match(client.frames[0].message, /more than 3000 members/);
  });

  test('ready lists the head of every room of the person', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Ready');
    const roomId = await roomWith(alice);
    await post(alice, roomId, 'one');
    const client = await connect(alice);
    const ready = client.frames[0];
    assert.equal(ready.type, 'ready');
    assert.equal(ready.personId, alice.id);
    assert.equal(ready.positions[roomId], 3); // room.created, membership.created, message.created
    client.close();
  });

  test('a session with a valid token stays open while it checks its token again', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Stays');
    const client = await connect(alice);
    await sleep(2500);
    client.send({ type: 'ping' });
    await client.waitFor((f) => f.type === 'pong');
    client.close();
  });

  test('the session of a person who is deleted ends with 4001 within the check interval', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Deleted Live');
    const client = await connect(alice);
    assert.equal((await target.admin.delete(`/v1/people/${alice.id}`)).status, 204);
    const closed = await Promise.race([client.closed, sleep(5000).then(() => undefined)]);
    assert.equal(closed?.code, 4001, 'closed as unauthorized');
    assert.equal(client.frames.at(-1)?.type, 'error');
  });

  test('bad frames get an error frame and the socket stays usable', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Frames');
    const client = await connect(alice);
    for (const bad of ['not json', '[1,2]', JSON.stringify({ type: 'subscribe' }), JSON.stringify({ type: 'ping', extra: 1 }), JSON.stringify({ type: 'hello', token: alice.token })]) {
      const before = client.frames.length;
      client.send(bad);
      await client.waitFor((f) => client.frames.indexOf(f) >= before && f.type === 'error');
    }
    client.send({ type: 'ping' });
    await client.waitFor((f) => f.type === 'pong');
    client.close();
  });
});

describe('events', () => {
  test('members receive every event of their rooms in per-room order; others receive none', async () => {
    const [alice, bob, eve] = await createPeople(target.admin, 'Alice Order', 'Bob Order', 'Eve Order');
    const bobLive = await connect(bob);
    const eveLive = await connect(eve);
    const roomId = await roomWith(alice, bob);
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push(await post(alice, roomId, `m${i}`));
    const edited = await alice.api.put(`/v1/messages/${ids[0]}`, { roomId, text: 'm0 edited' });
    assert.equal(edited.status, 200);
    assert.equal((await alice.api.delete(`/v1/messages/${ids[1]}`)).status, 204);
    await bobLive.waitFor((f) => f.type === 'event' && f.event === 'message.deleted');
    const events = bobLive.eventsOf(roomId);
    assertContiguous(events);
    assert.equal(events[0].event, 'membership.created', 'Bob sees the room from his own joining');
    assert.equal(events[0].data.personId, bob.id);
    assert.deepEqual(messageIds(events, roomId), ids);
    assert.equal(events.find((e) => e.event === 'message.updated')?.data.text, 'm0 edited');
    assert.equal(events.find((e) => e.event === 'message.deleted')?.data.id, ids[1]);
    assert.equal(events.find((e) => e.event === 'message.deleted')?.data.text, undefined, 'a deletion does not repeat the text');
    assert.equal(eveLive.events.filter((e) => e.roomId === roomId).length, 0, 'Eve is not a member and sees nothing');
    bobLive.close();
    eveLive.close();
  });

  test('a person removed from a room gets their removal and nothing after it', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Remove', 'Bob Remove');
    const roomId = await roomWith(alice, bob);
    const bobLive = await connect(bob);
    await post(alice, roomId, 'before');
    const memberships = await alice.api.get(`/v1/memberships?roomId=${roomId}&personId=${bob.id}`);
    assert.equal((await alice.api.delete(`/v1/memberships/${memberships.body.items[0].id}`)).status, 204);
    await post(alice, roomId, 'after');
    const marker = await roomWith(alice, bob); // an event Bob will see after everything above
    await bobLive.waitFor((f) => f.type === 'event' && f.roomId === marker);
    const events = bobLive.eventsOf(roomId);
    assert.deepEqual(events.map((e) => e.event), ['message.created', 'membership.deleted']);
    bobLive.close();
  });

  test('a room deleted is announced and its stream ends', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Delete', 'Bob Delete');
    const roomId = await roomWith(alice, bob);
    const bobLive = await connect(bob);
    assert.equal((await alice.api.delete(`/v1/rooms/${roomId}`)).status, 204);
    const deleted = await bobLive.waitFor((f) => f.type === 'event' && f.event === 'room.deleted');
    assert.equal((deleted as EventFrame).roomId, roomId);
    bobLive.close();
  });
});

describe('resume', () => {
  test('disconnect mid-stream, posts while away, reconnect: exactly the missed events, in order, then live', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Seam', 'Bob Seam');
    const roomId = await roomWith(alice, bob);
    const first = await connect(bob);
    const posted: string[] = [];
    let posting = true;
    // A steady stream of posts across the disconnect, the absence and the reconnect.
    const poster = (async () => {
      for (let i = 0; posting; i++) {
        posted.push(await post(alice, roomId, `seam ${i}`));
        await sleep(2);
      }
    })();
    await first.waitFor(() => messageIds(first.events, roomId).length >= 10);
    first.terminate();
    const positions = first.positions();
    const seenFirst = messageIds(first.events, roomId);
    await sleep(300); // posts go on while Bob is away
    const second = await connect(bob, positions);
    await sleep(300); // and while he replays
    posting = false;
    await poster;
    const last = posted[posted.length - 1];
    await second.waitFor((f) => f.type === 'event' && f.data?.id === last, 15_000);
    const resumed = second.eventsOf(roomId);
    assert.equal(resumed[0].seq, positions[roomId] + 1, 'replay starts right after the last seq Bob had');
    assertContiguous(resumed);
    const all = [...seenFirst, ...messageIds(resumed, roomId)];
    assert.deepEqual(all, posted, 'every message exactly once, in order, across the seam');
    second.close();
  });

  test('rooms joined while away are replayed from the joining; rooms left while away up to the leaving', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Away', 'Bob Away');
    const leftRoom = await roomWith(alice, bob);
    const first = await connect(bob);
    first.close();
    const positions = first.positions();
    const before = await post(alice, leftRoom, 'while Bob is still in');
    const memberships = await alice.api.get(`/v1/memberships?roomId=${leftRoom}&personId=${bob.id}`);
    await alice.api.delete(`/v1/memberships/${memberships.body.items[0].id}`);
    await post(alice, leftRoom, 'after Bob left');
    const joinedRoom = await roomWith(alice);
    await post(alice, joinedRoom, 'before Bob joined');
    await alice.api.post('/v1/memberships', { roomId: joinedRoom, personId: bob.id });
    const welcome = await post(alice, joinedRoom, 'welcome Bob');

    const second = await connect(bob, positions);
    await second.waitFor((f) => f.type === 'event' && f.data?.id === welcome);
    await second.waitFor((f) => f.type === 'event' && f.event === 'membership.deleted');
    assert.deepEqual(second.eventsOf(leftRoom).map((e) => e.event), ['message.created', 'membership.deleted']);
    assert.equal(second.eventsOf(leftRoom)[0].data.id, before);
    assert.deepEqual(second.eventsOf(joinedRoom).map((e) => e.event), ['membership.created', 'message.created']);
    assert.ok(!('text' in (second.eventsOf(joinedRoom)[0].data)), 'nothing from before Bob joined');
    second.close();
  });

  test('a position beyond the head or for a foreign room yields nothing it should not', async () => {
    const [alice, eve] = await createPeople(target.admin, 'Alice Foreign', 'Eve Foreign');
    const secret = await roomWith(alice);
    await post(alice, secret, 'secret');
    const client = await connect(eve, { [secret]: 0 });
    await sleep(300);
    assert.equal(client.events.length, 0);
    client.close();
  });
});

describe('backpressure', () => {
  test('a client that stops reading is told to resync, and its resume gets exactly the rest', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Slow', 'Bob Slow');
    // Several rooms: a room's writes are serialized, rooms are written in parallel, so the
    // backlog builds fast (in cluster mode too) while the client is not reading.
    const rooms = await Promise.all(Array.from({ length: 6 }, () => roomWith(alice, bob)));
    const slow = await connect(bob);
    slow.pauseReading();
    const text = 'x'.repeat(7000);
    const posted = new Map<string, string[]>(rooms.map((r) => [r, []]));
    // ~8.4 MB: past the kernel's socket buffers (a few MB on loopback) and the 256 KiB limit.
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(rooms.flatMap((roomId) => Array.from({ length: 10 }, async () => posted.get(roomId)!.push(await post(alice, roomId, text)))));
    }
    slow.resumeReading();
    const closed = await slow.closed;
    assert.equal(closed.code, 4000);
    const resync = slow.frames.find((f) => f.type === 'resync');
    assert.ok(resync, 'a resync frame precedes the close');
    assert.equal(resync.reason, 'backpressure');
    for (const roomId of rooms) assert.equal(resync.positions[roomId], slow.eventsOf(roomId).at(-1)?.seq ?? resync.positions[roomId]);
    const again = await connect(bob, resync.positions);
    // Posts of one batch commit in any order: wait for each room's head, not for the last id.
    for (const roomId of rooms) {
      const head: number = again.frames[0].positions[roomId];
      await again.waitFor(() => (again.eventsOf(roomId).at(-1)?.seq ?? resync.positions[roomId]) >= head, 20_000);
      assertContiguous([...slow.eventsOf(roomId), ...again.eventsOf(roomId)]);
      const all = [...messageIds(slow.events, roomId), ...messageIds(again.events, roomId)];
      assert.deepEqual([...all].sort(), [...posted.get(roomId)!].sort());
      assert.equal(new Set(all).size, all.length, 'no duplicates');
    }
    again.close();
  });
});
