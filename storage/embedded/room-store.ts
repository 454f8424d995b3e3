import type { DatabaseSync } from 'node:sqlite';
import { idempotencyCutoff } from '../../contracts/idempotency.ts';
import { IdempotencyKeyTakenError, SequenceConflictError } from '../interfaces.ts';
import type { Departure, OrgRoomHour, Page, RoomChange, RoomSort, RoomStore, RoomWrite, UnappliedWrite } from '../interfaces.ts';
import { ALL_MENTIONED, mentionKeys, type Activity, type IdempotencyRecord, type MembershipRecord, type MessageRecord, type ReadPosition, type RoomRecord, type RoomTabRecord } from '../records.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { groupCommitOf } from './group-commit.ts';
import { parseDoc, statementCache } from './sqlite.ts';

export const roomsSchema = `
CREATE TABLE IF NOT EXISTS room_heads (room_id TEXT PRIMARY KEY, head INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS activities (
  room_id TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL, subject_id TEXT, doc TEXT NOT NULL,
  PRIMARY KEY (room_id, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS activities_by_subject ON activities (room_id, subject_id, seq) WHERE subject_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS rooms (
  id TEXT PRIMARY KEY, type TEXT NOT NULL, team_id TEXT, created TEXT NOT NULL, last_activity TEXT NOT NULL,
  direct_key TEXT UNIQUE, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS rooms_by_team ON rooms (team_id) WHERE team_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS memberships (
  id TEXT PRIMARY KEY, room_id TEXT NOT NULL, person_id TEXT NOT NULL, doc TEXT NOT NULL, UNIQUE (room_id, person_id));
CREATE INDEX IF NOT EXISTS memberships_by_person ON memberships (person_id, id);
CREATE TABLE IF NOT EXISTS messages (
  id TEXT PRIMARY KEY, room_id TEXT NOT NULL, seq INTEGER NOT NULL, parent_id TEXT, created TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS messages_by_room ON messages (room_id, seq);
CREATE INDEX IF NOT EXISTS messages_by_parent ON messages (parent_id, seq) WHERE parent_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS room_tabs (id TEXT PRIMARY KEY, room_id TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS room_tabs_by_room ON room_tabs (room_id, id);
CREATE TABLE IF NOT EXISTS direct_claims (direct_key TEXT PRIMARY KEY, room_id TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mentions (
  room_id TEXT NOT NULL, person_id TEXT NOT NULL, seq INTEGER NOT NULL, message_id TEXT NOT NULL,
  PRIMARY KEY (room_id, person_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS message_deletions (room_id TEXT NOT NULL, ord INTEGER NOT NULL, PRIMARY KEY (room_id, ord)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS read_positions (
  room_id TEXT NOT NULL, person_id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (room_id, person_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS read_positions_by_person ON read_positions (person_id, room_id);
CREATE TABLE IF NOT EXISTS idempotency_keys (
  person_id TEXT NOT NULL, key TEXT NOT NULL, created TEXT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (person_id, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_keys_by_age ON idempotency_keys (created);
CREATE TABLE IF NOT EXISTS departures (
  person_id TEXT NOT NULL, room_id TEXT NOT NULL, last_seq INTEGER NOT NULL, left_at TEXT NOT NULL, PRIMARY KEY (person_id, room_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS departures_by_room ON departures (room_id);
CREATE TABLE IF NOT EXISTS org_room_hours (
  org_id TEXT NOT NULL, hour TEXT NOT NULL, room_id TEXT NOT NULL, last_seq INTEGER NOT NULL,
  PRIMARY KEY (org_id, hour, room_id)) WITHOUT ROWID;
`;

const SORT_COLUMN: Record<RoomSort, string> = { id: 'r.id', lastactivity: 'r.last_activity', created: 'r.created' };

export class SqliteRoomStore implements RoomStore {
  private readonly sql;

  private readonly db: DatabaseSync;

  /** Writes of every room share transactions (group-commit.ts). */
  private readonly commits;

  constructor(db: DatabaseSync) {
    this.db = db;
    this.sql = statementCache(db);
    this.commits = groupCommitOf(db);
  }

