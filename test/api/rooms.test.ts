// Rooms: create/read/update/delete, listing (filters, sort orders, Link paging), and the
// lock / announcement-only / read-only rules, each proven with an allowed and a refused case.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
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


const ids = (items: { id: string }[]) => items.map((item) => item.id);

async function listRooms(person: TestPerson, query = ''): Promise<Room[]> {
  const response = await person.api.get(`/v1/rooms${query ? `?${query}` : ''}`);
  expectStatus(response, 200, 'list rooms');
  return response.body.items;
}

/** Creates rooms one after the other, a few ms apart so their created times differ. */
async function roomsInOrder(owner: TestPerson, count: number): Promise<Room[]> {
  const rooms: Room[] = [];
  for (let i = 0; i < count; i++) {
    rooms.push(await createRoom(owner, { title: `ordered ${i}` }));
    await sleep(5);
  }
  return rooms;
}

describe('creating and reading rooms', () => {
  test('creating a room returns it as a group room created by the caller', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Create');
    const response = await alice.api.post('/v1/rooms', { title: 'Planning', description: 'Q3 planning' });
    expectStatus(response, 200);
    const room: Room = response.body;
    assert.equal(room.title, 'Planning');
    assert.equal(room.type, 'group');
    assert.equal(room.isLocked, false);
    assert.equal(room.isAnnouncementOnly, false);
    assert.equal(room.creatorId, alice.id);
    assert.ok(!Number.isNaN(Date.parse(room.created)));
    assert.ok(!Number.isNaN(Date.parse(room.lastActivity)));
    const fetched = await alice.api.get(`/v1/rooms/${room.id}`);
    expectStatus(fetched, 200);
    assert.equal(fetched.body.id, room.id);
    assert.equal(fetched.body.title, 'Planning');
  });

  test('the creator of an unlocked room is a member but not a moderator', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Member');
    const room = await createRoom(alice);
    const members = await alice.api.get(`/v1/memberships?roomId=${room.id}`);
    expectStatus(members, 200);
    assert.deepEqual(members.body.items.map((m: Membership) => [m.personId, m.isModerator]), [[alice.id, false]]);
  });

  test('the creator of a locked room is its moderator', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Locked');
    const room = await createRoom(alice, { isLocked: true });
    assert.equal(room.isLocked, true);
    assert.equal((await membershipOf(alice, room.id, alice.id)).isModerator, true);
  });

  test('a room needs a title (400 without)', async () => {
    const [alice] = await createPeople(target.admin, 'Alice NoTitle');
    expectStatus(await alice.api.post('/v1/rooms', {}), 400);
    expectStatus(await alice.api.post('/v1/rooms', { title: '' }), 400);
  });

  test('isAnnouncementOnly requires isLocked when creating (400 unlocked, 200 locked)', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Announce');
    expectStatus(await alice.api.post('/v1/rooms', { title: 'News', isAnnouncementOnly: true }), 400);
    const ok = await alice.api.post('/v1/rooms', { title: 'News', isAnnouncementOnly: true, isLocked: true });
    expectStatus(ok, 200);
    assert.equal(ok.body.isAnnouncementOnly, true);
    assert.equal(ok.body.isLocked, true);
  });

  test('a member can read the room; a non-member gets 404, not 403', async () => {
    const [alice, bob, eve] = await createPeople(target.admin, 'Alice Read', 'Bob Read', 'Eve Read');
    const room = await roomWith(alice, [bob]);
    expectStatus(await bob.api.get(`/v1/rooms/${room.id}`), 200);
    expectStatus(await eve.api.get(`/v1/rooms/${room.id}`), 404);
  });

  test('an unknown or malformed room id is 404', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Unknown');
    const room = await createRoom(alice);
    await alice.api.delete(`/v1/rooms/${room.id}`);
    expectStatus(await alice.api.get(`/v1/rooms/${room.id}`), 404);
    expectStatus(await alice.api.get('/v1/rooms/not-a-room-id'), 404);
  });

  test("a room's lastActivity moves forward when a message is posted", async () => {
    const [alice] = await createPeople(target.admin, 'Alice Activity');
    const room = await createRoom(alice);
    await sleep(10);
    const posted = await alice.api.post('/v1/messages', { roomId: room.id, text: 'activity' });
    expectStatus(posted, 200);
    const after = (await alice.api.get(`/v1/rooms/${room.id}`)).body as Room;
    assert.ok(Date.parse(after.lastActivity) > Date.parse(room.lastActivity), `${after.lastActivity} > ${room.lastActivity}`);
    assert.ok(Date.parse(after.lastActivity) >= Date.parse(posted.body.created));
  });
});

