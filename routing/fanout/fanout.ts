import type { Activity } from '../../storage/records.ts';
import type { PresenceStatus } from '../../contracts/live-frames.ts';

/**
 * A meeting's state after a change (`meeting:<meetingId>`), for the gateways that hold
 * its participants' sessions: the `meeting.state` frame, serialized once by the meeting's
 * owner. A full snapshot with an increasing version, so a lost one is healed by the next.
 */
export interface MeetingUpdate {
  meetingId: string;
  version: number;
  /** The version `frame` applies to: a session that sent exactly that one sends `frame`; any other needs the full state. */
  after: number;
  /** The participants in the state (joined or in the lobby): a session not among them is out. */
  participantIds: string[];
  /** The `meeting.delta` frame. */
  frame: string;
  /** The `meeting.state` frame, when the publisher had shown no state before (a new owner). */
  full?: string;
  /**
   * The participants waiting in the lobby, or just out of it without being admitted: their
   * sessions get only this, their own lobby view when it changed ('' when it did not),
   * never `frame` or `full`, which carry the roster.
   */
  lobby?: Record<string, string>;
}

/**
 * A member read a room up to a message (`room:<roomId>`): the `read` frame for the room's
 * live members, the person's own devices among them. Ephemeral, never in the room's log.
 */
export interface ReadReceipt {
  kind: 'read';
  roomId: string;
  personId: string;
  messageId: string;
  seq: number;
  /** The message's creation time: the reader's lastSeenActivityDate. */
  seenDate: string;
  /** The reader's counts after the read, for the reader's own devices only. */
  unreadCount: number;
  unreadMentionsCount: number;
}

/**
 * Someone typing in a room, on the room's topic beside its activities: published by the
 * gateway of the typing socket, never stored and without a seq.
 */
export interface TypingSignal {
  kind: 'typing';
  roomId: string;
  personId: string;
  typing: boolean;
}

/**
 * A person's presence changed (`presence:<personId>`): published by the presence actor that
 * owns the person, only on a real change, coalesced and paced; heard by the gateways with a
 * socket watching the person.
 */
export interface PresenceUpdate {
  kind: 'presence';
  personId: string;
  status: PresenceStatus;
  lastActivity?: string;
}

export type FanoutMessage = Activity | MeetingUpdate | ReadReceipt | TypingSignal | PresenceUpdate;

/** Whether a message of a room topic is a read receipt (else an activity). */
export const isReadReceipt = (message: Activity | ReadReceipt): message is ReadReceipt => (message as ReadReceipt).kind === 'read';

/** Whether a message of a room topic is a typing signal. */
export const isTypingSignal = (message: FanoutMessage): message is TypingSignal => (message as TypingSignal).kind === 'typing';

/**
 * Delivery of committed activities from the room actors to the gateways that have an
 * interested socket (and presence changes, `presence:<personId>`, PresenceUpdate). Topics are `room:<roomId>` (every activity of the room) and
 * `person:<personId>` (that person's own membership changes, so a gateway learns about a
 * room its person just joined); and `meeting:<meetingId>` (MeetingUpdate). Room topics also
 * carry read receipts (ReadReceipt) and typing signals (TypingSignal), which no log holds: a lost
 * one is simply not shown.
 *
 * Guarantees: at-most-once and, for one publisher, in publish order per topic. Gaps are
 * expected (a gateway subscribing late, a lost node) and healed by the gateway from the
 * activity log; the fan-out never has to be reliable, only the log does.
 */
export interface Fanout {
  publish(topic: string, message: FanoutMessage): void;
  /** Starts delivering the topic to `listener`; the returned function stops it. */
  /** The topic decides the message type: Activity for person topics (the default), Activity, ReadReceipt or TypingSignal for room topics. */
  subscribe<T extends FanoutMessage = Activity>(topic: string, listener: (message: T) => void): () => void;
  /**
   * Calls `listener` when delivery resumes after an interruption (a reconnection): what
   * was published meanwhile may be lost, and subscribers should catch up from the log.
   * The returned function stops it.
   */
  onResumed(listener: () => void): () => void;
  close(): Promise<void>;
}

export const roomTopic = (roomId: string) => `room:${roomId}`;
export const personTopic = (personId: string) => `person:${personId}`;
export const meetingTopic = (meetingId: string) => `meeting:${meetingId}`;
export const presenceTopic = (personId: string) => `presence:${personId}`;
