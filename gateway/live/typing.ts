// Typing indicators (docs/live-protocol.md, "Typing"): ephemeral signals between the live
// sockets of a room's members. They never reach the rooms actor, the log or the room's seq:
// the typing socket's gateway publishes a TypingSignal on the room's fan-out topic, and every
// gateway with members of the room in its sessions passes it on to them, the sender's own
// sessions aside.
//
// Who may send one is decided at the gateway, by the room streams of the typing session, not
// by a call to the room's owner. The session follows exactly the rooms the rooms actor
// listed for its person at hello (rooms.liveRooms), learns each join and leave from the
// person's own membership events in the room's order, and its periodic check fills a lost
// one from the log: that view is what authorizes the socket to read the room's messages,
// so a typing signal reaches nobody who could not read them, and a non-member cannot send
// one. Asking the owner instead would put a call per typing burst on the one node that
// orders the room's log, for a signal that is never stored. Receivers are checked the same
// way: only sessions that follow the room are subscribed to its topic, and each checks again.
import type { TypingSignal } from '../../routing/fanout/fanout.ts';
import type { Activity } from '../../storage/records.ts';
import type { TypingFrame } from '../../contracts/live-frames.ts';

/** How long a receiver shows someone typing after a `typing` frame, unless it is repeated. */
export const TYPING_EXPIRES_MS = 6000;
/** How often a client repeats `typing` while its person goes on typing (documented for clients). */
export const TYPING_REPEAT_MS = 3000;
/** A socket's repeated `typing` for one room is passed on at most this often. */
export const TYPING_FORWARD_MIN_MS = 1000;

/** What the relay needs of a live session. */
export interface TypingReceiver {
  readonly personId: string | undefined;
  /** Sends the frame if the session follows the room (the membership check of the receiver). */
  offerTyping(roomId: string, frame: string): void;
  /** The person posted in the room: their next `typing` there goes out at once. */
  ownMessage(roomId: string): void;
}

/**
 * Per session: which rooms its person is typing in, so that a client repeating `typing`
 * many times a second costs the room's members one frame per TYPING_FORWARD_MIN_MS, a
 * start or a stop goes out at once, and a stop is sent only after a start.
 */
export class TypingThrottle {
  /** Room → when its last `typing: true` was passed on. */
  private readonly since = new Map<string, number>();

  /** Whether this `typing` (true: started or still, false: stopped) is to be passed on. */
  allow(roomId: string, typing: boolean, now: number): boolean {
    const last = this.since.get(roomId);
    const active = last !== undefined && now - last < TYPING_EXPIRES_MS;
    if (!typing) {
      this.since.delete(roomId);
      return active;
    }
    if (active && now - last! < TYPING_FORWARD_MIN_MS) return false;
    if (this.since.size >= 64) this.prune(now);
    this.since.set(roomId, now);
    return true;
  }

  /** The person's message ended their typing there (the relay told the room). */
  cleared(roomId: string): void {
    this.since.delete(roomId);
  }

  private prune(now: number): void {
    for (const [roomId, at] of this.since) if (now - at >= TYPING_EXPIRES_MS) this.since.delete(roomId);
  }
}

export const typingFrame = (signal: TypingSignal): string => {
  const frame: TypingFrame = { type: 'typing', roomId: signal.roomId, personId: signal.personId, typing: signal.typing };
  if (signal.typing) frame.expiresInMs = TYPING_EXPIRES_MS;
  return JSON.stringify(frame);
};

/**
 * One gateway's side of a room's typing: passes signals to the sessions following the room
 * (serialized once), and remembers who is typing there, so that a person's next message
 * in the room is followed by `typing: false` for them.
 */
export class TypingRelay {
  /** Room → person → until when they count as typing. */
  private readonly typers = new Map<string, Map<string, number>>();

  relay(signal: TypingSignal, sessions: Iterable<TypingReceiver>): void {
    const now = Date.now();
    const room = this.typers.get(signal.roomId) ?? new Map<string, number>();
    for (const [personId, until] of room) if (until <= now) room.delete(personId);
    if (signal.typing) room.set(signal.personId, now + TYPING_EXPIRES_MS);
    else room.delete(signal.personId);
    if (room.size > 0) this.typers.set(signal.roomId, room);
    else this.typers.delete(signal.roomId);
    this.send(signal, sessions);
  }

  /** After an activity of the room went to its sessions: a message ends its author's typing. */
  afterActivity(activity: Activity, sessions: Iterable<TypingReceiver>): void {
    if (activity.event !== 'message.created') return;
    const room = this.typers.get(activity.roomId);
    const until = room?.get(activity.actorId);
    for (const s of sessions) if (s.personId === activity.actorId) s.ownMessage(activity.roomId);
    if (!room || until === undefined) return;
    room.delete(activity.actorId);
    if (room.size === 0) this.typers.delete(activity.roomId);
    if (until > Date.now()) this.send({ kind: 'typing', roomId: activity.roomId, personId: activity.actorId, typing: false }, sessions);
  }

  /** No session of this gateway follows the room any more. */
  forgetRoom(roomId: string): void {
    this.typers.delete(roomId);
  }

  private send(signal: TypingSignal, sessions: Iterable<TypingReceiver>): void {
    const frame = typingFrame(signal);
    for (const s of sessions) if (s.personId !== signal.personId) s.offerTyping(signal.roomId, frame);
  }
}
