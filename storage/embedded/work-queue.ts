// The embedded durable work queue on node:sqlite (its own file, e.g. <dataDir>/queues.db).
//
// A job is a row of `jobs`: `attempts` counts deliveries started, `available_at` (ms since
// the epoch) is when it may next be claimed. A consumer claims ready rows in one IMMEDIATE
// transaction, setting `available_at` to now + the visibility timeout and a fresh `lease`
// token: a row being handled is invisible to every other claim, and if its process dies the
// lease simply runs out and the job is claimed again (at least once). While a handler runs its
// leases are renewed, so a slow but live handler is never delivered twice. Completion and
// failure only touch the row while it still carries the consumer's lease.
//
// On failure of attempt n < maxAttempts the row gets available_at = now + backoffMs * 2^(n-1);
// at n = maxAttempts (or at once for a DeadLetterJobError) it moves to `dead_letters` with the
// error text, in one transaction. A DeferJobError gives the claimed attempt back (attempts − 1),
// counts the deferral (`defers`) and makes the row available again after a delay that grows
// with that count (storage/defer-backoff.ts). A job
// whose last attempt's lease ran out (the consumer died during it) is dead-lettered when next
// claimed instead of being delivered once more than maxAttempts.
//
// Consumers are timer-driven: they claim as many jobs as they have free slots, then sleep
// until the queue's next `available_at` (capped at `pollMs`, for jobs published by other
// processes on the same file); a publish in this process and every finished job wake them at
// once.
import { randomUUID } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { DeadLetterJobError, DeferJobError, type DeadLetter, type QueueOptions, type QueueStats, type WorkQueue } from '../interfaces.ts';
import { deferDelayMs } from '../defer-backoff.ts';
import { inTransaction, openDatabase, statementCache } from './sqlite.ts';

export const workQueueSchema = `
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, job TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, available_at INTEGER NOT NULL, lease TEXT, last_error TEXT,
  created_at INTEGER NOT NULL, defers INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (queue, available_at, id);
CREATE TABLE IF NOT EXISTS dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, job TEXT NOT NULL, attempts INTEGER NOT NULL,
  error TEXT NOT NULL, dead_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS dead_letters_by_queue ON dead_letters (queue, id);
`;

export interface SqliteWorkQueueOptions {
  /** Longest sleep between two looks at a queue with nothing ready (default 1000 ms). */
  pollMs?: number;
  /** How long a claimed job stays invisible without a lease renewal (default 30 s). */
  visibilityTimeoutMs?: number;
  /** Where unexpected internal errors go (default console.error). */
  onError?: (err: unknown) => void;
}

interface JobRow {
  id: number;
  job: string;
  attempts: number;
  defers: number;
  last_error: string | null;
}

interface Claimed {
  id: number;
  job: unknown;
  attempt: number;
  /** How many times the job was deferred before this delivery. */
  defers: number;
  lease: string;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return typeof err === 'string' ? err : JSON.stringify(err) ?? String(err);
}

export function serializeJob(job: unknown): string {
  const json = JSON.stringify(job);
  if (json === undefined) throw new TypeError('a job must be JSON-serializable (got undefined, a function or a symbol)');
  return json;
}

export class SqliteWorkQueue implements WorkQueue {
  private readonly db: DatabaseSync;
  private readonly sql;
  readonly pollMs: number;
  readonly visibilityTimeoutMs: number;
  readonly onError: (err: unknown) => void;
  private readonly consumers = new Set<Consumer>();
  private closed = false;

  /** The queue owns `db` (opened with `workQueueSchema`): `close()` closes it. */
  constructor(db: DatabaseSync, options: SqliteWorkQueueOptions = {}) {
    this.db = db;
    // A queues file from before deferrals were counted.
    const columns = (db.prepare('PRAGMA table_info(jobs)').all() as { name: string }[]).map((c) => c.name);
    if (!columns.includes('defers')) db.exec('ALTER TABLE jobs ADD COLUMN defers INTEGER NOT NULL DEFAULT 0');
    this.sql = statementCache(db);
    this.pollMs = options.pollMs ?? 1000;
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    this.onError = options.onError ?? ((err) => console.error('work queue:', err));
  }

  /** Opens (creating when missing) the queues in their own file, e.g. `<dataDir>/queues.db`. */
  static open(file: string, durableSync = false, options: SqliteWorkQueueOptions = {}): SqliteWorkQueue {
    return new SqliteWorkQueue(openDatabase({ file, durableSync, schema: workQueueSchema }), options);
  }

