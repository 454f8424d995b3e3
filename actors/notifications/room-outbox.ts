// The room log as the webhooks' outbox: every activity committed is queued for delivery at
// least once, even when the node that heard `rooms.activities` (a Moleculer event, at most
// once) dies before the jobs are queued, or the queue refuses them for a while.
//
// Each room has a checkpoint, "dispatched up to seq": every activity at or before it has
// had its jobs durably queued. It is only ever moved to a seq after the jobs of everything
// up to there were accepted by the queue, so it is a true statement whoever wrote it and
// whenever; a checkpoint that is low (a write lost with a node, or flushed late) costs
// repeated deliveries, never a lost one. Activities of a room are handled one batch at a
// time (a KeyedQueue per room) on the node that owns the room: its rooms actor announces the
// room's commits to its own notifications instance (the registry prefers local handlers),
// so in steady state one node moves a room's checkpoint and each activity is queued once.
//
// Catching up reads the log from the checkpoint: when an announcement's first seq is past
// it (something before it was lost), and in a sweep of every room this node owns — at
// start-up, when a node was lost, and every `sweepSeconds`. Only activities created since
// the oldest active webhook was created, and within the replay window, can match anything:
// the start of what to read is found by a binary search of the log on `created`, so a room
// written while no webhook existed is skipped in O(log n) reads.
//
// Costs: with no active webhook, nothing but the webhook read each announcement already
// did (no checkpoint is read or written, sweeps stop at once). With webhooks, a checkpoint
// read per room the node has not seen yet and one write per room per flush interval. A
// sweep is O(rooms): a page of room ids, their heads and their checkpoints at a time.
import type { ResourceEvent } from '../../contracts/resource-events.ts';
import type { Activity } from '../../storage/records.ts';
import type { WebhookRecord, WebhookStore } from '../../storage/webhook-store.ts';
import { KeyedQueue } from '../keyed-queue.ts';
import type { RoomLogReader } from '../room-log-reader.ts';
import { resourceEventOf } from './room-activity-events.ts';
import type { Dispatcher } from './webhook-dispatch.ts';

export interface RoomOutboxOptions {
  store: WebhookStore;
  dispatcher: Dispatcher;
  log: RoomLogReader;
  /** Whether this node owns the room now (routing/owner-strategy.ts): the one that sweeps it. */
  owns: (roomId: string) => boolean;
  /** Activities older than this are never replayed. */
  replayWindowMs: number;
  warn: (err: unknown, message: string, fields?: Record<string, unknown>) => void;
  now?: () => number;
}

/** Checkpoints are written together, at most this often: a crash repeats at most this much of each room. */
const FLUSH_MS = 1000;
const PAGE = 200;
const SWEEP_PAGE = 500;
const MAX_CACHED = 50_000;
/** The binary search on `created` starts this much earlier: commit clocks of nodes may differ a little. */
const CLOCK_SKEW_MS = 60_000;

const eventsOf = (activities: Activity[]) => activities.map(resourceEventOf).filter((e): e is ResourceEvent => e !== undefined);

export class RoomOutbox {
  private readonly o: RoomOutboxOptions;
  private readonly now: () => number;
  private readonly queue = new KeyedQueue();
  /** What this node knows of each room's checkpoint (true, maybe lower than the store's). */
  private readonly known = new Map<string, number>();
  /** Checkpoints moved since the last flush. */
  private dirty = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private sweeping: Promise<void> | undefined;
  private sweepAgain = false;

  constructor(options: RoomOutboxOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
  }

  /** The live path: a batch of one room's consecutive activities, as the room log announced it. */
  committed(activities: Activity[]): Promise<void> {
    if (activities.length === 0) return Promise.resolve();
    const roomId = activities[0].roomId;
    return this.queue.run(roomId, async () => {
      const webhooks = await this.o.dispatcher.activeWebhooks();
      if (webhooks.length === 0) return;
      const first = activities[0].seq;
      const last = activities[activities.length - 1].seq;
      const checkpoint = await this.checkpoint(roomId);
      if (last <= checkpoint) return;
      let through = checkpoint;
      if (first > checkpoint + 1) {
        // Something before this batch was announced to a node that is gone, or queued while the queue refused.
        through = await this.replay(roomId, checkpoint, first - 1, webhooks).catch((err: unknown) => {
          this.o.warn(err, 'catching up a room before its new activities failed; the next sweep retries', { roomId });
          return checkpoint;
        });
      }
      await this.o.dispatcher.dispatch(eventsOf(activities.filter((a) => a.seq > checkpoint)), webhooks);
      // Past a gap still open, the checkpoint must wait for the catch-up.
      if (through >= first - 1) this.advance(roomId, last);
    });
  }

  /** Queues what the room's log holds past its checkpoint (or `stored`, a checkpoint read meanwhile, if higher), up to `head`. */
  catchUp(roomId: string, head: number, webhooks?: WebhookRecord[], stored = 0): Promise<void> {
    return this.queue.run(roomId, async () => {
      const active = webhooks ?? (await this.o.dispatcher.activeWebhooks());
      if (active.length === 0) return;
      // Both are true checkpoints, so the higher one is.
      const checkpoint = Math.max(await this.checkpoint(roomId), stored);
      if (head > checkpoint) await this.replay(roomId, checkpoint, head, active);
    });
  }

