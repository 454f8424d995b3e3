// Message search (GET /v1/messages/search, a Squared extension): the caller's matching
// messages among the rooms they are a member of now, and of the rooms they left what came
// before they left, never beyond — with a room the caller is not in, with people added and
// removed, with edits and deletions — read back as Webex messages. The index lags its commits a moment (Elasticsearch refreshes each second), so
// each expectation is waited for, and each refusal is checked after a hit proves the index
// has caught up.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { post } from '../harness/messages.ts';
import { allPages, expectStatus, roomWith } from '../harness/rooms.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
before(async () => {
  target = await startTarget();
});
after(() => target.stop());

const search = async (person: TestPerson, query: string) => {
  const answer = await person.api.get(`/v1/messages/search?${query}`);
  expectStatus(answer, 200, query);
  return (answer.body.items as { id: string; roomId: string; text: string }[]);
};

/** Waits until the search answers the ids wanted (in any order). */
async function searchUntil(person: TestPerson, query: string, wanted: string[]): Promise<{ id: string; roomId: string; text: string }[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const items = await search(person, query);
    if (JSON.stringify(items.map((m) => m.id).sort()) === JSON.stringify([...wanted].sort())) return items;
    if (Date.now() > deadline) assert.fail(`${query}: wanted ${JSON.stringify(wanted)}, got ${JSON.stringify(items.map((m) => [m.id, m.text]))}`);
    await sleep(200);
  }
}

