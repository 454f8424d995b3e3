// Room tabs from the outside, in both modes (Webex /v1/room/tabs): create, list by room, get,
// update and delete by id, for members only (others get 404 for all of it); https links and
// a display name required; a locked room's tabs changed by moderators only; every change an
// activity of the room that live members see (on another gateway in cluster mode) and that
// a resume replays. Every answer is checked against the spec by the API client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LiveClient } from '../../clients/live-client.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { expectStatus, roomWith } from '../harness/rooms.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
let alice: TestPerson;
let bob: TestPerson;
let dave: TestPerson;

before(async () => {
  target = await startTarget();
  [alice, bob, dave] = await createPeople(target.admin, 'Alice Tabs', 'Bob Tabs', 'Dave Outsider');
});
after(() => target.stop());

const tabOf = (person: TestPerson, body: Record<string, unknown>) => person.api.post('/v1/room/tabs', body);
const TAB_FIELDS = ['contentUrl', 'created', 'creatorId', 'displayName', 'id', 'roomId', 'roomType'];

describe('room tabs', () => {
  test('a member creates, lists, reads, updates and deletes a tab; the other members see it all', async () => {
    const room = await roomWith(alice, [bob]);
    const created = await tabOf(bob, { roomId: room.id, displayName: 'Handbook', contentUrl: 'https://example.com/handbook' });
    expectStatus(created, 200, 'create');
    assert.deepEqual(Object.keys(created.body).sort(), TAB_FIELDS);
    assert.equal(created.body.roomId, room.id);
    assert.equal(created.body.roomType, 'group');
    assert.equal(created.body.creatorId, bob.id);
    assert.equal(created.body.displayName, 'Handbook');
    assert.equal(created.body.contentUrl, 'https://example.com/handbook');
    const second = await tabOf(alice, { roomId: room.id, displayName: 'Board', contentUrl: 'https://example.com/board' });
    expectStatus(second, 200, 'second');

    const listed = await alice.api.get(`/v1/room/tabs?roomId=${room.id}`);
    expectStatus(listed, 200, 'list');
    assert.deepEqual(listed.body.items.map((t: { id: string }) => t.id).sort(), [created.body.id, second.body.id].sort());
    const got = await alice.api.get(`/v1/room/tabs/${created.body.id}`);
    expectStatus(got, 200, 'get');
    assert.deepEqual(got.body, created.body);

    const updated = await alice.api.put(`/v1/room/tabs/${created.body.id}`, { roomId: room.id, displayName: 'Handbook v2', contentUrl: 'https://example.com/v2' });
    expectStatus(updated, 200, 'update');
    assert.deepEqual(updated.body, { ...created.body, displayName: 'Handbook v2', contentUrl: 'https://example.com/v2' });
    assert.deepEqual((await bob.api.get(`/v1/room/tabs/${created.body.id}`)).body, updated.body);

    expectStatus(await bob.api.delete(`/v1/room/tabs/${created.body.id}`), 204, 'delete');
    expectStatus(await alice.api.get(`/v1/room/tabs/${created.body.id}`), 404, 'gone');
    expectStatus(await alice.api.delete(`/v1/room/tabs/${created.body.id}`), 404, 'gone again');
    assert.deepEqual((await bob.api.get(`/v1/room/tabs?roomId=${room.id}`)).body.items.map((t: { id: string }) => t.id), [second.body.id]);
  });

  test('to a non-member a room\'s tabs do not exist (404 for every operation)', async () => {
    const room = await roomWith(alice, [bob]);
    const tab = await tabOf(alice, { roomId: room.id, displayName: 'Private', contentUrl: 'https://example.com/p' });
    expectStatus(tab, 200, 'create');
    expectStatus(await tabOf(dave, { roomId: room.id, displayName: 'Intruder', contentUrl: 'https://example.com/i' }), 404, 'create');
    expectStatus(await dave.api.get(`/v1/room/tabs?roomId=${room.id}`), 404, 'list');
    expectStatus(await dave.api.get(`/v1/room/tabs/${tab.body.id}`), 404, 'get');
    expectStatus(await dave.api.put(`/v1/room/tabs/${tab.body.id}`, { roomId: room.id, displayName: 'x', contentUrl: 'https://example.com/x' }), 404, 'update');
    expectStatus(await dave.api.delete(`/v1/room/tabs/${tab.body.id}`), 404, 'delete');
    // A member who leaves loses them too.
    const leaving = await bob.api.get(`/v1/memberships?roomId=${room.id}&personId=${bob.id}`);
    expectStatus(await bob.api.delete(`/v1/memberships/${leaving.body.items[0].id}`), 204, 'leave');
    expectStatus(await bob.api.get(`/v1/room/tabs/${tab.body.id}`), 404, 'after leaving');
    expectStatus(await alice.api.get(`/v1/room/tabs/${tab.body.id}`), 200, 'still there');
    expectStatus(await alice.api.get('/v1/room/tabs/not-a-tab'), 404, 'unknown id');
    // A room deleted takes its tabs along.
    expectStatus(await alice.api.delete(`/v1/rooms/${room.id}`), 204, 'delete room');
    expectStatus(await alice.api.get(`/v1/room/tabs/${tab.body.id}`), 404, 'with its room');
  });

  test('refuses a tab without a name, without an https link, or restated in another room (400)', async () => {
    const room = await roomWith(alice, []);
    const other = await roomWith(alice, []);
    for (const body of [
      { roomId: room.id, contentUrl: 'https://example.com' },
      { roomId: room.id, displayName: '  ', contentUrl: 'https://example.com' },
      { roomId: room.id, displayName: 'plain http', contentUrl: 'http://example.com' },
      { roomId: room.id, displayName: 'script', contentUrl: 'javascript:alert(1)' },
      { roomId: room.id, displayName: 'not a url', contentUrl: 'example.com/page' },
      { roomId: room.id, displayName: 'no link' },
      { displayName: 'no room', contentUrl: 'https://example.com' },
    ]) expectStatus(await tabOf(alice, body), 400, JSON.stringify(body));
    expectStatus(await alice.api.get('/v1/room/tabs'), 400, 'a listing needs roomId');
    const tab = await tabOf(alice, { roomId: room.id, displayName: 'Tab', contentUrl: 'https://example.com' });
    expectStatus(await alice.api.put(`/v1/room/tabs/${tab.body.id}`, { roomId: other.id, displayName: 'moved', contentUrl: 'https://example.com' }), 400, 'another room');
    expectStatus(await alice.api.put(`/v1/room/tabs/${tab.body.id}`, { roomId: room.id, displayName: 'only a name' }), 400, 'update without a link');
  });

  test('a create with an Idempotency-Key is made once; the key with another tab is a 422', async () => {
    const room = await roomWith(alice, []);
    const body = { roomId: room.id, displayName: 'Once', contentUrl: 'https://example.com/once' };
    const headers = { 'Idempotency-Key': `tab-${Math.random()}` };
    const first = await alice.api.post('/v1/room/tabs', body, { headers });
    const again = await alice.api.post('/v1/room/tabs', body, { headers });
    expectStatus(first, 200, 'first');
    expectStatus(again, 200, 'retry');
    assert.deepEqual(again.body, first.body);
    assert.deepEqual((await alice.api.get(`/v1/room/tabs?roomId=${room.id}`)).body.items, [first.body]);
    expectStatus(await alice.api.post('/v1/room/tabs', { ...body, displayName: 'Other' }, { headers }), 422, 'another tab, same key');
  });

  test('in a locked room only moderators change tabs; every member reads them', async () => {
    const room = await roomWith(alice, [bob]);
    expectStatus(await alice.api.put(`/v1/rooms/${room.id}`, { title: room.title, isLocked: true }), 200, 'lock');
    const tab = await tabOf(alice, { roomId: room.id, displayName: 'Rules', contentUrl: 'https://example.com/rules' });
    expectStatus(tab, 200, 'moderator creates');
    expectStatus(await tabOf(bob, { roomId: room.id, displayName: 'Mine', contentUrl: 'https://example.com/mine' }), 403, 'member creates');
    expectStatus(await bob.api.put(`/v1/room/tabs/${tab.body.id}`, { roomId: room.id, displayName: 'x', contentUrl: 'https://example.com/x' }), 403, 'member updates');
    expectStatus(await bob.api.delete(`/v1/room/tabs/${tab.body.id}`), 403, 'member deletes');
    expectStatus(await bob.api.get(`/v1/room/tabs/${tab.body.id}`), 200, 'member reads');
  });

  test('each change is an event of the room\'s log: live members see them in order, a resume replays them', async () => {
    const room = await roomWith(alice, [bob]);
    const live = await LiveClient.connect(target.liveUrl, target.ca, bob.token);
    const start = live.positions()[room.id];
    try {
      const tab = await tabOf(alice, { roomId: room.id, displayName: 'Live', contentUrl: 'https://example.com/live' });
      const updated = await alice.api.put(`/v1/room/tabs/${tab.body.id}`, { roomId: room.id, displayName: 'Live 2', contentUrl: 'https://example.com/live2' });
      expectStatus(await alice.api.delete(`/v1/room/tabs/${tab.body.id}`), 204, 'delete');
      await live.waitFor((f) => f.type === 'event' && f.event === 'tab.deleted' && f.roomId === room.id, 10_000);
      const events = live.eventsOf(room.id);
      assert.deepEqual(events.map((e) => e.event), ['tab.created', 'tab.updated', 'tab.deleted']);
      assert.deepEqual(events.map((e) => e.seq), [start + 1, start + 2, start + 3]);
      assert.deepEqual(events[0].data, tab.body);
      assert.deepEqual(events[1].data, updated.body);
      assert.equal(events[2].data.id, tab.body.id);
      assert.equal(events[0].actorId, alice.id);

      const resumed = await LiveClient.connect(target.url, target.ca, bob.token, { [room.id]: start });
      try {
        await resumed.waitFor((f) => f.type === 'event' && f.event === 'tab.deleted' && f.roomId === room.id, 10_000);
        assert.deepEqual(resumed.eventsOf(room.id).map((e) => [e.seq, e.event]), events.map((e) => [e.seq, e.event]));
      } finally {
        resumed.close();
      }
    } finally {
      live.close();
    }
  });
});
