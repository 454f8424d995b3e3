// FileStore on Cassandra (migration 15): `files` (id → JSON) and the files of each message
// (keys only, checked against `files` on read, as the webhook listings are).
import type { FileRecord, FileStore } from '../file-store.ts';
import { type Db, parseDoc } from './db.ts';

export class CassandraFileStore implements FileStore {
  private readonly db: Db;
  private readonly ks: string;

  constructor(db: Db) {
    this.db = db;
    this.ks = db.ks;
  }

  async put(file: FileRecord): Promise<void> {
    // The hint first: a hint without its row is skipped on read; a row without its hint would outlive its message.
    if (file.messageId) await this.db.run(`INSERT INTO ${this.ks}.files_by_message (message_id, id) VALUES (?, ?)`, [file.messageId, file.id]);
    await this.db.run(`INSERT INTO ${this.ks}.files (id, doc) VALUES (?, ?)`, [file.id, JSON.stringify(file)]);
  }

  async get(id: string): Promise<FileRecord | undefined> {
    return parseDoc<FileRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.files WHERE id = ?`, [id]));
  }

  async listByMessage(messageId: string): Promise<FileRecord[]> {
    const ids = (await this.db.rows(`SELECT id FROM ${this.ks}.files_by_message WHERE message_id = ?`, [messageId])).map((row) => String(row.id));
    const files = await Promise.all(ids.map((id) => this.get(id)));
    return files.filter((file): file is FileRecord => file?.messageId === messageId);
  }

  async remove(id: string): Promise<void> {
    const file = await this.get(id);
    await this.db.run(`DELETE FROM ${this.ks}.files WHERE id = ?`, [id]);
    if (file?.messageId) await this.db.run(`DELETE FROM ${this.ks}.files_by_message WHERE message_id = ? AND id = ?`, [file.messageId, id]);
  }

  async close(): Promise<void> {
    // The client belongs to the Cassandra storage that made this store.
  }
}
