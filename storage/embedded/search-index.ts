// The embedded message search index: SQLite FTS5 in its own database file (search.db), so
// indexing never contends with the rooms store's writer.
//
// Layout: `search_docs` maps each message id to an integer rowid (and holds the room, for
// removeRoom and for filtering); `search_fts` is the FTS5 table with the same rowid, holding the
// text and one synthetic token per document naming its room (`r<hex of the room id>`), so a search
// among a few rooms can be restricted inside the full-text index itself rather than by scoring
// every match in every room.
//
// A room searched up to a seq (a former member's, SearchQuery.roomsUpTo) is one more room of the
// restriction, and a filter on `search_docs.seq` leaves out what was created after that seq.
//
// Query semantics (the same as the Elasticsearch adapter): documents hold their text's terms
// (storage/search-terms.ts: folded, stemmed), and every term of the query must appear (AND); a
// term is quoted into an FTS5 string, so it can never be read as FTS5 syntax (AND, OR, NOT, NEAR,
// column filters, `*`, `^`, parentheses, quotes). Ranked by bm25 on the text, best first.
import fs from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import { InvalidSearchPositionError, type IndexedMessage, type SearchHit, type SearchIndex, type SearchQuery } from '../interfaces.ts';
import { ALL_MENTIONED } from '../records.ts';
import { groupCommitOf } from './group-commit.ts';
import { openDatabase, statementCache } from './sqlite.ts';
import { termsOf } from '../search-terms.ts';

export const searchSchema = `
CREATE TABLE IF NOT EXISTS search_docs (
  rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, room_id TEXT NOT NULL, person_id TEXT NOT NULL, created TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 0, mentioned TEXT NOT NULL DEFAULT '[]', has_files INTEGER NOT NULL DEFAULT 0,
  seq INTEGER NOT NULL DEFAULT 0, org_id TEXT);
CREATE INDEX IF NOT EXISTS search_docs_by_room ON search_docs (room_id);
CREATE TABLE IF NOT EXISTS search_checkpoints (room_id TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(text, room, tokenize = 'unicode61 remove_diacritics 2');
`;

/**
 * Up to this many rooms, the room restriction is an OR of room tokens inside the FTS5 query
 * (fast when the searcher sees few rooms of a large index); beyond it the OR expression itself
 * gets expensive and the matches are filtered by a join on `search_docs` instead.
 */
const MAX_ROOMS_IN_MATCH = 48;
/** Longest query text considered, and most terms kept from it. */
const MAX_QUERY_CHARS = 1024;
const MAX_TERMS = 32;

/** The single FTS5 token standing for a room: `r` + the hex of its UTF-8 id (letters and digits only). */
function roomToken(roomId: string): string {
  return `r${Buffer.from(roomId, 'utf8').toString('hex')}`;
}

/**
 * The user's text as FTS5 strings, one per term (storage/search-terms.ts), ANDed (implicitly).
 * Terms are letters and digits only; quoted anyway, so nothing can ever be read as FTS5 syntax.
 */
export function ftsTerms(text: string): string[] {
  return termsOf(text.slice(0, MAX_QUERY_CHARS)).slice(0, MAX_TERMS).map((term) => `"${term}"`);
}

/**
 * The layout of this file's documents: 2 = text held as folded, stemmed terms; 3 = each with
 * its message's seq and its room's organization. An older file is emptied and filled again.
 */
const FORMAT_VERSION = 3;

export class SqliteSearchIndex implements SearchIndex {
  private readonly db: DatabaseSync;
  private readonly sql;
  /** Index writes share transactions, as the rooms' commits do (group-commit.ts). */
  private readonly commits;
  readonly wantsRebuild: boolean;

