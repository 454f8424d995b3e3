// AttachmentActionStore on node:sqlite (its own file, <dataDir>/attachment-actions.db): one
// row per action with its JSON.
import type { DatabaseSync } from 'node:sqlite';
import type { AttachmentActionRecord, AttachmentActionStore } from '../attachment-action-store.ts';
import { parseDoc, statementCache } from './sqlite.ts';

export const attachmentActionsSchema = `
CREATE TABLE IF NOT EXISTS attachment_actions (id TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;
`;

export class SqliteAttachmentActionStore implements AttachmentActionStore {
  private readonly db: DatabaseSync;
  private readonly sql;

  /** The store owns `db` (opened with `attachmentActionsSchema`). */
  constructor(db: DatabaseSync) {
    this.db = db;
    this.sql = statementCache(db);
  }

  async put(action: AttachmentActionRecord): Promise<void> {
    this.sql('INSERT OR REPLACE INTO attachment_actions (id, doc) VALUES (?, ?)').run(action.id, JSON.stringify(action));
  }

  async get(id: string): Promise<AttachmentActionRecord | undefined> {
    const row = this.sql('SELECT doc FROM attachment_actions WHERE id = ?').get(id);
    return row ? parseDoc<AttachmentActionRecord>(row) : undefined;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
