// Administrators' audit events (Webex's Admin Audit Events API): what the people actor writes
// with its own changes (in the same commit, see PeopleStore), and the actions that list them
// and that let other actors record theirs (`people.recordAudit`, docs/admin.md).
import type { Context } from 'moleculer';
import { AUDIT_CATEGORIES, type AdminRoleName, type AuditCategory, type AuditRecord } from '../../contracts/audit-events.ts';
import { callerOf, isAdmin, type CallMeta, type Caller } from '../../contracts/caller.ts';
import { badRequest, forbidden } from '../../contracts/errors.ts';
import { newId } from '../../contracts/ids.ts';
import { currentTrackingId } from '../../contracts/request-tracking.ts';
import type { AuditStore } from '../../storage/audit-store.ts';
import type { PersonRecord } from '../../storage/records.ts';
import * as p from '../params.ts';
import type { PeopleActions } from './token-actions.ts';

/** Webex answers at most a year of events per request. */
const MAX_RANGE_MS = 366 * 24 * 3600 * 1000;
/** How far `offset` may skip (it reads what it skips). */
const MAX_OFFSET = 10_000;

/** Webex's role names of the roles a person holds. */
export function adminRoleNames(roles: string[]): AdminRoleName[] {
  const names = new Set<AdminRoleName>();
  for (const role of roles) {
    const decoded = Buffer.from(role, 'base64url').toString('utf8');
    if (decoded.endsWith('/id_full_admin')) names.add('Full_Admin');
    else if (decoded.endsWith('/id_compliance_officer')) names.add('Compliance_Officer');
  }
  return names.size ? [...names] : ['User'];
}

export interface AuditInput {
  category: AuditCategory;
  eventDescription: string;
  actionText: string;
  target: { id: string; type: string; name: string; orgId: string };
}

/** The event of what the caller of `ctx` did, with where their request came from. */
export function auditEventOf(ctx: Context, input: AuditInput): AuditRecord {
  const caller: Caller = callerOf(ctx);
  const meta = ctx.meta as CallMeta;
  return {
    id: newId('AUDIT_EVENT'),
    orgId: caller.orgId,
    actorId: caller.id,
    actorOrgId: caller.orgId,
    created: new Date().toISOString(),
    data: {
      actorName: caller.displayName,
      actorEmail: caller.email,
      adminRoles: adminRoleNames(caller.roles),
      eventCategory: input.category,
      eventDescription: input.eventDescription,
      actionText: input.actionText,
      targetId: input.target.id,
      targetType: input.target.type,
      targetName: input.target.name,
      targetOrgId: input.target.orgId,
      trackingId: meta.trackingId ?? currentTrackingId() ?? '',
      ...(meta.client?.address ? { actorIp: meta.client.address } : {}),
      ...(meta.client?.userAgent ? { actorUserAgent: meta.client.userAgent } : {}),
    },
  };
}

export const personTarget = (person: PersonRecord) => ({ id: person.id, type: person.type === 'bot' ? 'BOT' : 'USER', name: person.displayName, orgId: person.orgId });

/** What an administrator's update of a person changed, in words (the event's actionText). */
export function describeUpdate(actor: Caller, before: PersonRecord, after: PersonRecord, passwordChanged: boolean, tokensRevoked: boolean): { eventDescription: string; actionText: string } {
  const fields = (['emails', 'displayName', 'firstName', 'lastName', 'nickName', 'avatar'] as const)
    .filter((key) => JSON.stringify(before[key] ?? null) !== JSON.stringify(after[key] ?? null));
  const granted = after.roles.filter((r) => !before.roles.includes(r));
  const removed = before.roles.filter((r) => !after.roles.includes(r));
  const parts: string[] = [];
  if (fields.length) parts.push(`changed ${fields.join(', ')}`);
  if (granted.length) parts.push(`granted the roles ${adminRoleNames(granted).join(', ')}`);
  if (removed.length) parts.push(`removed the roles ${adminRoleNames(removed).join(', ')}`);
  if (passwordChanged) parts.push('set a new password');
  if (tokensRevoked) parts.push('ended every session of the user');
  const rolesChanged = granted.length > 0 || removed.length > 0;
  return {
    eventDescription: rolesChanged ? 'User roles changed' : 'User updated',
    actionText: `${actor.displayName} updated the user ${before.displayName}: ${parts.length ? parts.join('; ') : 'no change'}.`,
  };
}