describe('message search', () => {
  test('only the rooms the caller is in: a member finds them, an outsider finds nothing and is refused the room', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice Search', 'Bob Search', 'Carol Search');
    const shared = await roomWith(alice, [bob]);
    const carols = await roomWith(carol, []);
    const inShared = await post(alice, { roomId: shared.id, text: 'the lighthouse keeper' });
    const byBob = await post(bob, { roomId: shared.id, text: 'a Lighthouse at dusk' });
    const inCarols = await post(carol, { roomId: carols.id, text: 'lighthouse secrets' });
    await post(alice, { roomId: shared.id, text: 'nothing to see here' });

    const found = await searchUntil(alice, 'q=lighthouse', [inShared.id, byBob.id]);
    assert.ok(found.every((m) => m.roomId === shared.id));
    assert.equal(found.find((m) => m.id === byBob.id)!.text, 'a Lighthouse at dusk', 'answered as Webex messages');
    await searchUntil(carol, 'q=lighthouse', [inCarols.id]);
    await searchUntil(bob, `q=lighthouse&roomId=${shared.id}`, [inShared.id, byBob.id]);
    // Carol's room is not Alice's to search: as if it did not exist.
    expectStatus(await alice.api.get(`/v1/messages/search?q=lighthouse&roomId=${carols.id}`), 404);
    assert.equal((await search(alice, 'q=lighthouse&max=1')).length, 1);
  });

  test('a person removed from a room keeps finding what was posted before, nothing after; one added finds it all', async () => {
    const [alice, bob, dave] = await createPeople(target.admin, 'Alice Leaves', 'Bob Leaves', 'Dave Joins');
    const room = await roomWith(alice, [bob]);
    const before = await post(alice, { roomId: room.id, text: 'quarterly walrus report' });
    await searchUntil(bob, 'q=walrus', [before.id]);
    const membership = (await alice.api.get(`/v1/memberships?roomId=${room.id}&personId=${bob.id}`)).body.items[0];
    expectStatus(await alice.api.delete(`/v1/memberships/${membership.id}`), 204);
    const afterLeaving = await post(alice, { roomId: room.id, text: 'walrus plans bob must not see' });
    await searchUntil(alice, 'q=walrus', [before.id, afterLeaving.id]);
    // What they saw stays theirs to find, with the room as a filter too; what came after does not.
    await searchUntil(bob, 'q=walrus', [before.id]);
    await searchUntil(bob, `q=walrus&roomId=${room.id}`, [before.id]);
    assert.deepEqual(await search(bob, 'q=plans'), []);
    expectStatus(await bob.api.get(`/v1/messages/${before.id}`), 404, 'the room itself is not theirs any more');
    await searchUntil(dave, 'q=walrus', []);
    expectStatus(await alice.api.post('/v1/memberships', { roomId: room.id, personId: dave.id }), 200);
    await searchUntil(dave, 'q=walrus', [before.id, afterLeaving.id]);
    // Back in the room: its whole history, as a new member's.
    expectStatus(await alice.api.post('/v1/memberships', { roomId: room.id, personId: bob.id }), 200);
    await searchUntil(bob, 'q=walrus', [before.id, afterLeaving.id]);
  });

  test('edits are found by their new text only; a deleted message is never found again', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Edits');
    const room = await roomWith(alice, []);
    const edited = await post(alice, { roomId: room.id, text: 'draft about pelicans' });
    const deleted = await post(alice, { roomId: room.id, text: 'pelicans to delete' });
    await searchUntil(alice, 'q=pelicans', [edited.id, deleted.id]);
    expectStatus(await alice.api.put(`/v1/messages/${edited.id}`, { roomId: room.id, text: 'final about flamingos' }), 200);
    expectStatus(await alice.api.delete(`/v1/messages/${deleted.id}`), 204);
    // Gone from the answer at once (each hit is read through the rooms actor), and from the index after.
    await searchUntil(alice, 'q=flamingos', [edited.id]);
    assert.deepEqual(await search(alice, 'q=pelicans'), []);
  });

  test('personId, before and after narrow the hits, never beyond the caller\'s rooms', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice Filters', 'Bob Filters', 'Carol Filters');
    const shared = await roomWith(alice, [bob, carol]);
    const carols = await roomWith(carol, []);
    const first = await post(alice, { roomId: shared.id, text: 'otter census first' });
    const second = await post(bob, { roomId: shared.id, text: 'otter census second' });
    const third = await post(alice, { roomId: shared.id, text: 'otter census third' });
    const hidden = await post(carol, { roomId: carols.id, text: 'otter census hidden' });
    await searchUntil(alice, 'q=otter', [first.id, second.id, third.id]);
    await searchUntil(carol, `q=otter&roomId=${carols.id}`, [hidden.id]);

    await searchUntil(alice, `q=otter&personId=${alice.id}`, [first.id, third.id]);
    await searchUntil(alice, `q=otter&personId=${bob.id}`, [second.id]);
    // Carol's own room stays out of Alice's search whatever the filters say.
    assert.deepEqual(await search(alice, `q=otter&personId=${carol.id}`), []);
    assert.deepEqual(await search(alice, `q=hidden&personId=${carol.id}&after=2000-01-01T00:00:00Z`), []);
    const at = (m: { created?: unknown }) => encodeURIComponent(String(m.created));
    await searchUntil(alice, `q=otter&before=${at(second)}`, [first.id]);
    await searchUntil(alice, `q=otter&after=${at(second)}`, [third.id]);
    await searchUntil(alice, `q=otter&after=${at(first)}&before=${at(third)}`, [second.id]);
    await searchUntil(alice, `q=otter&personId=${alice.id}&after=${at(first)}`, [third.id]);
    for (const query of ['q=otter&before=yesterday', 'q=otter&after=', `q=otter&before=${'9'.repeat(65)}`]) {
      expectStatus(await alice.api.get(`/v1/messages/search?${query}`), 400, query);
    }
  });

  test('mentionedPeople, from and hasFiles narrow the hits; each hit is highlighted as safe HTML', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Mentions', 'Bob Mentions');
    const room = await roomWith(alice, [bob]);
    const toBob = await post(alice, { roomId: room.id, markdown: `<@personId:${bob.id}|Bob> the <b>heron</b> & the Héron`, text: 'Bob the <b>heron</b> & the Héron' });
    const toAll = await post(alice, { roomId: room.id, markdown: '<@all> heron watch', text: 'All heron watch' });
    const byBob = await post(bob, { roomId: room.id, text: 'heron seen by me' });
    await searchUntil(bob, 'q=heron', [toBob.id, toAll.id, byBob.id]);
    await searchUntil(bob, 'q=heron&mentionedPeople=me', [toBob.id, toAll.id]);
    await searchUntil(alice, `q=heron&mentionedPeople=${bob.id}`, [toBob.id, toAll.id]);
    await searchUntil(alice, 'q=heron&mentionedPeople=me', [toAll.id]);
    await searchUntil(alice, `q=heron&from=${encodeURIComponent(bob.email)}`, [byBob.id]);
    await searchUntil(alice, `q=heron&from=${alice.id}`, [toBob.id, toAll.id]);
    assert.deepEqual(await search(alice, 'q=heron&from=nobody%40example.com'), []);
    assert.deepEqual(await search(alice, `q=heron&from=${alice.id}&personId=${bob.id}`), [], 'two authors: nothing');
    await searchUntil(alice, 'q=heron&hasFiles=false', [toBob.id, toAll.id, byBob.id]);
    assert.deepEqual(await search(alice, 'q=heron&hasFiles=true'), []);
    expectStatus(await alice.api.get('/v1/messages/search?q=heron&hasFiles=yes'), 400);

    const hit = (await search(alice, 'q=HERON')).find((m) => m.id === toBob.id) as { highlight?: string };
    // every word equal to the query's (case and accents folded) is marked; the text's own markup is escaped
    assert.equal(hit.highlight, 'Bob the &lt;b&gt;<mark>heron</mark>&lt;/b&gt; &amp; the <mark>Héron</mark>');
  });

  test('pages: Link rel="next" goes through every hit once, in the order of one big page', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Pages');
    const room = await roomWith(alice, []);
    const posted: string[] = [];
    for (let i = 0; i < 7; i++) posted.push((await post(alice, { roomId: room.id, text: i === 3 ? 'puffin puffin puffin' : `puffin number ${i}` })).id);
    const whole = await searchUntil(alice, 'q=puffin&max=100', posted);
    const pages = await allPages<{ id: string }>(alice.api, `/v1/messages/search?q=puffin&max=3&roomId=${room.id}`);
    assert.deepEqual(pages.map((page) => page.length), [3, 3, 1]);
    assert.deepEqual(pages.flat().map((m) => m.id), whole.map((m) => m.id));
    assert.equal(whole[0].id, posted[3], 'the best match first');
    const forged = (values: unknown[]) => Buffer.from(JSON.stringify(values)).toString('base64url');
    for (const cursor of ['not-a-cursor', forged([1]), forged(['x', 'y', 'z']), forged([1, '2026-01-01T00:00:00.000Z', 'id', 4]), forged([1, 1e300, 'id'])]) {
      expectStatus(await alice.api.get(`/v1/messages/search?q=puffin&cursor=${cursor}`), 400, cursor);
    }
  });

  test('a query is required and bounded; max is bounded', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Bad Search');
    for (const query of ['', 'q=', `q=${'x'.repeat(201)}`, 'q=a&max=0', 'q=a&max=101', 'q=a&max=many']) {
      expectStatus(await alice.api.get(`/v1/messages/search?${query}`), 400, query);
    }
    expectStatus(await alice.api.get('/v1/messages/search?q=anything'), 200);
  });
});
