// Read status and unread counts over real HTTPS and WSS, in both modes: read positions only
// move forward, reach the reader's other devices (on another gateway in cluster mode) and
// the room's members as read receipts; GET /v1/rooms and the ready frame count what is
// unread and what mentions the reader, right after posts, reads, mentions, deletions, joins
// and leaves.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LiveClient, type Frame } from '../../clients/live-client.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
before(async () => {
  target = await startTarget({ SQUARED_RATE_BURST: '100000', SQUARED_RATE_PER_SECOND: '100000' });
});
after(() => target.stop());

async function roomWith(owner: TestPerson, ...members: TestPerson[]): Promise<string> {
  const room = await owner.api.post('/v1/rooms', { title: `reads ${Math.random()}` });
  assert.equal(room.status, 200, room.text);
  for (const member of members) {
    const added = await owner.api.post('/v1/memberships', { roomId: room.body.id, personId: member.id });
    assert.equal(added.status, 200, added.text);
  }
  return room.body.id;
}

async function post(person: TestPerson, roomId: string, body: { text?: string; markdown?: string }): Promise<string> {
  const response = await person.api.post('/v1/messages', { roomId, ...body });
  assert.equal(response.status, 200, response.text);
  return response.body.id;
}

/** The room as the person's room list shows it (undefined when it is not in the list). */
async function listed(person: TestPerson, roomId: string): Promise<Record<string, any> | undefined> {
  const response = await person.api.get('/v1/rooms?max=100');
  assert.equal(response.status, 200, response.text);
  return response.body.items.find((room: { id: string }) => room.id === roomId);
}

async function counts(person: TestPerson, roomId: string): Promise<[number, number]> {
  const room = await listed(person, roomId);
  assert.ok(room, 'the room is listed');
  return [room.unreadCount, room.unreadMentionsCount];
}

async function markRead(person: TestPerson, roomId: string, messageId: string) {
  const response = await person.api.post(`/v1/rooms/${roomId}/read`, { messageId });
  assert.equal(response.status, 200, response.text);
  return response.body;
}

