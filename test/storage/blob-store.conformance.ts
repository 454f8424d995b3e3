// The guarantees of BlobStore, as one suite that every adapter must pass (files on disk in
// embedded mode, chunks in Cassandra in cluster mode).
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Readable } from 'node:stream';
import { BlobPutRevokedError, BlobTooLargeError, type BlobStore } from '../../storage/blob-store.ts';

async function* chunksOf(bytes: Buffer, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function collect(stream: Readable | undefined): Promise<Buffer> {
  assert.ok(stream, 'the blob is there');
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

const keyOf = (bytes: Buffer) => `sha256-${createHash('sha256').update(bytes).digest('hex')}`;

/** `chunkSize` is the adapter's own unit, so that the suite crosses its boundaries. */
export function blobStoreConformance(name: string, open: () => Promise<BlobStore>, chunkSize = 256 * 1024): void {
  describe(`BlobStore conformance: ${name}`, () => {
    test('put answers the content address and size; read streams the bytes back', async () => {
      const store = await open();
      const bytes = randomBytes(chunkSize * 2 + 123);
      const owner = randomUUID();
      const info = await store.put(owner, chunksOf(bytes, 10_000));
      assert.deepEqual(info, { key: keyOf(bytes), size: bytes.length });
      assert.deepEqual(await store.stat(info.key), info);
      assert.ok((await collect(await store.read(info.key))).equals(bytes));
      assert.deepEqual(await store.owners(info.key), [owner]);
    });

    test('an empty blob', async () => {
      const store = await open();
      const info = await store.put(randomUUID(), chunksOf(Buffer.alloc(0)));
      assert.equal(info.size, 0);
      assert.equal((await collect(await store.read(info.key))).length, 0);
    });

    test('ranges are inclusive, inside one chunk and across chunks', async () => {
      const store = await open();
      const bytes = randomBytes(chunkSize * 3 + 7);
      const { key } = await store.put(randomUUID(), chunksOf(bytes));
      for (const [start, end] of [[0, 0], [5, 99], [chunkSize - 1, chunkSize], [chunkSize - 10, chunkSize * 2 + 10], [bytes.length - 1, bytes.length - 1], [0, bytes.length - 1]]) {
        const got = await collect(await store.read(key, { start, end }));
        assert.ok(got.equals(bytes.subarray(start, end + 1)), `range ${start}-${end}`);
      }
    });

    test('an unknown or malformed key is no blob', async () => {
      const store = await open();
      const unknown = keyOf(randomBytes(16));
      assert.equal(await store.stat(unknown), undefined);
      assert.equal(await store.read(unknown), undefined);
      assert.equal(await store.stat('../../etc/passwd'), undefined);
      assert.equal(await store.read('../../etc/passwd'), undefined);
      assert.deepEqual(await store.owners(unknown), []);
      await store.release('nobody', unknown);
    });

    test('the same bytes are stored once with every owner; the last release deletes them', async () => {
      const store = await open();
      const bytes = randomBytes(chunkSize + 1);
      const [a, b] = [randomUUID(), randomUUID()];
      const first = await store.put(a, chunksOf(bytes));
      const second = await store.put(b, chunksOf(bytes, 999));
      assert.equal(first.key, second.key);
      assert.deepEqual((await store.owners(first.key)).sort(), [a, b].sort());
      await store.release(a, first.key);
      await store.release(a, first.key);
      assert.deepEqual(await store.owners(first.key), [b]);
      assert.ok((await collect(await store.read(first.key))).equals(bytes));
      await store.release(b, first.key);
      assert.equal(await store.stat(first.key), undefined);
      assert.equal(await store.read(first.key), undefined);
      const again = await store.put(a, chunksOf(bytes));
      assert.ok((await collect(await store.read(again.key))).equals(bytes), 'stored afresh after its deletion');
    });

    test('past maxBytes the put is refused and leaves nothing', async () => {
      const store = await open();
      const bytes = randomBytes(chunkSize * 2);
      await assert.rejects(store.put(randomUUID(), chunksOf(bytes), { maxBytes: chunkSize + 5 }), BlobTooLargeError);
      assert.equal(await store.stat(keyOf(bytes)), undefined);
      const exact = await store.put(randomUUID(), chunksOf(bytes), { maxBytes: bytes.length });
      assert.equal(exact.size, bytes.length);
    });

    test('releaseAll removes every reference of an owner, keys unknown; bytes another owner holds stay', async () => {
      const store = await open();
      const [owner, other] = [randomUUID(), randomUUID()];
      const mine = [randomBytes(chunkSize + 1), randomBytes(10)];
      const shared = randomBytes(1000);
      for (const bytes of mine) await store.put(owner, chunksOf(bytes));
      await store.put(owner, chunksOf(shared));
      await store.put(other, chunksOf(shared));
      await store.releaseAll(owner);
      await store.releaseAll(owner);
      for (const bytes of mine) assert.equal(await store.stat(keyOf(bytes)), undefined);
      assert.deepEqual(await store.owners(keyOf(shared)), [other]);
      await store.releaseAll(randomUUID());
    });

    test('a put under way when its owner is released whole fails and leaves nothing', async () => {
      const store = await open();
      const owner = randomUUID();
      const bytes = randomBytes(chunkSize * 2 + 7);
      let reached!: () => void;
      const halfway = new Promise<void>((resolve) => (reached = resolve));
      let go!: () => void;
      const gate = new Promise<void>((resolve) => (go = resolve));
      async function* body(): AsyncGenerator<Uint8Array> {
        yield bytes.subarray(0, chunkSize + 10);
        reached();
        await gate;
        yield bytes.subarray(chunkSize + 10);
      }
      const put = store.put(owner, body());
      put.catch(() => undefined);
      await halfway;
      await store.releaseAll(owner);
      go();
      await assert.rejects(put, BlobPutRevokedError);
      assert.equal(await store.stat(keyOf(bytes)), undefined);
      assert.deepEqual(await store.owners(keyOf(bytes)), []);
    });

    test('a body that fails midway leaves nothing', async () => {
      const store = await open();
      const bytes = randomBytes(chunkSize * 2);
      async function* failing(): AsyncGenerator<Uint8Array> {
        yield bytes.subarray(0, chunkSize + 10);
        throw new Error('the client went away');
      }
      await assert.rejects(store.put(randomUUID(), failing()), /went away/);
      assert.equal(await store.stat(keyOf(bytes.subarray(0, chunkSize + 10))), undefined);
    });

    test('a put racing the last release of the same bytes never answers a key without bytes', async () => {
      const store = await open();
      const bytes = randomBytes(chunkSize + 3);
      for (let round = 0; round < 5; round++) {
        const old = randomUUID();
        const { key } = await store.put(old, chunksOf(bytes));
        const fresh = randomUUID();
        const [, info] = await Promise.all([store.release(old, key), store.put(fresh, chunksOf(bytes))]);
        assert.equal(info.key, key);
        assert.deepEqual(await store.owners(key), [fresh]);
        assert.ok((await collect(await store.read(key))).equals(bytes), `round ${round}`);
        await store.release(fresh, key);
      }
    });
  });
}