  /**
   * Catches up every room this node owns whose head is past its checkpoint. One sweep at a
   * time: a sweep asked for while one runs runs once more after it (the ownership it read
   * may have changed since).
   */
  sweep(): Promise<void> {
    if (this.sweeping) {
      this.sweepAgain = true;
      return this.sweeping;
    }
    this.sweeping = (async () => {
      do {
        this.sweepAgain = false;
        await this.sweepOnce().catch((err: unknown) => this.o.warn(err, 'a sweep of the rooms for undispatched activities failed; the next one retries'));
      } while (this.sweepAgain);
    })().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  /** Starts the periodic flush of the checkpoints. */
  start(): void {
    this.flushTimer = setInterval(() => void this.flush(), FLUSH_MS);
    this.flushTimer.unref();
  }

  /** Waits for a running sweep, then writes the last checkpoints. */
  async stop(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.sweeping;
    await this.flush();
  }

  /** Writes the checkpoints moved since the last flush; those that fail are kept for the next. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.dirty.size === 0) return;
      const batch = this.dirty;
      this.dirty = new Map();
      try {
        await this.o.store.putDispatchedUpTo(batch);
      } catch (err) {
        for (const [roomId, seq] of batch) if ((this.dirty.get(roomId) ?? -1) < seq) this.dirty.set(roomId, seq);
        this.o.warn(err, 'writing the webhook outbox checkpoints failed; kept for the next flush', { rooms: batch.size });
      }
    });
    return this.flushing;
  }

  private async sweepOnce(): Promise<void> {
    const webhooks = await this.o.dispatcher.activeWebhooks();
    if (webhooks.length === 0) return;
    let after: string | undefined;
    do {
      const page = await this.o.log.roomIds({ max: SWEEP_PAGE, ...(after ? { after } : {}) });
      const mine = page.items.filter((roomId) => this.o.owns(roomId));
      if (mine.length > 0) {
        const [heads, stored] = await Promise.all([this.o.log.heads(mine), this.o.store.dispatchedUpTo(mine)]);
        for (const roomId of mine) {
          const head = heads.get(roomId) ?? 0;
          const checkpoint = stored.get(roomId) ?? 0;
          if (head > Math.max(checkpoint, this.known.get(roomId) ?? 0)) await this.catchUp(roomId, head, webhooks, checkpoint);
        }
      }
      after = page.next;
    } while (after);
  }

  /**
   * Dispatches the activities in (after, upto] that may still match a webhook, a page at a
   * time, moving the checkpoint after each page; answers the seq it got through (upto,
   * unless the log answered less than its head promised).
   */
  private async replay(roomId: string, after: number, upto: number, webhooks: WebhookRecord[]): Promise<number> {
    const start = await this.firstSince(roomId, after, upto, this.floor(webhooks));
    let at = start - 1;
    if (at > after) this.advance(roomId, at);
    while (at < upto) {
      const page = await this.o.log.activities(roomId, at, upto, PAGE);
      if (page.activities.length === 0) break;
      await this.o.dispatcher.dispatch(eventsOf(page.activities), webhooks);
      at = page.upTo;
      this.advance(roomId, at);
    }
    return at;
  }

  /** The earliest `created` a replayed activity may have and still reach a webhook. */
  private floor(webhooks: WebhookRecord[]): number {
    const oldest = Math.min(...webhooks.map((w) => Date.parse(w.created)));
    return Math.max(oldest, this.now() - this.o.replayWindowMs) - CLOCK_SKEW_MS;
  }

  /** The first seq in (after, upto] created at `floor` or later (upto + 1 if none): the log is in commit order. */
  private async firstSince(roomId: string, after: number, upto: number, floor: number): Promise<number> {
    const createdAt = async (seq: number) => {
      const [activity] = (await this.o.log.activities(roomId, seq - 1, seq, 1)).activities;
      if (!activity) throw new Error(`the log of ${roomId} has no activity ${seq} below its head ${upto}`);
      return Date.parse(activity.created);
    };
    let lo = after + 1;
    let hi = upto;
    if (lo > hi || (await createdAt(lo)) >= floor) return lo;
    if ((await createdAt(hi)) < floor) return upto + 1;
    // created(lo) < floor <= created(hi)
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if ((await createdAt(mid)) < floor) lo = mid;
      else hi = mid;
    }
    return hi;
  }

  private async checkpoint(roomId: string): Promise<number> {
    const known = this.known.get(roomId);
    if (known !== undefined) return known;
    const stored = (await this.o.store.dispatchedUpTo([roomId])).get(roomId) ?? 0;
    this.remember(roomId, stored);
    return stored;
  }

  private advance(roomId: string, seq: number): void {
    this.remember(roomId, seq);
    this.dirty.set(roomId, seq);
  }

  private remember(roomId: string, seq: number): void {
    this.known.delete(roomId);
    this.known.set(roomId, seq);
    if (this.known.size > MAX_CACHED) this.known.delete(this.known.keys().next().value!);
  }
}
