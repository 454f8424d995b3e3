// Listing messages: threads (replies carry parentId, ?parentId lists one thread), newest
// first, before/beforeMessage, and paging by Link headers without overlap or gap.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { createPeople } from '../harness/people.ts';
import { ids, list, newestFirst, post, postInOrder, say, type Message } from '../harness/messages.ts';
import { allPages, expectStatus, nextLink, roomWith } from '../harness/rooms.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
before(async () => {
  target = await startTarget();
});
after(() => target.stop());

describe('threads', () => {
  test('a reply carries parentId, and ?parentId lists only that thread\'s replies', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Thread', 'Bob Thread');
    const room = await roomWith(alice, [bob]);
    const parent = await say(alice, room.id, 'topic');
    const other = await say(alice, room.id, 'other topic');
    const r1 = await post(bob, { roomId: room.id, parentId: parent.id, text: 'reply 1' });
    await sleep(3);
    await post(bob, { roomId: room.id, parentId: other.id, text: 'elsewhere' });
    const r2 = await post(alice, { roomId: room.id, parentId: parent.id, text: 'reply 2' });
    assert.equal(r1.parentId, parent.id);
    assert.deepEqual(ids(await list(bob, `roomId=${room.id}&parentId=${parent.id}`)), [r2.id, r1.id]);
    assert.equal((await bob.api.get(`/v1/messages/${r1.id}`)).body.parentId, parent.id);
  });

  test('a parent from another room is refused (400)', async () => {
    const [alice] = await createPeople(target.admin, 'Alice CrossThread');
    const here = await roomWith(alice, []);
    const there = await roomWith(alice, []);
    const foreign = await say(alice, there.id, 'over there');
    expectStatus(await alice.api.post('/v1/messages', { roomId: here.id, parentId: foreign.id, text: 'reply' }), 400);
    // The same parent in its own room is accepted.
    expectStatus(await alice.api.post('/v1/messages', { roomId: there.id, parentId: foreign.id, text: 'reply' }), 200);
  });

  test('a reply cannot itself be replied to (400)', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Nested');
    const room = await roomWith(alice, []);
    const parent = await say(alice, room.id, 'root');
    const reply = await post(alice, { roomId: room.id, parentId: parent.id, text: 'reply' });
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id, parentId: reply.id, text: 'nested' }), 400);
  });

  test('an unknown parent is refused (400)', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Orphan');
    const room = await roomWith(alice, []);
    const gone = await say(alice, room.id, 'soon gone');
    expectStatus(await alice.api.delete(`/v1/messages/${gone.id}`), 204);
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id, parentId: gone.id, text: 'reply' }), 400);
  });
});

describe('listing and paging', () => {
  test('messages are listed newest first, limited by max', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Order');
    const room = await roomWith(alice, []);
    const messages = await postInOrder(alice, room.id, 4);
    assert.deepEqual(ids(await list(alice, `roomId=${room.id}`)), newestFirst(messages));
    assert.deepEqual(ids(await list(alice, `roomId=${room.id}&max=2`)), newestFirst(messages).slice(0, 2));
  });

  test('before (an ISO date) lists only messages created before it', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Before');
    const room = await roomWith(alice, []);
    const messages = await postInOrder(alice, room.id, 4);
    const before = encodeURIComponent(messages[2].created);
    assert.deepEqual(ids(await list(alice, `roomId=${room.id}&before=${before}`)), [messages[1].id, messages[0].id]);
    expectStatus(await alice.api.get(`/v1/messages?roomId=${room.id}&before=yesterday`), 400);
  });

  test('beforeMessage (an id) lists only messages older than that message', async () => {
    const [alice] = await createPeople(target.admin, 'Alice BeforeMessage');
    const room = await roomWith(alice, []);
    const messages = await postInOrder(alice, room.id, 4);
    assert.deepEqual(ids(await list(alice, `roomId=${room.id}&beforeMessage=${messages[2].id}`)), [messages[1].id, messages[0].id]);
    assert.deepEqual(ids(await list(alice, `roomId=${room.id}&beforeMessage=${messages[2].id}&max=1`)), [messages[1].id]);
  });

  test('paging follows one Link rel="next" per page with no overlap and no gap; the last page has no Link', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Paging');
    const room = await roomWith(alice, []);
    const messages = await postInOrder(alice, room.id, 5);
    const pages = await allPages<Message>(alice.api, `/v1/messages?roomId=${room.id}&max=2`);
    assert.deepEqual(pages.map((page) => page.length), [2, 2, 1]);
    assert.deepEqual(pages.flat().map((m) => m.id), newestFirst(messages));
  });

  test('when the messages fill the last page exactly, that page has no Link', async () => {
    const [alice] = await createPeople(target.admin, 'Alice PagingExact');
    const room = await roomWith(alice, []);
    const messages = await postInOrder(alice, room.id, 4);
    const pages = await allPages<Message>(alice.api, `/v1/messages?roomId=${room.id}&max=2`);
    assert.deepEqual(pages.map((page) => page.length), [2, 2]);
    assert.deepEqual(pages.flat().map((m) => m.id), newestFirst(messages));
  });

  test('a list that fits in one page has no Link', async () => {
    const [alice] = await createPeople(target.admin, 'Alice OnePage');
    const room = await roomWith(alice, []);
    await postInOrder(alice, room.id, 2);
    const response = await alice.api.get(`/v1/messages?roomId=${room.id}&max=10`);
    assert.equal(response.body.items.length, 2);
    assert.equal(nextLink(response, target.url), undefined);
  });

  test('paging with beforeMessage continues from the anchor without overlap', async () => {
    const [alice] = await createPeople(target.admin, 'Alice PagingAnchor');
    const room = await roomWith(alice, []);
    const messages = await postInOrder(alice, room.id, 6);
    const pages = await allPages<Message>(alice.api, `/v1/messages?roomId=${room.id}&beforeMessage=${messages[5].id}&max=2`);
    assert.deepEqual(pages.flat().map((m) => m.id), newestFirst(messages.slice(0, 5)));
  });

  test('messages posted while paging do not shift the pages', async () => {
    const [alice] = await createPeople(target.admin, 'Alice PagingLive');
    const room = await roomWith(alice, []);
    const messages = await postInOrder(alice, room.id, 4);
    const first = await alice.api.get(`/v1/messages?roomId=${room.id}&max=2`);
    await say(alice, room.id, 'late');
    const second = await alice.api.get(nextLink(first, target.url)!);
    assert.deepEqual([...ids(first.body.items), ...ids(second.body.items)], newestFirst(messages));
  });
});
