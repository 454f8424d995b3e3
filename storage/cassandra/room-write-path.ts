// The fenced write path of the RoomStore on Cassandra: commit, repair, and the heads that
// depend on repair. The design (fencing, state application, repair) is described in
// README.md next to this file; the short version:
//
//  1. `room_heads` holds one row per room: `head` is the fencing token, moved only by a
//     lightweight transaction `UPDATE … SET head = last, pending = ? IF head = first - 1` (or
//     `INSERT … IF NOT EXISTS` for seq 1) at SERIAL. Paxos makes that compare-and-set
//     linearizable across every process, so for each head value exactly one write wins; a
//     writer that lost the LWT has written nothing and gets SequenceConflictError.
//  2. The winning LWT stores, in the same row and the same Paxos commit, the whole write as
//     `pending` (activities, changes, and the facts read to apply them). From that moment the
//     write is durable: whoever finds `room_applied` behind `head` can apply it.
//  3. Only then are the activity rows and the state tables written (size-bounded logged
//     batches at LOCAL_QUORUM), and last `room_applied = last seq`.
//  4. Every state mutation of a write carries the write timestamp TS_BASE + its last seq,
//     not the wall clock. Cassandra resolves cells by timestamp, so re-applying a write is
//     idempotent, and a stale writer that won seq N, stalled, and applied after a repairer
//     and a later write N+1 cannot overwrite anything N+1 wrote: its cells are older.
//  5. Before a write may overwrite `pending`, the previous write must be applied: `commit`
//     checks (or remembers, for rooms this instance just wrote) and repairs first. `head()`
//     and `heads()` repair as well, so a head they return always has its activities and
//     state readable.
import { randomUUID } from 'node:crypto';
import { SequenceConflictError } from '../interfaces.ts';
import type { RoomChange, RoomWrite, UnappliedWrite } from '../interfaces.ts';
import { mentionKeys, type Activity, type MessageRecord, type RoomRecord } from '../records.ts';
import { type Db, MutationSet, mapLimit, num, parseDoc, remove, upsert } from './db.ts';
import { membershipRemovals, mutationsOf, type Facts } from './room-mutations.ts';
import { ROOM_WIDE } from './room-reads.ts';
import { seqBucket } from './schema.ts';

/** 2020-01-01T00:00:00Z in microseconds: the write timestamp of a room write is TS_BASE + its last seq. */
export const TS_BASE = 1_577_836_800_000_000;
const writeTimestamp = (seq: number) => TS_BASE + seq;

const MAX_REMEMBERED = 50_000;
const APPLY_ATTEMPTS = 3;

/** The write as stored in room_heads.pending by the LWT that accepted it. */
interface Pending {
  id: string;
  activities: Activity[];
  changes: RoomChange[];
  facts: Facts;
}

export interface FencedWriteOptions {
  /** Fault injection for tests: runs after a write won the fence and before its state is applied. */
  afterFence?: (write: RoomWrite) => Promise<void>;
}

export class FencedRoomWriter {
  private readonly db: Db;
  private readonly ks: string;
  private readonly options: FencedWriteOptions;
  /** Rooms whose write ending at this seq this instance applied or saw applied. */
  private readonly applied = new Map<string, number>();

  constructor(db: Db, options: FencedWriteOptions = {}) {
    this.db = db;
    this.ks = db.ks;
    this.options = options;
  }

