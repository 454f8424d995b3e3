// FileStore on node:sqlite (its own file, <dataDir>/files.db): one row per file with its JSON
// and the message it is on. The preview is part of the JSON: this process is the store's only
// writer, and each method below reads and writes within one synchronous step, so a preview
// job and a deletion cannot interleave inside one.
import type { DatabaseSync } from 'node:sqlite';
import { previewBlobOf, type FilePreview, type FileRecord, type FileStore } from '../file-store.ts';
import { parseDoc, statementCache } from './sqlite.ts';

export const filesSchema = `
CREATE TABLE IF NOT EXISTS files (id TEXT PRIMARY KEY, message_id TEXT, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS files_by_message ON files (message_id, id);
CREATE INDEX IF NOT EXISTS files_by_room ON files (json_extract(doc, '$.roomId'), id) WHERE message_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS files_unattached ON files (json_extract(doc, '$.created')) WHERE message_id IS NULL;
`;

export class SqliteFileStore implements FileStore {
  private readonly db: DatabaseSync;
  private readonly sql;

  /** The store owns `db` (opened with `filesSchema`). */
  constructor(db: DatabaseSync) {
    this.db = db;
    this.sql = statementCache(db);
  }

  async put(file: FileRecord): Promise<void> {
    const { preview: _ignored, ...fields } = file;
    const recorded = this.getNow(file.id)?.preview;
    this.write({ ...fields, ...(recorded ? { preview: recorded } : {}) });
  }

  async setPreview(id: string, preview: FilePreview): Promise<boolean> {
    const file = this.getNow(id);
    if (!file) return false;
    this.write({ ...file, preview });
    return true;
  }

  async removeReleased(id: string, releasedPreviewBlob: string | undefined): Promise<boolean> {
    const file = this.getNow(id);
    if (file && previewBlobOf(file.preview) !== releasedPreviewBlob) return false;
    this.sql('DELETE FROM files WHERE id = ?').run(id);
    return true;
  }

  private write(file: FileRecord): void {
    this.sql('INSERT INTO files (id, message_id, doc) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET message_id = excluded.message_id, doc = excluded.doc')
      .run(file.id, file.messageId ?? null, JSON.stringify(file));
  }

  async get(id: string): Promise<FileRecord | undefined> {
    return this.getNow(id);
  }

  private getNow(id: string): FileRecord | undefined {
    const row = this.sql('SELECT doc FROM files WHERE id = ?').get(id);
    return row ? parseDoc<FileRecord>(row) : undefined;
  }

  async listByMessage(messageId: string): Promise<FileRecord[]> {
    return this.sql('SELECT doc FROM files WHERE message_id = ? ORDER BY id').all(messageId).map((row) => parseDoc<FileRecord>(row));
  }

  async listByRoom(roomId: string, page: { max: number; after?: string }): Promise<FileRecord[]> {
    return this.sql(`SELECT doc FROM files WHERE message_id IS NOT NULL AND json_extract(doc, '$.roomId') = ? AND id > ? ORDER BY id LIMIT ?`)
      .all(roomId, page.after ?? '', page.max).map((row) => parseDoc<FileRecord>(row));
  }

  async listUnattached(createdBefore: string, max: number): Promise<FileRecord[]> {
    return this.sql(`SELECT doc FROM files WHERE message_id IS NULL AND json_extract(doc, '$.created') < ? ORDER BY json_extract(doc, '$.created') LIMIT ?`)
      .all(createdBefore, max).map((row) => parseDoc<FileRecord>(row));
  }

  async remove(id: string): Promise<void> {
    this.sql('DELETE FROM files WHERE id = ?').run(id);
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }
}
