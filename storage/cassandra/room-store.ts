// RoomStore on Cassandra. The design (fencing, state application, repair) is described in
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
import type { Page, RoomChange, RoomSort, RoomStore, RoomWrite } from '../interfaces.ts';
import type { Activity, MembershipRecord, MessageRecord, RoomRecord } from '../records.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { type Db, MutationSet, mapLimit, num, parseDoc, remove, upsert } from './db.ts';
import { seqBucket } from './schema.ts';

/** 2020-01-01T00:00:00Z in microseconds: the write timestamp of a room write is TS_BASE + its last seq. */
export const TS_BASE = 1_577_836_800_000_000;
const writeTimestamp = (seq: number) => TS_BASE + seq;

/** Subject of room-wide events in membership_events. */
const ROOM_WIDE = '*';
const MAX_REMEMBERED = 50_000;
const APPLY_ATTEMPTS = 3;

interface MessageFact { roomId: string; seq: number; parentId?: string; mentionedPeople?: string[] }
interface MembershipFact { roomId: string; personId: string }

/** What a write's state mutations depend on besides the write itself, read before the fence. */
interface Facts {
  messages: Record<string, MessageFact | null>;
  memberships: Record<string, MembershipFact | null>;
}

/** The write as stored in room_heads.pending by the LWT that accepted it. */
interface Pending {
  id: string;
  activities: Activity[];
  changes: RoomChange[];
  facts: Facts;
}

export interface RoomStoreOptions {
  /** Fault injection for tests: runs after a write won the fence and before its state is applied. */
  afterFence?: (write: RoomWrite) => Promise<void>;
  /** listRoomsOf sorted by time reads all of a person's rooms and sorts in memory, up to this many (default 10 000). */
  maxRoomsSortedInMemory?: number;
}

type ActivityRow = { seq: number; event: 'membership.created' | 'membership.deleted' | 'room.deleted' };

export class CassandraRoomStore implements RoomStore {
  private readonly db: Db;
  private readonly ks: string;
  private readonly options: RoomStoreOptions;
  /** Rooms whose write ending at this seq this instance applied or saw applied. */
  private readonly applied = new Map<string, number>();

  constructor(db: Db, options: RoomStoreOptions = {}) {
    this.db = db;
    this.ks = db.ks;
    this.options = options;
  }

