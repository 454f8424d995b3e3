// The Webex meetings API (meetings and meetingParticipants) on the conferences actor.
// A meeting's `webLink` is this gateway's meeting page, so it is added here.
import { HttpError } from '../http/http-errors.ts';
import type { Reply, Route, RouteContext } from '../http/router.ts';

type Meeting = Record<string, unknown> & { id: string };

const fromQuery = (ctx: RouteContext) => ({ ...ctx.request.query, ...ctx.request.params });
const fromBody = (ctx: RouteContext) => ({ ...ctx.body, ...ctx.request.params });

function withLinks(ctx: RouteContext, meeting: Meeting): Meeting {
  const webLink = ctx.url('/meet', { meetingId: meeting.id });
  return { ...meeting, webLink, siteUrl: new URL(webLink).host };
}

function list(path: string, action: string, map: (ctx: RouteContext, item: never) => unknown = (_, item) => item, method: 'get' | 'post' = 'get'): Route {
  return {
    method,
    path,
    async handle(ctx): Promise<Reply> {
      const params = method === 'get' ? fromQuery(ctx) : { ...ctx.request.query, ...ctx.body };
      const page = await ctx.call<{ items: never[]; next?: string }>(action, params);
      const headers: Record<string, string> = {};
      if (page.next) headers.Link = `<${ctx.url(ctx.request.path, { ...ctx.request.query, cursor: page.next })}>; rel="next"`;
      return { status: 200, body: { items: page.items.map((item) => map(ctx, item)) }, headers };
    },
  };
}

const meeting = (method: Route['method'], path: string, action: string, params: (ctx: RouteContext) => object): Route => ({
  method,
  path,
  handle: async (ctx) => ({ status: 200, body: withLinks(ctx, await ctx.call<Meeting>(action, params(ctx))) }),
});

export function meetingRoutes(): Route[] {
  return [
    list('/v1/meetings', 'conferences.list', withLinks),
    meeting('post', '/v1/meetings', 'conferences.create', fromBody),
    meeting('get', '/v1/meetings/:meetingId', 'conferences.get', fromQuery),
    meeting('put', '/v1/meetings/:meetingId', 'conferences.update', fromBody),
    meeting('patch', '/v1/meetings/:meetingId', 'conferences.patch', fromBody),
    {
      method: 'delete',
      path: '/v1/meetings/:meetingId',
      async handle(ctx) {
        await ctx.call('conferences.remove', fromQuery(ctx));
        return { status: 204 };
      },
    },
    list('/v1/meetingParticipants', 'conferences.listParticipants'),
    list('/v1/meetingParticipants/query', 'conferences.queryParticipants', undefined, 'post'),
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
          const meetingId = participantId.split('_')[0];
          byMeeting.set(meetingId, [...(byMeeting.get(meetingId) ?? []), participantId]);
        }
        for (const [meetingId, participantIds] of byMeeting) await ctx.call('conferences.admit', { meetingId, participantIds });
        return { status: 204 };
      },
    },
    { method: 'get', path: '/v1/meetingParticipants/:participantId', handle: async (ctx) => ({ status: 200, body: await ctx.call('conferences.getParticipant', fromQuery(ctx)) }) },
    { method: 'put', path: '/v1/meetingParticipants/:participantId', handle: async (ctx) => ({ status: 200, body: await ctx.call('conferences.updateParticipant', fromBody(ctx)) }) },
  ];
}
