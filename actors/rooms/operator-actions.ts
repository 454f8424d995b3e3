// What the operators' console (`room <id>`, cluster/repl-commands/) reads of a room: its
// record, its head and its members, as the room's owner sees them; and what rebuilding a
// derived store (the search index: `reindex`) reads of every room: their ids and their
// messages as they are now. Internal and read-only (visibility 'public'): no client route
// names them, and they change nothing.
import type { Context } from 'moleculer';
import { indexedMessageOf } from '../../storage/records.ts';
import * as p from '../params.ts';
import type { RoomsActions, RoomsContext } from './rooms-context.ts';

/** An operator reads at most this many members of a room in one call. */
const MEMBERS_SHOWN = 1000;

export function operatorActions(rc: RoomsContext): RoomsActions {
  const { store } = rc;
  return {
    operatorRoomIds: {
      visibility: 'public',
      params: { max: { type: 'number', integer: true, min: 1, max: 1000 }, after: { type: 'string', optional: true, max: 4000 } },
      handler: (ctx: Context<{ max: number; after?: string }>) => store.listRoomIds(ctx.params),
    },
    /** The room's messages, newest first, a page at a time: what the search index holds of them. */
    operatorMessages: {
      visibility: 'public',
      params: { roomId: p.id, max: { type: 'number', integer: true, min: 1, max: 1000 }, beforeSeq: { type: 'number', integer: true, optional: true } },
      async handler(ctx: Context<{ roomId: string; max: number; beforeSeq?: number }>) {
        // Read first: every message listed after it is at least as new as this seq (the search index's version).
        const head = await store.head(ctx.params.roomId);
        const messages = await store.listMessages({ roomId: ctx.params.roomId, beforeSeq: ctx.params.beforeSeq, max: ctx.params.max });
        return {
          head,
          items: messages.map((m) => indexedMessageOf(m, head)),
          beforeSeq: messages.length === ctx.params.max ? messages[messages.length - 1].seq : undefined,
        };
      },
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
