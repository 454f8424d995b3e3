// Memberships: who may add, remove, promote and hide, listing (the caller's own, a room's,
// filtered, paged), each authorization rule proven with an allowed and a refused case.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ApiClient, ApiResponse } from '../../clients/api-client.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { startTarget, type Target } from './target.ts';
import { addMember, allPages, createRoom, expectStatus, membershipOf, nextLink, roomWith, type Membership, type Room } from '../harness/rooms.ts';

let target: Target;
before(async () => {
  target = await startTarget();
});
after(() => target.stop());


async function memberIds(viewer: TestPerson, roomId: string): Promise<string[]> {
  const response = await viewer.api.get(`/v1/memberships?roomId=${encodeURIComponent(roomId)}`);
  expectStatus(response, 200, 'list members');
  return (response.body.items as Membership[]).map((m) => m.personId).sort();
}

async function directRoomOf(from: TestPerson, to: TestPerson): Promise<string> {
  const response = await from.api.post('/v1/messages', { toPersonId: to.id, text: 'hello' });
  expectStatus(response, 200, 'direct message');
  return response.body.roomId;
}

const sorted = (...values: string[]) => [...values].sort();

describe('creating memberships', () => {
  test('creating a room makes the creator its only member', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Creator');
    const room = await createRoom(alice);
    const mine = await membershipOf(alice, room.id, alice.id);
    assert.equal(mine.roomId, room.id);
    assert.equal(mine.personEmail, alice.email);
    assert.equal(mine.personDisplayName, alice.displayName);
    assert.equal(mine.isModerator, false);
    assert.equal(mine.roomType, 'group');
    assert.deepEqual(await memberIds(alice, room.id), [alice.id]);
  });

  test('creating a locked room makes the creator a moderator', async () => {
    const [alice] = await createPeople(target.admin, 'Alice LockedCreator');
    const room = await createRoom(alice, { isLocked: true });
    assert.equal((await membershipOf(alice, room.id, alice.id)).isModerator, true);
  });

  test('in an unlocked room any member may add people, by personId or personEmail', async () => {
    const [alice, bob, carol, dave] = await createPeople(target.admin, 'Alice Adds', 'Bob Adds', 'Carol Added', 'Dave Added');
    const room = await roomWith(alice, [bob]);
    const byId = await bob.api.post('/v1/memberships', { roomId: room.id, personId: carol.id });
    expectStatus(byId, 200);
    assert.equal(byId.body.personId, carol.id);
    assert.equal(byId.body.roomId, room.id);
    assert.equal(byId.body.isModerator, false);
    const byEmail = await bob.api.post('/v1/memberships', { roomId: room.id, personEmail: dave.email });
    expectStatus(byEmail, 200);
    assert.equal(byEmail.body.personId, dave.id);
    assert.deepEqual(await memberIds(alice, room.id), sorted(alice.id, bob.id, carol.id, dave.id));
    // The added person now sees the room.
    expectStatus(await carol.api.get(`/v1/rooms/${room.id}`), 200);
  });

  test('a non-member adding someone to a room gets 404', async () => {
    const [alice, eve, carol] = await createPeople(target.admin, 'Alice Private', 'Eve Outsider', 'Carol Outsider');
    const room = await createRoom(alice);
    expectStatus(await eve.api.post('/v1/memberships', { roomId: room.id, personId: carol.id }), 404);
    expectStatus(await eve.api.post('/v1/memberships', { roomId: room.id, personId: eve.id }), 404);
    assert.deepEqual(await memberIds(alice, room.id), [alice.id]);
  });

  test('in a locked room only moderators may add people (403 for other members)', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice LockedAdd', 'Bob LockedAdd', 'Carol LockedAdd');
    const room = await roomWith(alice, [bob], { isLocked: true });
    expectStatus(await bob.api.post('/v1/memberships', { roomId: room.id, personId: carol.id }), 403);
    assert.deepEqual(await memberIds(alice, room.id), sorted(alice.id, bob.id));
    expectStatus(await alice.api.post('/v1/memberships', { roomId: room.id, personId: carol.id }), 200);
    assert.deepEqual(await memberIds(alice, room.id), sorted(alice.id, bob.id, carol.id));
  });

  test('adding someone who is already a member is 409', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Twice', 'Bob Twice');
    const room = await roomWith(alice, [bob]);
    expectStatus(await alice.api.post('/v1/memberships', { roomId: room.id, personId: bob.id }), 409);
    expectStatus(await alice.api.post('/v1/memberships', { roomId: room.id, personEmail: bob.email }), 409);
    expectStatus(await alice.api.post('/v1/memberships', { roomId: room.id, personId: alice.id }), 409);
    assert.deepEqual(await memberIds(alice, room.id), sorted(alice.id, bob.id));
  });

  test('two members adding the same person at once: one 200, one 409, one membership', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice Race', 'Bob Race', 'Carol Race');
    const room = await roomWith(alice, [bob]);
    const answers = await Promise.all([
      alice.api.post('/v1/memberships', { roomId: room.id, personId: carol.id }),
      bob.api.post('/v1/memberships', { roomId: room.id, personEmail: carol.email }),
    ]);
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409]);
    assert.deepEqual(await memberIds(alice, room.id), sorted(alice.id, bob.id, carol.id));
  });

  test('adding an unknown person is 404, and a membership needs personId or personEmail (400)', async () => {
    const [alice, gone] = await createPeople(target.admin, 'Alice Unknown', 'Gone Person');
    const room = await createRoom(alice);
    expectStatus(await target.admin.delete(`/v1/people/${gone.id}`), 204);
    expectStatus(await alice.api.post('/v1/memberships', { roomId: room.id, personId: gone.id }), 404);
    expectStatus(await alice.api.post('/v1/memberships', { roomId: room.id }), 400);
  });

  test('isModerator on a new membership is refused in an unlocked room (403)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice ModUnlocked', 'Bob ModUnlocked');
    const room = await createRoom(alice);
    expectStatus(await alice.api.post('/v1/memberships', { roomId: room.id, personId: bob.id, isModerator: true }), 403);
    assert.deepEqual(await memberIds(alice, room.id), [alice.id]);
  });

  test('a moderator of a locked room may add a moderator; a non-moderator may not (403)', async () => {
    const [alice, bob, carol, dave] = await createPeople(target.admin, 'Alice ModAdd', 'Bob ModAdd', 'Carol ModAdd', 'Dave ModAdd');
    const room = await roomWith(alice, [bob], { isLocked: true });
    expectStatus(await bob.api.post('/v1/memberships', { roomId: room.id, personId: dave.id, isModerator: true }), 403);
    const added = await alice.api.post('/v1/memberships', { roomId: room.id, personId: carol.id, isModerator: true });
    expectStatus(added, 200);
    assert.equal(added.body.isModerator, true);
    assert.equal((await membershipOf(bob, room.id, carol.id)).isModerator, true);
  });

  test('nobody can be added to a direct room (403)', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice DirectAdd', 'Bob DirectAdd', 'Carol DirectAdd');
    const roomId = await directRoomOf(alice, bob);
    expectStatus(await alice.api.post('/v1/memberships', { roomId, personId: carol.id }), 403);
    assert.deepEqual(await memberIds(alice, roomId), sorted(alice.id, bob.id));
  });
});