describe('unread counts on GET /v1/rooms', () => {
  test('posts count for the other members, never for their author; a read counts what is after it', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Unread', 'Bob Unread');
    const roomId = await roomWith(alice, bob);
    assert.deepEqual(await counts(bob, roomId), [0, 0], 'nothing to read after the join');
    const ids = [];
    for (let i = 1; i <= 3; i++) ids.push(await post(alice, roomId, { text: `hello ${i}` }));
    assert.deepEqual(await counts(bob, roomId), [3, 0]);
    const mine = await listed(alice, roomId);
    assert.deepEqual([mine!.unreadCount, mine!.lastSeenId], [0, ids[2]], 'posting reads the room up to the message');
    const room = await listed(bob, roomId);
    assert.equal(room!.lastActivityDate, room!.lastActivity);
    assert.equal(room!.lastSeenId, undefined, 'bob has read nothing yet');

    const read = await markRead(bob, roomId, ids[1]);
    assert.equal(read.unreadCount, 1);
    assert.equal(read.lastSeenId, ids[1]);
    const message = await bob.api.get(`/v1/messages/${ids[1]}`);
    assert.equal(read.lastSeenActivityDate, message.body.created);
    assert.deepEqual(await counts(bob, roomId), [1, 0]);

    const back = await markRead(bob, roomId, ids[0]);
    assert.equal(back.lastSeenId, ids[1], 'a read position never moves back');
    assert.equal(back.unreadCount, 1);

    await post(bob, roomId, { text: 'a reply' });
    assert.deepEqual(await counts(bob, roomId), [0, 0], "bob's post read the room up to it");
    assert.deepEqual(await counts(alice, roomId), [1, 0]);
  });

  test('mentions of the reader and of everyone count apart, each message once', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice Mentions', 'Bob Mentions', 'Carol Mentions');
    const roomId = await roomWith(alice, bob, carol);
    await post(alice, roomId, { markdown: `hi <@personId:${bob.id}|Bob>` });
    assert.deepEqual(await counts(bob, roomId), [1, 1]);
    assert.deepEqual(await counts(carol, roomId), [1, 0]);
    const everyone = await post(alice, roomId, { markdown: `<@all> and <@personId:${bob.id}|Bob> again` });
    assert.deepEqual(await counts(bob, roomId), [2, 2], 'a message naming bob and everyone counts once');
    assert.deepEqual(await counts(carol, roomId), [2, 1]);
    assert.deepEqual(await counts(alice, roomId), [0, 0], 'her own mentions are not unread to the author');
    const read = await markRead(bob, roomId, everyone);
    assert.deepEqual([read.unreadCount, read.unreadMentionsCount], [0, 0]);
    const later = await post(carol, roomId, { markdown: `<@personId:${bob.id}|Bob>?` });
    assert.deepEqual(await counts(bob, roomId), [1, 1]);
    // Read at an earlier message: the recount from the store keeps the later mention unread.
    const first = await post(alice, roomId, { text: 'one more' });
    assert.deepEqual(await counts(bob, roomId), [2, 1]);
    const partial = await markRead(bob, roomId, later);
    assert.deepEqual([partial.unreadCount, partial.unreadMentionsCount], [1, 0]);
    await markRead(bob, roomId, first);
    assert.deepEqual(await counts(bob, roomId), [0, 0]);
  });

  test('a message deleted while unread stops counting; one deleted after it was read changes nothing', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Deletes', 'Bob Deletes');
    const roomId = await roomWith(alice, bob);
    const read = await post(alice, roomId, { text: 'read' });
    await markRead(bob, roomId, read);
    const plain = await post(alice, roomId, { text: 'unread' });
    const mention = await post(alice, roomId, { markdown: `<@personId:${bob.id}|Bob> look` });
    const kept = await post(alice, roomId, { text: 'kept' });
    assert.deepEqual(await counts(bob, roomId), [3, 1]);
    assert.equal((await alice.api.delete(`/v1/messages/${mention}`)).status, 204);
    assert.deepEqual(await counts(bob, roomId), [2, 0]);
    assert.equal((await alice.api.delete(`/v1/messages/${read}`)).status, 204);
    assert.deepEqual(await counts(bob, roomId), [2, 0], 'a deleted message bob had read was never unread');
    // A read recounts deletions from the store: the one between the position and the head still counts out.
    assert.equal((await alice.api.delete(`/v1/messages/${kept}`)).status, 204);
    assert.deepEqual(await counts(bob, roomId), [1, 0]);
    const after = await markRead(bob, roomId, plain);
    assert.deepEqual([after.unreadCount, after.unreadMentionsCount], [0, 0]);
  });

  test('a join starts at the present; a leave takes the room away; a rejoin starts afresh', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Joins', 'Bob Joins');
    const roomId = await roomWith(alice);
    await post(alice, roomId, { text: 'before bob' });
    const added = await alice.api.post('/v1/memberships', { roomId, personId: bob.id });
    assert.equal(added.status, 200, added.text);
    assert.deepEqual(await counts(bob, roomId), [0, 0], 'history is not unread');
    await post(alice, roomId, { text: 'for bob' });
    assert.deepEqual(await counts(bob, roomId), [1, 0]);
    assert.equal((await bob.api.delete(`/v1/memberships/${added.body.id}`)).status, 204);
    assert.equal(await listed(bob, roomId), undefined);
    await post(alice, roomId, { text: 'while bob is away' });
    assert.equal((await alice.api.post('/v1/memberships', { roomId, personId: bob.id })).status, 200);
    assert.deepEqual(await counts(bob, roomId), [0, 0]);
    await post(alice, roomId, { text: 'welcome back' });
    assert.deepEqual(await counts(bob, roomId), [1, 0]);
  });

  test('reading is for members and messages of the room', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Refuses', 'Bob Refuses');
    const roomId = await roomWith(alice);
    const other = await roomWith(alice);
    const message = await post(alice, roomId, { text: 'private' });
    const elsewhere = await post(alice, other, { text: 'elsewhere' });
    assert.equal((await bob.api.post(`/v1/rooms/${roomId}/read`, { messageId: message })).status, 404);
    assert.equal((await alice.api.post(`/v1/rooms/${roomId}/read`, { messageId: elsewhere })).status, 404);
    assert.equal((await alice.api.post(`/v1/rooms/${roomId}/read`, {})).status, 400);
    assert.equal((await alice.api.post(`/v1/rooms/${roomId}/read`, { messageId: 42 })).status, 400);
  });
});

