// Who among some people is a member of a room now, who shares a room with a person (the
// gateway, before a presence subscription), and whether a message still exists (the files
// actor): the rooms policy as other actors ask it (the notifications actor, before it queues
// and again before it delivers a room's event to a webhook's creator). The search actor asks
// search-reach-actions.ts instead. Internal: it trusts the people it is given.
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
    /**
     * Of `personIds`, those who share at least one room with the person now (whose presence
     * the person may watch: the gateway asks at each presence subscription). One read of each
     * one's rooms: the cost is that of the subscription, never of a presence change.
     */
    peopleSharingRooms: {
      visibility: 'public',
      params: { personId: p.id, personIds: { type: 'array', items: p.id, max: 1000 } },
      async handler(ctx: Context<{ personId: string; personIds: string[] }>) {
        const mine = new Set(await store.roomIdsOf(ctx.params.personId));
        if (mine.size === 0) return [];
        const sharing = await Promise.all(ctx.params.personIds.map(async (other) => ((await store.roomIdsOf(other)).some((roomId) => mine.has(roomId)) ? other : undefined)));
        return sharing.filter((personId): personId is string => personId !== undefined);
      },
    },
    /** Whether the message exists (not deleted, its room not deleted): the files actor, before it serves a file of it. */
    messageExists: {
      visibility: 'public',
      params: { messageId: p.id },
      handler: async (ctx: Context<{ messageId: string }>) => (await store.getMessage(ctx.params.messageId)) !== undefined,
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
