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
//
// Finding what an owner holds (migration 19), for the files actor's sweep of uploads whose
// process died: `blob_puts` names each put under way (owner → generation) from before its first
// chunk until it commits, and `blob_owner_keys` each key an owner was added to. `releaseAll`
// claims an unfinished put by deleting its `blob_puts` row (`IF EXISTS`) and then drops its
// chunks; the put itself deletes that row the same way just before it commits, and fails if a
// sweep had claimed it. One of the two wins, so a sweep never drops chunks a commit then names.
import { types } from 'cassandra-driver';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobPutRevokedError, BlobTooLargeError, isBlobKey, type BlobInfo, type BlobStore, type ByteRange } from '../blob-store.ts';
import type { Db } from './db.ts';

/**
 * 256 KiB: far below Cassandra's mutation limit (half a 32 MiB commit log segment) and its
 * warning thresholds, small enough that a read holds little, large enough that a 100 MB file is
 * 400 rows.
 */
export const CHUNK_BYTES = 256 * 1024;

/** Chunk writes of one put in flight at once: the upload's memory is about this many chunks. */
const WRITES_IN_FLIGHT = 4;
/**
 * An unfinished put's chunks are found by reading them in order: a put has at most
 * WRITES_IN_FLIGHT writes out at once, so past this many missing in a row there are no more.
 */
const MISSING_IN_A_ROW = WRITES_IN_FLIGHT + 1;

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
    // Named before any chunk is written, so that a crash from here on leaves chunks a sweep can find.
    await this.db.run(`INSERT INTO ${this.db.ks}.blob_puts (owner, generation) VALUES (?, ?)`, [owner, generation], { isIdempotent: true });
    // The chunks are assembled in a few buffers of CHUNK_BYTES used in turn: a buffer is filled
    // again once its write succeeded (the driver is done with it then), so a put allocates
    // WRITES_IN_FLIGHT + 1 chunks, not one per chunk of the file: the garbage of a large upload
    // would otherwise grow the process's memory until V8 collects it.
    const free: Buffer[] = [];
    const write = async (data: Buffer, buffer: Buffer) => {
      const done = this.db.run(`INSERT INTO ${this.db.ks}.blob_chunks (generation, chunk, data) VALUES (?, ?, ?)`, [generation, chunks++, data], { isIdempotent: true })
        .then(() => void free.push(buffer), (err: unknown) => { failed ??= err; });
      writes.add(done);
      void done.finally(() => writes.delete(done));
      if (writes.size >= WRITES_IN_FLIGHT) await Promise.race(writes);
      if (failed) throw failed;
    };
    try {
      let current: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
      let filled = 0;
      for await (const part of body) {
        size += part.byteLength;
        if (size > maxBytes) throw new BlobTooLargeError(maxBytes);
        hash.update(part);
        for (let at = 0; at < part.byteLength;) {
          const taken = Math.min(CHUNK_BYTES - filled, part.byteLength - at);
          current.set(part.subarray(at, at + taken), filled);
          filled += taken;
          at += taken;
          if (filled === CHUNK_BYTES) {
            await write(current, current);
            current = free.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
            filled = 0;
          }
        }
      }
      if (filled > 0) await write(current.subarray(0, filled), current);
      await Promise.all(writes);
      if (failed) throw failed;
    } catch (err) {
      await Promise.all(writes);
      await this.dropChunks(generation, chunks).catch(() => undefined);
      await this.unclaim(owner, generation).catch(() => undefined);
      throw err;
    }
    const key = `sha256-${hash.digest('hex')}`;
    // Ours to commit only if no sweep claimed it meanwhile (then it drops the chunks).
    if (!(await this.unclaim(owner, generation))) {
      // The sweep dropped the chunks it found; those of writes that landed after its reads go here.
      await this.dropChunks(generation, chunks).catch(() => undefined);
      throw new BlobPutRevokedError(owner);
    }
    try {
      await this.db.run(`INSERT INTO ${this.db.ks}.blob_owner_keys (owner, key) VALUES (?, ?)`, [owner, key], { isIdempotent: true });
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

  /** Deletes the put's `blob_puts` row; false when someone else (a sweep) had already. */
  private async unclaim(owner: string, generation: types.Uuid): Promise<boolean> {
    return (await this.db.lwt(`DELETE FROM ${this.db.ks}.blob_puts WHERE owner = ? AND generation = ? IF EXISTS`, [owner, generation])).applied;
  }

  async releaseAll(owner: string): Promise<void> {
    for (const row of await this.db.rows(`SELECT generation FROM ${this.db.ks}.blob_puts WHERE owner = ?`, [owner])) {
      const generation = row.generation as types.Uuid;
      if (await this.unclaim(owner, generation)) await this.dropUnfinished(generation);
    }
    for (const row of await this.db.rows(`SELECT key FROM ${this.db.ks}.blob_owner_keys WHERE owner = ?`, [owner])) await this.release(owner, String(row.key));
  }

  /** The chunks of a put that never committed: how many it wrote is unknown, so they are read in order. */
  private async dropUnfinished(generation: types.Uuid): Promise<void> {
    let found: number[] = [];
    for (let chunk = 0, missing = 0; missing < MISSING_IN_A_ROW; chunk++) {
      const row = await this.db.first(`SELECT chunk FROM ${this.db.ks}.blob_chunks WHERE generation = ? AND chunk = ?`, [generation, chunk]);
      missing = row ? 0 : missing + 1;
      if (row) found.push(chunk);
      if (found.length >= 100) {
        await this.db.mutate(found.map((c) => ({ kind: 'delete' as const, table: 'blob_chunks', key: { generation, chunk: c } })));
        found = [];
      }
    }
    if (found.length > 0) await this.db.mutate(found.map((c) => ({ kind: 'delete' as const, table: 'blob_chunks', key: { generation, chunk: c } })));
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
    await this.removeOwner(owner, key);
    // The hint last: a hint without its owner is skipped by releaseAll; an owner without its hint would be missed.
    await this.db.run(`DELETE FROM ${this.db.ks}.blob_owner_keys WHERE owner = ? AND key = ?`, [owner, key], { isIdempotent: true });
  }

  private async removeOwner(owner: string, key: string): Promise<void> {
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
