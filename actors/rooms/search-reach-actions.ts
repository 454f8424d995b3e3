// What of the rooms a person may search, and the hits they may read: the rooms policy as the
// search actor asks it. A member reaches the whole of a room's history (as Webex shows a new
// member the room's past); a person who left keeps what they could see, up to their
// departure, and nothing after it (Webex's rule for left rooms, and Matrix's and Zulip's).
// A compliance officer also reaches every room their organization owns (policy.ts,
// mayInspect); each such room a search answers from is a compliance read, audited.
// Internal: it trusts the person it is given.
import type { Context } from 'moleculer';
import { callerOf } from '../../contracts/caller.ts';
import type { SearchReach } from '../../contracts/search-reach.ts';
import type { RoomRecord } from '../../storage/records.ts';
import { mayInspect } from './policy.ts';
import * as p from '../params.ts';
import { presentMessage } from './presenters.ts';
import type { RoomsActions, RoomsContext } from './rooms-context.ts';

/**
 * Rooms left that a search reaches, the most recently left first: each is two clauses of an
 * Elasticsearch query, whose clause count is bounded (1024 by default on a small heap).
 */
export const MAX_DEPARTED_SEARCHED = 200;

export function searchReachActions(rc: RoomsContext): RoomsActions {
  const { store } = rc;
  const reachOf = async (personId: string): Promise<SearchReach> => {
    const [rooms, departures] = await Promise.all([store.roomIdsOf(personId), store.departuresOf(personId)]);
    const member = new Set(rooms);
    // The rooms left most recently: each is a clause of the index query, which has a bound.
    const left = departures.filter((d) => !member.has(d.roomId)).sort((a, b) => b.at.localeCompare(a.at) || a.roomId.localeCompare(b.roomId)).slice(0, MAX_DEPARTED_SEARCHED);
    return { rooms, departed: Object.fromEntries(left.map((d) => [d.roomId, d.lastSeq])) };
  };
  return {
    searchReachOf: {
      visibility: 'public',
      params: { personId: p.id },
      handler: (ctx: Context<{ personId: string }>): Promise<SearchReach> => reachOf(ctx.params.personId),
    },
    /**
     * The messages of `messageIds` the person may read now, in Webex's shape and in the order
     * given: the index may hold a message deleted since, or a room the person has left since
     * the search read their reach. Whatever they may not read is left out.
     */
    searchHits: {
      visibility: 'public',
      params: { personId: p.id, messageIds: { type: 'array', items: p.id, max: 100 }, q: { type: 'string', max: 200, optional: true } },
      async handler(ctx: Context<{ personId: string; messageIds: string[]; q?: string }>) {
        const [reach, messages] = await Promise.all([reachOf(ctx.params.personId), Promise.all(ctx.params.messageIds.map((id) => store.getMessage(id)))]);
        const member = new Set(reach.rooms);
        // Rooms reached only as a compliance officer: read once each, and each read audited.
        const inspected = new Map<string, RoomRecord | undefined>();
        const caller = callerOf(ctx);
        const reached = [];
        for (const m of messages) {
          if (m === undefined) continue;
          const departedAt = reach.departed[m.roomId];
          if (member.has(m.roomId) || (departedAt !== undefined && m.seq <= departedAt)) {
            reached.push(m);
            continue;
          }
          if (!inspected.has(m.roomId)) {
            const room = await store.getRoom(m.roomId);
            inspected.set(m.roomId, room && caller.id === ctx.params.personId && mayInspect(caller, room) ? room : undefined);
          }
          if (inspected.get(m.roomId)) reached.push(m);
        }
        for (const room of inspected.values()) {
          if (room) rc.reportComplianceRead(ctx, { resource: 'messages', roomId: room.id, roomTitle: room.title, query: { search: ctx.params.q ?? '' } });
        }
        return reached.map((m) => presentMessage(m));
      },
    },
  };
}
