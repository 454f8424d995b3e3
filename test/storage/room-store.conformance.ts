// The guarantees written on RoomStore, as one suite that every adapter must pass: the
// embedded SQLite store now, the Cassandra store when it exists.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SequenceConflictError } from '../../storage/interfaces.ts';
import { newId } from '../../contracts/ids.ts';
import type { RoomStore } from '../../storage/interfaces.ts';
import type { Activity, MembershipRecord, MessageRecord, RoomRecord } from '../../storage/records.ts';

const now = () => new Date().toISOString();

function room(id = newId('ROOM'), extra: Partial<RoomRecord> = {}): RoomRecord {
  return { id, title: 't', type: 'group', isLocked: false, isAnnouncementOnly: false, isReadOnly: false, isPublic: false, creatorId: 'p', created: now(), lastActivity: now(), ...extra };
}

function activity(roomId: string, seq: number, event: Activity['event'] = 'message.created', subjectId?: string): Activity {
  return { roomId, seq, event, actorId: 'p', subjectId, created: now(), data: { seq } };
}

function membership(roomId: string, personId: string, joinedSeq: number): MembershipRecord {
  return {
    id: newId('MEMBERSHIP'), roomId, roomType: 'group', personId, personEmail: 'e', personDisplayName: 'n', personOrgId: 'o',
    isModerator: false, isRoomHidden: false, isMonitor: false, created: now(), joinedSeq,
  };
}

function message(roomId: string, seq: number, extra: Partial<MessageRecord> = {}): MessageRecord {
  return { id: newId('MESSAGE'), roomId, roomType: 'group', seq, personId: 'p', personEmail: 'e', text: `m${seq}`, created: now(), editCount: 0, ...extra };
}

