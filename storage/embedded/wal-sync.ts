// Durability without blocking the event loop: an embedded database whose commits must be on
// disk before they are answered (SQUARED_SYNC=full) commits with SQLite's synchronous=NORMAL —
// in WAL mode the COMMIT only writes the WAL — and this then fdatasyncs the WAL file on libuv's
// thread pool. A write is answered only after an fdatasync that began after its COMMIT, which
// makes it as durable as synchronous=FULL would (the WAL frames up to its commit frame are on
// disk; NORMAL still syncs the WAL before each checkpoint and the database file after it), while
// the event loop goes on serving sockets and the next batch meanwhile (issue 16: the fsync inside
// COMMIT was 17 % of the main thread under the fan-out bench).
//
// Syncs coalesce: while one runs, every commit that asks waits for the next, which starts when it
// ends — one fsync in flight and one pending at most, whatever the commit rate.
//
// What it gives up: between its COMMIT and its sync a write is readable, by a REST read or a
// keyed retry that replays its answer, before it is durable (for the millisecond of an fsync).
// A power loss in that window loses a write someone may have read; it never loses one the
// writer was told is done, and the live fan-out, which follows the answer, never shows it.
import fs from 'node:fs/promises';

export class WalSync {
  private readonly walFile: string;
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  /** fdatasyncs done since open: what the bench and the tests read. */
  readonly stats = { syncs: 0 };

  /** `dbFile`: the database file; its WAL is `<dbFile>-wal`. */
  constructor(dbFile: string) {
    this.walFile = `${dbFile}-wal`;
  }

  /** Settles after an fdatasync of the WAL that began after this call. */
  sync(): Promise<void> {
    if (!this.running) return this.start();
    this.next ??= this.running.catch(() => undefined).then(() => {
      this.next = undefined;
      return this.start();
    });
    return this.next;
  }

  private start(): Promise<void> {
    const run = (async () => {
      // Opened for each sync: cheap beside the sync, and never a handle on a WAL SQLite replaced.
      let handle: fs.FileHandle;
      try {
        handle = await fs.open(this.walFile, 'r');
      } catch (err) {
        // No WAL: the last connection closed, having checkpointed every commit into the
        // database file and synced it (what synchronous=NORMAL does at a checkpoint).
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      try {
        await handle.datasync();
        this.stats.syncs++;
      } finally {
        await handle.close();
      }
    })();
    this.running = run;
    const clear = () => {
      if (this.running === run) this.running = undefined;
    };
    run.then(clear, clear);
    return run;
  }
}
