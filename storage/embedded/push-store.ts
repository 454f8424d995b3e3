// PushStore on node:sqlite (its own file, <dataDir>/push.db): one row per subscription with
// its JSON and the person it belongs to, and the VAPID key pair in a one-row table — so the
// keys live in the data directory and survive restarts.
import type { DatabaseSync } from 'node:sqlite';
import type { PushStore, PushSubscriptionRecord, VapidKeys } from '../push-store.ts';
import { parseDoc, statementCache } from './sqlite.ts';

export const pushSchema = `
CREATE TABLE IF NOT EXISTS push_subscriptions (id TEXT PRIMARY KEY, person_id TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS push_subscriptions_by_person ON push_subscriptions (person_id, id);
CREATE TABLE IF NOT EXISTS vapid_keys (one INTEGER PRIMARY KEY CHECK (one = 1), doc TEXT NOT NULL);
`;

export class SqlitePushStore implements PushStore {
  private readonly db: DatabaseSync;
  private readonly sql;

  /** The store owns `db` (opened with `pushSchema`). */
  constructor(db: DatabaseSync) {
    this.db = db;
    this.sql = statementCache(db);
  }

  async put(subscription: PushSubscriptionRecord): Promise<void> {
    this.sql(`INSERT INTO push_subscriptions (id, person_id, doc) VALUES (?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET person_id = excluded.person_id, doc = excluded.doc`)
      .run(subscription.id, subscription.personId, JSON.stringify(subscription));
  }

  async get(id: string): Promise<PushSubscriptionRecord | undefined> {
    const row = this.sql('SELECT doc FROM push_subscriptions WHERE id = ?').get(id);
    return row ? parseDoc<PushSubscriptionRecord>(row) : undefined;
  }

  async remove(id: string): Promise<void> {
    this.sql('DELETE FROM push_subscriptions WHERE id = ?').run(id);
  }

  async ofPerson(personId: string): Promise<PushSubscriptionRecord[]> {
    return this.sql('SELECT doc FROM push_subscriptions WHERE person_id = ? ORDER BY id').all(personId).map((row) => parseDoc<PushSubscriptionRecord>(row));
  }

  async vapidKeys(candidate: VapidKeys): Promise<VapidKeys> {
    this.sql('INSERT INTO vapid_keys (one, doc) VALUES (1, ?) ON CONFLICT (one) DO NOTHING').run(JSON.stringify(candidate));
    return parseDoc<VapidKeys>(this.sql('SELECT doc FROM vapid_keys WHERE one = 1').get());
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
