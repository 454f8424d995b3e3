// AttachmentActionStore on Cassandra: `attachment_actions` (id → JSON), written once.
import type { AttachmentActionRecord, AttachmentActionStore } from '../attachment-action-store.ts';
import { type Db, parseDoc } from './db.ts';

export class CassandraAttachmentActionStore implements AttachmentActionStore {
  private readonly db: Db;
  private readonly ks: string;

  constructor(db: Db) {
    this.db = db;
    this.ks = db.ks;
  }

  async put(action: AttachmentActionRecord): Promise<void> {
    await this.db.run(`INSERT INTO ${this.ks}.attachment_actions (id, doc) VALUES (?, ?)`, [action.id, JSON.stringify(action)]);
  }

  async get(id: string): Promise<AttachmentActionRecord | undefined> {
    return parseDoc<AttachmentActionRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.attachment_actions WHERE id = ?`, [id]));
  }

  async close(): Promise<void> {}
}
