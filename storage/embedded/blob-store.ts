// The embedded BlobStore: each blob a file under `<dataDir>/blobs/`, named by the SHA-256 of its
// bytes, its owners in a small SQLite database (`<dataDir>/blobs.db`).
//
// Why this shape: a file is written to `blobs/tmp/` while its hash is computed, fsynced, then
// renamed to its content address, so no reader ever sees a partial file and a crash leaves only a
// temporary file (swept at the next open). The step that decides between "the bytes are already
// there" and "rename ours in", and the owner bookkeeping with it, is synchronous code in this one
// process (node:sqlite and the *Sync file calls): a `put` and the last `release` of the same bytes
// cannot interleave, so no lock is needed. The rename comes before the owner row: a crash between
// the two leaves an unowned file, never an owner without bytes.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobPutRevokedError, BlobTooLargeError, isBlobKey, type BlobInfo, type BlobStore, type ByteRange } from '../blob-store.ts';
import { openDatabase, statementCache } from './sqlite.ts';
import type { DatabaseSync, StatementSync } from 'node:sqlite';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS blob_owners (
  key TEXT NOT NULL,
  owner TEXT NOT NULL,
  PRIMARY KEY (key, owner)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blob_owners_by_owner ON blob_owners (owner);
`;

export class DiskBlobStore implements BlobStore {
  private readonly root: string;
  private readonly tmp: string;
  private readonly durable: boolean;
  private readonly db: DatabaseSync;
  private readonly sql: (text: string) => StatementSync;
  /** The puts under way, by owner: releaseAll revokes them (a put only ever runs in this process). */
  private readonly running = new Map<string, Set<{ revoked: boolean }>>();

  private constructor(root: string, durable: boolean, db: DatabaseSync) {
    this.root = root;
    this.tmp = path.join(root, 'tmp');
    this.durable = durable;
    this.db = db;
    this.sql = statementCache(db);
  }

  /**
   * Opens (creating) the store: the files under `dir`, the owners in the database `database`
   * (a `*.db` at the top of the data directory, so that a backup copies it as a database).
   * Sweeps the temporary files a crash left behind.
   */
  static open(dir: string, database: string, durableSync: boolean): DiskBlobStore {
    const root = path.resolve(dir);
    fs.rmSync(path.join(root, 'tmp'), { recursive: true, force: true });
    fs.mkdirSync(path.join(root, 'tmp'), { recursive: true });
    const db = openDatabase({ file: database, durableSync, schema: SCHEMA });
    return new DiskBlobStore(root, durableSync, db);
  }

  private fileOf(key: string): string {
    return path.join(this.root, key.slice(7, 9), key);
  }

  async put(owner: string, body: AsyncIterable<Uint8Array>, options: { maxBytes?: number } = {}): Promise<BlobInfo> {
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    const temp = path.join(this.tmp, randomUUID());
    const hash = createHash('sha256');
    let size = 0;
    const run = { revoked: false };
    const runs = this.running.get(owner) ?? new Set();
    this.running.set(owner, runs.add(run));
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.byteLength;
        if (size > maxBytes) return callback(new BlobTooLargeError(maxBytes));
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      // A write stream gathers the queued chunks into one writev (a write per uploaded chunk was
      // the bottleneck); `flush` fsyncs the file before it is closed.
      await pipeline(body, counted, fs.createWriteStream(temp, { flags: 'wx', highWaterMark: 1024 * 1024, flush: this.durable }));
      if (run.revoked) throw new BlobPutRevokedError(owner);
    } catch (err) {
      await fs.promises.rm(temp, { force: true });
      throw err;
    } finally {
      runs.delete(run);
      if (runs.size === 0 && this.running.get(owner) === runs) this.running.delete(owner);
    }
    const key = `sha256-${hash.digest('hex')}`;
    // Synchronous from the revocation check on: a releaseAll cannot come between it and the owner row.
    this.commit(key, owner, temp);
    return { key, size };
  }

  /** Synchronous on purpose (see the opening comment): our bytes become the blob, or join it. */
  private commit(key: string, owner: string, temp: string): void {
    const file = this.fileOf(key);
    try {
      if (fs.existsSync(file)) {
        fs.rmSync(temp, { force: true });
      } else {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.renameSync(temp, file);
        if (this.durable) syncDirectory(path.dirname(file));
      }
      this.sql('INSERT OR IGNORE INTO blob_owners (key, owner) VALUES (?, ?)').run(key, owner);
    } catch (err) {
      fs.rmSync(temp, { force: true });
      throw err;
    }
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    if (!isBlobKey(key)) return undefined;
    try {
      return { key, size: (await fs.promises.stat(this.fileOf(key))).size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable | undefined> {
    if (!isBlobKey(key)) return undefined;
    let fd: number;
    try {
      // Opened now, synchronously: a release after this point unlinks the name, and the open
      // descriptor still reads every byte.
      fd = fs.openSync(this.fileOf(key), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return fs.createReadStream('', { fd, start: range?.start, end: range?.end, highWaterMark: 256 * 1024 });
  }

  async release(owner: string, key: string): Promise<void> {
    if (!isBlobKey(key)) return;
    this.sql('DELETE FROM blob_owners WHERE key = ? AND owner = ?').run(key, owner);
    const left = this.sql('SELECT 1 FROM blob_owners WHERE key = ? LIMIT 1').get(key);
    if (!left) fs.rmSync(this.fileOf(key), { force: true });
  }

  async releaseAll(owner: string): Promise<void> {
    for (const run of this.running.get(owner) ?? []) run.revoked = true;
    const keys = this.sql('SELECT key FROM blob_owners WHERE owner = ?').all(owner).map((row) => String(row.key));
    for (const key of keys) await this.release(owner, key);
  }

  async owners(key: string): Promise<string[]> {
    return this.sql('SELECT owner FROM blob_owners WHERE key = ?').all(key).map((row) => String(row.owner));
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }
}

function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
