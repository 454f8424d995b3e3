// `GET /v1/messages/search` (a Squared extension, docs/search.md): the caller's messages that
// match, best first, among the rooms the caller is a member of now and, up to their
// departure, those they left (contracts/search-reach.ts) — that reach is part of the index
// query itself, so no hit, count or snippet beyond it is ever read. The hits are then read
// through the rooms actor for the caller (`rooms.searchHits`, which applies the same reach):
// the answer is Webex's message, and a hit the index still holds for a message deleted since
// is dropped rather than shown. Each hit carries its `highlight` (highlight.ts); pages go on
// through `cursor` (the index's position of the page's last hit, Webex-style `Link`).
import type { Context, ServiceSchema } from 'moleculer';
import { callerOf, isComplianceOfficer } from '../../contracts/caller.ts';
import type { SearchReach } from '../../contracts/search-reach.ts';
import { badRequest, notFound } from '../../contracts/errors.ts';
import { decodeCursor, encodeCursor } from '../../storage/cursor.ts';
import * as p from '../params.ts';
import { InvalidSearchPositionError, type SearchIndex, type SearchPosition } from '../../storage/interfaces.ts';
import { highlight } from './highlight.ts';

/** A date parameter as the index stores dates (`toISOString`), or a 400 for one that is not a date. */
function isoInstant(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw badRequest(`${name} must be an ISO 8601 date.`);
  return new Date(ms).toISOString();
}

/**
 * The position a `cursor` names, or a 400: what both indexes write, a score, the hit's
 * creation (an ISO date embedded, epoch ms on Elasticsearch) and its id.
 */
function positionOf(cursor: string | undefined): SearchPosition | undefined {
  if (cursor === undefined) return undefined;
  const values = decodeCursor(cursor);
  const valid = values !== undefined && values.length === 3 && typeof values[0] === 'number' && Number.isFinite(values[0])
    && (typeof values[1] === 'string' || Number.isSafeInteger(values[1])) && typeof values[2] === 'string' && values[2].length <= 200;
  if (!valid) throw badRequest('Invalid cursor.');
  return values as SearchPosition;
}

interface SearchParams {
  q: string; roomId?: string; personId?: string; from?: string; mentionedPeople?: string; hasFiles?: boolean;
  before?: string; after?: string; max: number; cursor?: string;
}

/** The lag of an answer that searched no room. */
const NOTHING_SEARCHED = { rooms: 0, activities: 0 };

/** How far the index is behind the logs of some rooms (index-follower.ts). */
export type IndexLag = (roomIds: string[]) => Promise<{ rooms: number; activities: number }>;

export function searchActions(index: SearchIndex, lagOf: IndexLag): NonNullable<ServiceSchema['actions']> {
  return {
    messages: {
      visibility: 'published',
      params: {
        q: { type: 'string', trim: true, min: 1, max: 200 }, roomId: p.optionalId, personId: p.optionalId,
        from: { type: 'string', trim: true, min: 1, max: 320, optional: true }, mentionedPeople: p.optionalId, hasFiles: p.flag,
        before: { type: 'string', max: 64, optional: true }, after: { type: 'string', max: 64, optional: true }, max: p.max(50, 100), cursor: p.cursor,
      },
      async handler(ctx: Context<SearchParams>) {
        const caller = callerOf(ctx);
        const { q, roomId, max, hasFiles } = ctx.params;
        const before = isoInstant(ctx.params.before, 'before');
        const after = isoInstant(ctx.params.after, 'after');
        const startAfter = positionOf(ctx.params.cursor);
        const mentioning = ctx.params.mentionedPeople === 'me' ? caller.id : ctx.params.mentionedPeople;
        const reach = await ctx.call<SearchReach, object>('rooms.searchReachOf', { personId: caller.id });
        // A compliance officer searches every room of their organization too (docs/compliance.md).
        const officer = isComplianceOfficer(caller);
        let roomIds = reach.rooms;
        let roomsUpTo = reach.departed;
        let orgId = officer ? caller.orgId : undefined;
        if (roomId !== undefined) {
          if (reach.rooms.includes(roomId)) [roomIds, roomsUpTo] = [[roomId], {}];
          else if (officer && (await ctx.call<string | null, object>('rooms.orgOfRoom', { roomId })) === caller.orgId) [roomIds, roomsUpTo] = [[roomId], {}];
          else if (reach.departed[roomId] !== undefined) [roomIds, roomsUpTo] = [[], { [roomId]: reach.departed[roomId] }];
          else throw notFound('Room not found.');
          orgId = undefined;
        }
        const searched = [...roomIds, ...Object.keys(roomsUpTo)];
        // `from`: the author by id or email, like `personId` (an unknown one finds nothing).
        let personId = ctx.params.personId;
        if (ctx.params.from !== undefined) {
          const author = await ctx.call<{ id: string } | null, object>('people.resolve', ctx.params.from.includes('@') ? { email: ctx.params.from.toLowerCase() } : { personId: ctx.params.from });
          if (!author || (personId !== undefined && personId !== author.id)) return { items: [], extra: { indexBehind: NOTHING_SEARCHED } };
          personId = author.id;
        }
        if (searched.length === 0 && orgId === undefined) return { items: [], extra: { indexBehind: NOTHING_SEARCHED } };
        // Read beside the search (the heads from the rooms actor, the checkpoints from the index).
        const lag = lagOf(searched);
        lag.catch(() => undefined);
        const hits = await index.search({ text: q, roomIds, roomsUpTo, orgId, max, personId, before, after, mentioning, hasFiles, startAfter }).catch((err: unknown) => {
          if (err instanceof InvalidSearchPositionError) throw badRequest('Invalid cursor.');
          throw err;
        });
        // Those deleted since they were indexed (or beyond a reach that shrank meanwhile) are left out.
        const messages = hits.length === 0 ? [] : await ctx.call<{ text?: string; markdown?: string }[], object>('rooms.searchHits', { personId: caller.id, messageIds: hits.map((hit) => hit.id), q });
        const items = messages.map((message) => {
          const marked = highlight(message.text ?? message.markdown ?? '', q);
          return marked === undefined ? message : { ...message, highlight: marked };
        });
        // A full page from the index may have more after it (even when some of its hits were dropped).
        // How much of the caller's rooms the index has not applied yet: a hit may be missing for it.
        const indexBehind = await lag;
        return { items, extra: { indexBehind }, ...(hits.length === max ? { next: encodeCursor(hits[hits.length - 1].position) } : {}) };
      },
    },
  };
}
