// `GET /v1/messages/search` (a Squared extension, docs/search.md): the caller's messages that
// match, best first, among the rooms the caller is a member of now — those rooms are part
// of the index query itself, so no hit, count or snippet of another room is ever read.
// Each hit is then read through the rooms actor as the caller (`rooms.getMessage`): the
// answer is Webex's message, and a hit the index still holds for a message deleted since is
// dropped rather than shown.
import type { Context, ServiceSchema } from 'moleculer';
import { callerOf } from '../../contracts/caller.ts';
import { notFound } from '../../contracts/errors.ts';
import * as p from '../params.ts';
import type { SearchIndex } from '../../storage/interfaces.ts';

export function searchActions(index: SearchIndex): NonNullable<ServiceSchema['actions']> {
  return {
    messages: {
      visibility: 'published',
      params: { q: { type: 'string', trim: true, min: 1, max: 200 }, roomId: p.optionalId, max: p.max(50, 100) },
      async handler(ctx: Context<{ q: string; roomId?: string; max: number }>) {
        const caller = callerOf(ctx);
        const memberOf = await ctx.call<string[], object>('rooms.roomIdsOf', { personId: caller.id });
        if (ctx.params.roomId && !memberOf.includes(ctx.params.roomId)) throw notFound('Room not found.');
        const roomIds = ctx.params.roomId ? [ctx.params.roomId] : memberOf;
        if (roomIds.length === 0) return { items: [] };
        const hits = await index.search({ text: ctx.params.q, roomIds, max: ctx.params.max });
        const messages = await Promise.all(hits.map((hit) => ctx.call('rooms.getMessage', { messageId: hit.id }).catch((err: unknown) => {
          // Deleted since it was indexed (the error may come from another node: by its code).
          if ((err as { code?: unknown }).code === 404) return undefined;
          throw err;
        })));
        return { items: messages.filter((message) => message !== undefined) };
      },
    },
  };
}
