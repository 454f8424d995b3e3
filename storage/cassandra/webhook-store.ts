// WebhookStore on Cassandra: `webhooks` (id → JSON), listing hints by creator and by
// organization (keys only, checked against `webhooks` on read), and the consecutive failures
// of each webhook in a counter table (atomic increments from every node). Resetting a
// counter is an increment by minus its current value: a failure counted between the read and
// the reset survives it, which errs on the side of disabling a failing target. The outbox's
// checkpoints are one row per room in `webhook_dispatch` (plain writes: last write wins).
// Every write to `webhooks` is a Paxos round: a plain write carries the driver's timestamp,
// which within one millisecond can be later than a Paxos ballot's and silently win over a
// conditional write that came after it (seen: a PUT racing a set-inactive lost its target).
import type { Page } from '../interfaces.ts';
import type { WebhookRecord, WebhookStore } from '../webhook-store.ts';
import { type Db, mapLimit, num, parseDoc } from './db.ts';

/** How many times a put or a deactivation tries again after losing a race with another write. */
const WRITE_ATTEMPTS = 5;

export class CassandraWebhookStore implements WebhookStore {
  private readonly db: Db;
  private readonly ks: string;

  constructor(db: Db) {
    this.db = db;
    this.ks = db.ks;
  }

  async put(webhook: WebhookRecord): Promise<void> {
    // Hints first: a hint without its row is skipped on read; a row without its hint would be unlisted.
    await this.db.run(`INSERT INTO ${this.ks}.webhooks_by_creator (created_by, id) VALUES (?, ?)`, [webhook.createdBy, webhook.id]);
    await this.db.run(`INSERT INTO ${this.ks}.webhooks_by_org (org_id, id) VALUES (?, ?)`, [webhook.orgId, webhook.id]);
    const doc = JSON.stringify(webhook);
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt += 1) {
      if ((await this.db.lwt(`INSERT INTO ${this.ks}.webhooks (id, doc) VALUES (?, ?) IF NOT EXISTS`, [webhook.id, doc])).applied) return;
      if (await this.update(webhook)) return;
    }
    throw new Error(`webhook ${webhook.id} kept appearing and disappearing while being written`);
  }

  /** A lightweight transaction: a row deleted meanwhile (its tombstone) is not written again. */
  async update(webhook: WebhookRecord): Promise<boolean> {
    return (await this.db.lwt(`UPDATE ${this.ks}.webhooks SET doc = ? WHERE id = ? IF EXISTS`, [JSON.stringify(webhook), webhook.id])).applied;
  }

  /** Compare-and-set on the stored document: a write that lands between the read and the set makes it read again. */
  async deactivate(id: string): Promise<boolean> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt += 1) {
      const row = await this.db.serialRead(`SELECT doc FROM ${this.ks}.webhooks WHERE id = ?`, [id]);
      const current = parseDoc<WebhookRecord>(row);
      if (current?.status !== 'active') return false;
      const next = JSON.stringify({ ...current, status: 'inactive' });
      if ((await this.db.lwt(`UPDATE ${this.ks}.webhooks SET doc = ? WHERE id = ? IF doc = ?`, [next, id, row!.doc])).applied) return true;
    }
    throw new Error(`webhook ${id} kept changing while being set inactive`);
  }

  async get(id: string): Promise<WebhookRecord | undefined> {
    return parseDoc<WebhookRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.webhooks WHERE id = ?`, [id]));
  }

  async remove(id: string): Promise<void> {
    const webhook = await this.get(id);
    await this.db.lwt(`DELETE FROM ${this.ks}.webhooks WHERE id = ? IF EXISTS`, [id]);
    await this.db.run(`DELETE FROM ${this.ks}.webhook_failures WHERE id = ?`, [id]);
    if (!webhook) return;
    await this.db.run(`DELETE FROM ${this.ks}.webhooks_by_creator WHERE created_by = ? AND id = ?`, [webhook.createdBy, id]);
    await this.db.run(`DELETE FROM ${this.ks}.webhooks_by_org WHERE org_id = ? AND id = ?`, [webhook.orgId, id]);
  }

  async listByCreator(createdBy: string, page: { max: number; after?: string }): Promise<Page<WebhookRecord>> {
    return this.list('webhooks_by_creator', 'created_by', createdBy, page, (w) => w.createdBy === createdBy);
  }

  async listByOrg(orgId: string, page: { max: number; after?: string }): Promise<Page<WebhookRecord>> {
    return this.list('webhooks_by_org', 'org_id', orgId, page, (w) => w.orgId === orgId);
  }

  private async list(table: string, column: string, value: string, { max, after }: { max: number; after?: string }, belongs: (w: WebhookRecord) => boolean): Promise<Page<WebhookRecord>> {
    const items: WebhookRecord[] = [];
    let from = after ?? '';
    // Stale hints are skipped, so a page may take more than one read of the hint partition.
    for (;;) {
      const hints = await this.db.rows(`SELECT id FROM ${this.ks}.${table} WHERE ${column} = ? AND id > ? LIMIT ?`, [value, from, max + 1]);
      const found = await mapLimit(hints, 16, (row) => this.get(String(row.id)));
      for (const webhook of found) {
        if (!webhook || !belongs(webhook)) continue;
        if (items.length === max) return { items, next: items[items.length - 1].id };
        items.push(webhook);
      }
      if (hints.length <= max) return { items };
      from = String(hints[hints.length - 1].id);
    }
  }

  async listAll(): Promise<WebhookRecord[]> {
    const all: WebhookRecord[] = [];
    for await (const row of this.db.each(`SELECT doc FROM ${this.ks}.webhooks`)) all.push(parseDoc<WebhookRecord>(row)!);
    return all;
  }

  async addFailure(id: string): Promise<number> {
    await this.db.run(`UPDATE ${this.ks}.webhook_failures SET failures = failures + 1 WHERE id = ?`, [id]);
    return this.failures(id);
  }

  async clearFailures(id: string): Promise<void> {
    const now = await this.failures(id);
    if (now !== 0) await this.db.run(`UPDATE ${this.ks}.webhook_failures SET failures = failures - ? WHERE id = ?`, [now, id]);
  }

  async failures(id: string): Promise<number> {
    return num((await this.db.first(`SELECT failures FROM ${this.ks}.webhook_failures WHERE id = ?`, [id]))?.failures);
  }

  async dispatchedUpTo(roomIds: string[]): Promise<Map<string, number>> {
    const rows = await mapLimit(roomIds, 16, (roomId) => this.db.first(`SELECT room_id, seq FROM ${this.ks}.webhook_dispatch WHERE room_id = ?`, [roomId]));
    return new Map(rows.filter((row) => row !== undefined).map((row) => [String(row.room_id), num(row.seq)]));
  }

  async putDispatchedUpTo(checkpoints: Map<string, number>): Promise<void> {
    await mapLimit([...checkpoints], 16, ([roomId, seq]) => this.db.run(`INSERT INTO ${this.ks}.webhook_dispatch (room_id, seq) VALUES (?, ?)`, [roomId, seq]));
  }

  async close(): Promise<void> {}
}
