// RoomStore's room tabs, and a message's card kept whole: tabs are committed with the room's
// writes like memberships (put replaces, delete removes), listed per room in id order, and
// gone with their room. Every adapter must pass it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newId } from '../../contracts/ids.ts';
import type { RoomChange, RoomStore } from '../../storage/interfaces.ts';
import type { MessageRecord, RoomRecord, RoomTabRecord } from '../../storage/records.ts';

const now = () => new Date().toISOString();

function room(): RoomRecord {
  return { id: newId('ROOM'), title: 't', type: 'group', isLocked: false, isAnnouncementOnly: false, isReadOnly: false, isPublic: false, creatorId: 'p', created: now(), lastActivity: now() };
}

const tab = (roomId: string, displayName: string): RoomTabRecord =>
  ({ id: newId('ROOM_TAB'), roomId, roomType: 'group', displayName, contentUrl: `https://example.com/${displayName}`, creatorId: 'p', created: now() });

async function append(store: RoomStore, roomId: string, changes: RoomChange[]): Promise<void> {
  const seq = (await store.head(roomId)) + 1;
  await store.commit({ roomId, activities: [{ roomId, seq, event: 'tab.created', actorId: 'p', created: now(), data: {} }], changes });
}

const ids = (tabs: RoomTabRecord[]) => tabs.map((t) => t.id);

export function roomTabsConformance(name: string, open: () => Promise<RoomStore>): void {
  describe(`RoomStore tabs conformance: ${name}`, () => {
    test('tabs are put, replaced, listed per room in id order and deleted, with the room\'s writes', async () => {
      const store = await open();
      const [r, other] = [room(), room()];
      await append(store, r.id, [{ op: 'putRoom', room: r }]);
      await append(store, other.id, [{ op: 'putRoom', room: other }]);
      const [a, b, c] = [tab(r.id, 'a'), tab(r.id, 'b'), tab(other.id, 'c')];
      await append(store, r.id, [{ op: 'putTab', tab: a }, { op: 'putTab', tab: b }]);
      await append(store, other.id, [{ op: 'putTab', tab: c }]);
      assert.deepEqual(await store.getTab(a.id), a);
      assert.deepEqual(ids(await store.listTabs(r.id)), [a.id, b.id].sort());
      assert.deepEqual(await store.listTabs(other.id), [c]);
      const renamed = { ...a, displayName: 'renamed', contentUrl: 'https://example.com/new' };
      await append(store, r.id, [{ op: 'putTab', tab: renamed }]);
      assert.deepEqual(await store.getTab(a.id), renamed);
      assert.deepEqual((await store.listTabs(r.id)).find((t) => t.id === a.id), renamed);
      await append(store, r.id, [{ op: 'deleteTab', id: b.id, roomId: r.id }]);
      assert.equal(await store.getTab(b.id), undefined);
      assert.deepEqual(await store.listTabs(r.id), [renamed]);
      assert.equal(await store.getTab(newId('ROOM_TAB')), undefined);
      assert.deepEqual(await store.listTabs(room().id), []);
    });

    test('a deleted room takes its tabs along, and no other room\'s', async () => {
      const store = await open();
      const [r, other] = [room(), room()];
      await append(store, r.id, [{ op: 'putRoom', room: r }]);
      await append(store, other.id, [{ op: 'putRoom', room: other }]);
      const [a, c] = [tab(r.id, 'a'), tab(other.id, 'c')];
      await append(store, r.id, [{ op: 'putTab', tab: a }]);
      await append(store, other.id, [{ op: 'putTab', tab: c }]);
      await append(store, r.id, [{ op: 'deleteRoom', roomId: r.id }]);
      assert.equal(await store.getTab(a.id), undefined);
      assert.deepEqual(await store.listTabs(r.id), []);
      assert.deepEqual(await store.getTab(c.id), c);
    });

    test('a message\'s card is stored and read back whole', async () => {
      const store = await open();
      const r = room();
      await append(store, r.id, [{ op: 'putRoom', room: r }]);
      const seq = (await store.head(r.id)) + 1;
      const card = { type: 'AdaptiveCard', version: '1.3', body: [{ type: 'Input.Text', id: 'Name' }], actions: [{ type: 'Action.Submit', title: 'Go' }] };
      const m: MessageRecord = {
        id: newId('MESSAGE'), roomId: r.id, roomType: 'group', seq, personId: 'p', personEmail: 'e', created: now(), editCount: 0,
        attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }],
      };
      await store.commit({ roomId: r.id, activities: [{ roomId: r.id, seq, event: 'message.created', actorId: 'p', created: now(), data: {} }], changes: [{ op: 'putMessage', message: m }] });
      assert.deepEqual(await store.getMessage(m.id), m);
      assert.deepEqual(await store.listMessages({ roomId: r.id, max: 5 }), [m]);
    });
  });
}
