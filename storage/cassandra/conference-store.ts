// ConferenceStore on Cassandra.
//
// `meetings` (by id) holds the meeting and its version, and is written only by lightweight
// transactions: `INSERT … IF NOT EXISTS` (DuplicateMeetingError when it does not apply),
// `UPDATE … IF version = ?` (the compare-and-set of updateMeeting, Paxos at the store's
// serial consistency) and `DELETE … IF version = ?`.
//
// `meetings_by_host` and `meetings_by_room` are listing hints clustered by (state, start, id),
// holding keys only. Every listed key is read back from `meetings` (the listing needs the
// record anyway) and kept only if the meeting still has that host or room, state and start,
// so a hint left by a crash, a lost compare-and-set or a duplicate create costs a wasted
// read, never a wrong answer. A version's hints are written before its LWT (a crash right
// after the LWT cannot leave the meeting unlisted), and the previous version's hints, when
// its state or start differ, are deleted after it. All hint writes carry the timestamp
// TS_BASE + version, not the wall clock: a deletion of an old hint that arrives late cannot
// remove the same key written again by a later version (a start moved back, a state
// revisited), since the later version's write is newer whatever the order of arrival.
//
// Participants live in their meeting's partition (last write wins, like the embedded store);
// a participant id is `<meeting id>_<hex>`, which is how getParticipant finds the partition.
import type { types } from 'cassandra-driver';
import { IDEMPOTENCY_TTL_SECONDS, idempotencyCutoff } from '../../contracts/idempotency.ts';
import { DuplicateMeetingError, type ConferenceStore, type Page } from '../interfaces.ts';
import type { IdempotencyRecord, MeetingRecord, MeetingState, ParticipantRecord } from '../records.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { type Db, mapLimit, num, parseDoc, remove, upsert } from './db.ts';
import { TS_BASE } from './room-write-path.ts';
import { assertNextVersion, assertSameOwners } from '../meeting-checks.ts';

const STATES: MeetingState[] = ['active', 'inProgress', 'ended'];
const hintTimestamp = (version: number) => TS_BASE + version;

interface Hint {
  table: 'meetings_by_host' | 'meetings_by_room';
  key: { state: MeetingState; start: string; id: string } & ({ host_user_id: string } | { room_id: string });
}

interface Candidate { state: MeetingState; start: string; id: string }

/** One state's slice of a listing partition, read ahead in chunks. */
interface Slice {
  state: MeetingState;
  rows: Candidate[];
  after?: [string, string];
  done: boolean;
}

export class CassandraConferenceStore implements ConferenceStore {
  private readonly db: Db;
  private readonly ks: string;

  constructor(db: Db) {
    this.db = db;
    this.ks = db.ks;
  }

  async createMeeting(meeting: MeetingRecord, idempotency?: IdempotencyRecord): Promise<void> {
    await this.db.mutate(hints(meeting).map((h) => upsert(h.table, h.key)), hintTimestamp(meeting.version));
    const insert = { query: `INSERT INTO ${this.ks}.meetings (id, version, doc) VALUES (?, ?, ?) IF NOT EXISTS`, params: [meeting.id, meeting.version, JSON.stringify(meeting)] };
    // A keyed create's answer is a cell of the meeting's row, set by the same Paxos round
    // (a conditional batch of one partition); its own TTL forgets it after 24 hours.
    const { applied } = idempotency
      ? await this.db.lwtBatch([insert, { query: `UPDATE ${this.ks}.meetings USING TTL ${IDEMPOTENCY_TTL_SECONDS} SET idempotency = ? WHERE id = ?`, params: [JSON.stringify(idempotency), meeting.id] }])
      : await this.db.lwt(insert.query, insert.params);
    if (!applied) throw new DuplicateMeetingError(meeting.id);
  }

  async getMeetingIdempotency(meetingId: string): Promise<IdempotencyRecord | undefined> {
    // Serial: a create whose Paxos round is still being committed must be seen (a retry racing it).
    const record = parseDoc<IdempotencyRecord>(await this.db.serialRead(`SELECT idempotency FROM ${this.ks}.meetings WHERE id = ?`, [meetingId]), 'idempotency');
    return record && record.created >= idempotencyCutoff() ? record : undefined;
  }

