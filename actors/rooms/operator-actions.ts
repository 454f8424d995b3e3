// What the operators' console (`room <id>`, cluster/repl-commands/) reads of a room: its
// record, its head and its members, as the room's owner sees them. Internal and read-only
// (visibility 'public'): no client route names it, and it changes nothing.
import type { Context } from 'moleculer';
import * as p from '../params.ts';
import type { RoomsActions, RoomsContext } from './rooms-context.ts';

/** An operator reads at most this many members of a room in one call. */
const MEMBERS_SHOWN = 1000;

export function operatorActions(rc: RoomsContext): RoomsActions {
  const { store } = rc;
  return {
    operatorRoom: {
      visibility: 'public',
      params: { roomId: p.id },
      async handler(ctx: Context<{ roomId: string }>) {
        const room = await store.getRoom(ctx.params.roomId);
        if (!room) return null;
        const members = await store.listMemberships({ roomId: room.id, max: MEMBERS_SHOWN });
        return {
          room: { id: room.id, title: room.title, type: room.type, teamId: room.teamId, isLocked: room.isLocked, isReadOnly: room.isReadOnly, created: room.created, lastActivity: room.lastActivity },
          head: await store.head(room.id),
          members: members.items.map((m) => ({ personId: m.personId, email: m.personEmail, displayName: m.personDisplayName, isModerator: m.isModerator, joinedSeq: m.joinedSeq })),
          moreMembers: members.next !== undefined,
        };
      },
    },
  };
}
