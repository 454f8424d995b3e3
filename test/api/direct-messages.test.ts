// Direct (1:1) messages: the room created by the first message, reused both ways, listed
// through /v1/messages/direct, and one room even when both sides write first at once.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { createPeople } from '../harness/people.ts';
import { ids, newestFirst, post, texts, type Message } from '../harness/messages.ts';
import { allPages, expectStatus, roomWith } from '../harness/rooms.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
before(async () => {
  target = await startTarget();
});
after(() => target.stop());

describe('direct messages', () => {
  test('the first message to toPersonId creates a direct room titled, for each side, with the other\'s name', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Direct', 'Bob Direct');
    const message = await post(alice, { toPersonId: bob.id, text: 'hi bob' });
    assert.equal(message.roomType, 'direct');
    assert.equal(message.toPersonId, bob.id);
    assert.equal(message.toPersonEmail, bob.email);
    const seenByAlice = await alice.api.get(`/v1/rooms/${message.roomId}`);
    const seenByBob = await bob.api.get(`/v1/rooms/${message.roomId}`);
    expectStatus(seenByAlice, 200);
    expectStatus(seenByBob, 200);
    assert.equal(seenByAlice.body.type, 'direct');
    assert.equal(seenByAlice.body.title, bob.displayName);
    assert.equal(seenByBob.body.title, alice.displayName);
    const members = await bob.api.get(`/v1/memberships?roomId=${message.roomId}`);
    assert.deepEqual(members.body.items.map((m: { personId: string }) => m.personId).sort(), [alice.id, bob.id].sort());
  });

  test('later direct messages reuse the room, by id or email, in both directions', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Reuse', 'Bob Reuse');
    const first = await post(alice, { toPersonId: bob.id, text: '1' });
    const second = await post(alice, { toPersonEmail: bob.email, text: '2' });
    const reply = await post(bob, { toPersonId: alice.id, text: '3' });
    const replyByEmail = await post(bob, { toPersonEmail: alice.email, text: '4' });
    const byRoom = await post(bob, { roomId: first.roomId, text: '5' });
    for (const m of [second, reply, replyByEmail, byRoom]) assert.equal(m.roomId, first.roomId);
    const alicesDirect = (await alice.api.get('/v1/rooms?type=direct')).body.items;
    const bobsDirect = (await bob.api.get('/v1/rooms?type=direct')).body.items;
    assert.deepEqual(ids(alicesDirect), [first.roomId]);
    assert.deepEqual(ids(bobsDirect), [first.roomId]);
    assert.equal(alicesDirect[0].type, 'direct');
    assert.equal(alicesDirect[0].title, bob.displayName, "Alice's list titles the room with Bob's name");
    assert.equal(bobsDirect[0].title, alice.displayName, "Bob's list titles the room with Alice's name");
  });

  test('GET /v1/messages/direct lists the 1:1 conversation by personId or personEmail, newest first', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice DirectList', 'Bob DirectList', 'Carol DirectList');
    const m1 = await post(alice, { toPersonId: bob.id, text: 'one' });
    await sleep(3);
    const m2 = await post(bob, { toPersonId: alice.id, text: 'two' });
    await sleep(3);
    const m3 = await post(alice, { toPersonEmail: bob.email, text: 'three' });
    await post(alice, { toPersonId: carol.id, text: 'to carol' });
    const expected = [m3.id, m2.id, m1.id];
    const byId = await alice.api.get(`/v1/messages/direct?personId=${bob.id}`);
    expectStatus(byId, 200);
    assert.deepEqual(ids(byId.body.items), expected);
    const byEmail = await alice.api.get(`/v1/messages/direct?personEmail=${encodeURIComponent(bob.email)}`);
    expectStatus(byEmail, 200);
    assert.deepEqual(ids(byEmail.body.items), expected);
    const bobsView = await bob.api.get(`/v1/messages/direct?personId=${alice.id}`);
    assert.deepEqual(ids(bobsView.body.items), expected);
  });

  test('GET /v1/messages/direct pages with Link like any list', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice DirectPaging', 'Bob DirectPaging');
    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) sent.push(await post(i % 2 ? bob : alice, { toPersonId: i % 2 ? alice.id : bob.id, text: `d${i}` }));
    const pages = await allPages<Message>(alice.api, `/v1/messages/direct?personId=${bob.id}&max=2`);
    assert.deepEqual(pages.map((page) => page.length), [2, 2, 1]);
    assert.deepEqual(pages.flat().map((m) => m.id), newestFirst(sent));
  });

  test('messaging yourself is refused (400)', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Self');
    expectStatus(await alice.api.post('/v1/messages', { toPersonId: alice.id, text: 'me' }), 400);
    expectStatus(await alice.api.post('/v1/messages', { toPersonEmail: alice.email, text: 'me' }), 400);
    assert.deepEqual((await alice.api.get('/v1/rooms?type=direct')).body.items, []);
  });

  test('exactly one of roomId, toPersonId, toPersonEmail is required (400 for none or two)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice OneOf', 'Bob OneOf');
    const room = await roomWith(alice, [bob]);
    expectStatus(await alice.api.post('/v1/messages', { text: 'nowhere' }), 400);
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id, toPersonId: bob.id, text: 'two' }), 400);
    expectStatus(await alice.api.post('/v1/messages', { toPersonId: bob.id, toPersonEmail: bob.email, text: 'two' }), 400);
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id, toPersonEmail: bob.email, text: 'two' }), 400);
    assert.deepEqual((await alice.api.get(`/v1/messages?roomId=${room.id}`)).body.items, []);
  });

  test('a direct message to an unknown person is 404', async () => {
    const [alice, gone] = await createPeople(target.admin, 'Alice Ghost', 'Gone Ghost');
    expectStatus(await target.admin.delete(`/v1/people/${gone.id}`), 204);
    expectStatus(await alice.api.post('/v1/messages', { toPersonId: gone.id, text: 'hello?' }), 404);
  });

  test('concurrent first messages from both sides end in one direct room', async () => {
    const pairs = await Promise.all([0, 1, 2, 3].map((i) => createPeople(target.admin, `Alice Race${i}`, `Bob Race${i}`)));
    await Promise.all(pairs.map(async ([alice, bob]) => {
      const [a, b] = await Promise.all([
        alice.api.post('/v1/messages', { toPersonId: bob.id, text: 'hi from alice' }),
        bob.api.post('/v1/messages', { toPersonEmail: alice.email, text: 'hi from bob' }),
      ]);
      expectStatus(a, 200);
      expectStatus(b, 200);
      assert.equal(a.body.roomId, b.body.roomId, 'both messages land in the same room');
      for (const person of [alice, bob]) {
        const direct = (await person.api.get('/v1/rooms?type=direct')).body.items;
        assert.deepEqual(ids(direct), [a.body.roomId], `${person.displayName} has one direct room`);
      }
      const both = await alice.api.get(`/v1/messages/direct?personId=${bob.id}`);
      assert.deepEqual(texts(both.body.items).sort(), ['hi from alice', 'hi from bob']);
    }));
  });
});
