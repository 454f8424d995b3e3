// The search index as a follower of the rooms' logs: every message committed is indexed, even
// when the `rooms.activities` event that announced it (a Moleculer event, at most once) was
// lost with a node, or the index engine refused it for a while (Elasticsearch restarting).
// The same design as the webhooks' outbox (actors/notifications/room-outbox.ts).
//
// Each room has a checkpoint in the index, "applied up to seq" (SearchIndex.checkpoints). It
// is only raised to a seq after everything up to there was written to the index by whoever
// raises it, so it is true whoever wrote it and whenever; a low one (lost with a node, flushed
// late) costs a repeated write of the same versions, never a missing message. Activities of
// a room are applied one batch at a time (the KeyedQueue the search actor shares with its
// rebuild); across nodes the index's versions order the writes.
//
// An announcement whose first seq is past the checkpoint + 1 (something before it was lost)
// is applied by reading the log from the checkpoint. A room whose apply failed is "behind":
// its later announcements only note their seq, and a retry (backoff 1 s doubling to 30 s)
// catches it up from the log, so an engine outage costs one failed write per room, not one
// per message. A sweep of every room this node owns (at start-up and every `sweepSeconds`)
// compares heads with checkpoints: the repair for what no announcement ever reached.
// Costs: a checkpoint read per room not seen since start (then cached), checkpoint writes
// batched every FLUSH_MS, a sweep O(rooms) in pages of heads and checkpoints.
import type { SearchIndex } from '../../storage/interfaces.ts';
import type { Activity } from '../../storage/records.ts';
import type { KeyedQueue } from '../keyed-queue.ts';
import type { RoomLogReader } from '../room-log-reader.ts';

export interface IndexFollowerOptions {
  index: SearchIndex;
  log: RoomLogReader;
  /** The search actor's per-room queue (also its rebuild's). */
  rooms: KeyedQueue;
  /** Writes one room's activities, in order, into the index; throws when the index refused them. */
  apply: (activities: Activity[]) => Promise<void>;
  /** Whether this node owns the room now (the one that sweeps it). */
  owns: (roomId: string) => boolean;
  warn: (err: unknown, message: string, fields?: Record<string, unknown>) => void;
  /** Hears the number of rooms known to be behind whenever it changes (the metric). */
  onBehind?: (rooms: number) => void;
}

const FLUSH_MS = 500;
const PAGE = 200;
const SWEEP_PAGE = 500;
const MAX_CACHED = 50_000;
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

export class IndexFollower {
  private readonly options: IndexFollowerOptions;

  /** Checkpoints known here (read, or raised by this node). */
  private readonly known = new Map<string, number>();

  /** Raises not written yet. */
  private readonly unflushed = new Map<string, number>();

  /** Rooms whose apply failed: the newest seq announced since. */
  private readonly behind = new Map<string, number>();

  private flushTimer: NodeJS.Timeout | undefined;

  private retryTimer: NodeJS.Timeout | undefined;

  private retryMs = RETRY_FIRST_MS;

  private sweeping = false;

  constructor(options: IndexFollowerOptions) {
    this.options = options;
  }

  /** One room's committed activities, as `rooms.activities` announced them. */
  announced(roomId: string, activities: Activity[]): Promise<void> {
    const last = activities[activities.length - 1].seq;
    return this.options.rooms.run(roomId, async () => {
      const stalled = this.behind.get(roomId);
      if (stalled !== undefined) {
        this.behind.set(roomId, Math.max(stalled, last));
        return;
      }
      try {
        const checkpoint = await this.checkpointOf(roomId);
        if (last <= checkpoint) return;
        if (activities[0].seq > checkpoint + 1) await this.readAndApply(roomId, checkpoint, last);
        else {
          await this.options.apply(activities.filter((activity) => activity.seq > checkpoint));
          this.raise(roomId, last);
        }
      } catch (err) {
        this.fellBehind(roomId, last, err);
      }
    });
  }

  /** After a rebuild of the room read at `head`: everything up to it is in the index. */
  rebuilt(roomId: string, head: number): void {
    this.raise(roomId, head);
  }

  /** How far the index is behind the logs of these rooms: rooms behind, and activities not applied. */
  async lagOf(roomIds: string[]): Promise<{ rooms: number; activities: number }> {
    let rooms = 0;
    let activities = 0;
    for (let start = 0; start < roomIds.length; start += SWEEP_PAGE) {
      const page = roomIds.slice(start, start + SWEEP_PAGE);
      const [heads, checkpoints] = await Promise.all([this.options.log.heads(page), this.checkpointsOf(page)]);
      for (const roomId of page) {
        const missing = (heads.get(roomId) ?? 0) - (checkpoints.get(roomId) ?? 0);
        if (missing > 0) {
          rooms++;
          activities += missing;
        }
      }
    }
    return { rooms, activities };
  }