describe('listing rooms', () => {
  test('GET /v1/rooms lists only the rooms the caller is a member of', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice List', 'Bob List');
    const mine = await createRoom(alice);
    const shared = await roomWith(bob, [alice]);
    const bobsOwn = await createRoom(bob);
    const listed = ids(await listRooms(alice));
    assert.deepEqual(new Set(listed), new Set([mine.id, shared.id]));
    assert.ok(!listed.includes(bobsOwn.id));
  });

  test('a room the caller left no longer appears in the list', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Left', 'Bob Left');
    const room = await roomWith(alice, [bob]);
    const mine = await membershipOf(bob, room.id, bob.id);
    expectStatus(await bob.api.delete(`/v1/memberships/${mine.id}`), 204);
    assert.deepEqual(ids(await listRooms(bob)), []);
  });

  test('type=direct and type=group filter the list', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Type', 'Bob Type');
    const group = await createRoom(alice);
    const dm = await alice.api.post('/v1/messages', { toPersonId: bob.id, text: 'hi' });
    expectStatus(dm, 200);
    assert.deepEqual(ids(await listRooms(alice, 'type=direct')), [dm.body.roomId]);
    assert.deepEqual(ids(await listRooms(alice, 'type=group')), [group.id]);
    assert.deepEqual(new Set(ids(await listRooms(alice))), new Set([group.id, dm.body.roomId]));
  });

  test("teamId filters the list to the team's rooms", async () => {
    const [alice] = await createPeople(target.admin, 'Alice Team');
    const team = await alice.api.post('/v1/teams', { name: 'Team Filter' });
    expectStatus(team, 200);
    const inTeam = await createRoom(alice, { teamId: team.body.id });
    assert.equal(inTeam.teamId, team.body.id);
    const outside = await createRoom(alice);
    const listed = await listRooms(alice, `teamId=${team.body.id}`);
    assert.ok(listed.length >= 1);
    assert.ok(ids(listed).includes(inTeam.id));
    assert.ok(!ids(listed).includes(outside.id));
    for (const room of listed) assert.equal(room.teamId, team.body.id);
  });

  test('sortBy=created lists the newest room first', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Created');
    const rooms = await roomsInOrder(alice, 3);
    assert.deepEqual(ids(await listRooms(alice, 'sortBy=created')), ids(rooms).reverse());
  });

  test('sortBy=lastactivity lists the most recently active room first, and a new message moves a room to the front', async () => {
    const [alice] = await createPeople(target.admin, 'Alice LastActivity');
    const [a, b, c] = await roomsInOrder(alice, 3);
    assert.deepEqual(ids(await listRooms(alice, 'sortBy=lastactivity')), [c.id, b.id, a.id]);
    expectStatus(await alice.api.post('/v1/messages', { roomId: a.id, text: 'bump' }), 200);
    assert.deepEqual(ids(await listRooms(alice, 'sortBy=lastactivity')), [a.id, c.id, b.id]);
    // Creation order does not change.
    assert.deepEqual(ids(await listRooms(alice, 'sortBy=created')), [c.id, b.id, a.id]);
  });

  test('sortBy=id lists rooms in id order', async () => {
    const [alice] = await createPeople(target.admin, 'Alice SortId');
    const rooms = await roomsInOrder(alice, 4);
    const listed = ids(await listRooms(alice, 'sortBy=id'));
    assert.deepEqual(listed, ids(rooms).sort());
  });

  test('an unknown sortBy or type is 400', async () => {
    const [alice] = await createPeople(target.admin, 'Alice BadSort');
    expectStatus(await alice.api.get('/v1/rooms?sortBy=title'), 400);
    expectStatus(await alice.api.get('/v1/rooms?type=public'), 400);
  });

  for (const sortBy of ['id', 'created', 'lastactivity']) {
    test(`paging rooms (sortBy=${sortBy}) follows one Link rel="next" per page with no overlap and no gap`, async () => {
      const [alice] = await createPeople(target.admin, `Alice Paging ${sortBy}`);
      const rooms = await roomsInOrder(alice, 5);
      const pages = await allPages<Room>(alice.api, `/v1/rooms?sortBy=${sortBy}&max=2`);
      assert.deepEqual(pages.map((page) => page.length), [2, 2, 1]);
      const whole = ids(await listRooms(alice, `sortBy=${sortBy}`));
      assert.deepEqual(pages.flat().map((r) => r.id), whole, 'pages concatenate to the unpaged order');
      assert.deepEqual(new Set(whole), new Set(ids(rooms)));
    });
  }

  test('when the rooms fill the last page exactly, that page has no Link', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Exact');
    const rooms = await roomsInOrder(alice, 4);
    const first = await alice.api.get('/v1/rooms?max=2');
    const second = await alice.api.get(nextLink(first, target.url)!);
    expectStatus(second, 200);
    assert.equal(second.body.items.length, 2);
    assert.equal(nextLink(second, target.url), undefined);
    assert.deepEqual(new Set([...ids(first.body.items), ...ids(second.body.items)]), new Set(ids(rooms)));
  });

  test('a list that fits in one page has no Link', async () => {
    const [alice] = await createPeople(target.admin, 'Alice OnePage');
    await roomsInOrder(alice, 2);
    const response = await alice.api.get('/v1/rooms?max=5');
    assert.equal(response.body.items.length, 2);
    assert.equal(nextLink(response, target.url), undefined);
  });
});

