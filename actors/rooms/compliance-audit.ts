// A compliance officer's read as an admin audit event (`people.recordAudit`, docs/admin.md):
// written after the read is answered, never holding it up; a failure to record is logged.
import type { Context } from 'moleculer';
import type { ComplianceRead } from '../../contracts/compliance-events.ts';

/** The read as people.recordAudit's parameters: the room read (or the org, for events), and what was asked. */
export function auditOfComplianceRead(read: ComplianceRead): Record<string, string> {
  const asked = Object.entries(read.query).filter(([, value]) => value !== undefined).map(([key, value]) => `${key}=${String(value)}`).join(' ');
  const what = read.roomId ? `the ${read.resource} of the room ${read.roomTitle ?? read.roomId}` : read.resource === 'events' ? "the org's events" : `the org's ${read.resource}`;
  return {
    category: 'COMPLIANCE',
    eventDescription: `Compliance officer read ${read.resource}`,
    actionText: `Read ${what}${asked ? ` (${asked})` : ''}.`.slice(0, 2000),
    targetId: read.roomId ?? read.orgId,
    targetType: read.roomId ? 'ROOM' : 'ORGANIZATION',
    targetName: (read.roomTitle ?? (read.roomId ? '' : read.orgId)).slice(0, 500),
  };
}

/** Records the read as the caller of `ctx` (their request's tracking id and client come along). */
export function recordComplianceRead(ctx: Context, read: ComplianceRead, warn: (err: unknown) => void): void {
  ctx.call('people.recordAudit', auditOfComplianceRead(read)).catch(warn);
}
