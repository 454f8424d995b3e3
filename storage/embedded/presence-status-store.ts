// ManualStatusStore on SQLite (presence.db): one row per person who set a status, read back
// only while unexpired; an expired row is deleted when it is next read.
import type { DatabaseSync } from 'node:sqlite';
import type { ManualStatus, ManualStatusStore } from '../presence-store.ts';
import { statementCache } from './sqlite.ts';

export const presenceSchema = `
CREATE TABLE IF NOT EXISTS manual_statuses (person_id TEXT PRIMARY KEY, doc TEXT NOT NULL, expires TEXT);
`;

export class SqliteManualStatusStore implements ManualStatusStore {
  private readonly sql: ReturnType<typeof statementCache>;

  /** The store uses `db` (opened with `presenceSchema`); its opener closes it. */
  constructor(db: DatabaseSync) {
    this.sql = statementCache(db);
  }

  async put(personId: string, status: ManualStatus): Promise<void> {
    this.sql('INSERT INTO manual_statuses (person_id, doc, expires) VALUES (?, ?, ?) ON CONFLICT (person_id) DO UPDATE SET doc = excluded.doc, expires = excluded.expires')
      .run(personId, JSON.stringify(status), status.expires ?? null);
  }

  async clear(personId: string): Promise<void> {
    this.sql('DELETE FROM manual_statuses WHERE person_id = ?').run(personId);
  }

  async statusesOf(personIds: string[]): Promise<Map<string, ManualStatus>> {
    const found = new Map<string, ManualStatus>();
    if (personIds.length === 0) return found;
    const now = new Date().toISOString();
    const rows = this.sql('SELECT person_id, doc, expires FROM manual_statuses WHERE person_id IN (SELECT value FROM json_each(?))').all(JSON.stringify(personIds)) as { person_id: string; doc: string; expires: string | null }[];
    for (const row of rows) {
      if (row.expires !== null && row.expires <= now) {
        this.sql('DELETE FROM manual_statuses WHERE person_id = ? AND expires = ?').run(row.person_id, row.expires);
        continue;
      }
      found.set(row.person_id, JSON.parse(row.doc) as ManualStatus);
    }
    return found;
  }
}