  // ---- the fenced write path ---------------------------------------------------------------

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
        facts.messages[id] = message ? { roomId: message.roomId, seq: message.seq, parentId: message.parentId, mentionedPeople: message.mentionedPeople } : null;
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
    for (const change of pending.changes) this.mutationsOf(change, set, clocked, messages, memberships, deletedRooms);
    await Promise.all([this.db.mutate(set.list, ts), this.db.mutate(clocked.list)]);
    for (const deleted of deletedRooms) await this.purgeRoom(deleted, ts);
    await this.db.run(`INSERT INTO ${this.ks}.room_applied (room_id, seq) VALUES (?, ?)`, [roomId, last], { timestamp: ts });
    this.remember(roomId, last);
  }

  /**
   * The mutations of one change into `set` (written at the write's seq timestamp) or, for the
   * one table whose rows outlive a room, `clocked` (written at the wall-clock time).
   */
  private mutationsOf(change: RoomChange, set: MutationSet, clocked: MutationSet, messages: Map<string, MessageFact | null>,
    memberships: Map<string, MembershipFact | null>, deletedRooms: string[]): void {
    switch (change.op) {
      case 'putRoom': {
        const r = change.room;
        set.add(upsert('rooms', { id: r.id }, { doc: JSON.stringify(r) }));
        // teamId and directKey never change after creation (the rooms actor guarantees it);
        // the lookups are validated against the room on read all the same.
        if (r.teamId) set.add(upsert('rooms_by_team', { team_id: r.teamId, room_id: r.id }));
        // A direct key may name a later room after its room was deleted; seq timestamps of
        // two rooms are not comparable, so this pointer takes the wall clock (newest room wins)
        // and is never deleted (findDirectRoom checks that the room still exists).
        if (r.directKey) clocked.add(upsert('direct_rooms', { direct_key: r.directKey }, { room_id: r.id }));
        return;
      }
      case 'deleteRoom':
        // Read-dependent (all members and messages), so done after the other mutations, by purgeRoom.
        deletedRooms.push(change.roomId);
        return;
      case 'putMembership': {
        const m = change.membership;
        const previous = memberships.get(m.id);
        if (previous && (previous.roomId !== m.roomId || previous.personId !== m.personId)) this.membershipRemovals(m.id, previous, set);
        const doc = JSON.stringify(m);
        set.add(upsert('memberships', { id: m.id }, { room_id: m.roomId, person_id: m.personId, doc }));
        set.add(upsert('memberships_by_room', { room_id: m.roomId, id: m.id }, { person_id: m.personId, doc }));
        set.add(upsert('memberships_by_person', { person_id: m.personId, id: m.id }, { room_id: m.roomId, doc }));
        set.add(upsert('rooms_of_person', { person_id: m.personId, room_id: m.roomId }, { membership_id: m.id, doc }));
        memberships.set(m.id, { roomId: m.roomId, personId: m.personId });
        return;
      }
      case 'deleteMembership': {
        const previous = memberships.get(change.id);
        if (previous) this.membershipRemovals(change.id, previous, set);
        memberships.set(change.id, null);
        return;
      }
      case 'putMessage': {
        const m = change.message;
        const previous = messages.get(m.id);
        const mentioned = new Set(m.mentionedPeople ?? []);
        if (previous && (previous.roomId !== m.roomId || previous.seq !== m.seq || previous.parentId !== m.parentId)) {
          this.messageRemovals(m.id, previous, set);
        } else if (previous) {
          for (const personId of previous.mentionedPeople ?? []) {
            if (!mentioned.has(personId)) set.add(remove('mentions', { room_id: previous.roomId, person_id: personId, seq: previous.seq }));
          }
        }
        const doc = JSON.stringify(m);
        const bucket = seqBucket(m.seq);
        set.add(upsert('messages', { id: m.id }, { room_id: m.roomId, seq: m.seq, doc }));
        set.add(upsert('messages_by_room', { room_id: m.roomId, bucket, seq: m.seq }, { id: m.id, doc }));
        set.add(upsert('message_buckets', { room_id: m.roomId, bucket }));
        if (m.parentId) set.add(upsert('message_replies', { parent_id: m.parentId, seq: m.seq }, { room_id: m.roomId, id: m.id }));
        for (const personId of mentioned) set.add(upsert('mentions', { room_id: m.roomId, person_id: personId, seq: m.seq }, { message_id: m.id }));
        messages.set(m.id, { roomId: m.roomId, seq: m.seq, parentId: m.parentId, mentionedPeople: m.mentionedPeople });
        return;
      }
      case 'deleteMessage': {
        const previous = messages.get(change.id);
        if (previous) this.messageRemovals(change.id, previous, set);
        messages.set(change.id, null);
        return;
      }
      default: {
        const unknown: never = change;
        throw new Error(`unknown room change ${JSON.stringify(unknown)}`);
      }
    }
  }

  private membershipRemovals(id: string, m: MembershipFact, set: MutationSet): void {
    set.add(remove('memberships', { id }));
    set.add(remove('memberships_by_room', { room_id: m.roomId, id }));
    set.add(remove('memberships_by_person', { person_id: m.personId, id }));
    set.add(remove('rooms_of_person', { person_id: m.personId, room_id: m.roomId }));
  }

  private messageRemovals(id: string, m: MessageFact, set: MutationSet): void {
    set.add(remove('messages', { id }));
    set.add(remove('messages_by_room', { room_id: m.roomId, bucket: seqBucket(m.seq), seq: m.seq }));
    if (m.parentId) set.add(remove('message_replies', { parent_id: m.parentId, seq: m.seq }));
    for (const personId of m.mentionedPeople ?? []) set.add(remove('mentions', { room_id: m.roomId, person_id: personId, seq: m.seq }));
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
      this.membershipRemovals(row.id as string, { roomId, personId: row.person_id as string }, items);
    }
    if (room?.teamId) items.add(remove('rooms_by_team', { team_id: room.teamId, room_id: roomId }));
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
        for (const personId of m.mentionedPeople ?? []) mentioned.add(personId);
      }
      await this.db.mutate(messages.list, ts);
    }
    const partitions = new MutationSet();
    for (const parentId of parents) partitions.add(remove('message_replies', { parent_id: parentId }));
    for (const personId of mentioned) partitions.add(remove('mentions', { room_id: roomId, person_id: personId }));
    await this.db.mutate(partitions.list, ts);

    const listings = new MutationSet();
    listings.add(remove('memberships_by_room', { room_id: roomId }));
    for (const bucket of buckets) listings.add(remove('messages_by_room', { room_id: roomId, bucket }));
    listings.add(remove('message_buckets', { room_id: roomId }));
    listings.add(remove('rooms', { id: roomId }));
    await this.db.mutate(listings.list, ts);
  }

  // ---- the log -----------------------------------------------------------------------------

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

  async heads(roomIds: string[]): Promise<Map<string, number>> {
    const values = await mapLimit(roomIds, 32, (roomId) => this.head(roomId));
    return new Map(roomIds.map((roomId, i) => [roomId, values[i]]));
  }

  async activities(roomId: string, afterSeq: number, uptoSeq: number, limit: number): Promise<Activity[]> {
    const after = Math.max(0, afterSeq);
    let upto = uptoSeq;
    if (limit <= 0 || upto <= after) return [];
    if (!Number.isFinite(upto) || seqBucket(upto) - seqBucket(after + 1) > 1) {
      // Do not walk empty buckets past the head.
      const headRow = await this.db.first(`SELECT head FROM ${this.ks}.room_heads WHERE room_id = ?`, [roomId]);
      upto = Math.min(upto, num(headRow?.head));
      if (upto <= after) return [];
    }
    const out: Activity[] = [];
    for (let bucket = seqBucket(after + 1); bucket <= seqBucket(upto) && out.length < limit; bucket++) {
      const result = await this.db.run(`SELECT doc FROM ${this.ks}.activities WHERE room_id = ? AND bucket = ? AND seq > ? AND seq <= ? LIMIT ?`,
        [roomId, bucket, after, upto, limit - out.length]);
      for (const row of result.rows) out.push(parseDoc<Activity>(row)!);
    }
    return out;
  }

  async membershipHistory(roomId: string, personId: string): Promise<ActivityRow[]> {
    const query = `SELECT seq, event FROM ${this.ks}.membership_events WHERE room_id = ? AND subject_id = ?`;
    const [own, roomWide] = await Promise.all([this.db.rows(query, [roomId, personId]), this.db.rows(query, [roomId, ROOM_WIDE])]);
    return [...(personId === ROOM_WIDE ? [] : own), ...roomWide]
      .map((row) => ({ seq: num(row.seq), event: row.event as ActivityRow['event'] }))
      .sort((a, b) => a.seq - b.seq);
  }

  // ---- rooms -------------------------------------------------------------------------------

  async getRoom(id: string): Promise<RoomRecord | undefined> {
    return parseDoc<RoomRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.rooms WHERE id = ?`, [id]));
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

  async findDirectRoom(directKey: string): Promise<RoomRecord | undefined> {
    const row = await this.db.first(`SELECT room_id FROM ${this.ks}.direct_rooms WHERE direct_key = ?`, [directKey]);
    const room = row && (await this.getRoom(row.room_id as string));
    return room?.directKey === directKey ? room : undefined;
  }

  async listRoomsOf(personId: string, query: { type?: string; teamId?: string; sortBy: RoomSort; max: number; after?: string }): Promise<Page<RoomRecord>> {
    const after = decodeCursor(query.after);
    const cursor = after && after.length === 2 ? { key: String(after[0]), id: String(after[1]) } : undefined;
    if (query.sortBy === 'id' && !query.teamId) return this.listRoomsById(personId, query.type, query.max, cursor?.id);

    // Time orders (and team filters): the person's rooms, sorted in memory (see README).
    const cap = this.options.maxRoomsSortedInMemory ?? 10_000;
    let candidates: string[];
    if (query.teamId) {
      const teamRooms = (await this.db.rows(`SELECT room_id FROM ${this.ks}.rooms_by_team WHERE team_id = ?`, [query.teamId])).map((row) => row.room_id as string);
      if (teamRooms.length > cap) throw new Error(`team ${query.teamId} has more than ${cap} rooms; listing them is capped`);
      const member = await mapLimit(teamRooms, 32, async (roomId) =>
        (await this.db.first(`SELECT room_id FROM ${this.ks}.rooms_of_person WHERE person_id = ? AND room_id = ?`, [personId, roomId])) !== undefined);
      candidates = teamRooms.filter((_, i) => member[i]);
    } else {
      const rows = await this.db.run(`SELECT room_id FROM ${this.ks}.rooms_of_person WHERE person_id = ? LIMIT ?`, [personId, cap + 1], { fetchSize: cap + 1 });
      if (rows.rows.length > cap) {
        throw new Error(`person ${personId} is in more than ${cap} rooms; listing them by ${query.sortBy} is capped (list by id instead)`);
      }
      candidates = rows.rows.map((row) => row.room_id as string);
    }
    const rooms = (await mapLimit(candidates, 32, (roomId) => this.getRoom(roomId)))
      .filter((r): r is RoomRecord => r !== undefined && (!query.type || r.type === query.type) && (!query.teamId || r.teamId === query.teamId));
    const keyOf = (r: RoomRecord) => (query.sortBy === 'created' ? r.created : query.sortBy === 'lastactivity' ? r.lastActivity : r.id);
    const descending = query.sortBy !== 'id';
    rooms.sort((a, b) => {
      const ka = keyOf(a);
      const kb = keyOf(b);
      if (descending && ka !== kb) return ka < kb ? 1 : -1;
      return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    });
    const rest = cursor
      ? rooms.filter((r) => (descending ? keyOf(r) < cursor.key || (keyOf(r) === cursor.key && r.id > cursor.id) : r.id > cursor.id))
      : rooms;
    const page = rest.slice(0, query.max);
    const last = page[page.length - 1];
    return { items: page, next: rest.length > query.max ? encodeCursor([keyOf(last), last.id]) : undefined };
  }

  /** Keyset paging through rooms_of_person, in room id order. */
  private async listRoomsById(personId: string, type: string | undefined, max: number, afterId: string | undefined): Promise<Page<RoomRecord>> {
    const found: RoomRecord[] = [];
    let from = afterId ?? '';
    const chunk = Math.min(Math.max(max + 1, 20), 500);
    for (;;) {
      const rows = (await this.db.run(`SELECT room_id FROM ${this.ks}.rooms_of_person WHERE person_id = ? AND room_id > ? LIMIT ?`,
        [personId, from, chunk])).rows;
      // The type is the room's (not the membership's copy of it), as in the embedded store.
      const rooms = await mapLimit(rows.map((row) => row.room_id as string), 32, (roomId) => this.getRoom(roomId));
      for (const room of rooms) if (room && (!type || room.type === type)) found.push(room);
      if (found.length > max || rows.length < chunk) break;
      from = rows[rows.length - 1].room_id as string;
    }
    const page = found.slice(0, max);
    const last = page[page.length - 1];
    return { items: page, next: found.length > max ? encodeCursor([last.id, last.id]) : undefined };
  }

  async listTeamRooms(teamId: string): Promise<RoomRecord[]> {
    const ids = (await this.db.rows(`SELECT room_id FROM ${this.ks}.rooms_by_team WHERE team_id = ?`, [teamId])).map((row) => row.room_id as string);
    return (await mapLimit(ids, 32, (id) => this.getRoom(id))).filter((r): r is RoomRecord => r?.teamId === teamId);
  }

  // ---- memberships -------------------------------------------------------------------------

  async getMembership(id: string): Promise<MembershipRecord | undefined> {
    return parseDoc<MembershipRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.memberships WHERE id = ?`, [id]));
  }

  async findMembership(roomId: string, personId: string): Promise<MembershipRecord | undefined> {
    return parseDoc<MembershipRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.rooms_of_person WHERE person_id = ? AND room_id = ?`, [personId, roomId]));
  }

  async listMemberships(query: { roomId?: string; personId?: string; max: number; after?: string }): Promise<Page<MembershipRecord>> {
    const after = decodeCursor(query.after);
    const afterId = after ? String(after[0]) : '';
    let items: MembershipRecord[];
    let more: boolean;
    if (query.roomId && query.personId) {
      const m = await this.findMembership(query.roomId, query.personId);
      items = m && m.id > afterId ? [m] : [];
      more = false;
    } else if (query.roomId || query.personId) {
      const [table, column, value] = query.roomId ? ['memberships_by_room', 'room_id', query.roomId] : ['memberships_by_person', 'person_id', query.personId!];
      const rows = (await this.db.run(`SELECT doc FROM ${this.ks}.${table} WHERE ${column} = ? AND id > ? LIMIT ?`, [value, afterId, query.max + 1])).rows;
      items = rows.slice(0, query.max).map((row) => parseDoc<MembershipRecord>(row)!);
      more = rows.length > query.max;
    } else {
      // Every membership in id order would be a full scan and sort: no caller needs it.
      throw new Error('listMemberships on Cassandra needs a roomId or a personId');
    }
    return { items, next: more ? encodeCursor([items[items.length - 1].id]) : undefined };
  }

  async roomIdsOf(personId: string): Promise<string[]> {
    return (await this.db.rows(`SELECT room_id FROM ${this.ks}.rooms_of_person WHERE person_id = ?`, [personId])).map((row) => row.room_id as string);
  }

  // ---- messages ----------------------------------------------------------------------------

  async getMessage(id: string): Promise<MessageRecord | undefined> {
    return parseDoc<MessageRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.messages WHERE id = ?`, [id]));
  }

  async listMessages(query: { roomId: string; parentId?: string; beforeSeq?: number; before?: string; mentionedPersonId?: string; max: number }): Promise<MessageRecord[]> {
    if (query.max <= 0) return [];
    const out: MessageRecord[] = [];
    const keep = (m: MessageRecord | undefined): m is MessageRecord => m !== undefined && m.roomId === query.roomId
      && (query.parentId === undefined || m.parentId === query.parentId)
      && (query.mentionedPersonId === undefined || (m.mentionedPeople ?? []).includes(query.mentionedPersonId))
      && (query.beforeSeq === undefined || m.seq < query.beforeSeq)
      && (query.before === undefined || m.created < query.before);
    // Fetch a little more than asked when rows may be filtered out in memory.
    const pageSize = Math.min(query.before === undefined && !(query.parentId && query.mentionedPersonId) ? query.max : query.max * 2 + 10, 500);
    for await (const m of this.messageCandidates(query, pageSize)) {
      if (keep(m)) out.push(m);
      if (out.length >= query.max) break;
    }
    return out;
  }

  /** Messages of a room newest first, from the table that fits the query best. */
  private async *messageCandidates(query: { roomId: string; parentId?: string; beforeSeq?: number; mentionedPersonId?: string }, pageSize: number): AsyncGenerator<MessageRecord | undefined> {
    const below = Math.min(query.beforeSeq ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    if (query.mentionedPersonId || query.parentId) {
      const [sql, params] = query.mentionedPersonId
        ? [`SELECT seq FROM ${this.ks}.mentions WHERE room_id = ? AND person_id = ? AND seq < ? LIMIT ?`, [query.roomId, query.mentionedPersonId]]
        : [`SELECT seq, room_id FROM ${this.ks}.message_replies WHERE parent_id = ? AND seq < ? LIMIT ?`, [query.parentId]];
      let bound = below;
      for (;;) {
        const rows = (await this.db.run(sql, [...params, bound, pageSize])).rows;
        const seqs = rows.filter((row) => row.room_id === undefined || row.room_id === query.roomId).map((row) => num(row.seq));
        yield* await mapLimit(seqs, 32, (seq) => this.messageAt(query.roomId, seq));
        if (rows.length < pageSize) return;
        bound = num(rows[rows.length - 1].seq);
      }
    }
    const buckets = (await this.db.rows(`SELECT bucket FROM ${this.ks}.message_buckets WHERE room_id = ? AND bucket <= ?`,
      [query.roomId, seqBucket(below)])).map((row) => num(row.bucket));
    for (const bucket of buckets) {
      let bound = below;
      for (;;) {
        const rows = (await this.db.run(`SELECT doc, seq FROM ${this.ks}.messages_by_room WHERE room_id = ? AND bucket = ? AND seq < ? LIMIT ?`,
          [query.roomId, bucket, bound, pageSize])).rows;
        for (const row of rows) yield parseDoc<MessageRecord>(row);
        if (rows.length < pageSize) break;
        bound = num(rows[rows.length - 1].seq);
      }
    }
  }

  private async messageAt(roomId: string, seq: number): Promise<MessageRecord | undefined> {
    return parseDoc<MessageRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.messages_by_room WHERE room_id = ? AND bucket = ? AND seq = ?`,
      [roomId, seqBucket(seq), seq]));
  }
}
