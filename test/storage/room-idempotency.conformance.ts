// RoomStore's idempotency records (the `putIdempotency` change and `getIdempotency`), as one
// suite every adapter passes: a record is committed with its write or not at all, belongs
// to one person, outlives its room, and is forgotten after 24 hours. On Cassandra also:
// a write cut short after its fence has its record readable once head() repaired it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newId } from '../../contracts/ids.ts';
import { IdempotencyKeyTakenError, SequenceConflictError, type RoomStore } from '../../storage/interfaces.ts';
import type { Activity, IdempotencyRecord, RoomRecord } from '../../storage/records.ts';

const now = () => new Date().toISOString();
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3600_000).toISOString();

function room(id = newId('ROOM')): RoomRecord {
  return { id, title: 't', type: 'group', isLocked: false, isAnnouncementOnly: false, isReadOnly: false, isPublic: false, creatorId: 'p', created: now(), lastActivity: now() };
}

function activity(roomId: string, seq: number, event: Activity['event'] = 'message.created'): Activity {
  return { roomId, seq, event, actorId: 'p', created: now(), data: { seq } };
}

function record(personId: string, key: string, extra: Partial<IdempotencyRecord> = {}): IdempotencyRecord {
  return { personId, key, fingerprint: 'f'.repeat(64), status: 200, body: JSON.stringify({ id: key }), created: now(), ...extra };
}

/** How the adapter treats a live key sent with a write to another room (see IdempotencyKeyTakenError). */
export type KeyAcrossRooms = 'refused' | 'later wins';

export function roomIdempotencyConformance(name: string, open: () => Promise<RoomStore>, acrossRooms: KeyAcrossRooms, openCutShort?: () => Promise<RoomStore>): void {
  describe(`RoomStore idempotency records: ${name}`, () => {
    test(`a live key committed again with a write to another room: ${acrossRooms}`, async () => {
      const store = await open();
      const [a, b] = [room(), room()];
      const person = newId('PEOPLE');
      const first = record(person, 'two rooms', { body: '"a"' });
      await store.commit({ roomId: a.id, activities: [activity(a.id, 1, 'room.created')], changes: [{ op: 'putRoom', room: a }, { op: 'putIdempotency', record: first }] });
      const second = record(person, 'two rooms', { body: '"b"', fingerprint: 'e'.repeat(64) });
      const write = store.commit({ roomId: b.id, activities: [activity(b.id, 1, 'room.created')], changes: [{ op: 'putRoom', room: b }, { op: 'putIdempotency', record: second }] });
      if (acrossRooms === 'refused') {
        await assert.rejects(write, IdempotencyKeyTakenError);
        assert.equal(await store.head(b.id), 0, 'nothing of the write');
        assert.equal(await store.getRoom(b.id), undefined);
        assert.deepEqual(await store.getIdempotency(person, 'two rooms'), first);
      } else {
        await write;
        assert.deepEqual(await store.getIdempotency(person, 'two rooms'), second);
      }
    });

    test('a record committed with a write is read back, for its person only', async () => {
      const store = await open();
      const r = room();
      const person = newId('PEOPLE');
      const answer = record(person, 'key one');
      await store.commit({ roomId: r.id, activities: [activity(r.id, 1, 'room.created')], changes: [{ op: 'putRoom', room: r }, { op: 'putIdempotency', record: answer }] });
      assert.deepEqual(await store.getIdempotency(person, 'key one'), answer);
      assert.equal(await store.getIdempotency(newId('PEOPLE'), 'key one'), undefined);
      assert.equal(await store.getIdempotency(person, 'key two'), undefined);
    });

    test('a refused commit stores no record', async () => {
      const store = await open();
      const r = room();
      const person = newId('PEOPLE');
      await store.commit({ roomId: r.id, activities: [activity(r.id, 1, 'room.created')], changes: [{ op: 'putRoom', room: r }] });
      await assert.rejects(store.commit({ roomId: r.id, activities: [activity(r.id, 1)], changes: [{ op: 'putIdempotency', record: record(person, 'lost') }] }), SequenceConflictError);
      assert.equal(await store.getIdempotency(person, 'lost'), undefined);
    });

    test('a record outlives its room', async () => {
      const store = await open();
      const r = room();
      const person = newId('PEOPLE');
      const answer = record(person, 'made the room');
      await store.commit({ roomId: r.id, activities: [activity(r.id, 1, 'room.created')], changes: [{ op: 'putRoom', room: r }, { op: 'putIdempotency', record: answer }] });
      await store.commit({ roomId: r.id, activities: [activity(r.id, 2, 'room.deleted')], changes: [{ op: 'deleteRoom', roomId: r.id }] });
      assert.equal(await store.getRoom(r.id), undefined);
      assert.deepEqual(await store.getIdempotency(person, 'made the room'), answer);
    });

    test('a record more than 24 hours old is forgotten, and its key may answer a new write', async () => {
      const store = await open();
      const r = room();
      const person = newId('PEOPLE');
      await store.commit({ roomId: r.id, activities: [activity(r.id, 1, 'room.created')], changes: [{ op: 'putRoom', room: r }, { op: 'putIdempotency', record: record(person, 'old', { created: hoursAgo(25) }) }] });
      await store.commit({ roomId: r.id, activities: [activity(r.id, 2)], changes: [{ op: 'putIdempotency', record: record(person, 'recent', { created: hoursAgo(23) }) }] });
      assert.equal(await store.getIdempotency(person, 'old'), undefined);
      assert.equal((await store.getIdempotency(person, 'recent'))?.key, 'recent');
      const fresh = record(person, 'old', { body: '{"again":true}' });
      await store.commit({ roomId: r.id, activities: [activity(r.id, 3)], changes: [{ op: 'putIdempotency', record: fresh }] });
      assert.deepEqual(await store.getIdempotency(person, 'old'), fresh);
    });

    if (openCutShort) {
      test('a write cut short after its fence: its record is readable once head() applied it', async () => {
        const store = await open();
        const cutShort = await openCutShort();
        const r = room();
        const person = newId('PEOPLE');
        await store.commit({ roomId: r.id, activities: [activity(r.id, 1, 'room.created')], changes: [{ op: 'putRoom', room: r }] });
        await cutShort.head(r.id);
        const answer = record(person, 'fenced, then crashed');
        await assert.rejects(cutShort.commit({ roomId: r.id, activities: [activity(r.id, 2)], changes: [{ op: 'putIdempotency', record: answer }] }));
        assert.equal(await store.head(r.id), 2);
        assert.deepEqual(await store.getIdempotency(person, 'fenced, then crashed'), answer);
      });
    }
  });
}
