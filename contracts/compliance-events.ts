// Events of the rooms actor about compliance officers' reads, for the actors that record
// administrative actions (admin audit events) to act on. Emitted, never awaited: a read is
// answered whether or not anyone records it.

/**
 * A compliance officer read something of a room their organization owns that they could not
 * have read as a member (a room, its memberships or messages), or listed or read the org's
 * events (GET /v1/events, /v1/events/{id}). Payload: ComplianceRead.
 */
export const COMPLIANCE_READ = 'rooms.complianceRead';

export interface ComplianceRead {
  /** The compliance officer. */
  actorId: string;
  orgId: string;
  /** What was read: `rooms`, `memberships`, `messages` or `events`. */
  resource: 'rooms' | 'memberships' | 'messages' | 'events';
  /** The room read, when the read was of one room (absent for an events listing). */
  roomId?: string;
  /** The read's parameters as given (ids, filters), for the record. */
  query: Record<string, unknown>;
  /** When it was read (ISO). */
  at: string;
  trackingId?: string;
}
