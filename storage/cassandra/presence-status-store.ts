// ManualStatusStore on Cassandra: `manual_statuses` (person → JSON), written with a TTL up to
// the status's expiry when it has one, so Cassandra forgets it on its own; read back checked
// against the expiry too (a TTL is whole seconds, rounded up here).
import type { ManualStatus, ManualStatusStore } from '../presence-store.ts';
import { type Db, mapLimit, parseDoc } from './db.ts';

export class CassandraManualStatusStore implements ManualStatusStore {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async put(personId: string, status: ManualStatus): Promise<void> {
    const doc = JSON.stringify(status);
    if (!status.expires) {
      await this.db.run(`INSERT INTO ${this.db.ks}.manual_statuses (person_id, doc) VALUES (?, ?)`, [personId, doc]);
      return;
    }
    const ttl = Math.ceil((Date.parse(status.expires) - Date.now()) / 1000);
    if (ttl <= 0) return this.clear(personId);
    await this.db.run(`INSERT INTO ${this.db.ks}.manual_statuses (person_id, doc) VALUES (?, ?) USING TTL ?`, [personId, doc, ttl]);
  }

  async clear(personId: string): Promise<void> {
    await this.db.run(`DELETE FROM ${this.db.ks}.manual_statuses WHERE person_id = ?`, [personId]);
  }

  async statusesOf(personIds: string[]): Promise<Map<string, ManualStatus>> {
    const found = new Map<string, ManualStatus>();
    const now = new Date().toISOString();
    // One partition per person: read in parallel, a few at a time.
    await mapLimit(personIds, 16, async (personId) => {
      const status = parseDoc<ManualStatus>(await this.db.first(`SELECT doc FROM ${this.db.ks}.manual_statuses WHERE person_id = ?`, [personId]));
      if (status && (!status.expires || status.expires > now)) found.set(personId, status);
    });
    return found;
  }
}
