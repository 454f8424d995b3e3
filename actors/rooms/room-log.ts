// The single writer of each room: assigns the room's next sequence numbers, commits the
// activities with the state they leave, then publishes them to the fan-out, one write at a
// time per room so that publish order is sequence order. A keyed write (Idempotency-Key)
// commits its answer with it, and a retry of it is answered from the store.
import { IdempotencyKeyTakenError, SequenceConflictError } from '../../storage/interfaces.ts';
import { recordOf, replayOf, type KeyedRequest } from '../idempotent-writes.ts';
import { KeyedQueue } from '../keyed-queue.ts';
import { METRIC, NO_METRICS, type MetricSink } from '../../contracts/metrics.ts';
import { personTopic, roomTopic, type Fanout, type ReadReceipt } from '../../routing/fanout/fanout.ts';
import { orgHourOf, type RoomChange, type RoomStore } from '../../storage/interfaces.ts';
import type { Activity } from '../../storage/records.ts';

export type ActivityDraft = Omit<Activity, 'roomId' | 'seq' | 'created'>;

export interface RoomWritePlan<T> {
  activities: ActivityDraft[];
  changes: RoomChange[];
  result: T;
  /**
   * Runs after the commit and its publication, still in the room's queue, before the next
   * write of the room is planned: upkeep of derived state kept outside the log (read
   * positions, read-tracker.ts). It must not throw: the write is committed and answered.
   */
  after?: () => Promise<void>;
}

/** Builds a write from the room's current state; runs inside the room's queue. */
export type PlanWrite<T> = (firstSeq: number, now: string) => Promise<RoomWritePlan<T>>;

const MAX_CACHED_HEADS = 50_000;
const CONFLICT_RETRIES = 3;

/** Fault injection for tests only (wired from the environment by cluster/fault-injection.ts). */
export interface RoomLogFaults {
  /** Runs after a keyed write committed and before its answer leaves. */
  afterKeyedCommit?: (key: string) => void;
}

export class RoomLog {
  private readonly queue: KeyedQueue;
  private readonly heads = new Map<string, number>();
  /** Each room's owning org (null: none), which never changes once the room exists. */
  private readonly orgs = new Map<string, string | null>();

  private readonly store: RoomStore;
  private readonly fanout: Fanout;
  private readonly committed: (activities: Activity[]) => void;
  private readonly faults: RoomLogFaults;
  private readonly metrics: MetricSink;

  /**
   * `committed` hears every committed write, in order (e.g. to feed the search index);
   * `metrics` gets the write queues' depth and each write's time from arrival to commit.
   */
  constructor(store: RoomStore, fanout: Fanout, committed: (activities: Activity[]) => void = () => undefined, faults: RoomLogFaults = {}, metrics: MetricSink = NO_METRICS) {
    this.store = store;
    this.fanout = fanout;
    this.committed = committed;
    this.faults = faults;
    this.metrics = metrics;
    this.queue = new KeyedQueue((queue) => {
      metrics.set(METRIC.roomWriteQueueTasks, queue.depth);
      metrics.set(METRIC.roomWriteQueueRooms, queue.size);
    });
  }

  /**
   * Runs work in the room's own write queue, between its writes: state kept beside the log
   * (a read position) is then ordered with the writes that also change it.
   */
  inRoomQueue<T>(roomId: string, task: () => Promise<T>): Promise<T> {
    return this.queue.run(roomId, task);
  }

  /** Tells the room's live members (the reader's devices among them) that a member read it. */
  publishReceipt(receipt: ReadReceipt): void {
    this.fanout.publish(roomTopic(receipt.roomId), receipt);
  }

  /** Serializes work on a key without writing (e.g. finding or creating a direct room). */
  exclusive<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.queue.run(`x:${key}`, task);
  }

  /**
   * Plans and commits a write. With `keyed`, the answer is committed with the write, and a
   * write of the same key found in the store is answered from it instead (or refused, for
   * another request). The check runs in the room's queue after a head read from the store
   * (which applies a pending write on Cassandra) and again after any conflict, so a retry
   * racing its original, on this node or another, never writes twice.
   */
  append<T>(roomId: string, plan: PlanWrite<T>, keyed?: KeyedRequest): Promise<T> {
    const arrived = performance.now();
    return this.queue.run(roomId, async () => {
      for (let attempt = 0; ; attempt++) {
        const head = keyed ? await this.store.head(roomId) : await this.head(roomId);
        if (keyed) {
          const record = await this.store.getIdempotency(keyed.personId, keyed.key);
          if (record) return replayOf(record, keyed) as T;
        }
        const now = new Date().toISOString();
        const { activities: drafts, changes, result, after } = await plan(head + 1, now);
        const activities: Activity[] = drafts.map((draft, i) => ({ ...draft, roomId, seq: head + 1 + i, created: now }));
        if (activities.length === 0) return result;
        if (keyed) changes.push({ op: 'putIdempotency', record: recordOf(keyed, result, now) });
        // The org's activity index (GET /v1/events), in the same commit as the activities it points to.
        const orgId = await this.orgOf(roomId, changes);
        if (orgId) changes.push({ op: 'indexOrgActivity', orgId, roomId, hour: orgHourOf(now), lastSeq: activities[activities.length - 1].seq });
        try {
          await this.store.commit({ roomId, activities, changes });
        } catch (err) {
          // Another node wrote this room since we cached its head: re-read and re-plan.
          this.heads.delete(roomId);
          if (err instanceof SequenceConflictError && attempt < CONFLICT_RETRIES) continue;
          // The key answers another write committed meanwhile: the next round replays or refuses.
          if (err instanceof IdempotencyKeyTakenError && keyed && attempt < CONFLICT_RETRIES) continue;
          throw err;
        }
        this.metrics.observe(METRIC.postToCommit, (performance.now() - arrived) / 1000);
        if (keyed) this.faults.afterKeyedCommit?.(keyed.key);
        this.remember(roomId, activities[activities.length - 1].seq);
        for (const activity of activities) this.publish(activity);
        this.committed(activities);
        await after?.();
        return result;
      }
    });
  }

  private publish(activity: Activity): void {
    this.fanout.publish(roomTopic(activity.roomId), activity);
    if (activity.subjectId) this.fanout.publish(personTopic(activity.subjectId), activity);
  }

  /** The room's org: from the write itself when it puts the room, else from the store (once per room). */
  private async orgOf(roomId: string, changes: RoomChange[]): Promise<string | undefined> {
    const put = changes.find((change) => change.op === 'putRoom');
    let orgId = put ? (put.room.orgId ?? null) : this.orgs.get(roomId);
    if (orgId === undefined) orgId = (await this.store.getRoom(roomId))?.orgId ?? null;
    this.orgs.delete(roomId);
    this.orgs.set(roomId, orgId);
    if (this.orgs.size > MAX_CACHED_HEADS) this.orgs.delete(this.orgs.keys().next().value!);
    return orgId ?? undefined;
  }

  private async head(roomId: string): Promise<number> {
    const cached = this.heads.get(roomId);
    if (cached !== undefined) return cached;
    return this.store.head(roomId);
  }

  private remember(roomId: string, head: number): void {
    this.heads.delete(roomId);
    this.heads.set(roomId, head);
    if (this.heads.size > MAX_CACHED_HEADS) this.heads.delete(this.heads.keys().next().value!);
  }
}
