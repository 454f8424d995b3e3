// WebhookStore on node:sqlite (its own file, <dataDir>/webhooks.db): one row per webhook with
// its JSON, the columns it is listed by, and its count of consecutive failed deliveries; and
// the outbox's checkpoint of each room (how far its activities were queued for delivery).
import type { DatabaseSync } from 'node:sqlite';
import type { Page } from '../interfaces.ts';
import type { WebhookRecord, WebhookStore } from '../webhook-store.ts';
import { inTransaction, parseDoc, statementCache } from './sqlite.ts';

export const webhooksSchema = `
CREATE TABLE IF NOT EXISTS webhooks (
  id TEXT PRIMARY KEY, created_by TEXT NOT NULL, org_id TEXT NOT NULL, doc TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS webhooks_by_creator ON webhooks (created_by, id);
CREATE INDEX IF NOT EXISTS webhooks_by_org ON webhooks (org_id, id);
CREATE TABLE IF NOT EXISTS dispatch_checkpoints (room_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
`;

export class SqliteWebhookStore implements WebhookStore {
  private readonly db: DatabaseSync;
  private readonly sql;

  /** The store owns `db` (opened with `webhooksSchema`). */
  constructor(db: DatabaseSync) {
    this.db = db;
    this.sql = statementCache(db);
  }

  async put(webhook: WebhookRecord): Promise<void> {
    this.sql(`INSERT INTO webhooks (id, created_by, org_id, doc) VALUES (?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET created_by = excluded.created_by, org_id = excluded.org_id, doc = excluded.doc`)
      .run(webhook.id, webhook.createdBy, webhook.orgId, JSON.stringify(webhook));
  }

  async update(webhook: WebhookRecord): Promise<boolean> {
    return this.sql('UPDATE webhooks SET doc = ? WHERE id = ?').run(JSON.stringify(webhook), webhook.id).changes === 1;
  }

  async deactivate(id: string): Promise<boolean> {
    // One statement: the status is changed inside the stored document, the rest left as it is.
    return this.sql(`UPDATE webhooks SET doc = json_set(doc, '$.status', 'inactive') WHERE id = ? AND json_extract(doc, '$.status') = 'active'`).run(id).changes === 1;
  }

  async get(id: string): Promise<WebhookRecord | undefined> {
    const row = this.sql('SELECT doc FROM webhooks WHERE id = ?').get(id);
    return row ? parseDoc<WebhookRecord>(row) : undefined;
  }

  async remove(id: string): Promise<void> {
    this.sql('DELETE FROM webhooks WHERE id = ?').run(id);
  }

  async listByCreator(createdBy: string, page: { max: number; after?: string }): Promise<Page<WebhookRecord>> {
    return this.list('created_by', createdBy, page);
  }

  async listByOrg(orgId: string, page: { max: number; after?: string }): Promise<Page<WebhookRecord>> {
    return this.list('org_id', orgId, page);
  }

  private list(column: 'created_by' | 'org_id', value: string, { max, after }: { max: number; after?: string }): Page<WebhookRecord> {
    const rows = this.sql(`SELECT id, doc FROM webhooks WHERE ${column} = ? AND id > ? ORDER BY id LIMIT ?`).all(value, after ?? '', max + 1);
    const items = rows.slice(0, max).map((row) => parseDoc<WebhookRecord>(row));
    return { items, next: rows.length > max ? items[items.length - 1].id : undefined };
  }

  async listAll(): Promise<WebhookRecord[]> {
    return this.sql('SELECT doc FROM webhooks').all().map((row) => parseDoc<WebhookRecord>(row));
  }

  async addFailure(id: string): Promise<number> {
    const row = this.sql('UPDATE webhooks SET failures = failures + 1 WHERE id = ? RETURNING failures').get(id) as { failures: number } | undefined;
    return row?.failures ?? 0;
  }

  async clearFailures(id: string): Promise<void> {
    this.sql('UPDATE webhooks SET failures = 0 WHERE id = ?').run(id);
  }

  async failures(id: string): Promise<number> {
    const row = this.sql('SELECT failures FROM webhooks WHERE id = ?').get(id) as { failures: number } | undefined;
    return row?.failures ?? 0;
  }

  async dispatchedUpTo(roomIds: string[]): Promise<Map<string, number>> {
    // One statement for the whole list (ids as a JSON array), not a read per room.
    const rows = this.sql('SELECT room_id, seq FROM dispatch_checkpoints WHERE room_id IN (SELECT value FROM json_each(?))').all(JSON.stringify(roomIds)) as { room_id: string; seq: number }[];
    return new Map(rows.map((row) => [row.room_id, Number(row.seq)]));
  }

  async putDispatchedUpTo(checkpoints: Map<string, number>): Promise<void> {
    if (checkpoints.size === 0) return;
    const put = this.sql('INSERT INTO dispatch_checkpoints (room_id, seq) VALUES (?, ?) ON CONFLICT (room_id) DO UPDATE SET seq = excluded.seq');
    // One commit (one fsync) for every room flushed together.
    inTransaction(this.db, () => {
      for (const [roomId, seq] of checkpoints) put.run(roomId, seq);
    });
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
