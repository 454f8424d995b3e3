// RetentionStore on Cassandra (migration 18): one row per org.
import type { RetentionPolicy, RetentionStore } from '../retention-store.ts';
import { parseDoc, type Db } from './db.ts';

export class CassandraRetentionStore implements RetentionStore {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  private get ks(): string {
    return this.db.ks;
  }

  async get(orgId: string): Promise<RetentionPolicy | undefined> {
    return parseDoc<RetentionPolicy>(await this.db.first(`SELECT doc FROM ${this.ks}.retention_policies WHERE org_id = ?`, [orgId]));
  }

  async put(policy: RetentionPolicy): Promise<void> {
    await this.db.run(`INSERT INTO ${this.ks}.retention_policies (org_id, doc) VALUES (?, ?)`, [policy.orgId, JSON.stringify(policy)]);
  }

  async list(): Promise<RetentionPolicy[]> {
    return (await this.db.rows(`SELECT doc FROM ${this.ks}.retention_policies`)).map((row) => parseDoc<RetentionPolicy>(row)!).sort((a, b) => (a.orgId < b.orgId ? -1 : 1));
  }
}
