// AuditStore on Cassandra. `audit_events` is partitioned by org and calendar month (UTC), newest
// first inside a partition, so a range is read month by month from `to` back to `from`. The
// people store puts a change's event (`auditMutation`) into the logged batch of the change
// itself, so both are written or neither is. No statement here or anywhere updates or deletes
// a row of the table.
//
// Actor and category filters are applied as rows are read; one page reads at most
// SCAN_BUDGET rows, and when the budget runs out first the page ends early with a `next` at
// the last row read (AuditStore.list), so a rare filter never makes one request unbounded.
import type { AuditRecord } from '../../contracts/audit-events.ts';
import type { AuditQuery, AuditStore } from '../audit-store.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import type { Page } from '../interfaces.ts';
import { type Db, type Mutation, upsert } from './db.ts';

const SCAN_BUDGET = 5000;
const FETCH = 500;

const monthOf = (iso: string) => iso.slice(0, 7);

/** The months from `to`'s back to `from`'s, newest first ('YYYY-MM'). */
function monthsBetween(from: string, to: string): string[] {
  const months: string[] = [];
  const first = monthOf(from);
  let year = Number(to.slice(0, 4));
  let month = Number(to.slice(5, 7));
  for (;;) {
    const key = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
    if (key < first) break;
    months.push(key);
    month -= 1;
    if (month === 0) [year, month] = [year - 1, 12];
  }
  return months;
}

/** The event's row, for a batch of the change it describes. */
export function auditMutation(event: AuditRecord): Mutation {
  return upsert('audit_events', { org_id: event.orgId, month: monthOf(event.created), created: new Date(event.created), id: event.id }, {
    actor_id: event.actorId, category: event.data.eventCategory, doc: JSON.stringify(event),
  });
}

export class CassandraAuditStore implements AuditStore {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async record(event: AuditRecord): Promise<void> {
    await this.db.mutate([auditMutation(event)]);
  }

  async list(query: AuditQuery): Promise<Page<AuditRecord>> {
    const cursor = decodeCursor(query.after);
    // Rows strictly before (createdAt, id) in the newest-first order; '' sorts before every id.
    let at = cursor ? String(cursor[0]) : query.to;
    let atId = cursor ? String(cursor[1]) : '';
    if (Number.isNaN(Date.parse(at))) return { items: [] };
    if (at > query.to) [at, atId] = [query.to, ''];
    const categories = query.categories?.length ? new Set<string>(query.categories) : undefined;
    const items: AuditRecord[] = [];
    let scanned = 0;
    for (const month of monthsBetween(query.from, at)) {
      let [createdBefore, idBefore] = [at, atId];
      for (;;) {
        const rows = (await this.db.run(
          `SELECT created, id, actor_id, category, doc FROM ${this.db.ks}.audit_events WHERE org_id = ? AND month = ? AND (created, id) < (?, ?) LIMIT ?`,
          [query.orgId, month, new Date(createdBefore), idBefore, FETCH])).rows;
        for (const row of rows) {
          const created = (row.created as Date).toISOString();
          if (created < query.from) return { items };
          scanned += 1;
          [createdBefore, idBefore] = [created, row.id as string];
          if ((!query.actorId || row.actor_id === query.actorId) && (!categories || categories.has(row.category as string))) {
            if (items.length === query.max) return { items, next: encodeCursor([items[items.length - 1].created, items[items.length - 1].id]) };
            items.push(JSON.parse(row.doc as string) as AuditRecord);
          }
          if (scanned >= SCAN_BUDGET) return { items, next: encodeCursor([created, row.id as string]) };
        }
        if (rows.length < FETCH) break;
      }
    }
    return { items };
  }
}
