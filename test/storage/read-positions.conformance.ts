// RoomStore's read positions and the indexes unread counts are recounted from: positions
// kept per (room, person) and found per person and per room, deleted per person and per room;
// deletions of messages counted by their ord; mentions of a person and of everyone counted
// once per message, gone with the message. Every adapter must pass it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newId } from '../../contracts/ids.ts';
import type { RoomStore, RoomChange } from '../../storage/interfaces.ts';
import type { MessageRecord, ReadPosition, RoomRecord } from '../../storage/records.ts';

const now = () => new Date().toISOString();

function room(): RoomRecord {
  return { id: newId('ROOM'), title: 't', type: 'group', isLocked: false, isAnnouncementOnly: false, isReadOnly: false, isPublic: false, creatorId: 'p', created: now(), lastActivity: now() };
}

function message(roomId: string, seq: number, ord: number, extra: Partial<MessageRecord> = {}): MessageRecord {
  return { id: newId('MESSAGE'), roomId, roomType: 'group', seq, ord, personId: 'author', personEmail: 'e', text: `m${seq}`, created: now(), editCount: 0, ...extra };
}

async function append(store: RoomStore, roomId: string, changes: RoomChange[]): Promise<number> {
  const seq = (await store.head(roomId)) + 1;
  await store.commit({ roomId, activities: [{ roomId, seq, event: 'message.created', actorId: 'p', created: now(), data: {} }], changes });
  return seq;
}

const position = (roomId: string, personId: string, extra: Partial<ReadPosition> = {}): ReadPosition =>
  ({ roomId, personId, seq: 1, ord: 0, hidden: 0, mentions: 0, ...extra });

export function readPositionsConformance(name: string, open: () => Promise<RoomStore>): void {
  describe(`read positions (${name})`, () => {
    test('positions are kept per (room, person), replaced, found per person and per room, and deleted', async () => {
      const store = await open();
      const [r1, r2] = [room(), room()];
      const [p, q] = [newId('PEOPLE'), newId('PEOPLE')];
      await store.putReadPositions([position(r1.id, p), position(r1.id, q, { ord: 2 }), position(r2.id, p, { messageId: 'm', seenDate: now() })]);
      await store.putReadPositions([position(r1.id, p, { seq: 5, ord: 3, mentions: 2, hidden: 1 })]);
      assert.deepEqual(await store.getReadPosition(r1.id, p), position(r1.id, p, { seq: 5, ord: 3, mentions: 2, hidden: 1 }));
      const mine = await store.readPositionsOf(p, [r1.id, r2.id, room().id]);
      assert.deepEqual([...mine.keys()].sort(), [r1.id, r2.id].sort());
      assert.equal(mine.get(r2.id)?.messageId, 'm');
      assert.deepEqual((await store.roomReadPositions(r1.id)).map((x) => x.personId).sort(), [p, q].sort());
      await store.deleteReadPositions(r1.id, q);
      assert.equal(await store.getReadPosition(r1.id, q), undefined);
      assert.ok(await store.getReadPosition(r1.id, p));
      await store.deleteReadPositions(r1.id);
      assert.deepEqual(await store.roomReadPositions(r1.id), []);
      assert.ok(await store.getReadPosition(r2.id, p), "another room's positions stay");
    });

    test('deleted messages are counted by their ord; mentions once per message, gone with it', async () => {
      const store = await open();
      const r = room();
      const [p, q] = [newId('PEOPLE'), newId('PEOPLE')];
      await append(store, r.id, [{ op: 'putRoom', room: r }]);
      const m1 = message(r.id, 2, 1, { mentionedPeople: [p] });
      const m2 = message(r.id, 3, 2, { mentionedPeople: [p], mentionedGroups: ['all'] });
      const m3 = message(r.id, 4, 3, { mentionedGroups: ['all'] });
      const m4 = message(r.id, 5, 4);
      for (const m of [m1, m2, m3, m4]) await append(store, r.id, [{ op: 'putMessage', message: m }]);
      assert.equal(await store.countMentionsAfter(r.id, p, 0), 3, 'm2 names p and everyone: once');
      assert.equal(await store.countMentionsAfter(r.id, p, 2), 2);
      assert.equal(await store.countMentionsAfter(r.id, q, 0), 2, 'q only through @all');
      assert.equal(await store.countMentionsAfter(r.id, q, 4), 0);
      assert.equal(await store.countDeletedAfter(r.id, 0), 0);
      await append(store, r.id, [{ op: 'deleteMessage', id: m2.id }]);
      await append(store, r.id, [{ op: 'deleteMessage', id: m4.id }]);
      assert.equal(await store.countDeletedAfter(r.id, 0), 2);
      assert.equal(await store.countDeletedAfter(r.id, 2), 1);
      assert.equal(await store.countDeletedAfter(r.id, 4), 0);
      assert.equal(await store.countMentionsAfter(r.id, p, 0), 2);
      assert.equal(await store.countMentionsAfter(r.id, q, 0), 1);
      // An edit that drops the mention takes it out of the index.
      await append(store, r.id, [{ op: 'putMessage', message: { ...m3, mentionedGroups: undefined, editCount: 1 } }]);
      assert.equal(await store.countMentionsAfter(r.id, q, 0), 0);
    });
  });
}
