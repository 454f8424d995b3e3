// Message retention over real HTTPS (docs/admin.md, Retention): an administrator sets how
// many days messages are kept per room type; the rooms actor's sweep deletes older ones as
// `message.deleted` activities (seen live), from the listing and from search, leaves the other
// room type alone, and records audit events; only administrators of the org see or set it.
// The sweep runs every second here, its clock three days ahead (SQUARED_TEST_RETENTION_CLOCK_AHEAD_DAYS),
// so today's messages are three days old to it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LiveClient } from '../../clients/live-client.ts';
import { createPerson, type TestPerson } from '../harness/people.ts';
import { expectStatus } from '../harness/rooms.ts';
import { until } from '../harness/wait.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
let orgId: string;
let alice: TestPerson;
let bob: TestPerson;

before(async () => {
  target = await startTarget({ SQUARED_RETENTION_SWEEP_SECONDS: '1', SQUARED_TEST_RETENTION_CLOCK_AHEAD_DAYS: '3' });
  orgId = (await target.admin.get('/v1/people/me')).body.orgId;
  alice = await createPerson(target.admin, 'Alice Retention');
  bob = await createPerson(target.admin, 'Bob Retention');
});
after(() => target.stop());

const retentionUrl = () => `/v1/organizations/${orgId}/retention`;

describe('message retention', () => {
  test('only the org\'s administrators see or set the policy; bad days are a 400', async () => {
    expectStatus(await alice.api.get(retentionUrl()), 403, 'a member reads');
    expectStatus(await alice.api.put(retentionUrl(), { groupDays: 1 }), 403, 'a member sets');
    const otherOrg = Buffer.from('ciscospark://us/ORGANIZATION/00000000-0000-4000-8000-000000000000').toString('base64url');
    expectStatus(await target.admin.get(`/v1/organizations/${otherOrg}/retention`), 403, 'another org');
    for (const body of [{ groupDays: 0 }, { groupDays: 36_501 }, { groupDays: 'a week' }, { directDays: 1.5 }, { directDays: -3 }]) {
      expectStatus(await target.admin.put(retentionUrl(), body), 400, JSON.stringify(body));
    }
    const none = await target.admin.get(retentionUrl());
    expectStatus(none, 200, 'read');
    assert.deepEqual(none.body, { orgId, directDays: null, groupDays: null });
  });

  test('past the policy, a group room\'s messages are deleted as activities, from the listing and search; direct rooms keep theirs', async () => {
    const group = await alice.api.post('/v1/rooms', { title: 'kept briefly' });
    expectStatus(group, 200, 'room');
    expectStatus(await alice.api.post('/v1/memberships', { roomId: group.body.id, personId: bob.id }), 200, 'membership');
    const posted: string[] = [];
    for (let i = 0; i < 5; i++) {
      const message = await alice.api.post('/v1/messages', { roomId: group.body.id, text: `ephemeral kittiwake ${i}` });
      expectStatus(message, 200, 'post');
      posted.push(message.body.id);
    }
    const direct = await alice.api.post('/v1/messages', { toPersonId: bob.id, text: 'a direct kittiwake' });
    expectStatus(direct, 200, 'direct');

    // Without a policy nothing is deleted, however old the sweep thinks it is.
    await sleep(2500);
    assert.equal((await alice.api.get(`/v1/messages?roomId=${group.body.id}`)).body.items.length, 5);

    const live = await LiveClient.connect(target.url, target.ca, bob.token);
    const set = await target.admin.put(retentionUrl(), { groupDays: 2 });
    expectStatus(set, 200, 'set');
    assert.equal(set.body.groupDays, 2);
    assert.equal(set.body.directDays, null);
    assert.deepEqual((await target.admin.get(retentionUrl())).body, set.body);

    await until(async () => (await alice.api.get(`/v1/messages?roomId=${group.body.id}`)).body.items.length === 0, 30_000, 'the group room\'s messages to expire');
    await live.waitFor(() => posted.every((id) => live.eventsOf(group.body.id).some((e) => e.event === 'message.deleted' && (e.data as { id: string }).id === id)), 10_000);
    const deletions = live.eventsOf(group.body.id).filter((e) => e.event === 'message.deleted');
    assert.equal(deletions.length, posted.length, 'each message deleted once');
    const admin = (await target.admin.get('/v1/people/me')).body;
    assert.ok(deletions.every((e) => e.actorId === admin.id), 'the deletions\' actor is the administrator who set the policy');
    for (const id of posted) expectStatus(await alice.api.get(`/v1/messages/${id}`), 404, 'an expired message');
    await until(async () => {
      const found = await alice.api.get(`/v1/messages/search?q=kittiwake&roomId=${group.body.id}`);
      return found.status === 200 && found.body.items.length === 0;
    }, 30_000, 'the expired messages to leave the search index');

    // The direct room's message stays: its type has no policy.
    expectStatus(await alice.api.get(`/v1/messages/${direct.body.id}`), 200, 'the direct message');

    // Forever again (PUT replaces the policy; a type left out keeps its messages): a new message stays.
    const forever = await target.admin.put(retentionUrl(), { directDays: null });
    expectStatus(forever, 200, 'forever');
    assert.equal(forever.body.groupDays, null);
    const kept = await alice.api.post('/v1/messages', { roomId: group.body.id, text: 'kept for good' });
    expectStatus(kept, 200, 'post');
    await sleep(2500);
    expectStatus(await alice.api.get(`/v1/messages/${kept.body.id}`), 200, 'a message under no policy');
    live.close();

    // The audit trail: each change of the policy, and the sweep's deletions.
    const from = new Date(Date.now() - 600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const events = (await target.admin.get(`/v1/adminAudit/events?${new URLSearchParams({ orgId, from, to, max: '1000' })}`)).body.items as { data: { eventCategory: string; eventDescription: string; actionText: string } }[];
    const changes = events.filter((e) => e.data.eventDescription === 'Message retention policy changed');
    assert.equal(changes.length, 2, JSON.stringify(changes));
    assert.ok(changes.every((e) => e.data.eventCategory === 'ORG_SETTINGS'));
    const sweeps = events.filter((e) => e.data.eventDescription === 'Messages deleted by the retention policy');
    assert.ok(sweeps.length >= 1);
    assert.equal(sweeps.reduce((sum, e) => sum + Number(/^(\d+) messages/.exec(e.data.actionText)![1]), 0), posted.length, 'the sweeps\' events count every deletion');
  });
});
