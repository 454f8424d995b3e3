// The Webex meetings API (meetings and meetingParticipants) on the conferences actor.
// A meeting's `webLink` (and a room's `meetingLink`) is this gateway's meeting page, so it is added here.
import { HttpError } from '../http/http-errors.ts';
import type { Route, RouteContext } from '../http/router.ts';
import { meetingOf } from '../../contracts/participant-ids.ts';
import { deleteRoute, fromBody, fromQuery, getRoute, listRoute, updateRoute } from './resource-routes.ts';

type Meeting = Record<string, unknown> & { id: string };

function withLinks(ctx: RouteContext, meeting: Meeting): Meeting {
  const webLink = ctx.url('/meet', { meetingId: meeting.id });
  return { ...meeting, webLink, siteUrl: new URL(webLink).host };
}

const meeting = (method: Route['method'], path: string, action: string, params: (ctx: RouteContext) => object): Route => ({
  method,
  path,
  handle: async (ctx) => ({ status: 200, body: withLinks(ctx, await ctx.call<Meeting>(action, params(ctx))) }),
});

export function meetingRoutes(): Route[] {
  return [
    {
      method: 'get',
      path: '/v1/rooms/:roomId/meetingInfo',
      async handle(ctx) {
        const info = await ctx.call<{ roomId: string; meetingId: string; meetingNumber: string }>('conferences.roomMeetingInfo', fromQuery(ctx));
        return { status: 200, body: { ...info, meetingLink: ctx.url('/meet', { meetingId: info.meetingId }) } };
      },
    },
    listRoute('/v1/meetings', 'conferences.list', { present: withLinks }),
    meeting('post', '/v1/meetings', 'conferences.create', fromBody),
    meeting('get', '/v1/meetings/:meetingId', 'conferences.get', fromQuery),
    meeting('put', '/v1/meetings/:meetingId', 'conferences.update', fromBody),
    meeting('patch', '/v1/meetings/:meetingId', 'conferences.patch', fromBody),
    deleteRoute('/v1/meetings/:meetingId', 'conferences.remove'),
    listRoute('/v1/meetingParticipants', 'conferences.listParticipants'),
    listRoute('/v1/meetingParticipants/query', 'conferences.queryParticipants', { method: 'post' }),
    {
      method: 'post',
      path: '/v1/meetingParticipants/admit',
      // Admission is the job of each meeting's owner: the items are grouped by meeting.
      async handle(ctx) {
        const items = ctx.body.items;
        if (!Array.isArray(items) || items.length === 0 || items.length > 100) throw new HttpError(400, 'items must list 1 to 100 participants to admit.');
        const byMeeting = new Map<string, string[]>();
        for (const item of items) {
          const participantId = (item as { participantId?: unknown })?.participantId;
          if (typeof participantId !== 'string' || participantId.length === 0 || participantId.length > 200) throw new HttpError(400, 'Each item needs a participantId.');
          const meetingId = meetingOf(participantId);
          byMeeting.set(meetingId, [...(byMeeting.get(meetingId) ?? []), participantId]);
        }
        for (const [meetingId, participantIds] of byMeeting) await ctx.call('conferences.admit', { meetingId, participantIds });
        return { status: 204 };
      },
    },
    getRoute('/v1/meetingParticipants/:participantId', 'conferences.getParticipant'),
    updateRoute('/v1/meetingParticipants/:participantId', 'conferences.updateParticipant'),
  ];
}