describe('reading and listing memberships', () => {
  test('GET /v1/memberships without roomId lists exactly the caller\'s memberships', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Mine', 'Bob Mine');
    const own = await createRoom(alice);
    const shared = await roomWith(bob, [alice]);
    const bobsOnly = await createRoom(bob);
    const response = await alice.api.get('/v1/memberships');
    expectStatus(response, 200);
    const items = response.body.items as Membership[];
    for (const m of items) assert.equal(m.personId, alice.id);
    assert.deepEqual(items.map((m) => m.roomId).sort(), sorted(own.id, shared.id));
    assert.ok(!items.some((m) => m.roomId === bobsOnly.id));
  });

  test('GET /v1/memberships?roomId lists the room\'s members to a member; a non-member gets 404', async () => {
    const [alice, bob, eve] = await createPeople(target.admin, 'Alice RoomList', 'Bob RoomList', 'Eve RoomList');
    const room = await roomWith(alice, [bob]);
    assert.deepEqual(await memberIds(bob, room.id), sorted(alice.id, bob.id));
    expectStatus(await eve.api.get(`/v1/memberships?roomId=${room.id}`), 404);
  });

  test('personId and personEmail filter a room\'s memberships', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice Filter', 'Bob Filter', 'Carol Filter');
    const room = await roomWith(alice, [bob]);
    const byId = await alice.api.get(`/v1/memberships?roomId=${room.id}&personId=${bob.id}`);
    expectStatus(byId, 200);
    assert.deepEqual(byId.body.items.map((m: Membership) => m.personId), [bob.id]);
    const byEmail = await alice.api.get(`/v1/memberships?roomId=${room.id}&personEmail=${encodeURIComponent(bob.email)}`);
    expectStatus(byEmail, 200);
    assert.deepEqual(byEmail.body.items.map((m: Membership) => m.personId), [bob.id]);
    const notMember = await alice.api.get(`/v1/memberships?roomId=${room.id}&personId=${carol.id}`);
    expectStatus(notMember, 200);
    assert.deepEqual(notMember.body.items, []);
  });

  test('personId or personEmail without roomId is 400', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice NoRoom', 'Bob NoRoom');
    await roomWith(alice, [bob]);
    expectStatus(await alice.api.get(`/v1/memberships?personId=${bob.id}`), 400);
    expectStatus(await alice.api.get(`/v1/memberships?personEmail=${encodeURIComponent(bob.email)}`), 400);
  });

  test('a member can read a membership by id; a non-member gets 404', async () => {
    const [alice, bob, eve] = await createPeople(target.admin, 'Alice GetOne', 'Bob GetOne', 'Eve GetOne');
    const room = await createRoom(alice);
    const membership = await addMember(alice, room.id, bob);
    const read = await alice.api.get(`/v1/memberships/${membership.id}`);
    expectStatus(read, 200);
    assert.equal(read.body.personId, bob.id);
    expectStatus(await eve.api.get(`/v1/memberships/${membership.id}`), 404);
    expectStatus(await alice.api.get('/v1/memberships/not-a-membership'), 404);
  });

  test('paging memberships follows one Link rel="next" per page with no overlap and no gap', async () => {
    const people = await createPeople(target.admin, 'Alice Pager', 'P1', 'P2', 'P3', 'P4');
    const [alice, ...others] = people;
    const room = await roomWith(alice, others);
    const pages = await allPages<Membership>(alice.api, `/v1/memberships?roomId=${room.id}&max=2`);
    assert.deepEqual(pages.map((page) => page.length), [2, 2, 1]);
    const seen = pages.flat().map((m) => m.personId);
    assert.equal(new Set(seen).size, seen.length, 'no membership twice');
    assert.deepEqual(seen.sort(), people.map((p) => p.id).sort());
  });

  test('paging the caller\'s own memberships ends without a Link on an exactly full last page', async () => {
    const [alice] = await createPeople(target.admin, 'Alice OwnPager');
    for (let i = 0; i < 3; i++) await createRoom(alice);
    const pages = await allPages<Membership>(alice.api, '/v1/memberships?max=3');
    assert.deepEqual(pages.map((page) => page.length), [3]);
    const more = await allPages<Membership>(alice.api, '/v1/memberships?max=1');
    assert.deepEqual(more.map((page) => page.length), [1, 1, 1]);
    assert.equal(new Set(more.flat().map((m) => m.roomId)).size, 3);
  });
});

