// Messages: posting and reading, edits and deletes, and who may do each. Markdown and
// mentions are in message-markdown.test.ts, threads and paging in message-listing.test.ts,
// 1:1 messages in direct-messages.test.ts.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { createPeople } from '../harness/people.ts';
import { ids, list, say, texts } from '../harness/messages.ts';
import { expectStatus, roomWith } from '../harness/rooms.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
before(async () => {
  target = await startTarget();
});
after(() => target.stop());

describe('posting and reading', () => {
  test('a member posts a text message and another member reads it', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Post', 'Bob Post');
    const room = await roomWith(alice, [bob]);
    const message = await say(alice, room.id, 'hello there');
    assert.equal(message.roomId, room.id);
    assert.equal(message.roomType, 'group');
    assert.equal(message.text, 'hello there');
    assert.equal(message.personId, alice.id);
    assert.equal(message.personEmail, alice.email);
    assert.ok(!Number.isNaN(Date.parse(message.created)));
    const read = await bob.api.get(`/v1/messages/${message.id}`);
    expectStatus(read, 200);
    assert.equal(read.body.text, 'hello there');
    assert.equal(read.body.personId, alice.id);
  });

  test('a message needs text, markdown, files or attachments (400 without)', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Empty');
    const room = await roomWith(alice, []);
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id }), 400);
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id, text: '' }), 400);
  });

  test('a non-member gets 404 for posting, listing, and reading a message of the room', async () => {
    const [alice, eve] = await createPeople(target.admin, 'Alice Secret', 'Eve Secret');
    const room = await roomWith(alice, []);
    const message = await say(alice, room.id, 'private');
    expectStatus(await eve.api.post('/v1/messages', { roomId: room.id, text: 'intrusion' }), 404);
    expectStatus(await eve.api.get(`/v1/messages?roomId=${room.id}`), 404);
    expectStatus(await eve.api.get(`/v1/messages/${message.id}`), 404);
    assert.deepEqual(texts(await list(alice, `roomId=${room.id}`)), ['private']);
  });

  test('posting to a room that does not exist is 404', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Nowhere');
    const room = await roomWith(alice, []);
    expectStatus(await alice.api.delete(`/v1/rooms/${room.id}`), 204);
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id, text: 'into the void' }), 404);
    expectStatus(await alice.api.get('/v1/messages/not-a-message-id'), 404);
  });

  test("posting a message moves the room's lastActivity forward", async () => {
    const [alice] = await createPeople(target.admin, 'Alice LastActivity');
    const room = (await alice.api.get(`/v1/rooms/${(await roomWith(alice, [])).id}`)).body;
    await sleep(10);
    const message = await say(alice, room.id, 'activity');
    const after = (await alice.api.get(`/v1/rooms/${room.id}`)).body;
    assert.ok(Date.parse(after.lastActivity) > Date.parse(room.lastActivity));
    assert.equal(after.lastActivity, message.created);
  });
});

