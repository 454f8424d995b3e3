// `GET /v1/messages/search` (a Squared extension, docs/search.md): the caller's messages that
// match, best first, among the rooms the caller is a member of now — those rooms are part
// of the index query itself, so no hit, count or snippet of another room is ever read.
// Each hit is then read through the rooms actor as the caller (`rooms.getMessage`): the
// answer is Webex's message, and a hit the index still holds for a message deleted since is
// dropped rather than shown.
import type { Context, ServiceSchema } from 'moleculer';
import { callerOf } from '../../contracts/caller.ts';
import { badRequest, notFound } from '../../contracts/errors.ts';
import * as p from '../params.ts';
import type { SearchIndex } from '../../storage/interfaces.ts';

/** A date parameter as the index stores dates (`toISOString`), or a 400 for one that is not a date. */
function isoInstant(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw badRequest(`${name} must be an ISO 8601 date.`);
  return new Date(ms).toISOString();
}

export function searchActions(index: SearchIndex): NonNullable<ServiceSchema['actions']> {
  return {
    messages: {
      visibility: 'published',
      params: {
        q: { type: 'string', trim: true, min: 1, max: 200 }, roomId: p.optionalId, personId: p.optionalId,
        before: { type: 'string', max: 64, optional: true }, after: { type: 'string', max: 64, optional: true }, max: p.max(50, 100),
      },
      async handler(ctx: Context<{ q: string; roomId?: string; personId?: string; before?: string; after?: string; max: number }>) {
        const caller = callerOf(ctx);
        const before = isoInstant(ctx.params.before, 'before');
        const after = isoInstant(ctx.params.after, 'after');
        const memberOf = await ctx.call<string[], object>('rooms.roomIdsOf', { personId: caller.id });
        if (ctx.params.roomId && !memberOf.includes(ctx.params.roomId)) throw notFound('Room not found.');
        const roomIds = ctx.params.roomId ? [ctx.params.roomId] : memberOf;
        if (roomIds.length === 0) return { items: [] };
        const hits = await index.search({ text: ctx.params.q, roomIds, max: ctx.params.max, personId: ctx.params.personId, before, after });
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
