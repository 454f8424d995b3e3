// Who among some people is a member of a room now, and which rooms a person is a member of
// now: the rooms policy as other actors ask it (the notifications actor, before it queues and
// again before it delivers a room's event to a webhook's creator; the search actor, which
// searches only the rooms of the searcher). Internal: it trusts the people it is given.
// `memberIdsOf` is every member of a room, for the notifications actor's direct-message and
// `@all` notifications.
import type { Context } from 'moleculer';
import * as p from '../params.ts';
import type { RoomsActions, RoomsContext } from './rooms-context.ts';

/** Members answered at most: an `@all` in a room larger than this notifies its first members only. */
const MAX_MEMBER_IDS = 5000;

export function memberCheckActions(rc: RoomsContext): RoomsActions {
  const { store } = rc;
  return {
    roomIdsOf: {
      visibility: 'public',
      params: { personId: p.id },
      handler: (ctx: Context<{ personId: string }>) => store.roomIdsOf(ctx.params.personId),
    },
    memberIdsOf: {
      visibility: 'public',
      params: { roomId: p.id },
      async handler(ctx: Context<{ roomId: string }>) {
        const ids: string[] = [];
        let after: string | undefined;
        do {
          const page = await store.listMemberships({ roomId: ctx.params.roomId, max: 1000, after });
          ids.push(...page.items.map((m) => m.personId));
          after = page.next;
        } while (after && ids.length < MAX_MEMBER_IDS);
        return ids.slice(0, MAX_MEMBER_IDS);
      },
    },
    membersAmong: {
      visibility: 'public',
      params: { roomId: p.id, personIds: { type: 'array', items: p.id, max: 1000 } },
      async handler(ctx: Context<{ roomId: string; personIds: string[] }>) {
        const found = await Promise.all(ctx.params.personIds.map(async (personId) => ((await store.findMembership(ctx.params.roomId, personId)) ? personId : undefined)));
        return found.filter((personId): personId is string => personId !== undefined);
      },
    },
  };
}