  /** The index owns `db` (opened with `searchSchema`): `close()` closes it. `created`: its file is new. */
  constructor(db: DatabaseSync, created = false) {
    this.db = db;
    // search.db files made before these columns: their documents count as version 0, mentioning
    // nobody and without files until the next rebuild (`npm run reindex`).
    const columns = (db.prepare('PRAGMA table_info(search_docs)').all() as { name: string }[]).map((c) => c.name);
    if (!columns.includes('version')) db.exec('ALTER TABLE search_docs ADD COLUMN version INTEGER NOT NULL DEFAULT 0');
    if (!columns.includes('mentioned')) db.exec("ALTER TABLE search_docs ADD COLUMN mentioned TEXT NOT NULL DEFAULT '[]'");
    if (!columns.includes('has_files')) db.exec('ALTER TABLE search_docs ADD COLUMN has_files INTEGER NOT NULL DEFAULT 0');
    if (!columns.includes('seq')) db.exec('ALTER TABLE search_docs ADD COLUMN seq INTEGER NOT NULL DEFAULT 0');
    if (!columns.includes('org_id')) db.exec('ALTER TABLE search_docs ADD COLUMN org_id TEXT');
    // An older layout's documents hold raw text, which the stemmed queries would not find: the
    // index is derived, so it is emptied (checkpoints too) and filled again from the rooms.
    const format = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
    const outdated = format < FORMAT_VERSION;
    if (outdated && !created) db.exec('DELETE FROM search_fts; DELETE FROM search_docs; DELETE FROM search_checkpoints;');
    if (outdated) db.exec(`PRAGMA user_version = ${FORMAT_VERSION}`);
    this.wantsRebuild = created || outdated || !columns.includes('mentioned');
    this.sql = statementCache(db);
    this.commits = groupCommitOf(db);
  }

  /** Opens (creating when missing) the index in its own file, e.g. `<dataDir>/search.db`. */
  static open(file: string, durableSync = false): SqliteSearchIndex {
    const created = !fs.existsSync(file);
    return new SqliteSearchIndex(openDatabase({ file, durableSync, schema: searchSchema }), created);
  }