  async commit(write: RoomWrite): Promise<void> {
    await this.commits.run(() => {
      const row = this.sql('SELECT head FROM room_heads WHERE room_id = ?').get(write.roomId) as { head: number } | undefined;
      let head = row ? Number(row.head) : 0;
      for (const activity of write.activities) {
        if (activity.roomId !== write.roomId || activity.seq !== head + 1) throw new SequenceConflictError(write.roomId, activity.seq);
        this.sql('INSERT INTO activities (room_id, seq, event, subject_id, doc) VALUES (?, ?, ?, ?, ?)')
          .run(activity.roomId, activity.seq, activity.event, activity.subjectId ?? null, JSON.stringify(activity));
        head = activity.seq;
      }
      this.sql('INSERT OR REPLACE INTO room_heads (room_id, head) VALUES (?, ?)').run(write.roomId, head);
      for (const change of write.changes) this.apply(change);
    });
  }

  private apply(change: RoomChange): void {
    switch (change.op) {
      case 'putRoom': {
        const r = change.room;
        this.sql(`INSERT INTO rooms (id, type, team_id, created, last_activity, direct_key, doc) VALUES (?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (id) DO UPDATE SET team_id = excluded.team_id, last_activity = excluded.last_activity, doc = excluded.doc`)
          .run(r.id, r.type, r.teamId ?? null, r.created, r.lastActivity, r.directKey ?? null, JSON.stringify(r));
        return;
      }
      case 'deleteRoom':
        for (const table of ['memberships', 'messages', 'mentions', 'message_deletions', 'room_tabs', 'departures']) this.sql(`DELETE FROM ${table} WHERE room_id = ?`).run(change.roomId);
        this.sql('DELETE FROM rooms WHERE id = ?').run(change.roomId);
        return;
      case 'putMembership': {
        const m = change.membership;
        this.sql('INSERT OR REPLACE INTO memberships (id, room_id, person_id, doc) VALUES (?, ?, ?, ?)')
          .run(m.id, m.roomId, m.personId, JSON.stringify(m));
        return;
      }
      case 'deleteMembership':
        this.sql('DELETE FROM memberships WHERE id = ?').run(change.id);
        return;
      case 'putDeparture':
        this.sql('INSERT OR REPLACE INTO departures (person_id, room_id, last_seq, left_at) VALUES (?, ?, ?, ?)')
          .run(change.departure.personId, change.departure.roomId, change.departure.lastSeq, change.departure.at);
        return;
      case 'putMessage': {
        const m = change.message;
        this.sql('INSERT OR REPLACE INTO messages (id, room_id, seq, parent_id, created, doc) VALUES (?, ?, ?, ?, ?, ?)')
          .run(m.id, m.roomId, m.seq, m.parentId ?? null, m.created, JSON.stringify(m));
        this.sql('DELETE FROM mentions WHERE message_id = ?').run(m.id);
        for (const personId of mentionKeys(m)) {
          this.sql('INSERT OR IGNORE INTO mentions (room_id, person_id, seq, message_id) VALUES (?, ?, ?, ?)').run(m.roomId, personId, m.seq, m.id);
        }
        return;
      }
      case 'deleteMessage': {
        // The deletion is counted where it stood among the room's messages (unread counts).
        const row = this.sql('SELECT doc FROM messages WHERE id = ?').get(change.id);
        const deleted = row ? parseDoc<MessageRecord>(row) : undefined;
        if (deleted?.ord !== undefined) this.sql('INSERT OR IGNORE INTO message_deletions (room_id, ord) VALUES (?, ?)').run(deleted.roomId, deleted.ord);
        this.sql('DELETE FROM messages WHERE id = ?').run(change.id);
        this.sql('DELETE FROM mentions WHERE message_id = ?').run(change.id);
        return;
      }
      case 'putTab':
        this.sql('INSERT OR REPLACE INTO room_tabs (id, room_id, doc) VALUES (?, ?, ?)').run(change.tab.id, change.tab.roomId, JSON.stringify(change.tab));
        return;
      case 'deleteTab':
        this.sql('DELETE FROM room_tabs WHERE id = ?').run(change.id);
        return;
      case 'putIdempotency': {
        // Expired records are swept here, by the writes that add records (indexed by age).
        const cutoff = idempotencyCutoff();
        this.sql('DELETE FROM idempotency_keys WHERE created < ?').run(cutoff);
        const r = change.record;
        const { changes } = this.sql(`INSERT INTO idempotency_keys (person_id, key, created, doc) VALUES (?, ?, ?, ?)
          ON CONFLICT (person_id, key) DO UPDATE SET created = excluded.created, doc = excluded.doc WHERE idempotency_keys.created < ?`)
          .run(r.personId, r.key, r.created, JSON.stringify(r), cutoff);
        if (Number(changes) === 0) throw new IdempotencyKeyTakenError(r.key);
        return;
      }
      case 'indexOrgActivity':
        this.sql(`INSERT INTO org_room_hours (org_id, hour, room_id, last_seq) VALUES (?, ?, ?, ?)
          ON CONFLICT (org_id, hour, room_id) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)`)
          .run(change.orgId, change.hour, change.roomId, change.lastSeq);
        return;
      default: {
        const unknown: never = change;
        throw new Error(`unknown room change ${JSON.stringify(unknown)}`);
      }
    }
  }

