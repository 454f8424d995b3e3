import type { DatabaseSync } from 'node:sqlite';
import { DuplicateMeetingError, type ConferenceStore, type Page } from '../interfaces.ts';
import { idempotencyCutoff } from '../../contracts/idempotency.ts';
import type { IdempotencyRecord, MeetingRecord, MeetingState, ParticipantRecord } from '../records.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { inTransaction, parseDoc, statementCache } from './sqlite.ts';
import { assertNextVersion, assertSameOwners } from '../meeting-checks.ts';

export const conferencesSchema = `
CREATE TABLE IF NOT EXISTS meetings (
  id TEXT PRIMARY KEY, host_user_id TEXT NOT NULL, room_id TEXT, state TEXT NOT NULL, start TEXT NOT NULL,
  version INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS meetings_by_host ON meetings (host_user_id, start, id);
CREATE INDEX IF NOT EXISTS meetings_by_room ON meetings (room_id, start, id) WHERE room_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS participants (
  id TEXT PRIMARY KEY, meeting_id TEXT NOT NULL, joined_time TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS participants_by_meeting ON participants (meeting_id, joined_time, id);
CREATE TABLE IF NOT EXISTS meeting_idempotency (meeting_id TEXT PRIMARY KEY, created TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS meeting_idempotency_by_age ON meeting_idempotency (created);
`;

export class SqliteConferenceStore implements ConferenceStore {
  private readonly sql;

  private readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {

    this.db = db;
    this.sql = statementCache(db);
  }

  async createMeeting(meeting: MeetingRecord, idempotency?: IdempotencyRecord): Promise<void> {
    inTransaction(this.db, () => {
      const result = this.sql(`INSERT OR IGNORE INTO meetings (id, host_user_id, room_id, state, start, version, doc)
        VALUES (?, ?, ?, ?, ?, ?, ?)`).run(
        meeting.id, meeting.hostUserId, meeting.roomId ?? null, meeting.state, meeting.start, meeting.version, JSON.stringify(meeting));
      if (Number(result.changes) === 0) throw new DuplicateMeetingError(meeting.id);
      if (!idempotency) return;
      // Expired records are swept by the creates that add records.
      this.sql('DELETE FROM meeting_idempotency WHERE created < ?').run(idempotencyCutoff());
      this.sql('INSERT OR REPLACE INTO meeting_idempotency (meeting_id, created, doc) VALUES (?, ?, ?)').run(meeting.id, idempotency.created, JSON.stringify(idempotency));
    });
  }

  async getMeetingIdempotency(meetingId: string): Promise<IdempotencyRecord | undefined> {
    const row = this.sql('SELECT doc FROM meeting_idempotency WHERE meeting_id = ? AND created >= ?').get(meetingId, idempotencyCutoff());
    return row ? parseDoc<IdempotencyRecord>(row) : undefined;
  }

  async updateMeeting(meeting: MeetingRecord, expectedVersion: number): Promise<boolean> {
    assertNextVersion(meeting, expectedVersion);
    return inTransaction(this.db, () => {
      const row = this.sql('SELECT version, doc FROM meetings WHERE id = ?').get(meeting.id) as { version: number; doc: string } | undefined;
      if (!row || Number(row.version) !== expectedVersion) return false;
      assertSameOwners(parseDoc<MeetingRecord>(row), meeting);
      this.sql('UPDATE meetings SET state = ?, start = ?, version = ?, doc = ? WHERE id = ?')
        .run(meeting.state, meeting.start, meeting.version, JSON.stringify(meeting), meeting.id);
      return true;
    });
  }

  async deleteMeeting(id: string): Promise<void> {
    inTransaction(this.db, () => {
      this.sql('DELETE FROM participants WHERE meeting_id = ?').run(id);
      this.sql('DELETE FROM meeting_idempotency WHERE meeting_id = ?').run(id);
      this.sql('DELETE FROM meetings WHERE id = ?').run(id);
    });
  }

  async getMeeting(id: string): Promise<MeetingRecord | undefined> {
    const row = this.sql('SELECT doc FROM meetings WHERE id = ?').get(id);
    return row ? parseDoc<MeetingRecord>(row) : undefined;
  }

  async listMeetings(query: { hostUserId?: string; roomId?: string; state?: MeetingState; startFrom?: string; max: number; after?: string }): Promise<Page<MeetingRecord>> {
    const owner = listingOwner(query);
    const where = [`${owner.column} = ?`];
    const args: (string | number)[] = [owner.value];
    if (query.state) { where.push('state = ?'); args.push(query.state); }
    if (query.startFrom) { where.push('start >= ?'); args.push(query.startFrom); }
    const after = decodeCursor(query.after);
    if (after && after.length === 2) {
      where.push('(start > ? OR (start = ? AND id > ?))');
      args.push(String(after[0]), String(after[0]), String(after[1]));
    }
    const rows = this.sql(`SELECT start, id, doc FROM meetings WHERE ${where.join(' AND ')} ORDER BY start, id LIMIT ?`)
      .all(...args, query.max + 1) as { start: string; id: string; doc: string }[];
    const page = rows.slice(0, query.max);
    const last = page[page.length - 1];
    return {
      items: page.map((row) => parseDoc<MeetingRecord>(row)),
      next: rows.length > query.max ? encodeCursor([last.start, last.id]) : undefined,
    };
  }

  async putParticipant(participant: ParticipantRecord): Promise<void> {
    this.sql('INSERT OR REPLACE INTO participants (id, meeting_id, joined_time, doc) VALUES (?, ?, ?, ?)')
      .run(participant.id, participant.meetingId, participant.joinedTime, JSON.stringify(participant));
  }

  async getParticipant(id: string): Promise<ParticipantRecord | undefined> {
    const row = this.sql('SELECT doc FROM participants WHERE id = ?').get(id);
    return row ? parseDoc<ParticipantRecord>(row) : undefined;
  }

  async listParticipants(meetingId: string): Promise<ParticipantRecord[]> {
    return this.sql('SELECT doc FROM participants WHERE meeting_id = ? ORDER BY joined_time, id').all(meetingId)
      .map((row) => parseDoc<ParticipantRecord>(row));
  }
}

function listingOwner(query: { hostUserId?: string; roomId?: string }): { column: 'host_user_id' | 'room_id'; value: string } {
  if ((query.hostUserId === undefined) === (query.roomId === undefined)) throw new Error('listMeetings takes exactly one of hostUserId and roomId');
  return query.hostUserId !== undefined ? { column: 'host_user_id', value: query.hostUserId } : { column: 'room_id', value: query.roomId! };
}

