// The guarantees of AttachmentActionStore, as one suite that every adapter must pass (the
// embedded SQLite store and the Cassandra store).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newId } from '../../contracts/ids.ts';
import type { AttachmentActionRecord, AttachmentActionStore } from '../../storage/attachment-action-store.ts';

export function attachmentActionStoreConformance(name: string, open: () => Promise<AttachmentActionStore>): void {
  describe(`AttachmentActionStore conformance: ${name}`, () => {
    test('an action put is read back whole, by its id only', async () => {
      const store = await open();
      const action: AttachmentActionRecord = {
        id: newId('ATTACHMENT_ACTION'), type: 'submit', messageId: newId('MESSAGE'), roomId: newId('ROOM'), messageAuthorId: newId('PEOPLE'),
        personId: newId('PEOPLE'), inputs: { Name: 'Ann', nested: { list: [1, 'two', true] } }, created: new Date().toISOString(),
      };
      const other = { ...action, id: newId('ATTACHMENT_ACTION'), inputs: {} };
      await store.put(action);
      await store.put(other);
      assert.deepEqual(await store.get(action.id), action);
      assert.deepEqual(await store.get(other.id), other);
      assert.equal(await store.get(newId('ATTACHMENT_ACTION')), undefined);
    });
  });
}
