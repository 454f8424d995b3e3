// Group commit for an embedded database: the writes that arrive in one turn of the event
// loop share one transaction, and so one fsync and one set of WAL frames for the pages they
// share (room heads, index pages). node:sqlite is synchronous, so a transaction per write
// paid BEGIN, COMMIT and the fsync once per write on the one thread that also serves every
// socket (issue 16's profile: 30 % of the main thread in inTransaction).
//
// Each write runs inside its own SAVEPOINT, so one that throws (a sequence conflict, a taken
// idempotency key) is undone alone and rejected alone; the others commit. Every write's
// promise settles only after the COMMIT returned: with SQUARED_SYNC=full that is after the
// fsync, so a 2xx still means on disk; a database opened for it commits without the fsync and
// has `syncAfterCommit` (wal-sync.ts) make the WAL durable off the event loop before the batch's
// promises settle. A COMMIT that fails rejects the whole batch, which SQLite rolled back.
//
// The window is the event loop's own: writes queued by the callbacks of one poll phase are
// flushed together in the check phase after it (setImmediate). A busy server gathers more
// per batch, an idle one adds no delay; MAX_BATCH bounds how long one flush holds the thread.
import type { DatabaseSync } from 'node:sqlite';

const MAX_BATCH = 512;

interface Pending {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

export class GroupCommit {
  private queue: Pending[] = [];

  private scheduled = false;

  private readonly db: DatabaseSync;

  /** Batches flushed and writes in them since open: what the bench reports. */
  readonly stats = { batches: 0, writes: 0 };

  /** What makes a committed batch durable before it is answered (WalSync.sync), if the COMMIT does not. */
  private afterCommit: (() => Promise<void>) | undefined;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  /** Each batch is answered only once `sync` (started after its COMMIT) has settled. */
  syncAfterCommit(sync: () => Promise<void>): void {
    this.afterCommit = sync;
  }

  /** Runs `work` (synchronous statements on this database) in the next group transaction. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Commits what is queued now (before the database is closed). */
  flushNow(): void {
    while (this.queue.length > 0) this.flush();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
      if (this.queue.length > 0) this.schedule();
    });
  }

  private flush(): void {
    const batch = this.queue.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    for (const item of batch) {
      this.db.exec('SAVEPOINT write');
      try {
        outcomes.push({ ok: true, value: item.work() });
        this.db.exec('RELEASE write');
      } catch (error) {
        this.db.exec('ROLLBACK TO write');
        this.db.exec('RELEASE write');
        outcomes.push({ ok: false, error });
      }
    }
    try {
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      for (const item of batch) item.reject(err);
      return;
    }
    this.stats.batches++;
    this.stats.writes += batch.length;
    const settle = () => batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
    if (!this.afterCommit) return settle();
    // Committed, not yet durable: answered once the sync is done; a failed sync fails them all
    // (what they wrote may be on disk or not: as with a COMMIT whose fsync failed).
    this.afterCommit().then(settle, (err: unknown) => {
      for (const item of batch) item.reject(err);
    });
  }
}

const committers = new WeakMap<DatabaseSync, GroupCommit>();

/** The one group committer of a database, shared by every store on it. */
export function groupCommitOf(db: DatabaseSync): GroupCommit {
  let committer = committers.get(db);
  if (!committer) {
    committer = new GroupCommit(db);
    committers.set(db, committer);
  }
  return committer;
}