  async getTab(id: string): Promise<RoomTabRecord | undefined> {
    const row = this.sql('SELECT doc FROM room_tabs WHERE id = ?').get(id);
    return row ? parseDoc<RoomTabRecord>(row) : undefined;
  }

  async listTabs(roomId: string): Promise<RoomTabRecord[]> {
    return this.sql('SELECT doc FROM room_tabs WHERE room_id = ? ORDER BY id').all(roomId).map((row) => parseDoc<RoomTabRecord>(row));
  }

  async getIdempotency(personId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const row = this.sql('SELECT doc FROM idempotency_keys WHERE person_id = ? AND key = ? AND created >= ?').get(personId, key, idempotencyCutoff());
    return row ? parseDoc<IdempotencyRecord>(row) : undefined;
  }

  async head(roomId: string): Promise<number> {
    const row = this.sql('SELECT head FROM room_heads WHERE room_id = ?').get(roomId) as { head: number } | undefined;
    return row ? Number(row.head) : 0;
  }

  /** A commit is one SQLite transaction: it is all applied, or it never happened. */
  async unappliedWrite(_roomId: string): Promise<UnappliedWrite | undefined> {
    return undefined;
  }

  async heads(roomIds: string[]): Promise<Map<string, number>> {
    const heads = new Map<string, number>();
    for (const roomId of roomIds) heads.set(roomId, await this.head(roomId));
    return heads;
  }

  async activities(roomId: string, afterSeq: number, uptoSeq: number, limit: number): Promise<Activity[]> {
    return this.sql('SELECT doc FROM activities WHERE room_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?')
      .all(roomId, afterSeq, uptoSeq, limit).map((row) => parseDoc<Activity>(row));
  }

  async orgActiveHours(orgId: string, query: { fromHour: string; uptoHour: string; max: number }): Promise<string[]> {
    return (this.sql('SELECT DISTINCT hour FROM org_room_hours WHERE org_id = ? AND hour >= ? AND hour <= ? ORDER BY hour DESC LIMIT ?')
      .all(orgId, query.fromHour, query.uptoHour, query.max) as { hour: string }[]).map((row) => row.hour);
  }

  async orgRoomsInHour(orgId: string, hour: string): Promise<OrgRoomHour[]> {
    return (this.sql('SELECT room_id, last_seq FROM org_room_hours WHERE org_id = ? AND hour = ?').all(orgId, hour) as { room_id: string; last_seq: number }[])
      .map((row) => ({ roomId: row.room_id, lastSeq: Number(row.last_seq) }));
  }

  async membershipHistory(roomId: string, personId: string): Promise<{ seq: number; event: 'membership.created' | 'membership.deleted' | 'room.deleted' }[]> {
    const rows = this.sql(`SELECT seq, event FROM activities WHERE room_id = ?
      AND ((subject_id = ? AND event IN ('membership.created', 'membership.deleted')) OR event = 'room.deleted') ORDER BY seq`)
      .all(roomId, personId) as { seq: number; event: 'membership.created' | 'membership.deleted' | 'room.deleted' }[];
    return rows.map((row) => ({ seq: Number(row.seq), event: row.event }));
  }

  async getRoom(id: string): Promise<RoomRecord | undefined> {
    const row = this.sql('SELECT doc FROM rooms WHERE id = ?').get(id);
    return row ? parseDoc<RoomRecord>(row) : undefined;
  }

  async findDirectRoom(directKey: string): Promise<RoomRecord | undefined> {
    const row = this.sql('SELECT doc FROM rooms WHERE direct_key = ?').get(directKey);
    return row ? parseDoc<RoomRecord>(row) : undefined;
  }