const instant = (name: string, value: string) => {
  const at = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(at)) throw badRequest(`${name} must be a date and time in ISO 8601, such as 2026-01-31T12:00:00.000Z.`);
  return new Date(at).toISOString();
};

type ListParams = { orgId: string; from: string; to: string; actorId?: string; eventCategories?: string; max: number; offset?: number; cursor?: string };

export function auditActions(audit: AuditStore): PeopleActions {
  return {
    /** Webex's `GET /v1/adminAudit/events`: the caller's organization's events, newest first. Administrators only. */
    auditEvents: {
      visibility: 'published',
      params: {
        orgId: p.id,
        from: { type: 'string', max: 64 },
        to: { type: 'string', max: 64 },
        actorId: p.optionalId,
        eventCategories: { type: 'string', max: 1000, optional: true },
        max: p.max(100),
        offset: { type: 'number', integer: true, min: 0, max: MAX_OFFSET, convert: true, optional: true },
        cursor: p.cursor,
      },
      async handler(ctx: Context<ListParams>) {
        const caller = callerOf(ctx);
        if (!isAdmin(caller)) throw forbidden('Only an administrator may read the audit events.');
        if (ctx.params.orgId !== caller.orgId) throw forbidden('The audit events of another organization are not yours to read.');
        const from = instant('from', ctx.params.from);
        const to = instant('to', ctx.params.to);
        if (from >= to) throw badRequest('from must be before to.');
        if (Date.parse(to) - Date.parse(from) > MAX_RANGE_MS) throw badRequest('At most one year of events may be asked for at once.');
        const categories = ctx.params.eventCategories?.split(',').map((c) => c.trim()).filter(Boolean);
        const unknown = categories?.filter((c) => !(AUDIT_CATEGORIES as readonly string[]).includes(c));
        if (unknown?.length) throw badRequest(`Unknown event categories: ${unknown.join(', ')} (GET /v1/adminAudit/eventCategories lists them).`);
        const query = { orgId: caller.orgId, from, to, actorId: ctx.params.actorId, categories: categories as AuditCategory[] | undefined };
        // Webex's offset: the events skipped are read, a page at a time (MAX_OFFSET bounds it).
        // A cursor (the Link of a page) is past the offset already, so it is not applied again.
        let after = ctx.params.cursor;
        for (let skip = after ? 0 : (ctx.params.offset ?? 0); skip > 0;) {
          const skipped = await audit.list({ ...query, max: Math.min(skip, 1000), after });
          skip -= skipped.items.length;
          if (!skipped.next) return { items: [] };
          after = skipped.next;
        }
        return audit.list({ ...query, max: ctx.params.max, after });
      },
    },

    /** Webex's `GET /v1/adminAudit/eventCategories`. Administrators only. */
    auditEventCategories: {
      visibility: 'published',
      handler(ctx: Context) {
        if (!isAdmin(callerOf(ctx))) throw forbidden('Only an administrator may read the audit events.');
        return { eventCategories: [...AUDIT_CATEGORIES] };
      },
    },

    /**
     * Internal: records what the caller in `ctx.meta` did, for an actor whose action is not
     * the people actor's (a compliance officer's read, an org setting changed elsewhere). It
     * is written on its own, after the caller's change: only the people actor's own changes
     * are in the same commit as their event. Answers the event written.
     */
    recordAudit: {
      visibility: 'public',
      params: {
        category: { type: 'enum', values: [...AUDIT_CATEGORIES] },
        eventDescription: { type: 'string', min: 1, max: 500 },
        actionText: { type: 'string', min: 1, max: 2000 },
        targetId: { type: 'string', min: 1, max: 500 },
        targetType: { type: 'string', min: 1, max: 100 },
        targetName: { type: 'string', max: 500 },
        targetOrgId: { type: 'string', max: 200, optional: true },
      },
      async handler(ctx: Context<{ category: AuditCategory; eventDescription: string; actionText: string; targetId: string; targetType: string; targetName: string; targetOrgId?: string }>) {
        const { category, eventDescription, actionText, targetId, targetType, targetName, targetOrgId } = ctx.params;
        const event = auditEventOf(ctx, { category, eventDescription, actionText, target: { id: targetId, type: targetType, name: targetName, orgId: targetOrgId ?? callerOf(ctx).orgId } });
        await audit.record(event);
        return event;
      },
    },
  };
}
