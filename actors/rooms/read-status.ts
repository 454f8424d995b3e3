// A member's read status of a room, as the room list and the live socket's ready frame show
// it (a Squared extension shaped like the Webex SDK's rooms.listWithReadStatus): computed in
// O(1) from the room's message count and the member's read position, never from the messages.
import type { ReadStatus } from '../../contracts/live-frames.ts';
import type { ReadPosition, RoomRecord } from '../../storage/records.ts';

export type { ReadStatus };

/** The unread messages: those posted after the read position, less those since deleted. */
export function unreadCount(messageCount: number, position: ReadPosition | undefined): number {
  if (!position) return 0;
  return Math.max(0, messageCount - position.ord - position.hidden);
}

export function readStatusOf(room: RoomRecord, position: ReadPosition | undefined): ReadStatus {
  return {
    lastActivityDate: room.lastActivity,
    ...(position?.messageId ? { lastSeenId: position.messageId, lastSeenActivityDate: position.seenDate } : {}),
    unreadCount: unreadCount(room.messageCount ?? 0, position),
    unreadMentionsCount: Math.max(0, position?.mentions ?? 0),
  };
}
