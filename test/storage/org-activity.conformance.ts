// The org activity index of RoomStore (GET /v1/events reads it): an `indexOrgActivity`
// change commits with its write; the org's active hours come newest first within bounds; each
// hour names the rooms that wrote in it with the highest seq committed for it, whatever order
// the hours came in; other orgs and rooms' deletion do not touch it. Every adapter must pass it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newId } from '../../contracts/ids.ts';
import type { RoomStore } from '../../storage/interfaces.ts';
import type { Activity, RoomRecord } from '../../storage/records.ts';

const T = '2026-12-03T07:15:00.000Z';

function room(orgId: string): RoomRecord {
  return { id: newId('ROOM'), title: 't', type: 'group', isLocked: false, isAnnouncementOnly: false, isReadOnly: false, isPublic: false, creatorId: 'p', orgId, created: T, lastActivity: T };
}

function activity(roomId: string, seq: number): Activity {
  return { roomId, seq, event: 'message.created', actorId: 'p', created: T, data: { seq } };
}

/** Writes one activity at the room's head + 1, indexed under `hour` for `orgId`. */
async function write(store: RoomStore, r: RoomRecord, hour: string, extra: Parameters<RoomStore['commit']>[0]['changes'] = []): Promise<number> {
  const seq = (await store.head(r.id)) + 1;
  await store.commit({ roomId: r.id, activities: [activity(r.id, seq)], changes: [...extra, { op: 'indexOrgActivity', orgId: r.orgId!, roomId: r.id, hour, lastSeq: seq }] });
  return seq;
}

export function orgActivityConformance(name: string, open: () => Promise<RoomStore>): void {
  describe(`RoomStore org activity index: ${name}`, () => {
    test('active hours newest first, bounded; each hour\'s rooms with their last seq', async () => {
      const store = await open();
      const orgId = newId('ORGANIZATION');
      const [a, b] = [room(orgId), room(orgId)];
      await write(store, a, '2026-12-03T05', [{ op: 'putRoom', room: a }]);
      await write(store, a, '2026-12-03T07');
      await write(store, b, '2026-12-03T07', [{ op: 'putRoom', room: b }]);
      const last = await write(store, a, '2026-12-03T07');
      await write(store, b, '2026-12-04T00');
      assert.deepEqual(await store.orgActiveHours(orgId, { fromHour: '0000', uptoHour: '9999', max: 10 }), ['2026-12-04T00', '2026-12-03T07', '2026-12-03T05']);
      assert.deepEqual(await store.orgActiveHours(orgId, { fromHour: '2026-12-03T06', uptoHour: '2026-12-03T23', max: 10 }), ['2026-12-03T07']);
      assert.deepEqual(await store.orgActiveHours(orgId, { fromHour: '0000', uptoHour: '2026-12-03T07', max: 1 }), ['2026-12-03T07']);
      const rooms = (await store.orgRoomsInHour(orgId, '2026-12-03T07')).sort((x, y) => (x.roomId < y.roomId ? -1 : 1));
      assert.deepEqual(rooms, [{ roomId: a.id, lastSeq: last }, { roomId: b.id, lastSeq: 1 }].sort((x, y) => (x.roomId < y.roomId ? -1 : 1)));
      assert.deepEqual(await store.orgActiveHours(newId('ORGANIZATION'), { fromHour: '0000', uptoHour: '9999', max: 10 }), [], 'another org has none');
      assert.deepEqual(await store.orgRoomsInHour(newId('ORGANIZATION'), '2026-12-03T07'), []);
    });

    test('a write stamped by a clock behind lands in the earlier hour; a room\'s deletion keeps its entries', async () => {
      const store = await open();
      const orgId = newId('ORGANIZATION');
      const r = room(orgId);
      await write(store, r, '2026-12-03T07', [{ op: 'putRoom', room: r }]);
      await write(store, r, '2026-12-03T08');
      // The next write, on a node whose clock is behind, is stamped in the hour before.
      const seq = await write(store, r, '2026-12-03T07');
      assert.deepEqual(await store.orgRoomsInHour(orgId, '2026-12-03T07'), [{ roomId: r.id, lastSeq: seq }]);
      assert.deepEqual(await store.orgRoomsInHour(orgId, '2026-12-03T08'), [{ roomId: r.id, lastSeq: seq - 1 }]);
      await store.commit({ roomId: r.id, activities: [{ ...activity(r.id, seq + 1), event: 'room.deleted' }], changes: [{ op: 'deleteRoom', roomId: r.id }, { op: 'indexOrgActivity', orgId, roomId: r.id, hour: '2026-12-03T08', lastSeq: seq + 1 }] });
      assert.deepEqual(await store.orgActiveHours(orgId, { fromHour: '0000', uptoHour: '9999', max: 10 }), ['2026-12-03T08', '2026-12-03T07']);
      assert.deepEqual(await store.orgRoomsInHour(orgId, '2026-12-03T08'), [{ roomId: r.id, lastSeq: seq + 1 }]);
      assert.equal((await store.activities(r.id, 0, seq + 1, 10)).length, seq + 1, 'the log it points into stays');
    });
  });
}
