// The readers of the RoomStore on Cassandra: the log, rooms, memberships and messages, each
// from the table laid out for its query (see README.md next to this file). Nothing here
// writes; a head that needs repairing first is the write path's (room-write-path.ts).
import { idempotencyCutoff } from '../../contracts/idempotency.ts';
import type { Departure, OrgRoomHour, Page, RoomSort } from '../interfaces.ts';
import type { Activity, IdempotencyRecord, MembershipRecord, MessageRecord, RoomRecord, RoomTabRecord } from '../records.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { type Db, mapLimit, num, parseDoc } from './db.ts';
import { seqBucket } from './schema.ts';

/** Subject of room-wide events in membership_events. */
export const ROOM_WIDE = '*';

export interface RoomReadOptions {
  /** listRoomsOf sorted by time reads all of a person's rooms and sorts in memory, up to this many (default 10 000). */
  maxRoomsSortedInMemory?: number;
}

type ActivityRow = { seq: number; event: 'membership.created' | 'membership.deleted' | 'room.deleted' };

export class CassandraRoomReads {
  protected readonly db: Db;
  protected readonly ks: string;
  private readonly readOptions: RoomReadOptions;

  constructor(db: Db, options: RoomReadOptions = {}) {
    this.db = db;
    this.ks = db.ks;
    this.readOptions = options;
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

  async orgActiveHours(orgId: string, query: { fromHour: string; uptoHour: string; max: number }): Promise<string[]> {
    const rows = await this.db.rows(`SELECT hour FROM ${this.ks}.org_hours WHERE org_id = ? AND hour >= ? AND hour <= ? LIMIT ?`,
      [orgId, query.fromHour, query.uptoHour, query.max]);
    return rows.map((row) => row.hour as string);
  }

  async orgRoomsInHour(orgId: string, hour: string): Promise<OrgRoomHour[]> {
    const rows = await this.db.rows(`SELECT room_id, last_seq FROM ${this.ks}.org_room_hours WHERE org_id = ? AND hour = ?`, [orgId, hour]);
    return rows.map((row) => ({ roomId: row.room_id as string, lastSeq: num(row.last_seq) }));
  }

  async membershipHistory(roomId: string, personId: string): Promise<ActivityRow[]> {
    const query = `SELECT seq, event FROM ${this.ks}.membership_events WHERE room_id = ? AND subject_id = ?`;
    const [own, roomWide] = await Promise.all([this.db.rows(query, [roomId, personId]), this.db.rows(query, [roomId, ROOM_WIDE])]);
    return [...(personId === ROOM_WIDE ? [] : own), ...roomWide]
      .map((row) => ({ seq: num(row.seq), event: row.event as ActivityRow['event'] }))
      .sort((a, b) => a.seq - b.seq);
  }

  async getRoom(id: string): Promise<RoomRecord | undefined> {
    return parseDoc<RoomRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.rooms WHERE id = ?`, [id]));
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
    const cap = this.readOptions.maxRoomsSortedInMemory ?? 10_000;
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

  /** A scan of the rooms table in token order; the cursor is Cassandra's own page state. */
  async listRoomIds(query: { max: number; after?: string }): Promise<Page<string>> {
    const result = await this.db.run(`SELECT id FROM ${this.ks}.rooms`, [], { fetchSize: query.max, ...(query.after ? { pageState: query.after } : {}) });
    return { items: result.rows.map((row) => row.id as string), next: result.pageState ?? undefined };
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

  async departuresOf(personId: string): Promise<Departure[]> {
    const rows = await this.db.rows(`SELECT room_id, last_seq, left_at FROM ${this.ks}.departures_by_person WHERE person_id = ?`, [personId]);
    return rows.map((row) => ({ roomId: row.room_id as string, personId, lastSeq: num(row.last_seq), at: row.left_at as string }));
  }

  // ---- messages ----------------------------------------------------------------------------

  async getMessage(id: string): Promise<MessageRecord | undefined> {
    return parseDoc<MessageRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.messages WHERE id = ?`, [id]));
  }

  // ---- tabs --------------------------------------------------------------------------------

  async getTab(id: string): Promise<RoomTabRecord | undefined> {
    return parseDoc<RoomTabRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.room_tabs WHERE id = ?`, [id]));
  }

  async listTabs(roomId: string): Promise<RoomTabRecord[]> {
    return (await this.db.rows(`SELECT doc FROM ${this.ks}.room_tabs_by_room WHERE room_id = ?`, [roomId])).map((row) => parseDoc<RoomTabRecord>(row)!);
  }

  async getIdempotency(personId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const record = parseDoc<IdempotencyRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.idempotency_keys WHERE scope = 'rooms' AND person_id = ? AND key = ?`, [personId, key]));
    // The TTL forgets it within a second of expiry; the check makes the bound exact.
    return record && record.created >= idempotencyCutoff() ? record : undefined;
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
