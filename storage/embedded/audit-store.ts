// AuditStore on node:sqlite, in the people database: the people store inserts a change's
// event with `insertAuditEvent` inside the change's own transaction. Triggers refuse every
// UPDATE and DELETE of the table, so no code path, present or future, can edit the record.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { AuditRecord } from '../../contracts/audit-events.ts';
import type { AuditQuery, AuditStore } from '../audit-store.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import type { Page } from '../interfaces.ts';
import { parseDoc, statementCache } from './sqlite.ts';

export const auditSchema = `
CREATE TABLE IF NOT EXISTS audit_events (
  id TEXT PRIMARY KEY, org_id TEXT NOT NULL, created TEXT NOT NULL, actor_id TEXT NOT NULL, category TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_events_by_org ON audit_events (org_id, created, id);
CREATE TRIGGER IF NOT EXISTS audit_events_never_updated BEFORE UPDATE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit events are never edited'); END;
CREATE TRIGGER IF NOT EXISTS audit_events_never_deleted BEFORE DELETE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit events are never deleted'); END;
`;

/** Inserts the event with the caller's statements (so inside the caller's transaction, if any). */
export function insertAuditEvent(sql: (text: string) => StatementSync, event: AuditRecord): void {
  sql('INSERT INTO audit_events (id, org_id, created, actor_id, category, doc) VALUES (?, ?, ?, ?, ?, ?)')
    .run(event.id, event.orgId, event.created, event.actorId, event.data.eventCategory, JSON.stringify(event));
}

export class SqliteAuditStore implements AuditStore {
  private readonly sql;

  constructor(db: DatabaseSync) {
    this.sql = statementCache(db);
  }

  async record(event: AuditRecord): Promise<void> {
    insertAuditEvent(this.sql, event);
  }

  async list(query: AuditQuery): Promise<Page<AuditRecord>> {
    const where = ['org_id = ?', 'created >= ?', 'created < ?'];
    const args: (string | number)[] = [query.orgId, query.from, query.to];
    if (query.actorId) {
      where.push('actor_id = ?');
      args.push(query.actorId);
    }
    if (query.categories?.length) {
      where.push(`category IN (${query.categories.map(() => '?').join(',')})`);
      args.push(...query.categories);
    }
    const after = decodeCursor(query.after);
    if (after) {
      where.push('(created, id) < (?, ?)');
      args.push(String(after[0]), String(after[1]));
    }
    const rows = this.sql(`SELECT doc FROM audit_events WHERE ${where.join(' AND ')} ORDER BY created DESC, id DESC LIMIT ?`).all(...args, query.max + 1);
    const items = rows.slice(0, query.max).map((row) => parseDoc<AuditRecord>(row));
    const last = items[items.length - 1];
    return { items, next: rows.length > query.max ? encodeCursor([last.created, last.id]) : undefined };
  }
}
