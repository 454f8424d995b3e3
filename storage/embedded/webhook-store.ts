// WebhookStore on node:sqlite (its own file, <dataDir>/webhooks.db): one row per webhook with
// its JSON, the columns it is listed by, and its count of consecutive failed deliveries.
import type { DatabaseSync } from 'node:sqlite';
import type { Page } from '../interfaces.ts';
import type { WebhookRecord, WebhookStore } from '../webhook-store.ts';
import { parseDoc, statementCache } from './sqlite.ts';

export const webhooksSchema = `
CREATE TABLE IF NOT EXISTS webhooks (
  id TEXT PRIMARY KEY, created_by TEXT NOT NULL, org_id TEXT NOT NULL, doc TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS webhooks_by_creator ON webhooks (created_by, id);
CREATE INDEX IF NOT EXISTS webhooks_by_org ON webhooks (org_id, id);
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

  async close(): Promise<void> {
    this.db.close();
  }
}
