// Who is making a call. The gateway sets `ctx.meta.caller` after checking the token; actors
// trust it. `ctx.meta.system` marks calls one actor makes for another's rule (a team
// adding its member to the team's room) and is never set from outside.
import type { Context } from 'moleculer';
import { unauthorized } from './errors.ts';

/** A person signs in with a password; a bot holds a token that never expires. */
export type PersonType = 'person' | 'bot';

export interface Caller {
  id: string;
  orgId: string;
  email: string;
  displayName: string;
  roles: string[];
  type: PersonType;
}

/** Where a client's request came from, as the gateway saw it (for audit events). */
export interface CallClient {
  address: string;
  userAgent?: string;
}

export interface CallMeta {
  caller?: Caller;
  system?: boolean;
  trackingId?: string;
  client?: CallClient;
}

/** The Webex id of the full administrator role. */
export const ADMIN_ROLE = Buffer.from('ciscospark://us/ROLE/id_full_admin').toString('base64url');

export const isAdmin = (caller: Caller) => caller.roles.includes(ADMIN_ROLE);

/**
 * The Webex id of the compliance officer role, granted by an administrator (`roles` on
 * PUT /v1/people/{id}): its holder reads every room, membership, message and event of rooms
 * their organization owns (actors/rooms/policy.ts), without being a member of them.
 */
export const COMPLIANCE_OFFICER_ROLE = Buffer.from('ciscospark://us/ROLE/id_compliance_officer').toString('base64url');

export const isComplianceOfficer = (caller: Caller) => caller.roles.includes(COMPLIANCE_OFFICER_ROLE);

export function callerOf(ctx: Context): Caller {
  const caller = (ctx.meta as CallMeta).caller;
  if (!caller) throw unauthorized();
  return caller;
}

export const isSystemCall = (ctx: Context) => (ctx.meta as CallMeta).system === true;