export function roomStoreConformance(name: string, open: () => Promise<RoomStore>): void {
  describe(`RoomStore conformance: ${name}`, () => {
    test('commit appends at head + 1 and moves the head', async () => {
      const store = await open();
      const r = room();
      assert.equal(await store.head(r.id), 0);
      assert.equal(await store.unappliedWrite(r.id), undefined, 'an unknown room has nothing pending');
      await store.commit({ roomId: r.id, activities: [activity(r.id, 1, 'room.created'), activity(r.id, 2)], changes: [{ op: 'putRoom', room: r }] });
      assert.equal(await store.unappliedWrite(r.id), undefined, 'a finished commit leaves nothing unapplied');
      assert.equal(await store.head(r.id), 2);
      assert.deepEqual((await store.activities(r.id, 0, 10, 100)).map((a) => a.seq), [1, 2]);
    });

    test('a seq that is taken or skips ahead is refused, and the refused write leaves nothing', async () => {
      const store = await open();
      const r = room();
      await store.commit({ roomId: r.id, activities: [activity(r.id, 1, 'room.created')], changes: [{ op: 'putRoom', room: r }] });
      const m = message(r.id, 1);
      await assert.rejects(store.commit({ roomId: r.id, activities: [activity(r.id, 1)], changes: [{ op: 'putMessage', message: m }] }), SequenceConflictError);
      await assert.rejects(store.commit({ roomId: r.id, activities: [activity(r.id, 3)], changes: [{ op: 'putMessage', message: m }] }), SequenceConflictError);
      await assert.rejects(store.commit({ roomId: r.id, activities: [activity(r.id, 2), activity(r.id, 4)], changes: [] }), SequenceConflictError);
      assert.equal(await store.head(r.id), 1);
      assert.equal(await store.getMessage(m.id), undefined);
      assert.deepEqual((await store.activities(r.id, 0, 10, 100)).map((a) => a.seq), [1]);
    });

    test('two writers racing for the same seq: exactly one wins', async () => {
      const store = await open();
      const r = room();
      const attempts = await Promise.allSettled([1, 2].map(() => store.commit({ roomId: r.id, activities: [activity(r.id, 1)], changes: [] })));
      assert.equal(attempts.filter((a) => a.status === 'fulfilled').length, 1);
      assert.equal(await store.head(r.id), 1);
    });

    test('a direct room key is claimed by exactly one room, and an orphaned claim can be taken over', async () => {
      const store = await open();
      const key = `${newId('PEOPLE')}:${newId('PEOPLE')}`;
      const [a, b, c] = [newId('ROOM'), newId('ROOM'), newId('ROOM')];
      const results = await Promise.all([store.claimDirectRoom(key, a), store.claimDirectRoom(key, b)]);
      assert.equal(results[0], results[1], 'both callers learn the same holder');
      const holder = results[0];
      assert.ok(holder === a || holder === b);
      assert.equal(await store.claimDirectRoom(key, c, 'not-the-holder'), holder, 'a takeover must name the current holder');
      assert.equal(await store.claimDirectRoom(key, c, holder), c);
    });

    test('activities are read by range and limit, in order', async () => {
      const store = await open();
      const r = room();
      for (let seq = 1; seq <= 10; seq++) await store.commit({ roomId: r.id, activities: [activity(r.id, seq)], changes: [] });
      assert.deepEqual((await store.activities(r.id, 3, 8, 100)).map((a) => a.seq), [4, 5, 6, 7, 8]);
      assert.deepEqual((await store.activities(r.id, 3, 8, 2)).map((a) => a.seq), [4, 5]);
      assert.deepEqual((await store.heads([r.id, 'unknown'])).get(r.id), 10);
    });

    test('membership history lists joins, departures and room deletion in order', async () => {
      const store = await open();
      const r = room();
      await store.commit({ roomId: r.id, activities: [activity(r.id, 1, 'membership.created', 'bob'), activity(r.id, 2), activity(r.id, 3, 'membership.deleted', 'bob'), activity(r.id, 4, 'membership.created', 'carol'), activity(r.id, 5, 'room.deleted')], changes: [] });
      assert.deepEqual(await store.membershipHistory(r.id, 'bob'), [
        { seq: 1, event: 'membership.created' }, { seq: 3, event: 'membership.deleted' }, { seq: 5, event: 'room.deleted' },
      ]);
    });

    test('departures: the last seq before each room a person left and when, replaced by a later departure, deleted with the room', async () => {
      const store = await open();
      const [r, other] = [room(), room()];
      const [bob, carol] = [newId('PEOPLE'), newId('PEOPLE')];
      const left = (roomId: string, personId: string, lastSeq: number, at: string) => ({ op: 'putDeparture' as const, departure: { roomId, personId, lastSeq, at } });
      const byRoom = <T extends { roomId: string }>(departures: T[]) => [...departures].sort((a, b) => a.roomId.localeCompare(b.roomId));
      assert.deepEqual(await store.departuresOf(bob), []);
      await store.commit({ roomId: r.id, activities: [activity(r.id, 1)], changes: [{ op: 'putRoom', room: r }, left(r.id, bob, 0, '2026-01-01T00:00:00.000Z')] });
      await store.commit({ roomId: r.id, activities: [activity(r.id, 2)], changes: [left(r.id, bob, 1, '2026-01-02T00:00:00.000Z'), left(r.id, carol, 1, '2026-01-02T00:00:00.000Z')] });
      await store.commit({ roomId: other.id, activities: [activity(other.id, 1)], changes: [{ op: 'putRoom', room: other }, left(other.id, bob, 0, '2026-01-03T00:00:00.000Z')] });
      assert.deepEqual(byRoom(await store.departuresOf(bob)), byRoom([
        { roomId: r.id, personId: bob, lastSeq: 1, at: '2026-01-02T00:00:00.000Z' },
        { roomId: other.id, personId: bob, lastSeq: 0, at: '2026-01-03T00:00:00.000Z' },
      ]));
      await store.commit({ roomId: r.id, activities: [activity(r.id, 3, 'room.deleted')], changes: [{ op: 'deleteRoom', roomId: r.id }] });
      assert.deepEqual(await store.departuresOf(bob), [{ roomId: other.id, personId: bob, lastSeq: 0, at: '2026-01-03T00:00:00.000Z' }]);
      assert.deepEqual(await store.departuresOf(carol), []);
    });

    test('rooms of a person, filtered and paged in each sort order', async () => {
      const store = await open();
      const person = newId('PEOPLE');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = room(newId('ROOM'), { created: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(), lastActivity: new Date(Date.UTC(2026, 5, 10 - i)).toISOString(), type: i === 4 ? 'direct' : 'group' });
        ids.push(r.id);
        await store.commit({ roomId: r.id, activities: [activity(r.id, 1)], changes: [{ op: 'putRoom', room: r }, { op: 'putMembership', membership: membership(r.id, person, 1) }] });
      }
      const collect = async (sortBy: 'id' | 'created' | 'lastactivity', type?: string) => {
        const seen: string[] = [];
        let after: string | undefined;
        do {
          const page = await store.listRoomsOf(person, { sortBy, type, max: 2, after });
          seen.push(...page.items.map((r) => r.id));
          after = page.next;
        } while (after);
        return seen;
      };
      assert.deepEqual(await collect('id'), [...ids].sort());
      assert.deepEqual(await collect('created'), [...ids].reverse());
      assert.deepEqual(await collect('lastactivity'), ids);
      assert.deepEqual(await collect('id', 'direct'), [ids[4]]);
    });

    test('messages newest first, by thread, before a seq and by mention', async () => {
      const store = await open();
      const r = room();
      const first = message(r.id, 1);
      await store.commit({ roomId: r.id, activities: [activity(r.id, 1)], changes: [{ op: 'putRoom', room: r }, { op: 'putMessage', message: first }] });
      await store.commit({ roomId: r.id, activities: [activity(r.id, 2)], changes: [{ op: 'putMessage', message: message(r.id, 2, { parentId: first.id }) }] });
      await store.commit({ roomId: r.id, activities: [activity(r.id, 3)], changes: [{ op: 'putMessage', message: message(r.id, 3, { mentionedPeople: ['bob'] }) }] });
      assert.deepEqual((await store.listMessages({ roomId: r.id, max: 10 })).map((m) => m.seq), [3, 2, 1]);
      assert.deepEqual((await store.listMessages({ roomId: r.id, max: 10, beforeSeq: 3 })).map((m) => m.seq), [2, 1]);
      assert.deepEqual((await store.listMessages({ roomId: r.id, max: 10, parentId: first.id })).map((m) => m.seq), [2]);
      assert.deepEqual((await store.listMessages({ roomId: r.id, max: 10, mentionedPersonId: 'bob' })).map((m) => m.seq), [3]);
      await store.commit({ roomId: r.id, activities: [activity(r.id, 4, 'room.deleted')], changes: [{ op: 'deleteRoom', roomId: r.id }] });
      assert.equal(await store.getRoom(r.id), undefined);
      assert.deepEqual(await store.listMessages({ roomId: r.id, max: 10 }), []);
      assert.equal(await store.head(r.id), 4, 'the log outlives the room, so deletion can be replayed');
    });
  });
}
