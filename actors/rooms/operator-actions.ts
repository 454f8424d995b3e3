// What the operators' console (`room <id>`, cluster/repl-commands/) reads of a room: its
// record, its head and its members, as the room's owner sees them; and what rebuilding a
// derived store (the search index: `reindex`) reads of every room: their ids and their
// messages as they are now; and what the webhook outbox replays (actors/notifications/
// room-outbox.ts): the rooms' heads and their logs' activities. Internal and read-only (visibility 'public'): no client route
// names them, and they change nothing.
import type { Context } from 'moleculer';
import { indexedMessageOf } from '../../storage/records.ts';
import * as p from '../params.ts';
import type { RoomsActions, RoomsContext } from './rooms-context.ts';

/** An operator reads at most this many members of a room in one call. */
const MEMBERS_SHOWN = 1000;
/** A reply travels as one transporter message (1 MiB on NATS): a page of the log stops near this. */
const LOG_PAGE_BYTES = 512 * 1024;

export function operatorActions(rc: RoomsContext): RoomsActions {
  const { store } = rc;
  return {
    operatorRoomIds: {
      visibility: 'public',
      params: { max: { type: 'number', integer: true, min: 1, max: 1000 }, after: { type: 'string', optional: true, max: 4000 } },
      handler: (ctx: Context<{ max: number; after?: string }>) => store.listRoomIds(ctx.params),
    },
    /** Each room's head (a room never written: 0). */
    operatorHeads: {
      visibility: 'public',
      params: { roomIds: { type: 'array', items: p.id, max: 1000 } },
      async handler(ctx: Context<{ roomIds: string[] }>) {
        return Object.fromEntries(await store.heads(ctx.params.roomIds));
      },
    },
    /**
     * The room's activities with afterSeq < seq <= uptoSeq, in order, at most `max`, and
     * fewer past a reply's byte budget: `upTo` is the last seq answered (afterSeq if none).
     */
    operatorActivities: {
      visibility: 'public',
      params: { roomId: p.id, afterSeq: { type: 'number', integer: true, min: 0 }, uptoSeq: { type: 'number', integer: true, min: 0 }, max: { type: 'number', integer: true, min: 1, max: 1000 } },
      async handler(ctx: Context<{ roomId: string; afterSeq: number; uptoSeq: number; max: number }>) {
        const { roomId, afterSeq, uptoSeq, max } = ctx.params;
        const found = await store.activities(roomId, afterSeq, uptoSeq, max);
        const activities = [];
        let budget = LOG_PAGE_BYTES;
        for (const activity of found) {
          budget -= JSON.stringify(activity).length;
          // At least one, however large: the caller must move on.
          if (budget < 0 && activities.length > 0) break;
          activities.push(activity);
        }
        return { activities, upTo: activities.length > 0 ? activities[activities.length - 1].seq : afterSeq };
      },
    },
    /** The room's messages, newest first, a page at a time: what the search index holds of them. */
    operatorMessages: {
      visibility: 'public',
      params: { roomId: p.id, max: { type: 'number', integer: true, min: 1, max: 1000 }, beforeSeq: { type: 'number', integer: true, optional: true } },
      async handler(ctx: Context<{ roomId: string; max: number; beforeSeq?: number }>) {
        // Read first: every message listed after it is at least as new as this seq (the search index's version).
        const head = await store.head(ctx.params.roomId);
        const [room, messages] = await Promise.all([store.getRoom(ctx.params.roomId), store.listMessages({ roomId: ctx.params.roomId, beforeSeq: ctx.params.beforeSeq, max: ctx.params.max })]);
        return {
          head,
          items: messages.map((m) => indexedMessageOf(m, head, m.seq, room?.orgId)),
          beforeSeq: messages.length === ctx.params.max ? messages[messages.length - 1].seq : undefined,
        };
      },
    },
    /** The organization that owns the room (null for none, or no such room): the search index files its messages under it. */
    orgOfRoom: {
      visibility: 'public',
      params: { roomId: p.id },
      handler: async (ctx: Context<{ roomId: string }>) => (await store.getRoom(ctx.params.roomId))?.orgId ?? null,
    },
    operatorRoom: {
      visibility: 'public',
      params: { roomId: p.id },
      async handler(ctx: Context<{ roomId: string }>) {
        // Before anything reads the head: on Cassandra that read completes an unapplied write.
        const unapplied = await store.unappliedWrite(ctx.params.roomId);
        const room = await store.getRoom(ctx.params.roomId);
        if (!room) return null;
        const members = await store.listMemberships({ roomId: room.id, max: MEMBERS_SHOWN });
        return {
          room: { id: room.id, title: room.title, type: room.type, teamId: room.teamId, isLocked: room.isLocked, isReadOnly: room.isReadOnly, created: room.created, lastActivity: room.lastActivity },
          head: await store.head(room.id),
          unapplied: unapplied ?? null,
          members: members.items.map((m) => ({ personId: m.personId, email: m.personEmail, displayName: m.personDisplayName, isModerator: m.isModerator, joinedSeq: m.joinedSeq })),
          moreMembers: members.next !== undefined,
        };
      },
    },
  };
}