  /** Every room this node owns whose head is past its checkpoint is caught up. */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      for (let after: string | undefined, first = true; first || after !== undefined; first = false) {
        const page = await this.options.log.roomIds({ max: SWEEP_PAGE, ...(after ? { after } : {}) });
        const mine = page.items.filter((roomId) => this.options.owns(roomId));
        if (mine.length > 0) {
          const [heads, checkpoints] = await Promise.all([this.options.log.heads(mine), this.options.index.checkpoints(mine)]);
          for (const roomId of mine) {
            const head = heads.get(roomId) ?? 0;
            const checkpoint = Math.max(checkpoints.get(roomId) ?? 0, this.known.get(roomId) ?? 0);
            this.remember(roomId, checkpoint);
            if (head > checkpoint) await this.catchUp(roomId, head);
          }
        }
        after = page.next;
      }
    } catch (err) {
      this.options.warn(err, 'the search index sweep stopped; the next one goes on');
    } finally {
      this.sweeping = false;
    }
  }

  /** Writes the raised checkpoints now (before stopping). */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.unflushed.size === 0) return;
    const batch = new Map(this.unflushed);
    this.unflushed.clear();
    try {
      await this.options.index.raiseCheckpoints(batch);
    } catch (err) {
      // Kept for the next flush, unless raised again meanwhile.
      for (const [roomId, seq] of batch) this.unflushed.set(roomId, Math.max(seq, this.unflushed.get(roomId) ?? 0));
      this.scheduleFlush();
      this.options.warn(err, 'writing search index checkpoints failed; retried');
    }
  }

  stop(): void {
    clearTimeout(this.retryTimer);
    clearTimeout(this.flushTimer);
  }

  /** Applies the room's log up to `upto` from its checkpoint, in its queue. */
  private catchUp(roomId: string, upto: number): Promise<void> {
    return this.options.rooms.run(roomId, async () => {
      try {
        const checkpoint = await this.checkpointOf(roomId);
        if (upto > checkpoint) await this.readAndApply(roomId, checkpoint, upto);
        this.behind.delete(roomId);
        this.options.onBehind?.(this.behind.size);
      } catch (err) {
        this.fellBehind(roomId, upto, err);
      }
    });
  }

  /** Reads afterSeq < seq <= upto from the log, page by page, applying and raising as it goes. */
  private async readAndApply(roomId: string, afterSeq: number, upto: number): Promise<void> {
    for (let from = afterSeq; from < upto;) {
      const page = await this.options.log.activities(roomId, from, upto, PAGE);
      if (page.activities.length > 0) await this.options.apply(page.activities);
      if (page.upTo <= from) break; // the log holds no more (a room deleted meanwhile)
      from = page.upTo;
      this.raise(roomId, from);
    }
  }

  private fellBehind(roomId: string, seq: number, err: unknown): void {
    const first = !this.behind.has(roomId);
    this.behind.set(roomId, Math.max(seq, this.behind.get(roomId) ?? 0));
    if (first) {
      this.options.warn(err, 'indexing a room failed; it is caught up from its log when the index answers again', { roomId });
      this.options.onBehind?.(this.behind.size);
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => void this.retry(), this.retryMs);
    this.retryTimer.unref();
  }

  private async retry(): Promise<void> {
    this.retryTimer = undefined;
    for (const [roomId, seq] of [...this.behind]) await this.catchUp(roomId, seq);
    if (this.behind.size > 0) {
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
      this.scheduleRetry();
    } else this.retryMs = RETRY_FIRST_MS;
  }

  private async checkpointOf(roomId: string): Promise<number> {
    const known = this.known.get(roomId);
    if (known !== undefined) return known;
    const read = (await this.options.index.checkpoints([roomId])).get(roomId) ?? 0;
    this.remember(roomId, read);
    return this.known.get(roomId)!;
  }

  private async checkpointsOf(roomIds: string[]): Promise<Map<string, number>> {
    const stored = await this.options.index.checkpoints(roomIds);
    return new Map(roomIds.map((roomId) => [roomId, Math.max(stored.get(roomId) ?? 0, this.known.get(roomId) ?? 0)]));
  }

  private raise(roomId: string, seq: number): void {
    this.remember(roomId, seq);
    if (seq > (this.unflushed.get(roomId) ?? 0)) this.unflushed.set(roomId, seq);
    this.scheduleFlush();
  }

  private remember(roomId: string, seq: number): void {
    if (seq <= (this.known.get(roomId) ?? -1)) return;
    if (!this.known.has(roomId) && this.known.size >= MAX_CACHED) this.known.delete(this.known.keys().next().value!);
    this.known.set(roomId, seq);
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => void this.flush(), FLUSH_MS);
    this.flushTimer.unref();
  }
}
