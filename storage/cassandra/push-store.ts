// PushStore on Cassandra: `push_subscriptions` partitioned by person (a person's few
// subscriptions are one partition read), an id → person index to find one by id, and the
// VAPID key pair in `vapid_keys`, created by a lightweight transaction so that every node
// that starts at once ends with the one pair that won.
import type { PushStore, PushSubscriptionRecord, VapidKeys } from '../push-store.ts';
import { type Db, parseDoc } from './db.ts';

export class CassandraPushStore implements PushStore {
  private readonly db: Db;
  private readonly ks: string;

  constructor(db: Db) {
    this.db = db;
    this.ks = db.ks;
  }

  async put(subscription: PushSubscriptionRecord): Promise<void> {
    // The index first: an index entry without its row reads as absent; a row without its entry could not be found by id.
    await this.db.run(`INSERT INTO ${this.ks}.push_subscription_owners (id, person_id) VALUES (?, ?)`, [subscription.id, subscription.personId]);
    await this.db.run(`INSERT INTO ${this.ks}.push_subscriptions (person_id, id, doc) VALUES (?, ?, ?)`, [subscription.personId, subscription.id, JSON.stringify(subscription)]);
  }

  async get(id: string): Promise<PushSubscriptionRecord | undefined> {
    const owner = await this.db.first(`SELECT person_id FROM ${this.ks}.push_subscription_owners WHERE id = ?`, [id]);
    if (!owner) return undefined;
    return parseDoc<PushSubscriptionRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.push_subscriptions WHERE person_id = ? AND id = ?`, [String(owner.person_id), id]));
  }

  async remove(id: string): Promise<void> {
    const owner = await this.db.first(`SELECT person_id FROM ${this.ks}.push_subscription_owners WHERE id = ?`, [id]);
    if (!owner) return;
    await this.db.run(`DELETE FROM ${this.ks}.push_subscriptions WHERE person_id = ? AND id = ?`, [String(owner.person_id), id]);
    await this.db.run(`DELETE FROM ${this.ks}.push_subscription_owners WHERE id = ?`, [id]);
  }

  async ofPerson(personId: string): Promise<PushSubscriptionRecord[]> {
    const rows = await this.db.rows(`SELECT doc FROM ${this.ks}.push_subscriptions WHERE person_id = ?`, [personId]);
    return rows.map((row) => parseDoc<PushSubscriptionRecord>(row)!);
  }

  async vapidKeys(candidate: VapidKeys): Promise<VapidKeys> {
    const { applied, row } = await this.db.lwt(`INSERT INTO ${this.ks}.vapid_keys (one, doc) VALUES (1, ?) IF NOT EXISTS`, [JSON.stringify(candidate)]);
    if (applied) return candidate;
    return parseDoc<VapidKeys>(row ?? (await this.db.serialRead(`SELECT doc FROM ${this.ks}.vapid_keys WHERE one = 1`, [])))!;
  }

  async close(): Promise<void> {}
}
