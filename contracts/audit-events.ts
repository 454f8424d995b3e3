// The vocabulary of administrators' audit events (Webex's Admin Audit Events API): the
// categories an event may have and the shape of its `data`. The people actor records and
// lists them (docs/admin.md); other actors hand it their events through `people.recordAudit`.

/** Webex's event categories that Squared records, in the order `GET /v1/adminAudit/eventCategories` lists them. */
export const AUDIT_CATEGORIES = ['BOTS', 'COMPLIANCE', 'ORG_SETTINGS', 'USERS'] as const;
export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];

/** Webex's `adminRoles` names of the roles an actor holds. */
export type AdminRoleName = 'Full_Admin' | 'Compliance_Officer' | 'User';

/** What happened, as Webex's `data` of an audit event says it. */
export interface AuditData {
  actorName: string;
  actorEmail: string;
  actorOrgName?: string;
  adminRoles: AdminRoleName[];
  eventCategory: AuditCategory;
  eventDescription: string;
  actionText: string;
  targetId: string;
  targetType: string;
  targetName: string;
  targetOrgId: string;
  trackingId: string;
  actorIp?: string;
  actorUserAgent?: string;
}

/** One audit event, as stored and as answered (Webex's item shape). */
export interface AuditRecord {
  id: string;
  /** The organization the event belongs to (the actor's). */
  orgId: string;
  actorId: string;
  actorOrgId: string;
  /** ISO 8601, as `toISOString` writes it. */
  created: string;
  data: AuditData;
}