  async updateMeeting(meeting: MeetingRecord, expectedVersion: number): Promise<boolean> {
    assertNextVersion(meeting, expectedVersion);
    const query = `SELECT version, doc FROM ${this.ks}.meetings WHERE id = ?`;
    let stored = storedMeeting(await this.db.first(query, [meeting.id]));
    // A quorum read can miss an LWT still being committed; only a linearizable read may refuse.
    if (stored?.version !== expectedVersion) stored = storedMeeting(await this.db.serialRead(query, [meeting.id]));
    if (!stored || stored.version !== expectedVersion) return false;
    // Each version of a meeting is reached by one LWT only, so this is the record the LWT below replaces.
    const previous = stored.meeting;
    assertSameOwners(previous, meeting);
    const timestamp = hintTimestamp(meeting.version);
    await this.db.mutate(hints(meeting).map((h) => upsert(h.table, h.key)), timestamp);
    const { applied } = await this.db.lwt(`UPDATE ${this.ks}.meetings SET version = ?, doc = ? WHERE id = ? IF version = ?`,
      [meeting.version, JSON.stringify(meeting), meeting.id, expectedVersion]);
    // A loser's hints stay behind (the winner may have written the very same keys at the same timestamp).
    if (!applied) return false;
    if (previous.state !== meeting.state || previous.start !== meeting.start) {
      await this.db.mutate(hints(previous).map((h) => remove(h.table, h.key)), timestamp);
    }
    return true;
  }

  /** Participants and hints first, the meeting last, so a deletion cut short can be run again. */
  async deleteMeeting(id: string): Promise<void> {
    await this.db.run(`DELETE FROM ${this.ks}.participants WHERE meeting_id = ?`, [id]);
    for (;;) {
      const stored = storedMeeting(await this.db.serialRead(`SELECT version, doc FROM ${this.ks}.meetings WHERE id = ?`, [id]));
      if (!stored) return;
      // At the stored version's timestamp: this removes its hints and every older one, while the
      // hints of an update that wins meanwhile survive, and the LWT below then fails and we go again.
      await this.db.mutate(hints(stored.meeting).map((h) => remove(h.table, h.key)), hintTimestamp(stored.version));
      const { applied } = await this.db.lwt(`DELETE FROM ${this.ks}.meetings WHERE id = ? IF version = ?`, [id, stored.version]);
      if (applied) return;
    }
  }

