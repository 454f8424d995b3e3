// The guarantees of FileStore, as one suite that every adapter must pass (SQLite, Cassandra).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newId } from '../../contracts/ids.ts';
import type { FilePreview, FileRecord, FileStore } from '../../storage/file-store.ts';

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

    test('list by room in id order, a page at a time; files on no message are not listed', async () => {
      const store = await open();
      const roomId = newId('ROOM');
      const files = [1, 2, 3].map(() => file({ roomId, messageId: newId('MESSAGE') })).sort((a, b) => (a.id < b.id ? -1 : 1));
      for (const f of files) await store.put(f);
      await store.put(file({ roomId: newId('ROOM'), messageId: newId('MESSAGE') }));
      await store.put(file());
      const first = await store.listByRoom(roomId, { max: 2 });
      assert.deepEqual(first.map((f) => f.id), files.slice(0, 2).map((f) => f.id));
      assert.deepEqual((await store.listByRoom(roomId, { max: 2, after: first[1].id })).map((f) => f.id), [files[2].id]);
      await store.remove(files[0].id);
      assert.deepEqual((await store.listByRoom(roomId, { max: 10 })).map((f) => f.id), files.slice(1).map((f) => f.id));
      assert.deepEqual(await store.listByRoom(newId('ROOM'), { max: 10 }), []);
    });

    test('unattached records created before a time are listed until attached or removed', async () => {
      const store = await open();
      const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
      const old = file({ created: twoHoursAgo, state: 'uploading', blobKey: '' });
      const young = file({ state: 'stored' });
      const attachedLater = file({ created: twoHoursAgo, state: 'stored' });
      for (const f of [old, young, attachedLater]) await store.put(f);
      const ours = new Set([old.id, young.id, attachedLater.id]);
      const listed = async () => (await store.listUnattached(new Date(Date.now() - 3600_000).toISOString(), 1000)).filter((f) => ours.has(f.id)).map((f) => f.id).sort();
      assert.deepEqual(await listed(), [old.id, attachedLater.id].sort());
      await store.put({ ...attachedLater, roomId: newId('ROOM'), messageId: newId('MESSAGE'), state: 'attached' });
      assert.deepEqual(await listed(), [old.id]);
      await store.remove(old.id);
      assert.deepEqual(await listed(), []);
      assert.equal((await store.listUnattached(new Date(Date.now() + 60_000).toISOString(), 1000)).some((f) => f.id === young.id), true);
    });

    test('a preview is recorded only on a record that exists, and put keeps it', async () => {
      const store = await open();
      const image: FilePreview = { state: 'ready', kind: 'image', sourceType: 'image/png', blobKey: `sha256-${'1'.repeat(64)}`, mime: 'image/webp', width: 640, height: 427 };
      assert.equal(await store.setPreview(newId('CONTENT'), image), false);
      const messageId = newId('MESSAGE');
      const attached = file({ messageId, roomId: newId('ROOM') });
      await store.put(attached);
      assert.equal(await store.setPreview(attached.id, image), true);
      assert.deepEqual(await store.get(attached.id), { ...attached, preview: image });
      // Written again (a redone job) with the same outcome, and the record put again without one: the preview stays.
      assert.equal(await store.setPreview(attached.id, image), true);
      await store.put(attached);
      assert.deepEqual((await store.get(attached.id))?.preview, image);
      assert.deepEqual((await store.listByMessage(messageId)).map((f) => f.preview), [image]);
      const none: FilePreview = { state: 'none', reason: 'unreadable' };
      const other = file({ messageId: newId('MESSAGE') });
      await store.put(other);
      assert.equal(await store.setPreview(other.id, none), true);
      assert.deepEqual((await store.get(other.id))?.preview, none);
    });

    test('removeReleased removes only when the released preview blob is the one recorded', async () => {
      const store = await open();
      const messageId = newId('MESSAGE');
      const attached = file({ messageId, roomId: newId('ROOM') });
      await store.put(attached);
      // Nothing recorded, nothing released: removed.
      assert.equal(await store.removeReleased(attached.id, undefined), true);
      assert.equal(await store.get(attached.id), undefined);
      assert.deepEqual(await store.listByMessage(messageId), []);
      assert.deepEqual(await store.listByRoom(attached.roomId!, { max: 10 }), []);
      assert.equal(await store.removeReleased(attached.id, undefined), true);
      // A preview blob recorded after the remover looked: it must release that one first.
      const raced = file({ messageId, roomId: newId('ROOM') });
      await store.put(raced);
      const blobKey = `sha256-${'2'.repeat(64)}`;
      assert.equal(await store.setPreview(raced.id, { state: 'ready', kind: 'pdf', sourceType: 'application/pdf', blobKey, mime: 'image/png', width: 495, height: 640, pages: 3 }), true);
      assert.equal(await store.removeReleased(raced.id, undefined), false);
      assert.equal((await store.get(raced.id))?.id, raced.id);
      assert.equal(await store.removeReleased(raced.id, blobKey), true);
      assert.equal(await store.get(raced.id), undefined);
      assert.equal(await store.setPreview(raced.id, { state: 'none', reason: 'timeout' }), false);
      assert.equal(await store.get(raced.id), undefined);
      // A text preview holds no blob.
      const text = file();
      await store.put(text);
      assert.equal(await store.setPreview(text.id, { state: 'ready', kind: 'text', sourceType: 'text/plain', snippet: 'hi', truncated: false }), true);
      assert.equal(await store.removeReleased(text.id, undefined), true);
    });
  });
}
