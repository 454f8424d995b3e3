// Who among some people is a member of a room now, and which rooms a person is a member of
// now: the rooms policy as other actors ask it (the notifications actor, before it queues and
// again before it delivers a room's event to a webhook's creator; the search actor, which
// searches only the rooms of the searcher). Internal: it trusts the people it is given.
import type { Context } from 'moleculer';
import * as p from '../params.ts';
import type { RoomsActions, RoomsContext } from './rooms-context.ts';

export function memberCheckActions(rc: RoomsContext): RoomsActions {
  const { store } = rc;
  return {
    roomIdsOf: {
      visibility: 'public',
      params: { personId: p.id },
      handler: (ctx: Context<{ personId: string }>) => store.roomIdsOf(ctx.params.personId),
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