  async commit(write: RoomWrite): Promise<void> {
    const { roomId, activities } = write;
    if (activities.length === 0) throw new Error('a room write needs at least one activity (its sequence number fences it)');
    const first = activities[0].seq;
    for (let i = 0; i < activities.length; i++) {
      if (activities[i].roomId !== roomId || activities[i].seq !== first + i || !Number.isSafeInteger(activities[i].seq) || first < 1) {
        throw new SequenceConflictError(roomId, activities[i].seq);
      }
    }
    const last = first + activities.length - 1;

    // The previous write must be applied before this one may replace `pending` (seq 1 has
    // no previous write; its INSERT … IF NOT EXISTS fences it alone).
    if (first > 1 && this.applied.get(roomId) !== first - 1) {
      const row = await this.db.serialRead(`SELECT head, pending FROM ${this.ks}.room_heads WHERE room_id = ?`, [roomId]);
      const head = row ? num(row.head) : 0;
      if (head !== first - 1) throw new SequenceConflictError(roomId, first);
      if (row) await this.ensureApplied(roomId, head, row.pending as string);
    }

    const pending: Pending = { id: randomUUID(), activities, changes: write.changes, facts: await this.readFacts(write.changes) };
    const json = JSON.stringify(pending);
    let won: boolean;
    try {
      won = first === 1
        ? (await this.db.lwt(`INSERT INTO ${this.ks}.room_heads (room_id, head, pending) VALUES (?, ?, ?) IF NOT EXISTS`, [roomId, last, json])).applied
        : (await this.db.lwt(`UPDATE ${this.ks}.room_heads SET head = ?, pending = ? WHERE room_id = ? IF head = ?`, [last, json, roomId, first - 1])).applied;
    } catch (err) {
      // A timed-out LWT has an unknown outcome: a linearizable read tells whether ours is in.
      const row = await this.db.serialRead(`SELECT head, pending FROM ${this.ks}.room_heads WHERE room_id = ?`, [roomId]).catch(() => undefined);
      if (!row || num(row.head) !== last || (parseDoc<Pending>(row, 'pending')?.id !== pending.id)) throw err;
      won = true;
    }
    if (!won) {
      this.applied.delete(roomId);
      throw new SequenceConflictError(roomId, first);
    }

    await this.options.afterFence?.(write);
    // The write is durable in room_heads now; applying it is idempotent, so retry transient failures.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.apply(roomId, pending);
        break;
      } catch (err) {
        if (attempt >= APPLY_ATTEMPTS) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  /** Applies the write that set `head` unless room_applied says it already is. */
  private async ensureApplied(roomId: string, head: number, pendingJson: string | null): Promise<void> {
    const applied = num((await this.db.first(`SELECT seq FROM ${this.ks}.room_applied WHERE room_id = ?`, [roomId]))?.seq);
    if (applied < head && pendingJson) await this.apply(roomId, JSON.parse(pendingJson) as Pending);
    else this.remember(roomId, head);
  }

  private remember(roomId: string, seq: number): void {
    this.applied.delete(roomId);
    this.applied.set(roomId, seq);
    if (this.applied.size > MAX_REMEMBERED) this.applied.delete(this.applied.keys().next().value!);
  }

  /** Reads what the changes' mutations depend on (previous versions of what they replace or delete). */
  private async readFacts(changes: RoomChange[]): Promise<Facts> {
    const facts: Facts = { messages: {}, memberships: {} };
    const messageIds = new Set<string>();
    const membershipIds = new Set<string>();
    for (const change of changes) {
      if (change.op === 'putMessage') messageIds.add(change.message.id);
      else if (change.op === 'deleteMessage') messageIds.add(change.id);
      else if (change.op === 'putMembership') membershipIds.add(change.membership.id);
      else if (change.op === 'deleteMembership') membershipIds.add(change.id);
    }
    await Promise.all([
      mapLimit([...messageIds], 16, async (id) => {
        const message = parseDoc<MessageRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.messages WHERE id = ?`, [id]));
        facts.messages[id] = message ? { roomId: message.roomId, seq: message.seq, ord: message.ord, parentId: message.parentId, mentionedPeople: mentionKeys(message) } : null;
      }),
      mapLimit([...membershipIds], 16, async (id) => {
        const row = await this.db.first(`SELECT room_id, person_id FROM ${this.ks}.memberships WHERE id = ?`, [id]);
        facts.memberships[id] = row ? { roomId: row.room_id as string, personId: row.person_id as string } : null;
      }),
    ]);
    return facts;
  }

  /** Writes a fenced write's activities and state, then marks it applied. Idempotent. */
  private async apply(roomId: string, pending: Pending): Promise<void> {
    const last = pending.activities[pending.activities.length - 1].seq;
    const ts = writeTimestamp(last);
    const set = new MutationSet();
    for (const a of pending.activities) {
      set.add(upsert('activities', { room_id: roomId, bucket: seqBucket(a.seq), seq: a.seq }, { event: a.event, subject_id: a.subjectId, doc: JSON.stringify(a) }));
      if ((a.event === 'membership.created' || a.event === 'membership.deleted') && a.subjectId) {
        set.add(upsert('membership_events', { room_id: roomId, subject_id: a.subjectId, seq: a.seq }, { event: a.event }));
      } else if (a.event === 'room.deleted') {
        set.add(upsert('membership_events', { room_id: roomId, subject_id: ROOM_WIDE, seq: a.seq }, { event: a.event }));
      }
    }
    const messages = new Map(Object.entries(pending.facts.messages));
    const memberships = new Map(Object.entries(pending.facts.memberships));
    const deletedRooms: string[] = [];
    const clocked = new MutationSet();
    for (const change of pending.changes) mutationsOf(change, set, clocked, messages, memberships, deletedRooms);
    await Promise.all([this.db.mutate(set.list, ts), this.db.mutate(clocked.list)]);
    for (const deleted of deletedRooms) await this.purgeRoom(deleted, ts);
    await this.db.run(`INSERT INTO ${this.ks}.room_applied (room_id, seq) VALUES (?, ?)`, [roomId, last], { timestamp: ts });
    this.remember(roomId, last);
  }

  /**
   * Deletes a room's state. Item rows first (found through the room's listing partitions),
   * the listing partitions and the room row last, so a purge cut short is finished by
   * re-running it (repair re-applies the write, and this re-reads what is left).
   */
  private async purgeRoom(roomId: string, ts: number): Promise<void> {
    const room = parseDoc<RoomRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.rooms WHERE id = ?`, [roomId]));
    const items = new MutationSet();
    for (const row of await this.db.rows(`SELECT id, person_id FROM ${this.ks}.memberships_by_room WHERE room_id = ?`, [roomId])) {
      membershipRemovals(row.id as string, { roomId, personId: row.person_id as string }, items);
    }
    if (room?.teamId) items.add(remove('rooms_by_team', { team_id: room.teamId, room_id: roomId }));
    for (const row of await this.db.rows(`SELECT person_id FROM ${this.ks}.departures_by_room WHERE room_id = ?`, [roomId])) {
      items.add(remove('departures_by_person', { person_id: row.person_id as string, room_id: roomId }));
    }
    for (const row of await this.db.rows(`SELECT id FROM ${this.ks}.room_tabs_by_room WHERE room_id = ?`, [roomId])) items.add(remove('room_tabs', { id: row.id as string }));
    await this.db.mutate(items.list, ts);

    const buckets = (await this.db.rows(`SELECT bucket FROM ${this.ks}.message_buckets WHERE room_id = ?`, [roomId])).map((row) => num(row.bucket));
    const parents = new Set<string>();
    const mentioned = new Set<string>();
    for (const bucket of buckets) {
      const messages = new MutationSet();
      for await (const row of this.db.each(`SELECT doc FROM ${this.ks}.messages_by_room WHERE room_id = ? AND bucket = ?`, [roomId, bucket], 500)) {
        const m = parseDoc<MessageRecord>(row)!;
        messages.add(remove('messages', { id: m.id }));
        if (m.parentId) parents.add(m.parentId);
        for (const key of mentionKeys(m)) mentioned.add(key);
      }
      await this.db.mutate(messages.list, ts);
    }
    const partitions = new MutationSet();
    for (const parentId of parents) partitions.add(remove('message_replies', { parent_id: parentId }));
    for (const personId of mentioned) partitions.add(remove('mentions', { room_id: roomId, person_id: personId }));
    await this.db.mutate(partitions.list, ts);

    const listings = new MutationSet();
    listings.add(remove('memberships_by_room', { room_id: roomId }));
    listings.add(remove('room_tabs_by_room', { room_id: roomId }));
    for (const bucket of buckets) listings.add(remove('messages_by_room', { room_id: roomId, bucket }));
    listings.add(remove('message_buckets', { room_id: roomId }));
    listings.add(remove('message_deletions', { room_id: roomId }));
    listings.add(remove('departures_by_room', { room_id: roomId }));
    listings.add(remove('rooms', { id: roomId }));
    await this.db.mutate(listings.list, ts);
  }

  async head(roomId: string): Promise<number> {
    const [headRow, appliedRow] = await Promise.all([
      this.db.first(`SELECT head FROM ${this.ks}.room_heads WHERE room_id = ?`, [roomId]),
      this.db.first(`SELECT seq FROM ${this.ks}.room_applied WHERE room_id = ?`, [roomId]),
    ]);
    if (!headRow) return 0;
    const head = num(headRow.head);
    if (num(appliedRow?.seq) >= head) {
      this.remember(roomId, head);
      return head;
    }
    // The last write won its fence but its state is not (yet) all written: its writer is
    // still at it, or died. Applying it again is harmless either way, and makes the head we
    // return readable.
    const row = await this.db.first(`SELECT head, pending FROM ${this.ks}.room_heads WHERE room_id = ?`, [roomId]);
    const pending = parseDoc<Pending>(row, 'pending');
    if (pending) await this.apply(roomId, pending);
    return num(row?.head);
  }

  async unappliedWrite(roomId: string): Promise<UnappliedWrite | undefined> {
    const [headRow, appliedRow] = await Promise.all([
      this.db.first(`SELECT head, pending FROM ${this.ks}.room_heads WHERE room_id = ?`, [roomId]),
      this.db.first(`SELECT seq FROM ${this.ks}.room_applied WHERE room_id = ?`, [roomId]),
    ]);
    const appliedSeq = num(appliedRow?.seq);
    if (!headRow || appliedSeq >= num(headRow.head)) return undefined;
    const pending = parseDoc<Pending>(headRow, 'pending');
    if (!pending || pending.activities.length === 0) return undefined;
    return {
      firstSeq: pending.activities[0].seq, lastSeq: pending.activities[pending.activities.length - 1].seq,
      appliedSeq, events: pending.activities.map((activity) => activity.event),
    };
  }

  async heads(roomIds: string[]): Promise<Map<string, number>> {
    const values = await mapLimit(roomIds, 32, (roomId) => this.head(roomId));
    return new Map(roomIds.map((roomId, i) => [roomId, values[i]]));
  }

  async claimDirectRoom(directKey: string, roomId: string, replacing?: string): Promise<string> {
    // Its own table: claims are only ever written by lightweight transactions.
    const claim = replacing
      ? await this.db.lwt(`UPDATE ${this.ks}.direct_claims SET room_id = ? WHERE direct_key = ? IF room_id = ?`, [roomId, directKey, replacing])
      : await this.db.lwt(`INSERT INTO ${this.ks}.direct_claims (direct_key, room_id) VALUES (?, ?) IF NOT EXISTS`, [directKey, roomId]);
    if (claim.applied) return roomId;
    const holder = claim.row?.room_id;
    if (typeof holder === 'string') return holder;
    const row = await this.db.serialRead(`SELECT room_id FROM ${this.ks}.direct_claims WHERE direct_key = ?`, [directKey]);
    return String(row?.room_id);
  }
}