describe('updating memberships', () => {
  test('isModerator cannot be set in an unlocked room (403)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice PromoteUnlocked', 'Bob PromoteUnlocked');
    const room = await createRoom(alice);
    const membership = await addMember(alice, room.id, bob);
    expectStatus(await alice.api.put(`/v1/memberships/${membership.id}`, { isModerator: true }), 403);
    assert.equal((await membershipOf(alice, room.id, bob.id)).isModerator, false);
  });

  test('in a locked room a moderator may promote a member; a non-moderator may not (403)', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice Promote', 'Bob Promote', 'Carol Promote');
    const room = await roomWith(alice, [bob, carol], { isLocked: true });
    const carols = await membershipOf(alice, room.id, carol.id);
    expectStatus(await bob.api.put(`/v1/memberships/${carols.id}`, { isModerator: true }), 403);
    const bobs = await membershipOf(alice, room.id, bob.id);
    expectStatus(await bob.api.put(`/v1/memberships/${bobs.id}`, { isModerator: true }), 403, 'promoting oneself');
    assert.equal((await membershipOf(alice, room.id, carol.id)).isModerator, false);
    const promoted = await alice.api.put(`/v1/memberships/${carols.id}`, { isModerator: true });
    expectStatus(promoted, 200);
    assert.equal(promoted.body.isModerator, true);
    // The new moderator may now manage the locked room.
    expectStatus(await carol.api.put(`/v1/rooms/${room.id}`, { title: 'By Carol' }), 200);
  });

  test('a moderator may demote another moderator in a locked room', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Demote', 'Bob Demote');
    const room = await createRoom(alice, { isLocked: true });
    const bobs = await addMember(alice, room.id, bob, { isModerator: true });
    const demoted = await alice.api.put(`/v1/memberships/${bobs.id}`, { isModerator: false });
    expectStatus(demoted, 200);
    assert.equal(demoted.body.isModerator, false);
    expectStatus(await bob.api.put(`/v1/rooms/${room.id}`, { title: 'By Bob' }), 403);
  });

  test('isRoomHidden may be set on one\'s own membership only (403 on another\'s)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Hide', 'Bob Hide');
    const room = await roomWith(alice, [bob]);
    const bobs = await membershipOf(alice, room.id, bob.id);
    expectStatus(await alice.api.put(`/v1/memberships/${bobs.id}`, { isRoomHidden: true }), 403);
    assert.equal((await membershipOf(alice, room.id, bob.id)).isRoomHidden, false);
    const hidden = await bob.api.put(`/v1/memberships/${bobs.id}`, { isRoomHidden: true });
    expectStatus(hidden, 200);
    assert.equal(hidden.body.isRoomHidden, true);
    assert.equal((await membershipOf(alice, room.id, bob.id)).isRoomHidden, true);
  });

  test('a non-member updating a membership gets 404', async () => {
    const [alice, eve] = await createPeople(target.admin, 'Alice UpdateOther', 'Eve UpdateOther');
    const room = await createRoom(alice, { isLocked: true });
    const alices = await membershipOf(alice, room.id, alice.id);
    expectStatus(await eve.api.put(`/v1/memberships/${alices.id}`, { isModerator: false }), 404);
    assert.equal((await membershipOf(alice, room.id, alice.id)).isModerator, true);
  });
});

