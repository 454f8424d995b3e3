// What a live session needs: the socket under it (the uWS adapter implements it), the
// gateway around it (actor calls, fan-out interest, limits), and what the session's own
// parts, its room streams and meeting seats, use of it.
import type { Logger } from 'moleculer';
import type { Caller } from '../../contracts/caller.ts';
import type { MetricSink } from '../../contracts/metrics.ts';
import type { MeetingFrame, PresenceView, ReadStatus, ServerFrame } from '../../contracts/live-frames.ts';
import type { Activity } from '../../storage/records.ts';
import type { LiveSession } from './live-session.ts';

/** The part of a WebSocket a session needs; the uWS adapter implements it. */
export interface LiveSocket {
  send(frame: string): void;
  bufferedAmount(): number;
  close(code: number, reason: string): void;
  /** The client's address, for the limit on refused hellos. */
  readonly remoteAddress: string;
}

export interface ReplayResult {
  activities: Activity[];
  upTo: number;
  head: number;
}

/** What a session needs from the gateway around it. */
export interface LiveSessionHost {
  authenticate(token: string): Promise<Caller>;
  /** Seconds the address must wait before its next hello (too many failed attempts), or 0. */
  helloRefusal(address: string): number;
  /** A hello of the address was refused: counted; the seconds to wait if it was one too many, else 0. */
  helloFailed(address: string): Promise<number>;
  liveRooms(personId: string): Promise<{ roomId: string; head: number; joinedSeq: number; readStatus: ReadStatus }[]>;
  /** Moves the person's read position in the room forward to the message (rooms.markRead). */
  markRead(caller: Caller, roomId: string, messageId: string): Promise<unknown>;
  replay(personId: string, positions: Record<string, number>): Promise<Record<string, ReplayResult>>;
  subscribeRoom(session: LiveSession, roomId: string): void;
  unsubscribeRoom(session: LiveSession, roomId: string): void;
  watchPerson(session: LiveSession): void;
  /** Publishes the session's person typing (or stopped) in a room, to the room's members on every gateway. */
  publishTyping(roomId: string, personId: string, typing: boolean): void;
  /** Of `personIds`, those who share a room with the person now (rooms.peopleSharingRooms). */
  peopleSharingRooms(personId: string, personIds: string[]): Promise<string[]>;
  /** The people's current statuses (presence.statuses). */
  presenceStatuses(personIds: string[]): Promise<Record<string, PresenceView>>;
  watchPresence(session: LiveSession, personId: string): void;
  unwatchPresence(session: LiveSession, personId: string): void;
  /** The session's device: started (its person is online on it), used (activity), gone. */
  deviceOpened(session: LiveSession): void;
  deviceActive(session: LiveSession): void;
  deviceClosed(session: LiveSession): void;
  forget(session: LiveSession): void;
  /** Carries a meeting request to the conferences actor, as the session's person. */
  meetingRequest(session: LiveSession, caller: Caller, frame: MeetingFrame): Promise<unknown>;
  /** The session is gone: its participant leaves the meeting. */
  meetingSessionClosed(session: LiveSession, meetingId: string): void;
  subscribeMeeting(session: LiveSession, meetingId: string): void;
  /** The meeting's full state (a `meeting.state` frame), for a session that missed a delta. */
  meetingState(caller: Caller, meetingId: string): Promise<{ version: number }>;
  unsubscribeMeeting(session: LiveSession, meetingId: string): void;
  maxBufferedBytes: number;
  /** The frames a socket may send: a burst, refilled per second (hello aside; 0 per second: no limit). */
  frameBurst: number;
  framesPerSecond: number;
  helloTimeoutMs: number;
  heartbeatSeconds: number;
  /** How often an open session checks its token (expired, person deleted) and its rooms' heads. */
  checkSeconds: number;
  logger: Logger;
  /** Deliveries, resyncs, commit-to-deliver latency and the frames refused by the limit. */
  metrics: MetricSink;
}

export type SessionPhase = 'hello' | 'starting' | 'open' | 'closed';

/** What the parts of a session (its room streams, its meeting seats) use of it. */
export interface SessionLink {
  /** The session as the gateway knows it, for the host's calls. */
  readonly session: LiveSession;
  readonly socket: LiveSocket;
  readonly host: LiveSessionHost;
  phase(): SessionPhase;
  /** The person, once the hello's token was accepted. */
  caller(): Caller | undefined;
  send(frame: ServerFrame): void;
  /** Tells the client to reconnect and resume from its positions, and closes. */
  resync(reason: 'backpressure' | 'unavailable'): void;
}