describe('updating rooms', () => {
  test('in an unlocked room any member may update it', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Update', 'Bob Update');
    const room = await roomWith(alice, [bob]);
    const updated = await bob.api.put(`/v1/rooms/${room.id}`, { title: 'Renamed by Bob' });
    expectStatus(updated, 200);
    assert.equal(updated.body.title, 'Renamed by Bob');
    assert.equal((await alice.api.get(`/v1/rooms/${room.id}`)).body.title, 'Renamed by Bob');
  });

  test('a non-member updating a room gets 404', async () => {
    const [alice, eve] = await createPeople(target.admin, 'Alice NoUpdate', 'Eve NoUpdate');
    const room = await createRoom(alice);
    expectStatus(await eve.api.put(`/v1/rooms/${room.id}`, { title: 'Hijacked' }), 404);
    assert.notEqual((await alice.api.get(`/v1/rooms/${room.id}`)).body.title, 'Hijacked');
  });

  test('in a locked room only moderators may update it (403 for other members)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice LockedUpdate', 'Bob LockedUpdate');
    const room = await roomWith(alice, [bob], { isLocked: true });
    expectStatus(await bob.api.put(`/v1/rooms/${room.id}`, { title: 'By Bob' }), 403);
    const byModerator = await alice.api.put(`/v1/rooms/${room.id}`, { title: 'By Alice' });
    expectStatus(byModerator, 200);
    assert.equal(byModerator.body.title, 'By Alice');
  });

  test('any member may lock an unlocked room and becomes its moderator', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Lock', 'Bob Lock');
    const room = await roomWith(alice, [bob]);
    const locked = await bob.api.put(`/v1/rooms/${room.id}`, { title: room.title, isLocked: true });
    expectStatus(locked, 200);
    assert.equal(locked.body.isLocked, true);
    assert.equal((await membershipOf(alice, room.id, bob.id)).isModerator, true);
    assert.equal((await membershipOf(alice, room.id, alice.id)).isModerator, false);
    // The creator, not being a moderator, is now refused; the new moderator is not.
    expectStatus(await alice.api.put(`/v1/rooms/${room.id}`, { title: 'By Alice' }), 403);
    expectStatus(await bob.api.put(`/v1/rooms/${room.id}`, { title: 'By Bob' }), 200);
  });

  test('only a moderator may unlock a locked room, and unlocking clears every moderator', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice Unlock', 'Bob Unlock', 'Carol Unlock');
    const room = await roomWith(alice, [bob, carol], { isLocked: true });
    expectStatus(await alice.api.put(`/v1/memberships/${(await membershipOf(alice, room.id, bob.id)).id}`, { isModerator: true }), 200);
    expectStatus(await carol.api.put(`/v1/rooms/${room.id}`, { title: room.title, isLocked: false }), 403);
    const unlocked = await alice.api.put(`/v1/rooms/${room.id}`, { title: room.title, isLocked: false });
    expectStatus(unlocked, 200);
    assert.equal(unlocked.body.isLocked, false);
    const members = await alice.api.get(`/v1/memberships?roomId=${room.id}`);
    assert.equal(members.body.items.length, 3);
    for (const m of members.body.items as Membership[]) assert.equal(m.isModerator, false, `${m.personId} is no longer a moderator`);
    // Unlocked again: any member may update.
    expectStatus(await carol.api.put(`/v1/rooms/${room.id}`, { title: 'By Carol' }), 200);
  });

  test('isAnnouncementOnly requires a locked room when updating (400 unlocked, 200 locked)', async () => {
    const [alice] = await createPeople(target.admin, 'Alice AnnounceUpdate');
    const room = await createRoom(alice);
    expectStatus(await alice.api.put(`/v1/rooms/${room.id}`, { title: room.title, isAnnouncementOnly: true }), 400);
    assert.equal((await alice.api.get(`/v1/rooms/${room.id}`)).body.isAnnouncementOnly, false);
    const both = await alice.api.put(`/v1/rooms/${room.id}`, { title: room.title, isLocked: true, isAnnouncementOnly: true });
    expectStatus(both, 200);
    assert.equal(both.body.isAnnouncementOnly, true);
  });

  test('in an announcement-only room only moderators may post (403 for others)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Announcer', 'Bob Listener');
    const room = await roomWith(alice, [bob], { isLocked: true, isAnnouncementOnly: true });
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id, text: 'announcement' }), 200);
    expectStatus(await bob.api.post('/v1/messages', { roomId: room.id, text: 'reply' }), 403);
    const seen = await bob.api.get(`/v1/messages?roomId=${room.id}`);
    assert.deepEqual(seen.body.items.map((m: { text: string }) => m.text), ['announcement']);
  });
});