  async publish(queue: string, job: unknown): Promise<void> {
    this.assertOpen();
    const json = serializeJob(job);
    const now = Date.now();
    this.sql('INSERT INTO jobs (queue, job, attempts, available_at, created_at) VALUES (?, ?, 0, ?, ?)').run(queue, json, now, now);
    for (const consumer of this.consumers) if (consumer.queue === queue) consumer.wake();
  }

  async consume(queue: string, handler: (job: unknown, attempt: number) => Promise<void>, options: QueueOptions): Promise<() => Promise<void>> {
    this.assertOpen();
    if (!(options.maxAttempts >= 1) || !(options.concurrency >= 1) || !(options.backoffMs >= 0)) {
      throw new RangeError('QueueOptions: maxAttempts and concurrency must be >= 1, backoffMs >= 0');
    }
    const consumer = new Consumer(this, queue, handler, options);
    this.consumers.add(consumer);
    consumer.wake();
    let stopping: Promise<void> | undefined;
    return () => {
      stopping ??= consumer.stop().finally(() => this.consumers.delete(consumer));
      return stopping;
    };
  }

  async deadLetters(queue: string, max: number): Promise<DeadLetter[]> {
    this.assertOpen();
    const rows = this.sql('SELECT job, attempts, error FROM dead_letters WHERE queue = ? ORDER BY id LIMIT ?')
      .all(queue, Math.max(0, Math.floor(max))) as { job: string; attempts: number; error: string }[];
    return rows.map((r) => ({ job: JSON.parse(r.job), attempts: Number(r.attempts), error: r.error }));
  }

  async stats(queue: string): Promise<QueueStats> {
    this.assertOpen();
    const count = (sql: string, ...args: (string | number)[]) => Number((this.sql(sql).get(...args) as { n: number }).n);
    return {
      ready: count('SELECT count(*) AS n FROM jobs WHERE queue = ? AND available_at <= ?', queue, Date.now()),
      dead: count('SELECT count(*) AS n FROM dead_letters WHERE queue = ?', queue),
    };
  }

  async requeueDeadLetters(queue: string, max: number): Promise<number> {
    this.assertOpen();
    const moved = inTransaction(this.db, () => {
      const rows = this.sql('SELECT id, job FROM dead_letters WHERE queue = ? ORDER BY id LIMIT ?')
        .all(queue, Math.max(0, Math.floor(max))) as { id: number; job: string }[];
      const now = Date.now();
      for (const row of rows) {
        this.sql('INSERT INTO jobs (queue, job, attempts, available_at, created_at) VALUES (?, ?, 0, ?, ?)').run(queue, row.job, now, now);
        this.sql('DELETE FROM dead_letters WHERE id = ?').run(row.id);
      }
      return rows.length;
    });
    if (moved > 0) for (const consumer of this.consumers) if (consumer.queue === queue) consumer.wake();
    return moved;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.stop()));
    this.consumers.clear();
    if (this.db.isOpen) this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('work queue is closed');
  }

  // ---- used by Consumer

  /** Claims up to `limit` ready jobs of `queue` (dead-lettering those whose last attempt expired). */
  claim(queue: string, limit: number, maxAttempts: number): Claimed[] {
    const now = Date.now();
    return inTransaction(this.db, () => {
      const rows = this.sql('SELECT id, job, attempts, defers, last_error FROM jobs WHERE queue = ? AND available_at <= ? ORDER BY available_at, id LIMIT ?')
        .all(queue, now, limit) as unknown as JobRow[];
      const claimed: Claimed[] = [];
      for (const row of rows) {
        const attempts = Number(row.attempts);
        if (attempts >= maxAttempts) {
          const error = `attempt ${attempts} did not finish within the visibility timeout (its consumer stopped or died)${row.last_error ? `; last error: ${row.last_error}` : ''}`;
          this.sql('INSERT INTO dead_letters (queue, job, attempts, error, dead_at) VALUES (?, ?, ?, ?, ?)').run(queue, row.job, attempts, error, now);
          this.sql('DELETE FROM jobs WHERE id = ?').run(row.id);
          continue;
        }
        const lease = randomUUID();
        this.sql('UPDATE jobs SET attempts = attempts + 1, available_at = ?, lease = ? WHERE id = ?').run(now + this.visibilityTimeoutMs, lease, row.id);
        claimed.push({ id: Number(row.id), job: JSON.parse(row.job), attempt: attempts + 1, defers: Number(row.defers), lease });
      }
      return claimed;
    });
  }

  /** When the queue's next job becomes claimable (ready, retrying or leased), if any. */
  nextAvailableAt(queue: string): number | undefined {
    const row = this.sql('SELECT MIN(available_at) AS at FROM jobs WHERE queue = ?').get(queue) as { at: number | null };
    return row.at === null ? undefined : Number(row.at);
  }

  renew(jobs: Iterable<Claimed>): void {
    const until = Date.now() + this.visibilityTimeoutMs;
    for (const job of jobs) this.sql('UPDATE jobs SET available_at = ? WHERE id = ? AND lease = ?').run(until, job.id, job.lease);
  }

  complete(job: Claimed): void {
    this.sql('DELETE FROM jobs WHERE id = ? AND lease = ?').run(job.id, job.lease);
  }

  /** Back in the queue after a wait from `baseMs` that grows with its deferrals, its attempt not spent (claim counted it: given back). */
  defer(job: Claimed, baseMs: number): void {
    const delayMs = deferDelayMs(baseMs, job.defers + 1);
    this.sql('UPDATE jobs SET attempts = attempts - 1, defers = defers + 1, available_at = ?, lease = NULL WHERE id = ? AND lease = ?').run(Date.now() + delayMs, job.id, job.lease);
  }

  /** A failed attempt: retried after its backoff, or dead-lettered after the last attempt (or at once when `final`). */
  fail(queue: string, job: Claimed, error: string, options: QueueOptions, final = false): void {
    const now = Date.now();
    inTransaction(this.db, () => {
      if (final || job.attempt >= options.maxAttempts) {
        const row = this.sql('SELECT job FROM jobs WHERE id = ? AND lease = ?').get(job.id, job.lease) as { job: string } | undefined;
        if (!row) return; // lease lost: another consumer owns the job now
        this.sql('INSERT INTO dead_letters (queue, job, attempts, error, dead_at) VALUES (?, ?, ?, ?, ?)').run(queue, row.job, job.attempt, error, now);
        this.sql('DELETE FROM jobs WHERE id = ?').run(job.id);
      } else {
        const delay = options.backoffMs * 2 ** (job.attempt - 1);
        this.sql('UPDATE jobs SET available_at = ?, lease = NULL, last_error = ? WHERE id = ? AND lease = ?').run(now + delay, error, job.id, job.lease);
      }
    });
  }
}