describe('read status on the live socket', () => {
  const connect = (url: string, person: TestPerson) => LiveClient.connect(url, target.ca, person.token);
  const readFrames = (client: LiveClient) => client.frames.filter((f) => f.type === 'read');

  test('the ready frame carries each room\'s read status', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Ready Reads', 'Bob Ready Reads');
    const roomId = await roomWith(alice, bob);
    await post(alice, roomId, { markdown: `<@personId:${bob.id}|Bob>` });
    await post(alice, roomId, { text: 'two' });
    const client = await connect(target.liveUrl, bob);
    try {
      const ready = client.frames[0];
      assert.equal(ready.readStatus[roomId].unreadCount, 2);
      assert.equal(ready.readStatus[roomId].unreadMentionsCount, 1);
      assert.equal(typeof ready.readStatus[roomId].lastActivityDate, 'string');
    } finally {
      client.close();
    }
  });

  test('a read frame moves the position forward only, reaches the other devices with the counts and the members without', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Receipts', 'Bob Receipts');
    const roomId = await roomWith(alice, bob);
    const ids = [await post(alice, roomId, { text: 'one' }), await post(alice, roomId, { text: 'two' }), await post(alice, roomId, { text: 'three' })];
    // Bob's two devices on two gateways in cluster mode; alice watches.
    const phone = await connect(target.url, bob);
    const laptop = await connect(target.liveUrl, bob);
    const watcher = await connect(target.liveUrl, alice);
    try {
      phone.send({ type: 'read', roomId, messageId: ids[1] });
      const own = await laptop.waitFor((f) => f.type === 'read' && f.lastSeenId === ids[1]);
      assert.deepEqual([own.personId, own.roomId, own.unreadCount, own.unreadMentionsCount], [bob.id, roomId, 1, 0]);
      const receipt = await watcher.waitFor((f) => f.type === 'read' && f.personId === bob.id && f.lastSeenId === ids[1]);
      assert.equal(receipt.unreadCount, undefined, "a member does not learn bob's counts");
      assert.equal(typeof receipt.lastSeenActivityDate, 'string');
      await phone.waitFor((f) => f.type === 'read' && f.lastSeenId === ids[1]);

      // Backwards: nothing moves, nothing is sent; the next real read is the next frame.
      // A post moves its author's position without a read frame (the event says as much).
      const fourth = await post(alice, roomId, { text: 'four' });
      phone.send({ type: 'read', roomId, messageId: ids[0] });
      phone.send({ type: 'read', roomId, messageId: ids[2] });
      const partial = await laptop.waitFor((f) => f.type === 'read' && f.lastSeenId === ids[2]);
      assert.equal(partial.unreadCount, 1, 'the fourth message is still unread');
      const seen = readFrames(laptop).filter((f: Frame) => f.personId === bob.id).map((f: Frame) => f.lastSeenId);
      assert.deepEqual(seen, [ids[1], ids[2]]);
      // The room's owner publishes the post, then the read: a receipt of the post would be here.
      await watcher.waitFor((f) => f.type === 'read' && f.lastSeenId === ids[2]);
      assert.deepEqual(readFrames(watcher).filter((f: Frame) => f.personId === alice.id), []);
      assert.equal((await listed(alice, roomId))!.lastSeenId, fourth);
      assert.deepEqual(await counts(bob, roomId), [1, 0]);
    } finally {
      for (const client of [phone, laptop, watcher]) client.close();
    }
  });

  test('a read of a room the person is not in, or of a message elsewhere, is answered with an error frame', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Read Errors', 'Bob Read Errors');
    const roomId = await roomWith(alice);
    const message = await post(alice, roomId, { text: 'not for bob' });
    const client = await connect(target.liveUrl, bob);
    try {
      client.send({ type: 'read', roomId, messageId: message });
      const error = await client.waitFor((f) => f.type === 'error');
      assert.match(error.message, /not found/i);
      client.send({ type: 'read', roomId });
      await client.waitFor((f) => f.type === 'error' && f !== error);
      assert.equal(readFrames(client).length, 0);
    } finally {
      client.close();
    }
  });
});
