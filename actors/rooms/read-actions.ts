// Marking a room read (a Squared extension, docs/live-protocol.md): a member's read position
// moves forward to a message of the room, never back, in the room's write queue (so it is
// ordered with the posts and deletions that also change it). The new position goes to the
// room's live members as a read receipt, the reader's other devices among them.
import type { Context } from 'moleculer';
import { callerOf } from '../../contracts/caller.ts';
import { notFound } from '../../contracts/errors.ts';
import { idKind } from '../../contracts/ids.ts';
import * as p from '../params.ts';
import { readStatusOf, type ReadStatus } from './read-status.ts';
import type { RoomsActions, RoomsContext } from './rooms-context.ts';

export function readActions(rc: RoomsContext): RoomsActions {
  const { store, log, reads } = rc;
  return {
    /** Answers the caller's read status of the room after the read (unchanged if the position was already there or past it). */
    markRead: {
      visibility: 'published',
      params: { roomId: p.id, messageId: p.id },
      async handler(ctx: Context<{ roomId: string; messageId: string }>): Promise<ReadStatus & { roomId: string }> {
        const caller = callerOf(ctx);
        const { roomId, messageId } = ctx.params;
        return log.inRoomQueue(roomId, async () => {
          const { room } = await rc.loadRoomAsMember(ctx, roomId);
          const message = idKind(messageId) === 'MESSAGE' ? await store.getMessage(messageId) : undefined;
          if (!message || message.roomId !== roomId) throw notFound('Message not found.');
          const current = await store.getReadPosition(roomId, caller.id);
          if (current && message.seq <= current.seq) return { roomId, ...readStatusOf(room, current) };
          const position = await reads.readTo(message, caller.id, current);
          reads.receiptOf(position, room.messageCount ?? 0);
          return { roomId, ...readStatusOf(room, position) };
        });
      },
    },
  };
}
