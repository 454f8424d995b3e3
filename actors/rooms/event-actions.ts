// `GET /v1/events` and `GET /v1/events/{eventId}`: the org's events, for its compliance
// officers only (403 for anyone else, as Webex answers), read from the rooms' activity logs
// through the org activity index (org-events.ts, which says what a page costs). Each read is
// recorded as a compliance read in the admin audit events (compliance-audit.ts).
import type { Context } from 'moleculer';
import { callerOf, isComplianceOfficer, type Caller } from '../../contracts/caller.ts';
import { badRequest, forbidden, notFound } from '../../contracts/errors.ts';
import { decodeCursor, encodeCursor } from '../../storage/cursor.ts';
import * as p from '../params.ts';
import { EVENT_RESOURCES, EVENT_TYPES, OrgEvents, decodeEventKey, eventPlaceOf, presentEvent } from './org-events.ts';
import type { RoomsActions, RoomsContext } from './rooms-context.ts';

function mustBeComplianceOfficer(ctx: Context): Caller {
  const caller = callerOf(ctx);
  if (!isComplianceOfficer(caller)) throw forbidden('Only a compliance officer may read events.');
  return caller;
}

/** An ISO 8601 parameter as stored (`toISOString`), or a 400. */
function instant(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw badRequest(`${name} must be an ISO 8601 date.`);
  return new Date(ms).toISOString();
}

interface ListParams { resource?: string; type?: string; actorId?: string; from?: string; to?: string; max: number; cursor?: string; serviceType?: string }

export function eventActions(rc: RoomsContext): RoomsActions {
  const events = new OrgEvents(rc.store);
  return {
    listEvents: {
      visibility: 'published',
      params: {
        // Webex's other resources (meetings, calls, files…) have no events here: a filter on them finds none.
        resource: { type: 'enum', values: ['attachmentActions', 'businessTexts', 'call_records', 'convergedRecordings', 'file_transcodings', 'files', 'meetingMessages', 'meetings', 'meetingTranscripts', ...EVENT_RESOURCES], optional: true },
        type: { type: 'enum', values: [...EVENT_TYPES, 'ended'], optional: true },
        actorId: p.optionalId,
        from: { type: 'string', max: 64, optional: true },
        to: { type: 'string', max: 64, optional: true },
        serviceType: { type: 'enum', values: ['calling'], optional: true },
        max: p.max(100, 1000),
        cursor: p.cursor,
      },
      async handler(ctx: Context<ListParams>) {
        const caller = mustBeComplianceOfficer(ctx);
        const { resource, type, actorId, max } = ctx.params;
        const now = new Date().toISOString();
        const from = instant(ctx.params.from, 'from');
        // "Cannot be set to a future date": a later one reads up to now.
        const asked = instant(ctx.params.to, 'to');
        const to = asked === undefined || asked > now ? now : asked;
        if (from !== undefined && from > to) throw badRequest('from must not be after to.');
        const after = decodeEventKey(ctx.params.cursor === undefined ? undefined : (decodeCursor(ctx.params.cursor) ?? []));
        rc.reportComplianceRead(ctx, { resource: 'events', query: { resource, type, actorId, from, to, max } });
        if (resource !== undefined && !(EVENT_RESOURCES as readonly string[]).includes(resource)) return { items: [] };
        const page = await events.page({ orgId: caller.orgId, resource, type, actorId, from, to, max, after });
        return { items: page.items.map((a) => presentEvent(a, caller.orgId)), ...(page.next ? { next: encodeCursor(page.next) } : {}) };
      },
    },

    getEvent: {
      visibility: 'published',
      params: { eventId: p.id },
      async handler(ctx: Context<{ eventId: string }>) {
        const caller = mustBeComplianceOfficer(ctx);
        const place = eventPlaceOf(ctx.params.eventId);
        const activity = place && (await events.get(caller.orgId, place.roomId, place.seq));
        if (!activity) throw notFound('Event not found.');
        rc.reportComplianceRead(ctx, { resource: 'events', roomId: activity.roomId, query: { eventId: ctx.params.eventId } });
        return presentEvent(activity, caller.orgId);
      },
    },
  };
}
