// The cluster BlobStore: blobs chunked into Cassandra.
//
// Tables (migration 14): `blobs` holds one row per content address (the generation of chunks that
// hold its bytes, its size and its owners); `blob_chunks` holds CHUNK_BYTES of a generation per
// partition, so that no partition grows with the file and a range read touches only its chunks.
//
// Why generations: a `put` streams its chunks under a fresh generation (a random UUID) while it
// hashes them, before it knows the content address. It then joins the blob if one is live
// (`UPDATE … IF EXISTS` adds its owner; its own chunks are dropped) or makes its generation the
// blob (`INSERT … IF NOT EXISTS`). `release` removes an owner and deletes the row only `IF owners
// = null`, then its chunks. Every step on a `blobs` row is a lightweight transaction, so a put
// racing the last release either joined before the delete (which then does not apply) or finds
// no row and stores its own generation: it never answers a key whose chunks are going away.
import { types } from 'cassandra-driver';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobTooLargeError, isBlobKey, type BlobInfo, type BlobStore, type ByteRange } from '../blob-store.ts';
import type { Db } from './db.ts';

/**
 * 256 KiB: far below Cassandra's mutation limit (half a 32 MiB commit log segment) and its
 * warning thresholds, small enough that a read holds little, large enough that a 100 MB file is
 * 400 rows.
 */
export const CHUNK_BYTES = 256 * 1024;

/** Chunk writes of one put in flight at once: the upload's memory is about this many chunks. */
const WRITES_IN_FLIGHT = 4;

export class CassandraBlobStore implements BlobStore {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async put(owner: string, body: AsyncIterable<Uint8Array>, options: { maxBytes?: number } = {}): Promise<BlobInfo> {
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    const generation = types.Uuid.random();
    const hash = createHash('sha256');
    const writes = new Set<Promise<void>>();
    let failed: unknown;
    let chunks = 0;
    let size = 0;
    const write = async (data: Buffer) => {
      const done = this.db.run(`INSERT INTO ${this.db.ks}.blob_chunks (generation, chunk, data) VALUES (?, ?, ?)`, [generation, chunks++, data], { isIdempotent: true })
        .then(() => undefined, (err: unknown) => { failed ??= err; });
      writes.add(done);
      void done.finally(() => writes.delete(done));
      if (writes.size >= WRITES_IN_FLIGHT) await Promise.race(writes);
      if (failed) throw failed;
    };
    try {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      for await (const part of body) {
        size += part.byteLength;
        if (size > maxBytes) throw new BlobTooLargeError(maxBytes);
        hash.update(part);
        pending.push(Buffer.from(part.buffer, part.byteOffset, part.byteLength));
        pendingBytes += part.byteLength;
        while (pendingBytes >= CHUNK_BYTES) {
          const joined = Buffer.concat(pending, pendingBytes);
          // Buffer.concat made `joined` afresh: its chunk needs no copy of its own
          await write(joined.subarray(0, CHUNK_BYTES));
          pending = [joined.subarray(CHUNK_BYTES)];
          pendingBytes -= CHUNK_BYTES;
        }
      }
      if (pendingBytes > 0) await write(Buffer.concat(pending, pendingBytes));
      await Promise.all(writes);
      if (failed) throw failed;
    } catch (err) {
      await Promise.all(writes);
      await this.dropChunks(generation, chunks).catch(() => undefined);
      throw err;
    }
    const key = `sha256-${hash.digest('hex')}`;
    try {
      await this.commit(key, owner, generation, size);
    } catch (err) {
      await this.dropChunks(generation, chunks).catch(() => undefined);
      throw err;
    }
    return { key, size };
  }

  /** Our generation becomes the blob, or our owner joins the live one and our chunks go. */
  private async commit(key: string, owner: string, generation: types.Uuid, size: number): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const joined = await this.db.lwt(`UPDATE ${this.db.ks}.blobs SET owners = owners + ? WHERE key = ? IF EXISTS`, [[owner], key]);
      if (joined.applied) {
        await this.dropChunks(generation, chunkCount(size));
        return;
      }
      const created = await this.db.lwt(`INSERT INTO ${this.db.ks}.blobs (key, generation, size, owners) VALUES (?, ?, ?, ?) IF NOT EXISTS`, [key, generation, size, [owner]]);
      if (created.applied) return;
    }
    throw new Error(`the blob ${key} kept changing under its put`);
  }

  private async dropChunks(generation: types.Uuid, count: number): Promise<void> {
    const deletes = Array.from({ length: count }, (_, chunk) => ({ kind: 'delete' as const, table: 'blob_chunks', key: { generation, chunk } }));
    await this.db.mutate(deletes);
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    const row = await this.head(key);
    return row && { key, size: row.size };
  }

  private async head(key: string): Promise<{ generation: types.Uuid; size: number } | undefined> {
    if (!isBlobKey(key)) return undefined;
    const row = await this.db.first(`SELECT generation, size FROM ${this.db.ks}.blobs WHERE key = ?`, [key]);
    return row ? { generation: row.generation as types.Uuid, size: Number(row.size) } : undefined;
  }

  async read(key: string, range?: ByteRange): Promise<Readable | undefined> {
    const head = await this.head(key);
    if (!head) return undefined;
    const start = range?.start ?? 0;
    const end = range?.end ?? head.size - 1;
    const db = this.db;
    async function* chunks(): AsyncGenerator<Buffer> {
      // One chunk ahead: the next query runs while the consumer takes the current one.
      const fetch = (chunk: number) => db.first(`SELECT data FROM ${db.ks}.blob_chunks WHERE generation = ? AND chunk = ?`, [head!.generation, chunk]);
      const last = Math.floor(end / CHUNK_BYTES);
      let next = start <= end ? fetch(Math.floor(start / CHUNK_BYTES)) : undefined;
      for (let chunk = Math.floor(start / CHUNK_BYTES); next && chunk <= last; chunk++) {
        const row = await next;
        next = chunk < last ? fetch(chunk + 1) : undefined;
        if (!row) throw new Error(`the blob ${key} was deleted while it was read`);
        const data = row.data as Buffer;
        const from = chunk * CHUNK_BYTES;
        yield data.subarray(Math.max(0, start - from), Math.min(data.length, end - from + 1));
      }
    }
    return Readable.from(chunks(), { objectMode: false, highWaterMark: CHUNK_BYTES });
  }

  async release(owner: string, key: string): Promise<void> {
    if (!isBlobKey(key)) return;
    const removed = await this.db.lwt(`UPDATE ${this.db.ks}.blobs SET owners = owners - ? WHERE key = ? IF EXISTS`, [[owner], key]);
    if (!removed.applied) return;
    const row = await this.db.serialRead(`SELECT generation, size, owners FROM ${this.db.ks}.blobs WHERE key = ?`, [key]);
    if (!row || (row.owners && (row.owners as string[]).length > 0)) return;
    const gone = await this.db.lwt(`DELETE FROM ${this.db.ks}.blobs WHERE key = ? IF owners = null AND generation = ?`, [key, row.generation]);
    if (gone.applied) await this.dropChunks(row.generation as types.Uuid, chunkCount(Number(row.size)));
  }

  async owners(key: string): Promise<string[]> {
    if (!isBlobKey(key)) return [];
    const row = await this.db.first(`SELECT owners FROM ${this.db.ks}.blobs WHERE key = ?`, [key]);
    return (row?.owners as string[] | null | undefined) ?? [];
  }

  async close(): Promise<void> {
    // The client belongs to the Cassandra storage that made this store.
  }
}

function chunkCount(size: number): number {
  return Math.ceil(size / CHUNK_BYTES);
}
