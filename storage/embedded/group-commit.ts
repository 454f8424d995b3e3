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
  /** Answered only once durable (false: derived data, answered at its COMMIT). */
  durable: boolean;
}

/** Thrown for every write after the sync of a committed batch failed: the disk lost writes. */
export class DurabilityLostError extends Error {
  constructor(cause: unknown) {
    super(`the database could not make its writes durable (${cause instanceof Error ? cause.message : String(cause)}): it takes no more writes; restart Squared once the disk is sound`, { cause });
    this.name = 'DurabilityLostError';
  }
}

export class GroupCommit {
  private queue: Pending[] = [];

  private scheduled = false;

  private readonly db: DatabaseSync;

  /** Batches flushed and writes in them since open: what the bench reports. */
  readonly stats = { batches: 0, writes: 0 };

  /** What makes a committed batch durable before it is answered (WalSync.sync), if the COMMIT does not. */
  private afterCommit: (() => Promise<void>) | undefined;

  /**
   * Set once a sync failed. Its batch is committed and readable but maybe not on disk, and the
   * WAL frames after a lost one are lost at recovery whatever later syncs say (recovery stops
   * at the first bad frame): no later write could be answered as durable. As PostgreSQL does
   * on a failed fsync, it takes none; a restart recovers from what is on disk.
   */
  private lost: DurabilityLostError | undefined;
  private onLost: ((err: DurabilityLostError) => void) | undefined;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  /** Each batch is answered only once `sync` (started after its COMMIT) has settled; `onLost` hears a failed one. */
  syncAfterCommit(sync: () => Promise<void>, onLost?: (err: DurabilityLostError) => void): void {
    this.afterCommit = sync;
    this.onLost = onLost;
  }

  /**
   * Runs `work` (synchronous statements on this database) in the next group transaction.
   * `durable: false` (derived data: read positions) answers it at its COMMIT, before the sync.
   */
  run<T>(work: () => T, { durable = true }: { durable?: boolean } = {}): Promise<T> {
    if (this.lost) return Promise.reject(this.lost);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject, durable });
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
    if (this.lost) {
      for (const item of batch) item.reject(this.lost);
      return;
    }
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
    const settle = (durable: boolean) => batch.forEach((item, i) => {
      if (item.durable !== durable) return;
      const outcome = outcomes[i];
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
    settle(false);
    if (!this.afterCommit) return settle(true);
    // Committed, not yet durable: answered once the sync is done. Refusals wait too: a keyed
    // retry refused here replays an answer that must be durable by then.
    this.afterCommit().then(() => settle(true), (err: unknown) => {
      this.lost ??= new DurabilityLostError(err);
      this.onLost?.(this.lost);
      for (const item of batch) if (item.durable) item.reject(this.lost);
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