  async indexMessages(messages: IndexedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.commits.run(() => {
      for (const m of messages) {
        const existing = this.sql('SELECT rowid, version FROM search_docs WHERE id = ?').get(m.id) as { rowid: number; version: number } | undefined;
        let rowid: number;
        if (existing) {
          if (Number(existing.version) > m.version) continue;
          rowid = Number(existing.rowid);
          this.sql('DELETE FROM search_fts WHERE rowid = ?').run(rowid);
          this.sql('UPDATE search_docs SET room_id = ?, person_id = ?, created = ?, version = ?, mentioned = ?, has_files = ?, seq = ?, org_id = ? WHERE rowid = ?')
            .run(m.roomId, m.personId, m.created, m.version, JSON.stringify(m.mentioned), m.hasFiles ? 1 : 0, m.seq, m.orgId ?? null, rowid);
        } else {
          rowid = Number(this.sql('INSERT INTO search_docs (id, room_id, person_id, created, version, mentioned, has_files, seq, org_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
            .run(m.id, m.roomId, m.personId, m.created, m.version, JSON.stringify(m.mentioned), m.hasFiles ? 1 : 0, m.seq, m.orgId ?? null).lastInsertRowid);
        }
        this.sql('INSERT INTO search_fts (rowid, text, room) VALUES (?, ?, ?)').run(rowid, termsOf(m.text ?? '').join(' '), roomToken(m.roomId));
      }
    });
  }

  /**
   * Unlike Elasticsearch's, a removal leaves no tombstone: this index has one search actor,
   * which applies a room's events and rebuilds one at a time, so no older write follows it.
   */
  async removeMessage(id: string, version: number): Promise<void> {
    await this.commits.run(() => {
      const row = this.sql('SELECT rowid FROM search_docs WHERE id = ? AND version <= ?').get(id, version) as { rowid: number } | undefined;
      if (!row) return;
      this.sql('DELETE FROM search_fts WHERE rowid = ?').run(row.rowid);
      this.sql('DELETE FROM search_docs WHERE rowid = ?').run(row.rowid);
    });
  }

  async removeRoom(roomId: string, version: number): Promise<void> {
    await this.commits.run(() => {
      this.sql('DELETE FROM search_fts WHERE rowid IN (SELECT rowid FROM search_docs WHERE room_id = ? AND version <= ?)').run(roomId, version);
      this.sql('DELETE FROM search_docs WHERE room_id = ? AND version <= ?').run(roomId, version);
    });
  }

  async search({ text, roomIds, roomsUpTo = {}, orgId, max, personId, before, after, mentioning, hasFiles, startAfter }: SearchQuery): Promise<SearchHit[]> {
    const terms = ftsTerms(text);
    const limit = Math.max(0, Math.floor(max));
    // The rooms reached up to a seq (those also searched whole are whole), then every room.
    const whole = new Set(roomIds);
    const upTo = Object.fromEntries(Object.entries(roomsUpTo).filter(([roomId]) => !whole.has(roomId)));
    const rooms = [...whole, ...Object.keys(upTo)];
    if (terms.length === 0 || (rooms.length === 0 && orgId === undefined) || limit === 0) return [];
    const textMatch = `text : (${terms.join(' ')})`;
    // The optional filters as SQL on search_docs; a missing one is NULL and lets every row by,
    // so each query shape is one cached statement.
    const filters = `AND (?1 IS NULL OR d.person_id = ?1) AND (?2 IS NULL OR d.created < ?2) AND (?3 IS NULL OR d.created > ?3)
      AND (?7 IS NULL OR EXISTS (SELECT 1 FROM json_each(d.mentioned) WHERE value IN (?7, '${ALL_MENTIONED}'))) AND (?8 IS NULL OR d.has_files = ?8)
      AND (?12 IS NULL OR (?13 IS NOT NULL AND d.org_id = ?13) OR NOT EXISTS (SELECT 1 FROM json_each(?12) j WHERE j.key = d.room_id AND d.seq > j.value))`;
    // The next page: after the last hit in the order score, newest, id (bm25 is lower for better).
    if (startAfter && !(startAfter.length === 3 && typeof startAfter[0] === 'number' && typeof startAfter[1] === 'string' && typeof startAfter[2] === 'string')) {
      throw new InvalidSearchPositionError('not a position of this index');
    }
    const [score, created, id] = startAfter ?? [null, null, null];
    const page = `WHERE ?9 IS NULL OR score > ?9 OR (score = ?9 AND (created < ?10 OR (created = ?10 AND id > ?11)))`;
    const args = {
      filters: [personId ?? null, before ?? null, after ?? null],
      more: [mentioning ?? null, hasFiles === undefined ? null : hasFiles ? 1 : 0, score, created, id, Object.keys(upTo).length > 0 ? JSON.stringify(upTo) : null, orgId ?? null],
    };
    // The rooms as tokens in the MATCH when they are few; else (or with an organization's rooms
    // too) a filter on the matches.
    const inMatch = rooms.length <= MAX_ROOMS_IN_MATCH && orgId === undefined;
    // (Every shape names each parameter, ?13 here always NULL: the statement takes the same arguments.)
    const matched = inMatch
      ? `WHERE search_fts MATCH ?4 AND ?13 IS NULL ${filters}`
      : `WHERE search_fts MATCH ?4 AND (d.room_id IN (SELECT value FROM json_each(?6)) OR (?13 IS NOT NULL AND d.org_id = ?13)) ${filters}`;
    const match = inMatch ? `room : (${rooms.map(roomToken).join(' OR ')}) AND ${textMatch}` : textMatch;
    const rows = this.sql(`SELECT id, room_id, created, score FROM (
        SELECT d.id AS id, d.room_id AS room_id, d.created AS created, bm25(search_fts, 1.0, 0.0) AS score
        FROM search_fts JOIN search_docs d ON d.rowid = search_fts.rowid ${matched})
      ${page} ORDER BY score, created DESC, id LIMIT ?5`).all(...args.filters, match, limit, JSON.stringify(rooms), ...args.more);
    return (rows as { id: string; room_id: string; created: string; score: number }[]).map((r) => ({ id: r.id, roomId: r.room_id, position: [r.score, r.created, r.id] }));
  }

  async checkpoints(roomIds: string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>(roomIds.map((roomId) => [roomId, 0]));
    for (const row of this.sql('SELECT room_id, seq FROM search_checkpoints WHERE room_id IN (SELECT value FROM json_each(?))').all(JSON.stringify(roomIds)) as { room_id: string; seq: number }[]) {
      found.set(row.room_id, Number(row.seq));
    }
    return found;
  }

  async raiseCheckpoints(checkpoints: Map<string, number>): Promise<void> {
    if (checkpoints.size === 0) return;
    await this.commits.run(() => {
      for (const [roomId, seq] of checkpoints) {
        this.sql('INSERT INTO search_checkpoints (room_id, seq) VALUES (?, ?) ON CONFLICT (room_id) DO UPDATE SET seq = MAX(seq, excluded.seq)').run(roomId, seq);
      }
    });
  }

  async refresh(): Promise<void> {
    // FTS5 is transactional: everything committed is searchable at once.
  }

  async close(): Promise<void> {
    if (!this.db.isOpen) return;
    this.commits.flushNow();
    this.db.close();
  }
}
