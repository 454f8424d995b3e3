// More of RoomStore's behaviour, beyond room-store.conformance.ts: memberships, direct and
// team rooms, message edits and deletions, and logs that cross the Cassandra adapter's
// partition (bucket) boundaries. Every adapter must pass it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SequenceConflictError } from '../../storage/interfaces.ts';
import { newId } from '../../contracts/ids.ts';
import type { RoomStore } from '../../storage/interfaces.ts';
import type { Activity, MembershipRecord, MessageRecord, RoomRecord } from '../../storage/records.ts';

const now = () => new Date().toISOString();

function room(extra: Partial<RoomRecord> = {}): RoomRecord {
  return { id: newId('ROOM'), title: 't', type: 'group', isLocked: false, isAnnouncementOnly: false, isReadOnly: false, isPublic: false, creatorId: 'p', created: now(), lastActivity: now(), ...extra };
}

function activity(roomId: string, seq: number, event: Activity['event'] = 'message.created', subjectId?: string): Activity {
  return { roomId, seq, event, actorId: 'p', subjectId, created: now(), data: { seq } };
}

function membership(roomId: string, personId: string, joinedSeq: number, extra: Partial<MembershipRecord> = {}): MembershipRecord {
  return {
    id: newId('MEMBERSHIP'), roomId, roomType: 'group', personId, personEmail: 'e', personDisplayName: 'n', personOrgId: 'o',
    isModerator: false, isRoomHidden: false, isMonitor: false, created: now(), joinedSeq, ...extra,
  };
}

function message(roomId: string, seq: number, extra: Partial<MessageRecord> = {}): MessageRecord {
  return { id: newId('MESSAGE'), roomId, roomType: 'group', seq, personId: 'p', personEmail: 'e', text: `m${seq}`, created: now(), editCount: 0, ...extra };
}

/** Appends one write at the room's head + 1. */
async function append(store: RoomStore, roomId: string, changes: Parameters<RoomStore['commit']>[0]['changes'], event: Activity['event'] = 'message.created', subjectId?: string): Promise<number> {
  const seq = (await store.head(roomId)) + 1;
  await store.commit({ roomId, activities: [activity(roomId, seq, event, subjectId)], changes });
  return seq;
}

async function all<T>(read: (after?: string) => Promise<{ items: T[]; next?: string }>): Promise<T[]> {
  const items: T[] = [];
  let after: string | undefined;
  do {
    const page = await read(after);
    items.push(...page.items);
    after = page.next;
  } while (after);
  return items;
}