describe('editing', () => {
  test('the author edits a message: new text, and `updated` is set', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Edit', 'Bob Edit');
    const room = await roomWith(alice, [bob]);
    const message = await say(alice, room.id, 'frist');
    assert.equal(message.updated, undefined);
    await sleep(5);
    const edited = await alice.api.put(`/v1/messages/${message.id}`, { roomId: room.id, text: 'first' });
    expectStatus(edited, 200);
    assert.equal(edited.body.id, message.id);
    assert.equal(edited.body.text, 'first');
    assert.ok(edited.body.updated, 'updated is set');
    assert.ok(Date.parse(edited.body.updated) > Date.parse(message.created));
    assert.equal(edited.body.created, message.created);
    const read = await bob.api.get(`/v1/messages/${message.id}`);
    assert.equal(read.body.text, 'first');
    assert.equal(read.body.updated, edited.body.updated);
  });

  test('an edit with markdown re-renders html and mentions', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice EditMd', 'Bob EditMd');
    const room = await roomWith(alice, [bob]);
    const message = await say(alice, room.id, 'plain');
    const edited = await alice.api.put(`/v1/messages/${message.id}`, { roomId: room.id, markdown: `**now** bold, <@personId:${bob.id}|Bob>` });
    expectStatus(edited, 200);
    assert.match(edited.body.html, /<strong>now<\/strong>/);
    assert.deepEqual(edited.body.mentionedPeople, [bob.id]);
    assert.deepEqual(ids(await list(bob, `roomId=${room.id}&mentionedPeople=me`)), [message.id]);
  });

  test('only the author may edit a message (403 for another member)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice EditOwn', 'Bob EditOwn');
    const room = await roomWith(alice, [bob]);
    const message = await say(alice, room.id, 'mine');
    expectStatus(await bob.api.put(`/v1/messages/${message.id}`, { roomId: room.id, text: 'hijacked' }), 403);
    assert.equal((await alice.api.get(`/v1/messages/${message.id}`)).body.text, 'mine');
  });

  test('a moderator of a locked room still cannot edit another\'s message (403)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice EditMod', 'Bob EditMod');
    const room = await roomWith(alice, [bob], { isLocked: true });
    const message = await say(bob, room.id, 'bob says');
    expectStatus(await alice.api.put(`/v1/messages/${message.id}`, { roomId: room.id, text: 'moderated' }), 403);
  });

  test('a non-member editing a message gets 404', async () => {
    const [alice, eve] = await createPeople(target.admin, 'Alice EditOutside', 'Eve EditOutside');
    const room = await roomWith(alice, []);
    const message = await say(alice, room.id, 'mine');
    expectStatus(await eve.api.put(`/v1/messages/${message.id}`, { roomId: room.id, text: 'hijacked' }), 404);
  });

  test('a non-member editing a message gets 404 even when naming a room of their own', async () => {
    const [alice, eve] = await createPeople(target.admin, 'Alice EditProbe', 'Eve EditProbe');
    const room = await roomWith(alice, []);
    const evesRoom = await roomWith(eve, []);
    const message = await say(alice, room.id, 'mine');
    // Whether a message id exists is as private as the message itself.
    expectStatus(await eve.api.put(`/v1/messages/${message.id}`, { roomId: evesRoom.id, text: 'probe' }), 404);
  });

  test('an edit needs text or markdown (400)', async () => {
    const [alice] = await createPeople(target.admin, 'Alice EditEmpty');
    const room = await roomWith(alice, []);
    const message = await say(alice, room.id, 'mine');
    expectStatus(await alice.api.put(`/v1/messages/${message.id}`, { roomId: room.id }), 400);
  });
});

describe('deleting', () => {
  test('the author deletes a message (204); it then reads as 404 and leaves the list', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Delete', 'Bob Delete');
    const room = await roomWith(alice, [bob]);
    const keep = await say(alice, room.id, 'keep');
    const message = await say(alice, room.id, 'oops');
    expectStatus(await alice.api.delete(`/v1/messages/${message.id}`), 204);
    expectStatus(await alice.api.get(`/v1/messages/${message.id}`), 404);
    expectStatus(await bob.api.get(`/v1/messages/${message.id}`), 404);
    assert.deepEqual(ids(await list(bob, `roomId=${room.id}`)), [keep.id]);
    expectStatus(await alice.api.delete(`/v1/messages/${message.id}`), 404, 'deleting twice');
  });

  test('another member of an unlocked room cannot delete a message (403)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice DeleteOther', 'Bob DeleteOther');
    const room = await roomWith(alice, [bob]);
    const message = await say(alice, room.id, 'mine');
    expectStatus(await bob.api.delete(`/v1/messages/${message.id}`), 403);
    expectStatus(await bob.api.get(`/v1/messages/${message.id}`), 200);
  });

  test('a moderator of a locked room may delete another\'s message; a non-moderator may not (403)', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice DeleteMod', 'Bob DeleteMod', 'Carol DeleteMod');
    const room = await roomWith(alice, [bob, carol], { isLocked: true });
    const message = await say(bob, room.id, 'spam');
    expectStatus(await carol.api.delete(`/v1/messages/${message.id}`), 403);
    expectStatus(await carol.api.get(`/v1/messages/${message.id}`), 200);
    expectStatus(await alice.api.delete(`/v1/messages/${message.id}`), 204);
    expectStatus(await carol.api.get(`/v1/messages/${message.id}`), 404);
  });

  test('a non-member deleting a message gets 404', async () => {
    const [alice, eve] = await createPeople(target.admin, 'Alice DeleteOutside', 'Eve DeleteOutside');
    const room = await roomWith(alice, []);
    const message = await say(alice, room.id, 'mine');
    expectStatus(await eve.api.delete(`/v1/messages/${message.id}`), 404);
    expectStatus(await alice.api.get(`/v1/messages/${message.id}`), 200);
  });

  test('an edit of a deleted message is 404', async () => {
    const [alice] = await createPeople(target.admin, 'Alice EditDeleted');
    const room = await roomWith(alice, []);
    const message = await say(alice, room.id, 'gone');
    expectStatus(await alice.api.delete(`/v1/messages/${message.id}`), 204);
    expectStatus(await alice.api.put(`/v1/messages/${message.id}`, { roomId: room.id, text: 'back' }), 404);
  });
});
