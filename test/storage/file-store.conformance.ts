// The guarantees of FileStore, as one suite that every adapter must pass (SQLite, Cassandra).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newId } from '../../contracts/ids.ts';
import type { FileRecord, FileStore } from '../../storage/file-store.ts';

const file = (extra: Partial<FileRecord> = {}): FileRecord => ({
  id: newId('CONTENT'), name: 'a b é.txt', size: 3, type: 'text/plain', blobKey: `sha256-${'0'.repeat(64)}`,
  disposition: 'inline', uploaderId: 'person', created: new Date().toISOString(), ...extra,
});

export function fileStoreConformance(name: string, open: () => Promise<FileStore>): void {
  describe(`FileStore conformance: ${name}`, () => {
    test('put, get, attach to a message by replacing, list by message, remove', async () => {
      const store = await open();
      const pending = file();
      await store.put(pending);
      assert.deepEqual(await store.get(pending.id), pending);
      const messageId = newId('MESSAGE');
      const attached = { ...pending, roomId: newId('ROOM'), messageId };
      await store.put(attached);
      const other = file({ messageId, roomId: attached.roomId });
      await store.put(other);
      await store.put(file({ messageId: newId('MESSAGE') }));
      assert.deepEqual(await store.get(pending.id), attached);
      assert.deepEqual((await store.listByMessage(messageId)).map((f) => f.id), [attached.id, other.id].sort());
      await store.remove(attached.id);
      await store.remove(attached.id);
      assert.equal(await store.get(attached.id), undefined);
      assert.deepEqual((await store.listByMessage(messageId)).map((f) => f.id), [other.id]);
      assert.deepEqual(await store.listByMessage(newId('MESSAGE')), []);
    });
  });
}
