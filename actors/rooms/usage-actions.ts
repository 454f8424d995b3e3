// What the org usage figures need of rooms (docs/admin.md): the rooms some people are members
// of, by type, and the messages posted in them per day (UTC) since a day, read from the rooms'
// logs newest first. Internal and read-only. Bounded: a room whose last activity is older than
// `since` costs one read; the logs' reads stop after USAGE_MAX_ACTIVITIES activities in all,
// and the answer then says `complete: false`.
import type { Context } from 'moleculer';
import { USAGE_MAX_ACTIVITIES, USAGE_MAX_PEOPLE } from '../../contracts/org-usage.ts';
import { mapLimit } from '../../contracts/map-limit.ts';
import * as p from '../params.ts';
import type { RoomsActions, RoomsContext } from './rooms-context.ts';

const CHUNK = 500;

export function usageActions(rc: RoomsContext): RoomsActions {
  const { store } = rc;
  return {
    usageOf: {
      visibility: 'public',
      params: { personIds: { type: 'array', items: p.id, max: USAGE_MAX_PEOPLE }, since: { type: 'string', max: 40 } },
      async handler(ctx: Context<{ personIds: string[]; since: string }>) {
        const { since } = ctx.params;
        const roomIds = [...new Set((await mapLimit(ctx.params.personIds, 16, (personId) => store.roomIdsOf(personId))).flat())];
        const rooms = (await mapLimit(roomIds, 16, (roomId) => store.getRoom(roomId))).filter((room) => room !== undefined);
        const perDay: Record<string, number> = {};
        let budget = USAGE_MAX_ACTIVITIES;
        let complete = true;
        for (const room of rooms) {
          if (room.lastActivity < since) continue;
          if (budget <= 0) {
            complete = false;
            break;
          }
          let upto = await store.head(room.id);
          reading: while (upto > 0 && budget > 0) {
            const afterSeq = Math.max(0, upto - CHUNK);
            const activities = await store.activities(room.id, afterSeq, upto, CHUNK);
            budget -= activities.length;
            for (let i = activities.length - 1; i >= 0; i--) {
              const activity = activities[i];
              if (activity.created < since) break reading;
              if (activity.event === 'message.created') perDay[activity.created.slice(0, 10)] = (perDay[activity.created.slice(0, 10)] ?? 0) + 1;
            }
            upto = afterSeq;
            if (upto > 0 && budget <= 0) complete = false;
          }
        }
        return {
          rooms: rooms.length,
          groupRooms: rooms.filter((room) => room.type === 'group').length,
          directRooms: rooms.filter((room) => room.type === 'direct').length,
          messagesPerDay: perDay,
          complete,
        };
      },
    },
  };
}