describe('read-only rooms', () => {
  async function roomWithAdmin(owner: TestPerson, ...members: TestPerson[]): Promise<Room> {
    const room = await roomWith(owner, members);
    const added = await owner.api.post('/v1/memberships', { roomId: room.id, personEmail: target.adminEmail });
    expectStatus(added, 200, 'add the administrator');
    return room;
  }

  test('only an administrator may make a room read-only (403 for a member)', async () => {
    const [alice] = await createPeople(target.admin, 'Alice ReadOnlySet');
    const room = await roomWithAdmin(alice);
    expectStatus(await alice.api.put(`/v1/rooms/${room.id}`, { title: room.title, isReadOnly: true }), 403);
    assert.equal((await alice.api.get(`/v1/rooms/${room.id}`)).body.isReadOnly, false);
    const set = await target.admin.put(`/v1/rooms/${room.id}`, { title: room.title, isReadOnly: true });
    expectStatus(set, 200);
    assert.equal(set.body.isReadOnly, true);
  });

  test('a read-only room answers 423 to posts', async () => {
    const [alice] = await createPeople(target.admin, 'Alice ReadOnlyPost');
    const room = await roomWithAdmin(alice);
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id, text: 'before' }), 200);
    expectStatus(await target.admin.put(`/v1/rooms/${room.id}`, { title: room.title, isReadOnly: true }), 200);
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id, text: 'during' }), 423);
    const seen = await alice.api.get(`/v1/messages?roomId=${room.id}`);
    assert.deepEqual(seen.body.items.map((m: { text: string }) => m.text), ['before']);
  });

  test('an administrator lifts read-only with a Webex-shaped PUT (title included) and posting works again', async () => {
    const [alice] = await createPeople(target.admin, 'Alice ReadOnlyLift');
    const room = await roomWithAdmin(alice);
    expectStatus(await target.admin.put(`/v1/rooms/${room.id}`, { title: room.title, isReadOnly: true }), 200);
    // A non-administrator cannot lift it.
    expectStatus(await alice.api.put(`/v1/rooms/${room.id}`, { title: room.title, isReadOnly: false }), 403);
    // Webex requires `title` on PUT /v1/rooms/{roomId}, so a Webex client always sends it.
    const lifted = await target.admin.put(`/v1/rooms/${room.id}`, { title: room.title, isReadOnly: false });
    expectStatus(lifted, 200);
    assert.equal(lifted.body.isReadOnly, false);
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id, text: 'after' }), 200);
  });

  test('an administrator lifts read-only with a PUT of isReadOnly alone', async () => {
    const [alice] = await createPeople(target.admin, 'Alice ReadOnlyLiftBare');
    const room = await roomWithAdmin(alice);
    expectStatus(await target.admin.put(`/v1/rooms/${room.id}`, { title: room.title, isReadOnly: true }), 200);
    expectStatus(await target.admin.put(`/v1/rooms/${room.id}`, { isReadOnly: false }), 200);
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id, text: 'after' }), 200);
  });

  test('a read-only room answers 423 to edits', async () => {
    const [alice] = await createPeople(target.admin, 'Alice ReadOnlyEdit');
    const room = await roomWithAdmin(alice);
    const message = await alice.api.post('/v1/messages', { roomId: room.id, text: 'original' });
    expectStatus(message, 200);
    expectStatus(await target.admin.put(`/v1/rooms/${room.id}`, { title: room.title, isReadOnly: true }), 200);
    expectStatus(await alice.api.put(`/v1/messages/${message.body.id}`, { roomId: room.id, text: 'edited' }), 423);
    assert.equal((await alice.api.get(`/v1/messages/${message.body.id}`)).body.text, 'original');
  });
});

