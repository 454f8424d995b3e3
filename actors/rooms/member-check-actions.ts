// Who among some people is a member of a room now: the rooms policy as other actors ask it
// (the notifications actor, before it queues and again before it delivers a room's event to
// a webhook's creator). Internal: it trusts the people it is given and tells only yes or no.
import type { Context } from 'moleculer';
import * as p from '../params.ts';
import type { RoomsActions, RoomsContext } from './rooms-context.ts';

export function memberCheckActions(rc: RoomsContext): RoomsActions {
  const { store } = rc;
  return {
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