class Consumer {
  readonly queue: string;
  private readonly owner: SqliteWorkQueue;
  private readonly handler: (job: unknown, attempt: number) => Promise<void>;
  private readonly options: QueueOptions;
  private readonly inFlight = new Map<Claimed, Promise<void>>();
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private readonly renewal: NodeJS.Timeout;

  constructor(owner: SqliteWorkQueue, queue: string, handler: (job: unknown, attempt: number) => Promise<void>, options: QueueOptions) {
    this.owner = owner;
    this.queue = queue;
    this.handler = handler;
    this.options = options;
    this.renewal = setInterval(() => {
      if (this.inFlight.size === 0) return;
      try {
        this.owner.renew(this.inFlight.keys());
      } catch (err) {
        this.owner.onError(err);
      }
    }, Math.max(10, Math.floor(owner.visibilityTimeoutMs / 3)));
  }

  /** Looks at the queue as soon as possible. */
  wake(): void {
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const due = Date.now() + delayMs;
    if (this.timer && this.timerDue <= due) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      this.poll();
    }, delayMs);
  }

  private poll(): void {
    if (this.stopped) return;
    const free = this.options.concurrency - this.inFlight.size;
    if (free <= 0) return; // a finishing job wakes us
    let claimed: Claimed[];
    try {
      claimed = this.owner.claim(this.queue, free, this.options.maxAttempts);
    } catch (err) {
      this.owner.onError(err);
      this.schedule(this.owner.pollMs);
      return;
    }
    for (const job of claimed) this.inFlight.set(job, this.run(job));
    if (this.inFlight.size >= this.options.concurrency) return; // a finishing job wakes us
    const next = this.owner.nextAvailableAt(this.queue);
    const wait = next === undefined ? this.owner.pollMs : Math.min(this.owner.pollMs, Math.max(0, next - Date.now()));
    this.schedule(wait);
  }

  private async run(job: Claimed): Promise<void> {
    try {
      await Promise.resolve().then(() => this.handler(job.job, job.attempt));
      try {
        this.owner.complete(job);
      } catch (err) {
        this.owner.onError(err);
      }
    } catch (err) {
      try {
        if (err instanceof DeferJobError) this.owner.defer(job, err.delayMs ?? this.options.backoffMs);
        else this.owner.fail(this.queue, job, errorText(err), this.options, err instanceof DeadLetterJobError);
      } catch (internal) {
        this.owner.onError(internal);
      }
    } finally {
      this.inFlight.delete(job);
      this.wake();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
    clearInterval(this.renewal);
  }
}