describe('deleting rooms', () => {
  test('an unlocked room may be deleted by its creator only (403 for another member)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Delete', 'Bob Delete');
    const room = await roomWith(alice, [bob]);
    expectStatus(await bob.api.delete(`/v1/rooms/${room.id}`), 403);
    expectStatus(await bob.api.get(`/v1/rooms/${room.id}`), 200);
    expectStatus(await alice.api.delete(`/v1/rooms/${room.id}`), 204);
    expectStatus(await alice.api.get(`/v1/rooms/${room.id}`), 404);
    expectStatus(await bob.api.get(`/v1/rooms/${room.id}`), 404);
    assert.ok(!ids(await listRooms(bob)).includes(room.id));
  });

  test('a locked room may be deleted by a moderator only, even against its creator (403)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice LockedDelete', 'Bob LockedDelete');
    const room = await roomWith(alice, [bob]);
    // Bob locks the room and becomes its only moderator.
    expectStatus(await bob.api.put(`/v1/rooms/${room.id}`, { title: room.title, isLocked: true }), 200);
    expectStatus(await alice.api.delete(`/v1/rooms/${room.id}`), 403);
    expectStatus(await bob.api.delete(`/v1/rooms/${room.id}`), 204);
    expectStatus(await alice.api.get(`/v1/rooms/${room.id}`), 404);
  });

  test('a non-member deleting a room gets 404', async () => {
    const [alice, eve] = await createPeople(target.admin, 'Alice DeleteOther', 'Eve DeleteOther');
    const room = await createRoom(alice);
    expectStatus(await eve.api.delete(`/v1/rooms/${room.id}`), 404);
    expectStatus(await alice.api.get(`/v1/rooms/${room.id}`), 200);
  });

  test('a direct room cannot be deleted (403)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice DeleteDirect', 'Bob DeleteDirect');
    const dm = await alice.api.post('/v1/messages', { toPersonId: bob.id, text: 'hi' });
    expectStatus(dm, 200);
    expectStatus(await alice.api.delete(`/v1/rooms/${dm.body.roomId}`), 403);
    expectStatus(await bob.api.delete(`/v1/rooms/${dm.body.roomId}`), 403);
    expectStatus(await alice.api.get(`/v1/rooms/${dm.body.roomId}`), 200);
  });

  test("deleting a room takes its messages and memberships with it", async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice DeleteAll', 'Bob DeleteAll');
    const room = await roomWith(alice, [bob]);
    const message = await alice.api.post('/v1/messages', { roomId: room.id, text: 'gone soon' });
    const bobs = await membershipOf(bob, room.id, bob.id);
    expectStatus(await alice.api.delete(`/v1/rooms/${room.id}`), 204);
    expectStatus(await bob.api.get(`/v1/messages/${message.body.id}`), 404);
    expectStatus(await bob.api.get(`/v1/memberships/${bobs.id}`), 404);
    expectStatus(await bob.api.get(`/v1/messages?roomId=${room.id}`), 404);
  });
});