export function roomStoreMoreConformance(name: string, open: () => Promise<RoomStore>): void {
  describe(`RoomStore conformance (more): ${name}`, () => {
    test('an activity of another room is refused', async () => {
      const store = await open();
      const r = room();
      await assert.rejects(store.commit({ roomId: r.id, activities: [activity(newId('ROOM'), 1)], changes: [{ op: 'putRoom', room: r }] }), SequenceConflictError);
      assert.equal(await store.head(r.id), 0);
      assert.equal(await store.getRoom(r.id), undefined);
    });

    test('listRoomIds pages through every room once', async () => {
      const store = await open();
      const created = [room(), room(), room(), room(), room()];
      for (const r of created) await store.commit({ roomId: r.id, activities: [activity(r.id, 1, 'room.created')], changes: [{ op: 'putRoom', room: r }] });
      // The store may hold other tests' rooms too: every one of ours, none twice.
      const ids = await all((after) => store.listRoomIds({ max: 2, after }));
      assert.equal(new Set(ids).size, ids.length, 'no room twice');
      for (const r of created) assert.ok(ids.includes(r.id), `${r.id} listed`);
    });

    test('memberships: by id, by (room, person), listed by room and by person in id order, removed, re-joined', async () => {
      const store = await open();
      const [r1, r2] = [room(), room()];
      const person = newId('PEOPLE');
      const others = [newId('PEOPLE'), newId('PEOPLE'), newId('PEOPLE'), newId('PEOPLE')];
      await store.commit({ roomId: r1.id, activities: [activity(r1.id, 1, 'room.created')], changes: [{ op: 'putRoom', room: r1 }] });
      await store.commit({ roomId: r2.id, activities: [activity(r2.id, 1, 'room.created')], changes: [{ op: 'putRoom', room: r2 }] });
      const mine1 = membership(r1.id, person, 2);
      await append(store, r1.id, [{ op: 'putMembership', membership: mine1 }], 'membership.created', person);
      const mine2 = membership(r2.id, person, 2);
      await append(store, r2.id, [{ op: 'putMembership', membership: mine2 }], 'membership.created', person);
      const theirs = [];
      for (const other of others) {
        const m = membership(r1.id, other, 0);
        theirs.push(m);
        await append(store, r1.id, [{ op: 'putMembership', membership: m }], 'membership.created', other);
      }
      assert.deepEqual(await store.getMembership(mine1.id), mine1);
      assert.deepEqual(await store.findMembership(r1.id, person), mine1);
      assert.equal(await store.findMembership(r1.id, newId('PEOPLE')), undefined);
      const byRoom = await all((after) => store.listMemberships({ roomId: r1.id, max: 2, after }));
      assert.deepEqual(byRoom.map((m) => m.id), [mine1, ...theirs].map((m) => m.id).sort());
      const byPerson = await all((after) => store.listMemberships({ personId: person, max: 1, after }));
      assert.deepEqual(byPerson.map((m) => m.id), [mine1.id, mine2.id].sort());
      assert.deepEqual((await store.listMemberships({ roomId: r2.id, personId: person, max: 10 })).items, [mine2]);
      assert.deepEqual([...await store.roomIdsOf(person)].sort(), [r1.id, r2.id].sort());

      const promoted = { ...mine1, isModerator: true };
      await append(store, r1.id, [{ op: 'putMembership', membership: promoted }], 'membership.updated', person);
      assert.deepEqual(await store.findMembership(r1.id, person), promoted);
      assert.deepEqual((await store.listMemberships({ roomId: r1.id, personId: person, max: 10 })).items, [promoted]);

      await append(store, r1.id, [{ op: 'deleteMembership', id: mine1.id }], 'membership.deleted', person);
      assert.equal(await store.getMembership(mine1.id), undefined);
      assert.equal(await store.findMembership(r1.id, person), undefined);
      assert.deepEqual(await store.roomIdsOf(person), [r2.id]);
      assert.deepEqual((await store.listMemberships({ personId: person, max: 10 })).items.map((m) => m.id), [mine2.id]);
      assert.ok(!(await all((after) => store.listMemberships({ roomId: r1.id, max: 2, after }))).some((m) => m.id === mine1.id));

      const back = membership(r1.id, person, 0);
      const seq = await append(store, r1.id, [{ op: 'putMembership', membership: back }], 'membership.created', person);
      assert.deepEqual(await store.findMembership(r1.id, person), back);
      assert.deepEqual(await store.membershipHistory(r1.id, person), [
        { seq: 2, event: 'membership.created' }, { seq: 8, event: 'membership.deleted' }, { seq, event: 'membership.created' },
      ]);
    });

    test('a membership removed and another added for the same person in one write', async () => {
      const store = await open();
      const r = room();
      const person = newId('PEOPLE');
      const first = membership(r.id, person, 1);
      await store.commit({ roomId: r.id, activities: [activity(r.id, 1, 'membership.created', person)], changes: [{ op: 'putRoom', room: r }, { op: 'putMembership', membership: first }] });
      const second = membership(r.id, person, 3);
      await store.commit({
        roomId: r.id,
        activities: [activity(r.id, 2, 'membership.deleted', person), activity(r.id, 3, 'membership.created', person)],
        changes: [{ op: 'deleteMembership', id: first.id }, { op: 'putMembership', membership: second }],
      });
      assert.deepEqual(await store.findMembership(r.id, person), second);
      assert.equal(await store.getMembership(first.id), undefined);
      assert.deepEqual(await store.roomIdsOf(person), [r.id]);
    });

    test('direct rooms are found by their key; team rooms by their team', async () => {
      const store = await open();
      const key = [newId('PEOPLE'), newId('PEOPLE')].sort().join(':');
      const direct = room({ type: 'direct', directKey: key, directNames: { a: 'A', b: 'B' } });
      await store.commit({ roomId: direct.id, activities: [activity(direct.id, 1, 'room.created')], changes: [{ op: 'putRoom', room: direct }] });
      assert.deepEqual(await store.findDirectRoom(key), direct);
      assert.equal(await store.findDirectRoom(`${key}x`), undefined);
      await append(store, direct.id, [{ op: 'putRoom', room: { ...direct, lastActivity: now() } }]);
      assert.equal((await store.findDirectRoom(key))?.id, direct.id);

      const teamId = newId('TEAM');
      const rooms = [room({ teamId }), room({ teamId }), room({ teamId }), room()];
      const person = newId('PEOPLE');
      for (const r of rooms) {
        await store.commit({ roomId: r.id, activities: [activity(r.id, 1, 'room.created')], changes: [{ op: 'putRoom', room: r }, { op: 'putMembership', membership: membership(r.id, person, 1) }] });
      }
      assert.deepEqual((await store.listTeamRooms(teamId)).map((r) => r.id), rooms.slice(0, 3).map((r) => r.id).sort());
      const inTeam = await all((after) => store.listRoomsOf(person, { teamId, sortBy: 'id', max: 2, after }));
      assert.deepEqual(inTeam.map((r) => r.id), rooms.slice(0, 3).map((r) => r.id).sort());
      await append(store, rooms[0].id, [{ op: 'deleteRoom', roomId: rooms[0].id }], 'room.deleted');
      assert.deepEqual((await store.listTeamRooms(teamId)).map((r) => r.id), rooms.slice(1, 3).map((r) => r.id).sort());
      assert.equal(await store.findMembership(rooms[0].id, person), undefined);
      assert.ok(!(await store.roomIdsOf(person)).includes(rooms[0].id));
      assert.ok(!(await all((after) => store.listMemberships({ personId: person, max: 2, after }))).some((m) => m.roomId === rooms[0].id));
      assert.deepEqual(await store.listMemberships({ roomId: rooms[0].id, max: 10 }), { items: [], next: undefined });
    });

    test('edits replace a message and its mentions; deletions remove it from every listing', async () => {
      const store = await open();
      const r = room();
      const parent = message(r.id, 1, { mentionedPeople: ['ann'] });
      await store.commit({ roomId: r.id, activities: [activity(r.id, 1)], changes: [{ op: 'putRoom', room: r }, { op: 'putMessage', message: parent }] });
      const reply = message(r.id, 2, { parentId: parent.id, mentionedPeople: ['ann', 'bob'] });
      await append(store, r.id, [{ op: 'putMessage', message: reply }]);
      assert.deepEqual((await store.listMessages({ roomId: r.id, mentionedPersonId: 'ann', max: 10 })).map((m) => m.id), [reply.id, parent.id]);

      const edited = { ...parent, text: 'edited', mentionedPeople: ['bob'], updated: now(), editCount: 1 };
      await append(store, r.id, [{ op: 'putMessage', message: edited }], 'message.updated');
      assert.deepEqual(await store.getMessage(parent.id), edited);
      assert.deepEqual((await store.listMessages({ roomId: r.id, mentionedPersonId: 'ann', max: 10 })).map((m) => m.id), [reply.id]);
      assert.deepEqual((await store.listMessages({ roomId: r.id, mentionedPersonId: 'bob', max: 10 })).map((m) => m.id), [reply.id, parent.id]);
      assert.deepEqual((await store.listMessages({ roomId: r.id, max: 10 }))[1], edited);

      await append(store, r.id, [{ op: 'deleteMessage', id: reply.id }], 'message.deleted');
      assert.equal(await store.getMessage(reply.id), undefined);
      assert.deepEqual((await store.listMessages({ roomId: r.id, max: 10 })).map((m) => m.id), [parent.id]);
      assert.deepEqual(await store.listMessages({ roomId: r.id, parentId: parent.id, max: 10 }), []);
      assert.deepEqual((await store.listMessages({ roomId: r.id, mentionedPersonId: 'bob', max: 10 })).map((m) => m.id), [parent.id]);
      assert.deepEqual(await store.listMessages({ roomId: newId('ROOM'), parentId: parent.id, max: 10 }), [], 'a thread is listed in its own room only');
    });

    test('messages before a time, and at most max of them', async () => {
      const store = await open();
      const r = room();
      await store.commit({ roomId: r.id, activities: [activity(r.id, 1, 'room.created')], changes: [{ op: 'putRoom', room: r }] });
      const times = ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z', '2026-01-04T00:00:00.000Z'];
      for (const created of times) {
        const seq = (await store.head(r.id)) + 1;
        await store.commit({ roomId: r.id, activities: [activity(r.id, seq)], changes: [{ op: 'putMessage', message: message(r.id, seq, { created }) }] });
      }
      assert.deepEqual((await store.listMessages({ roomId: r.id, before: '2026-01-03T00:00:00.000Z', max: 10 })).map((m) => m.created), times.slice(0, 2).reverse());
      assert.deepEqual((await store.listMessages({ roomId: r.id, max: 2 })).map((m) => m.seq), [5, 4]);
      assert.deepEqual((await store.listMessages({ roomId: r.id, before: '2026-01-04T00:00:00.000Z', beforeSeq: 4, max: 1 })).map((m) => m.seq), [3]);
    });

    test('a long log: activities and messages across partition boundaries (seq 1000)', async () => {
      const store = await open();
      const r = room();
      const filler = Array.from({ length: 997 }, (_, i) => activity(r.id, i + 1, i === 0 ? 'room.created' : 'room.updated'));
      await store.commit({ roomId: r.id, activities: filler, changes: [{ op: 'putRoom', room: r }] });
      const messages: MessageRecord[] = [];
      for (let seq = 998; seq <= 1003; seq++) {
        const m = message(r.id, seq, { mentionedPeople: seq % 2 ? ['odd'] : undefined });
        messages.push(m);
        await store.commit({ roomId: r.id, activities: [activity(r.id, seq)], changes: [{ op: 'putMessage', message: m }] });
      }
      assert.equal(await store.head(r.id), 1003);
      assert.deepEqual((await store.activities(r.id, 995, 2000, 100)).map((a) => a.seq), [996, 997, 998, 999, 1000, 1001, 1002, 1003]);
      assert.deepEqual((await store.activities(r.id, 997, 1003, 3)).map((a) => a.seq), [998, 999, 1000]);
      assert.deepEqual((await store.activities(r.id, 0, 1003, 1003)).length, 1003);
      assert.deepEqual((await store.listMessages({ roomId: r.id, max: 10 })).map((m) => m.seq), [1003, 1002, 1001, 1000, 999, 998]);
      assert.deepEqual((await store.listMessages({ roomId: r.id, max: 3, beforeSeq: 1002 })).map((m) => m.seq), [1001, 1000, 999]);
      assert.deepEqual((await store.listMessages({ roomId: r.id, max: 10, mentionedPersonId: 'odd' })).map((m) => m.seq), [1003, 1001, 999]);
      await store.commit({ roomId: r.id, activities: [activity(r.id, 1004, 'room.deleted')], changes: [{ op: 'deleteRoom', roomId: r.id }] });
      assert.deepEqual(await store.listMessages({ roomId: r.id, max: 10 }), []);
      for (const m of messages) assert.equal(await store.getMessage(m.id), undefined);
      assert.equal((await store.activities(r.id, 1000, 1004, 10)).length, 4, 'the log outlives the room');
    });
  });
}
