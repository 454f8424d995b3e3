// What the rooms actor says of a compliance officer's read, for the audit record of
// administrative actions (`people.recordAudit`, category COMPLIANCE; docs/admin.md).

/**
 * A compliance officer read something of a room their organization owns that they could not
 * have read as a member (a room, its memberships or messages), or listed or read the org's
 * events (GET /v1/events, /v1/events/{id}).
 */
export interface ComplianceRead {
  /** The compliance officer. */
  actorId: string;
  orgId: string;
  /** What was read: `rooms`, `memberships`, `messages` or `events`. */
  resource: 'rooms' | 'memberships' | 'messages' | 'events';
  /** The room read, when the read was of one room (absent for an events listing or a person's memberships). */
  roomId?: string;
  roomTitle?: string;
  /** The read's parameters as given (ids, filters), for the record. */
  query: Record<string, unknown>;
  /** When it was read (ISO). */
  at: string;
}