  async getMeeting(id: string): Promise<MeetingRecord | undefined> {
    return parseDoc<MeetingRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.meetings WHERE id = ?`, [id]));
  }

  async listMeetings(query: { hostUserId?: string; roomId?: string; state?: MeetingState; startFrom?: string; max: number; after?: string }): Promise<Page<MeetingRecord>> {
    if ((query.hostUserId === undefined) === (query.roomId === undefined)) throw new Error('listMeetings takes exactly one of hostUserId and roomId');
    const byHost = query.hostUserId !== undefined;
    const owner = byHost ? query.hostUserId! : query.roomId!;
    const [table, column] = byHost ? ['meetings_by_host', 'host_user_id'] : ['meetings_by_room', 'room_id'];
    const cursor = decodeCursor(query.after);
    let after: [string, string] | undefined = cursor && cursor.length === 2 ? [String(cursor[0]), String(cursor[1])] : undefined;
    // From startFrom on is after (startFrom, ''), every id sorting after '': unless the cursor is further.
    if (query.startFrom && (!after || compareText(after[0], query.startFrom) < 0)) after = [query.startFrom, ''];
    const chunk = Math.min(query.max + 1, 500);
    const slices: Slice[] = (query.state ? [query.state] : STATES).map((state) => ({ state, rows: [], after, done: false }));
    const fill = async (slice: Slice) => {
      if (slice.rows.length || slice.done) return;
      const result = slice.after
        ? await this.db.run(`SELECT start, id FROM ${this.ks}.${table} WHERE ${column} = ? AND state = ? AND (start, id) > (?, ?) LIMIT ?`,
          [owner, slice.state, slice.after[0], slice.after[1], chunk])
        : await this.db.run(`SELECT start, id FROM ${this.ks}.${table} WHERE ${column} = ? AND state = ? LIMIT ?`, [owner, slice.state, chunk]);
      slice.rows = result.rows.map((row) => ({ state: slice.state, start: row.start as string, id: row.id as string }));
      slice.done = slice.rows.length < chunk;
      const last = slice.rows[slice.rows.length - 1];
      if (last) slice.after = [last.start, last.id];
    };

    const found: MeetingRecord[] = [];
    while (found.length <= query.max) {
      await Promise.all(slices.map(fill));
      // Merge the slices in (start, id) order, as far as every unfinished slice has a row to compare.
      const candidates: Candidate[] = [];
      while (candidates.length < query.max + 1 - found.length) {
        let next: Slice | undefined;
        let blocked = false;
        for (const slice of slices) {
          if (!slice.rows.length) {
            if (!slice.done) blocked = true;
            continue;
          }
          if (!next || compareKeys(slice.rows[0], next.rows[0]) < 0) next = slice;
        }
        if (blocked || !next) break;
        candidates.push(next.rows.shift()!);
      }
      if (!candidates.length) break;
      const meetings = await mapLimit(candidates, 16, async (candidate) => {
        const meeting = await this.getMeeting(candidate.id);
        const listed = meeting && (byHost ? meeting.hostUserId : meeting.roomId) === owner
          && meeting.state === candidate.state && meeting.start === candidate.start;
        return listed ? meeting : undefined;
      });
      for (const meeting of meetings) if (meeting) found.push(meeting);
    }
    const items = found.slice(0, query.max);
    const last = items[items.length - 1];
    return { items, next: found.length > query.max ? encodeCursor([last.start, last.id]) : undefined };
  }

  async putParticipant(participant: ParticipantRecord): Promise<void> {
    if (meetingOf(participant.id) !== participant.meetingId) {
      throw new Error(`participant id ${participant.id} is not of the form <meeting id>_<hex> of its meeting ${participant.meetingId}`);
    }
    await this.db.run(`INSERT INTO ${this.ks}.participants (meeting_id, id, doc) VALUES (?, ?, ?)`,
      [participant.meetingId, participant.id, JSON.stringify(participant)]);
  }

  async getParticipant(id: string): Promise<ParticipantRecord | undefined> {
    const meetingId = meetingOf(id);
    if (meetingId === undefined) return undefined;
    return parseDoc<ParticipantRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.participants WHERE meeting_id = ? AND id = ?`, [meetingId, id]));
  }

  /**
   * Sorted here rather than clustered by joined time: the whole partition is read anyway,
   * and an overwrite that changes joinedTime would otherwise need a read to delete its old row.
   */
  async listParticipants(meetingId: string): Promise<ParticipantRecord[]> {
    const rows = await this.db.rows(`SELECT doc FROM ${this.ks}.participants WHERE meeting_id = ?`, [meetingId]);
    return rows.map((row) => parseDoc<ParticipantRecord>(row)!)
      .sort((a, b) => compareText(a.joinedTime, b.joinedTime) || compareText(a.id, b.id));
  }
}

function hints(meeting: MeetingRecord): Hint[] {
  const { state, start, id } = meeting;
  const list: Hint[] = [{ table: 'meetings_by_host', key: { host_user_id: meeting.hostUserId, state, start, id } }];
  if (meeting.roomId !== undefined) list.push({ table: 'meetings_by_room', key: { room_id: meeting.roomId, state, start, id } });
  return list;
}

function storedMeeting(row: types.Row | undefined): { version: number; meeting: MeetingRecord } | undefined {
  const meeting = parseDoc<MeetingRecord>(row);
  return meeting ? { version: num(row!.version), meeting } : undefined;
}

function meetingOf(participantId: string): string | undefined {
  const cut = participantId.lastIndexOf('_');
  return cut > 0 ? participantId.slice(0, cut) : undefined;
}

// UTF-8 byte order: how Cassandra orders text clustering keys (and SQLite's BINARY collation
// orders the embedded store's), which JavaScript's UTF-16 comparison is not beyond U+FFFF.
function compareText(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function compareKeys(a: Candidate, b: Candidate): number {
  return compareText(a.start, b.start) || compareText(a.id, b.id);
}

