// What the gateways need to run live sync: a person's rooms with their heads, and replay
// of the activities a person may see after given positions. Both are internal
// (visibility 'public'): the gateway's live-session machinery calls them for the person a
// socket signed in as, and they trust the personId they are given, so no client route may
// name them.
import type { Context } from 'moleculer';
import * as p from '../params.ts';
import type { Activity } from '../../storage/records.ts';
import type { RoomsActions, RoomsContext } from './rooms-context.ts';
import { readStatusOf, type ReadStatus } from './read-status.ts';

/** The seq ranges [from, to] of a room a person may see; `to` open while still a member. */
type Span = { from: number; to: number };

// A reply travels as one transporter message (NATS allows 1 MiB by default): replay
// answers stop near this many bytes and say where they stopped.
const REPLY_BUDGET_BYTES = 512 * 1024;

export function liveActions(rc: RoomsContext): RoomsActions {
  const { store } = rc;

  const visibleSpans = async (roomId: string, personId: string): Promise<Span[]> => {
    const spans: Span[] = [];
    let open: number | undefined;
    for (const { seq, event } of await store.membershipHistory(roomId, personId)) {
      if (event === 'membership.created') open ??= seq;
      else if (open !== undefined) {
        spans.push({ from: open, to: seq });
        open = undefined;
      }
    }
    if (open !== undefined) spans.push({ from: open, to: Infinity });
    return spans;
  };

  return {
    /** The rooms a person is in now, each with its head, where the person joined, and the person's read status. */
    liveRooms: {
      visibility: 'public',
      params: { personId: p.id },
      async handler(ctx: Context<{ personId: string }>) {
        const { personId } = ctx.params;
        const roomIds = await store.roomIdsOf(personId);
        const [heads, positions] = await Promise.all([store.heads(roomIds), store.readPositionsOf(personId, roomIds)]);
        const rooms: { roomId: string; head: number; joinedSeq: number; readStatus: ReadStatus }[] = [];
        for (const roomId of roomIds) {
          const [membership, room] = await Promise.all([store.findMembership(roomId, personId), store.getRoom(roomId)]);
          if (membership && room) rooms.push({ roomId, head: heads.get(roomId) ?? 0, joinedSeq: membership.joinedSeq, readStatus: readStatusOf(room, positions.get(roomId)) });
        }
        return rooms;
      },
    },

    /**
     * For each room, the activities after the given seq that the person may see, at most
     * `limit` per room; `upTo` is the last seq examined, the position to continue from.
     */
    replay: {
      visibility: 'public',
      params: {
        personId: p.id,
        positions: { type: 'record', key: { type: 'string', max: 200 }, value: { type: 'number', integer: true, min: 0 } },
        limit: { type: 'number', integer: true, min: 1, max: 5000, default: 1000 },
      },
      async handler(ctx: Context<{ personId: string; positions: Record<string, number>; limit: number }>) {
        const { personId, positions, limit } = ctx.params;
        const result: Record<string, { activities: Activity[]; upTo: number; head: number }> = {};
        let budget = REPLY_BUDGET_BYTES;
        for (const [roomId, after] of Object.entries(positions)) {
          const head = await store.head(roomId);
          if (budget <= 0 || after >= head) {
            result[roomId] = { activities: [], upTo: Math.min(after, head), head };
            continue;
          }
          const spans = await visibleSpans(roomId, personId);
          if (spans.length === 0) {
            result[roomId] = { activities: [], upTo: head, head };
            continue;
          }
          const batch = await store.activities(roomId, after, head, limit);
          let upTo = batch.length === limit ? batch[batch.length - 1].seq : head;
          const activities: Activity[] = [];
          for (const activity of batch) {
            if (budget <= 0) {
              upTo = activity.seq - 1;
              break;
            }
            if (!spans.some((s) => activity.seq >= s.from && activity.seq <= s.to)) continue;
            budget -= JSON.stringify(activity).length;
            activities.push(activity);
          }
          result[roomId] = { activities, upTo, head };
        }
        return result;
      },
    },
  };
}