  async claimDirectRoom(directKey: string, roomId: string, replacing?: string): Promise<string> {
    return this.commits.run(() => {
      if (replacing) this.sql('UPDATE direct_claims SET room_id = ? WHERE direct_key = ? AND room_id = ?').run(roomId, directKey, replacing);
      else this.sql('INSERT OR IGNORE INTO direct_claims (direct_key, room_id) VALUES (?, ?)').run(directKey, roomId);
      return String((this.sql('SELECT room_id FROM direct_claims WHERE direct_key = ?').get(directKey) as { room_id: string }).room_id);
    });
  }

  async listRoomsOf(personId: string, query: { type?: string; teamId?: string; sortBy: RoomSort; max: number; after?: string }): Promise<Page<RoomRecord>> {
    const column = SORT_COLUMN[query.sortBy];
    // Newest first for the time orders, as Webex lists them.
    const descending = query.sortBy !== 'id';
    const where = ['m.person_id = ?'];
    const args: (string | number)[] = [personId];
    if (query.type) { where.push('r.type = ?'); args.push(query.type); }
    if (query.teamId) { where.push('r.team_id = ?'); args.push(query.teamId); }
    const after = decodeCursor(query.after);
    if (after && after.length === 2) {
      if (query.sortBy === 'id') {
        where.push('r.id > ?');
        args.push(String(after[1]));
      } else {
        where.push(`(${column} < ? OR (${column} = ? AND r.id > ?))`);
        args.push(String(after[0]), String(after[0]), String(after[1]));
      }
    }
    const order = descending ? `${column} DESC, r.id` : 'r.id';
    const rows = this.sql(`SELECT r.doc, ${column} AS sort_key, r.id FROM memberships m JOIN rooms r ON r.id = m.room_id
      WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`).all(...args, query.max + 1) as { doc: string; sort_key: string; id: string }[];
    const page = rows.slice(0, query.max);
    const last = page[page.length - 1];
    return {
      items: page.map((row) => parseDoc<RoomRecord>(row)),
      next: rows.length > query.max ? encodeCursor([last.sort_key, last.id]) : undefined,
    };
  }

  async listRoomIds(query: { max: number; after?: string }): Promise<Page<string>> {
    const after = decodeCursor(query.after);
    const rows = this.sql('SELECT id FROM rooms WHERE id > ? ORDER BY id LIMIT ?').all(after ? String(after[0]) : '', query.max + 1) as { id: string }[];
    const items = rows.slice(0, query.max).map((row) => row.id);
    return { items, next: rows.length > query.max ? encodeCursor([items[items.length - 1]]) : undefined };
  }

  async listTeamRooms(teamId: string): Promise<RoomRecord[]> {
    return this.sql('SELECT doc FROM rooms WHERE team_id = ? ORDER BY id').all(teamId).map((row) => parseDoc<RoomRecord>(row));
  }

  async getMembership(id: string): Promise<MembershipRecord | undefined> {
    const row = this.sql('SELECT doc FROM memberships WHERE id = ?').get(id);
    return row ? parseDoc<MembershipRecord>(row) : undefined;
  }

  async findMembership(roomId: string, personId: string): Promise<MembershipRecord | undefined> {
    const row = this.sql('SELECT doc FROM memberships WHERE room_id = ? AND person_id = ?').get(roomId, personId);
    return row ? parseDoc<MembershipRecord>(row) : undefined;
  }

