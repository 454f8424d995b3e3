// RetentionStore on node:sqlite, in the rooms database (the rooms actor owns both).
import type { DatabaseSync } from 'node:sqlite';
import type { RetentionPolicy, RetentionStore } from '../retention-store.ts';
import { groupCommitOf } from './group-commit.ts';
import { parseDoc, statementCache } from './sqlite.ts';

export const retentionSchema = `
CREATE TABLE IF NOT EXISTS retention_policies (org_id TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;
`;

export class SqliteRetentionStore implements RetentionStore {
  private readonly sql;

  private readonly commits;

  constructor(db: DatabaseSync) {
    db.exec(retentionSchema);
    this.sql = statementCache(db);
    this.commits = groupCommitOf(db);
  }

  async get(orgId: string): Promise<RetentionPolicy | undefined> {
    const row = this.sql('SELECT doc FROM retention_policies WHERE org_id = ?').get(orgId);
    return row ? parseDoc<RetentionPolicy>(row) : undefined;
  }

  async put(policy: RetentionPolicy): Promise<void> {
    await this.commits.run(() => this.sql('INSERT OR REPLACE INTO retention_policies (org_id, doc) VALUES (?, ?)').run(policy.orgId, JSON.stringify(policy)));
  }

  async list(): Promise<RetentionPolicy[]> {
    return this.sql('SELECT doc FROM retention_policies ORDER BY org_id').all().map((row) => parseDoc<RetentionPolicy>(row));
  }
}
