// The vocabulary of the live socket (docs/live-protocol.md, docs/meetings.md): the frames
// each side sends, as discriminated unions, and the close codes. Shared by the gateway,
// which validates and speaks them, and every client written in TypeScript.
import type { SignalingAction } from './signaling-vocabulary.ts';

/** What happened in a room, in the room's order: one entry of its log, as members see it. */
export type ActivityEvent =
  | 'message.created' | 'message.updated' | 'message.deleted'
  | 'membership.created' | 'membership.updated' | 'membership.deleted'
  | 'room.created' | 'room.updated' | 'room.deleted'
  | 'tab.created' | 'tab.updated' | 'tab.deleted';

export interface LiveEvent {
  roomId: string;
  seq: number;
  event: ActivityEvent;
  actorId: string;
  created: string;
  /** The resource in its REST shape, as members see it. */
  data: Record<string, unknown>;
}

/**
 * A member's read status of a room (a Squared extension shaped like the Webex SDK's
 * rooms.listWithReadStatus), on GET /v1/rooms items and in the ready frame.
 */
export interface ReadStatus {
  lastActivityDate: string;
  lastSeenId?: string;
  lastSeenActivityDate?: string;
  /** Messages after the last one read, not deleted; the member's own never count (posting reads). */
  unreadCount: number;
  /** Those of them that mention the member or everyone. */
  unreadMentionsCount: number;
}

/** A member read a room up to a message; the counts are there for the reader's own devices only. */
export interface ReadFrame {
  type: 'read';
  roomId: string;
  personId: string;
  lastSeenId: string;
  lastSeenActivityDate: string;
  unreadCount?: number;
  unreadMentionsCount?: number;
}

/** A meeting request; on the wire its arguments sit beside the envelope, here in `args`. */
export interface MeetingFrame {
  type: 'meeting';
  id: string;
  meetingId: string;
  action: SignalingAction;
  args: Record<string, unknown>;
}

/** A member is typing in a room (`typing` false: stopped); clients repeat it while typing. */
export interface TypingRequest {
  type: 'typing';
  roomId: string;
  typing?: boolean;
}

/** Who is typing where, to the room's other members; never logged, no seq (docs/live-protocol.md). */
export interface TypingFrame {
  type: 'typing';
  roomId: string;
  personId: string;
  typing: boolean;
  /** With `typing` true: show it this long unless repeated. */
  expiresInMs?: number;
}

/**
 * Someone mentioned the person (by name or with `@all`) or wrote to them in a direct room
 * (docs/notifications.md). Sent to the person's own sockets only, beside the message's
 * `event` frame (which may come before or after it). `silent`: the person is in do not
 * disturb; show it quietly.
 */
export interface NotificationFrame {
  type: 'notification';
  kind: 'mention' | 'direct';
  roomId: string;
  messageId: string;
  actorId: string;
  created: string;
  /** The start of the message's text, at most NOTIFICATION_PREVIEW_CHARS characters. */
  preview?: string;
  silent?: boolean;
}

export const NOTIFICATION_PREVIEW_CHARS = 120;

/** A person's status as Webex reports it on a Person (presenting, call and pending are never set by Squared). */
export const PRESENCE_STATUSES = ['active', 'inactive', 'DoNotDisturb', 'meeting', 'presenting', 'call', 'OutOfOffice', 'pending', 'unknown'] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];

/** A person's presence: on people in REST, and as the `presence` frame to the sockets watching them. */
export interface PresenceView {
  status: PresenceStatus;
  /** The last activity of any of the person's devices (ISO 8601), when known. */
  lastActivity?: string;
}

/** The status of a watched person: at once for each person subscribed to, then on each real change. */
export interface PresenceFrame extends PresenceView {
  type: 'presence';
  personId: string;
}

/** Replaces the people whose presence this socket is sent (only people sharing a room with its person). */
export interface PresenceSubscribe {
  type: 'presence.subscribe';
  personIds: string[];
}

export type ClientFrame =
  | { type: 'hello'; token: string; resume?: Record<string, number> }
  | { type: 'ping' }
  | { type: 'read'; roomId: string; messageId: string }
  | TypingRequest
  | PresenceSubscribe
  /** The person used the client (input, focus): keeps them `active` (docs/live-protocol.md, Presence). */
  | { type: 'activity' }
  | MeetingFrame;

export interface MeetingErrorBody {
  status: number;
  code: string;
  message: string;
  /** With 429: when the socket may send again. */
  retryAfterMs?: number;
}

export type ServerFrame =
  | { type: 'ready'; sessionId: string; personId: string; heartbeatSeconds: number; positions: Record<string, number>; readStatus: Record<string, ReadStatus> }
  | ReadFrame
  | ({ type: 'event' } & LiveEvent)
  | { type: 'pong' }
  | TypingFrame
  | NotificationFrame
  | PresenceFrame
  | { type: 'resync'; reason: 'backpressure' | 'unavailable'; positions: Record<string, number> }
  | { type: 'error'; message: string; retryAfterMs?: number }
  | { type: 'meeting.reply'; id: string; ok: true; result: unknown }
  | { type: 'meeting.reply'; id: string; ok: false; error: MeetingErrorBody };

/**
 * Every type of frame the server sends (the meeting's state and deltas are built apart, in
 * the conferences actor). Tests that judge what a socket receives use this list; the check
 * below fails type-checking when a ServerFrame is added without it.
 */
export const SERVER_FRAME_TYPES = ['ready', 'read', 'event', 'pong', 'typing', 'notification', 'presence', 'resync', 'error', 'meeting.reply', 'meeting.state', 'meeting.delta'] as const;
const everyServerFrameListed: Exclude<ServerFrame['type'], (typeof SERVER_FRAME_TYPES)[number]> extends never ? true : never = true;
void everyServerFrameListed;

export const CLOSE_RESYNC = 4000;
export const CLOSE_UNAUTHORIZED = 4001;
export const CLOSE_GOING_AWAY = 1001;
/** The server cannot serve the session right now (an actor is unreachable): reconnect shortly, as before. */
export const CLOSE_TRY_AGAIN_LATER = 1013;
/** Too many refused hellos or unauthenticated requests from the client's address: wait the error frame's `retryAfterMs`, then reconnect. */
export const CLOSE_RATE_LIMITED = 4029;
