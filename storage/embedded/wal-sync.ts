// Durability without blocking the event loop: an embedded database whose commits must be on
// disk before they are answered (SQUARED_SYNC=full) commits with SQLite's synchronous=NORMAL —
// in WAL mode the COMMIT only writes the WAL — and this then fdatasyncs the WAL file on libuv's
// thread pool. A write is answered only after an fdatasync that began after its COMMIT, which
// makes it as durable as synchronous=FULL would (the WAL frames up to its commit frame are on
// disk; NORMAL still syncs the WAL before each checkpoint, the WAL header when it restarts, and
// the database file after a checkpoint), while the event loop goes on serving sockets and the
// next batch meanwhile (issue 16: the fsync inside COMMIT was 17 % of the main thread under the
// fan-out bench).
//
// The WAL is the one SQLite opened (its path from the connection, symlinks resolved), through
// one descriptor kept for the connection's life: SQLite never replaces the file while it is
// open, and one descriptor sees every writeback error reported after it was opened.
//
// Syncs coalesce: while one runs, every commit that asks waits for the next, which starts when it
// ends — one fsync in flight and one pending at most, whatever the commit rate.
//
// What it gives up: between its COMMIT and its sync a write is readable, by a REST read or a
// keyed retry that replays its answer, before it is durable (for the millisecond of an fsync).
// A power loss in that window loses a write someone may have read; it never loses one the
// writer was told is done, and the live fan-out, which follows the answer, never shows it.
import fs from 'node:fs/promises';
import type { DatabaseSync } from 'node:sqlite';

export class WalSync {
  private readonly walFile: string;
  private handle: Promise<fs.FileHandle> | undefined;
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  /** fdatasyncs done since open: what the bench and the tests read. */
  readonly stats = { syncs: 0 };

  /** The WAL of `db` (a file database in WAL mode). */
  constructor(db: DatabaseSync) {
    const file = db.location();
    if (!file) throw new Error('WalSync needs a database in a file');
    this.walFile = `${file}-wal`;
  }

  /** Settles after an fdatasync of the WAL that began after this call. */
  sync(): Promise<void> {
    if (this.next) return this.next;
    if (!this.running) return this.start();
    this.next = this.running.catch(() => undefined).then(() => {
      this.next = undefined;
      return this.start();
    });
    return this.next;
  }

  /** Closes the descriptor once the syncs asked so far are done (after the database closed). */
  async close(): Promise<void> {
    await Promise.allSettled([this.running, this.next]);
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await (await handle.catch(() => undefined))?.close().catch(() => undefined);
  }

  private start(): Promise<void> {
    const run = (async () => {
      // Opened at the first sync, after a COMMIT: the WAL exists by then.
      this.handle ??= fs.open(this.walFile, 'r');
      const handle = await this.handle.catch((err: unknown) => {
        this.handle = undefined;
        throw err;
      });
      await handle.datasync();
      this.stats.syncs++;
    })();
    this.running = run;
    const clear = () => {
      if (this.running === run) this.running = undefined;
    };
    run.then(clear, clear);
    return run;
  }
}
