// Administrators' audit events. Owned by the `people` actor (docs/admin.md says why): its
// own changes write their event in the same commit as the change (PeopleStore's `audit`
// arguments); events of other actors, and reads such as a compliance officer's, are appended
// here alone. There is no update and no delete: an event, once written, is never edited.
import type { AuditCategory, AuditRecord } from '../contracts/audit-events.ts';
import type { Page } from './interfaces.ts';

export interface AuditQuery {
  orgId: string;
  /** Events created at or after `from` and strictly before `to` (ISO 8601 as `toISOString` writes it). */
  from: string;
  to: string;
  actorId?: string;
  /** Any of these categories (all when absent). */
  categories?: AuditCategory[];
  max: number;
  /** The opaque `next` of the page before. */
  after?: string;
}

export interface AuditStore {
  /** Appends one event (ids are unique: the same id twice is a programming error, not an edit). */
  record(event: AuditRecord): Promise<void>;
  /**
   * The org's events in the range, newest first (by `created`, then by id, descending). A page
   * may hold fewer than `max` events and still have a `next` when the store bounded the work
   * of one page (Cassandra filters actor and categories as it reads); paging on finds the rest.
   */
  list(query: AuditQuery): Promise<Page<AuditRecord>>;
}