  async listMemberships(query: { roomId?: string; personId?: string; max: number; after?: string }): Promise<Page<MembershipRecord>> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (query.roomId) { where.push('room_id = ?'); args.push(query.roomId); }
    if (query.personId) { where.push('person_id = ?'); args.push(query.personId); }
    const after = decodeCursor(query.after);
    if (after) { where.push('id > ?'); args.push(String(after[0])); }
    const rows = this.sql(`SELECT id, doc FROM memberships ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id LIMIT ?`)
      .all(...args, query.max + 1);
    const items = rows.slice(0, query.max).map((row) => parseDoc<MembershipRecord>(row));
    return { items, next: rows.length > query.max ? encodeCursor([items[items.length - 1].id]) : undefined };
  }

  async roomIdsOf(personId: string): Promise<string[]> {
    return this.sql('SELECT room_id FROM memberships WHERE person_id = ?').all(personId).map((row) => String((row as { room_id: string }).room_id));
  }

  async departuresOf(personId: string): Promise<Departure[]> {
    const rows = this.sql('SELECT room_id, last_seq, left_at FROM departures WHERE person_id = ?').all(personId) as { room_id: string; last_seq: number; left_at: string }[];
    return rows.map((row) => ({ roomId: String(row.room_id), personId, lastSeq: Number(row.last_seq), at: String(row.left_at) }));
  }

  async getMessage(id: string): Promise<MessageRecord | undefined> {
    const row = this.sql('SELECT doc FROM messages WHERE id = ?').get(id);
    return row ? parseDoc<MessageRecord>(row) : undefined;
  }

  async listMessages(query: { roomId: string; parentId?: string; beforeSeq?: number; before?: string; mentionedPersonId?: string; max: number }): Promise<MessageRecord[]> {
    const args: (string | number)[] = [];
    let sql: string;
    if (query.mentionedPersonId) {
      sql = 'SELECT m.doc FROM mentions x JOIN messages m ON m.id = x.message_id WHERE x.room_id = ? AND x.person_id = ?';
      args.push(query.roomId, query.mentionedPersonId);
    } else {
      sql = 'SELECT m.doc FROM messages m WHERE m.room_id = ?';
      args.push(query.roomId);
    }
    if (query.parentId) { sql += ' AND m.parent_id = ?'; args.push(query.parentId); }
    if (query.beforeSeq !== undefined) { sql += ' AND m.seq < ?'; args.push(query.beforeSeq); }
    if (query.before) { sql += ' AND m.created < ?'; args.push(query.before); }
    sql += ' ORDER BY m.seq DESC LIMIT ?';
    return this.sql(sql).all(...args, query.max).map((row) => parseDoc<MessageRecord>(row));
  }

  async getReadPosition(roomId: string, personId: string): Promise<ReadPosition | undefined> {
    const row = this.sql('SELECT doc FROM read_positions WHERE room_id = ? AND person_id = ?').get(roomId, personId);
    return row ? parseDoc<ReadPosition>(row) : undefined;
  }

  async readPositionsOf(personId: string, roomIds: string[]): Promise<Map<string, ReadPosition>> {
    // One cached statement for a page of rooms: the ids travel as one JSON array.
    const positions = new Map<string, ReadPosition>();
    const rows = this.sql('SELECT doc FROM read_positions WHERE person_id = ? AND room_id IN (SELECT value FROM json_each(?))').all(personId, JSON.stringify(roomIds));
    for (const row of rows) {
      const position = parseDoc<ReadPosition>(row);
      positions.set(position.roomId, position);
    }
    return positions;
  }

  async roomReadPositions(roomId: string): Promise<ReadPosition[]> {
    return this.sql('SELECT doc FROM read_positions WHERE room_id = ?').all(roomId).map((row) => parseDoc<ReadPosition>(row));
  }

  async putReadPositions(positions: ReadPosition[]): Promise<void> {
    // Derived data (a read moves it again): answered at its COMMIT, not after the sync.
    await this.commits.run(() => {
      for (const p of positions) {
        this.sql('INSERT OR REPLACE INTO read_positions (room_id, person_id, doc) VALUES (?, ?, ?)').run(p.roomId, p.personId, JSON.stringify(p));
      }
    }, { durable: false });
  }

  async deleteReadPositions(roomId: string, personId?: string): Promise<void> {
    await this.commits.run(() => {
      if (personId === undefined) this.sql('DELETE FROM read_positions WHERE room_id = ?').run(roomId);
      else this.sql('DELETE FROM read_positions WHERE room_id = ? AND person_id = ?').run(roomId, personId);
    }, { durable: false });
  }

  async countDeletedAfter(roomId: string, ord: number): Promise<number> {
    return Number((this.sql('SELECT COUNT(*) AS n FROM message_deletions WHERE room_id = ? AND ord > ?').get(roomId, ord) as { n: number }).n);
  }

  async countMentionsAfter(roomId: string, personId: string, seq: number): Promise<number> {
    const row = this.sql(`SELECT COUNT(DISTINCT message_id) AS n FROM mentions WHERE room_id = ? AND person_id IN (?, '${ALL_MENTIONED}') AND seq > ?`)
      .get(roomId, personId, seq) as { n: number };
    return Number(row.n);
  }
}