describe('deleting memberships', () => {
  test('in an unlocked room any member may remove another member', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice Remove', 'Bob Remove', 'Carol Remove');
    const room = await roomWith(alice, [bob, carol]);
    const carols = await membershipOf(bob, room.id, carol.id);
    expectStatus(await bob.api.delete(`/v1/memberships/${carols.id}`), 204);
    assert.deepEqual(await memberIds(alice, room.id), sorted(alice.id, bob.id));
    expectStatus(await carol.api.get(`/v1/rooms/${room.id}`), 404);
  });

  test('in a locked room only moderators may remove another member (403 for others)', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice LockedRemove', 'Bob LockedRemove', 'Carol LockedRemove');
    const room = await roomWith(alice, [bob, carol], { isLocked: true });
    const carols = await membershipOf(bob, room.id, carol.id);
    expectStatus(await bob.api.delete(`/v1/memberships/${carols.id}`), 403);
    assert.deepEqual(await memberIds(alice, room.id), sorted(alice.id, bob.id, carol.id));
    expectStatus(await alice.api.delete(`/v1/memberships/${carols.id}`), 204);
    assert.deepEqual(await memberIds(alice, room.id), sorted(alice.id, bob.id));
  });

  test('anyone may leave a room, even a non-moderator of a locked room', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Leave', 'Bob Leave');
    const room = await roomWith(alice, [bob], { isLocked: true });
    const bobs = await membershipOf(bob, room.id, bob.id);
    expectStatus(await bob.api.delete(`/v1/memberships/${bobs.id}`), 204);
    expectStatus(await bob.api.get(`/v1/rooms/${room.id}`), 404);
    expectStatus(await bob.api.get(`/v1/memberships?roomId=${room.id}`), 404);
    assert.deepEqual(await memberIds(alice, room.id), [alice.id]);
  });

  test('a non-member removing a membership gets 404', async () => {
    const [alice, bob, eve] = await createPeople(target.admin, 'Alice RemoveOther', 'Bob RemoveOther', 'Eve RemoveOther');
    const room = await roomWith(alice, [bob]);
    const bobs = await membershipOf(alice, room.id, bob.id);
    expectStatus(await eve.api.delete(`/v1/memberships/${bobs.id}`), 404);
    assert.deepEqual(await memberIds(alice, room.id), sorted(alice.id, bob.id));
  });

  test('nobody may leave a direct room (403)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice DirectLeave', 'Bob DirectLeave');
    const roomId = await directRoomOf(alice, bob);
    const alices = await membershipOf(alice, roomId, alice.id);
    const bobs = await membershipOf(alice, roomId, bob.id);
    assert.equal(alices.roomType, 'direct');
    expectStatus(await alice.api.delete(`/v1/memberships/${alices.id}`), 403);
    expectStatus(await alice.api.delete(`/v1/memberships/${bobs.id}`), 403);
    assert.deepEqual(await memberIds(bob, roomId), sorted(alice.id, bob.id));
  });

  test('a member who left can be added again', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Rejoin', 'Bob Rejoin');
    const room = await roomWith(alice, [bob]);
    const bobs = await membershipOf(bob, room.id, bob.id);
    expectStatus(await bob.api.delete(`/v1/memberships/${bobs.id}`), 204);
    expectStatus(await alice.api.post('/v1/memberships', { roomId: room.id, personId: bob.id }), 200);
    assert.deepEqual(await memberIds(alice, room.id), sorted(alice.id, bob.id));
  });
});
