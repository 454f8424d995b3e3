// The live sessions of one gateway and their interest in rooms. A gateway subscribes to a
// room's fan-out topic only while one of its sessions follows that room, and serializes
// each activity once for all of them.
import { isReadReceipt, isTypingSignal, meetingTopic, personTopic, presenceTopic, roomTopic, type Fanout, type FanoutMessage, type MeetingUpdate, type PresenceUpdate, type ReadReceipt, type TypingSignal } from '../../routing/fanout/fanout.ts';
import type { Activity } from '../../storage/records.ts';
import type { NotificationFrame } from '../../contracts/live-frames.ts';
import { eventFrame, readFrame, serverFrame } from './live-protocol.ts';
import type { LiveSession } from './live-session.ts';
import { TypingRelay } from './typing.ts';
import { presenceFrame } from './presence-watches.ts';

interface Interest {
  sessions: Set<LiveSession>;
  stop: () => void;
}


export class LiveHub {
  private readonly rooms = new Map<string, Interest>();
  private readonly people = new Map<string, Interest>();
  private readonly meetings = new Map<string, Interest>();
  /** Watched person → the sessions watching them (one fan-out subscription per watched person). */
  private readonly presence = new Map<string, Interest>();
  private readonly sessions = new Set<LiveSession>();
  private readonly fanout: Fanout;
  private readonly typing = new TypingRelay();

  constructor(fanout: Fanout) {
    this.fanout = fanout;
    // After a fan-out outage every session catches up from the log, quiet rooms included.
    fanout.onResumed(() => {
      for (const session of this.sessions) session.catchUp();
    });
  }

  add(session: LiveSession): void {
    this.sessions.add(session);
  }

  subscribeRoom(session: LiveSession, roomId: string): void {
    this.join<Activity | ReadReceipt | TypingSignal>(this.rooms, roomTopic(roomId), roomId, session, (message, sessions) => {
      if (isTypingSignal(message)) return this.typing.relay(message, sessions);
      if (isReadReceipt(message)) return this.deliverReceipt(message, sessions);
      const frame = eventFrame(message);
      for (const s of sessions) s.offer(message, frame);
      this.typing.afterActivity(message, sessions);
    });
  }

  /** The reader's own sessions get the reader's counts with it; the other members only the position. */
  private deliverReceipt(receipt: ReadReceipt, sessions: Set<LiveSession>): void {
    let own: string | undefined;
    let others: string | undefined;
    for (const s of sessions) {
      if (s.personId === receipt.personId) s.offerRead((own ??= readFrame(receipt, true)));
      else s.offerRead((others ??= readFrame(receipt, false)));
    }
  }

  unsubscribeRoom(session: LiveSession, roomId: string): void {
    this.leave(this.rooms, roomId, session);
    if (!this.rooms.has(roomId)) this.typing.forgetRoom(roomId);
  }

  /** A session's person is typing (or stopped) in a room it follows: to every gateway with members of the room. */
  publishTyping(roomId: string, personId: string, typing: boolean): void {
    const signal: TypingSignal = { kind: 'typing', roomId, personId, typing };
    this.fanout.publish(roomTopic(roomId), signal);
  }

  watchPerson(session: LiveSession): void {
    this.join(this.people, personTopic(session.personId!), session.personId!, session, (activity, sessions) => {
      if (isReadReceipt(activity)) return; // person topics carry activities only
      for (const s of sessions) s.offerOwn(activity);
    });
  }

  /**
   * Notifications for people (the notifications actor's `gateway.notify`): each frame to the
   * open sessions of its people on this gateway, serialized once. Answers the people reached.
   */
  notify(groups: { frame: NotificationFrame; personIds: string[] }[]): string[] {
    const reached: string[] = [];
    for (const { frame, personIds } of groups) {
      const text = serverFrame(frame);
      for (const personId of personIds) {
        let sent = false;
        for (const session of this.people.get(personId)?.sessions ?? []) sent = session.offerNotification(text) || sent;
        if (sent) reached.push(personId);
      }
    }
    return reached;
  }

  /** A watched person's changes go to the sessions watching them, serialized once for all of them. */
  watchPresence(session: LiveSession, personId: string): void {
    this.join<PresenceUpdate>(this.presence, presenceTopic(personId), personId, session, (update, sessions) => {
      const frame = presenceFrame(update.personId, update);
      for (const s of sessions) s.offerPresence(update.personId, frame);
    });
  }

  unwatchPresence(session: LiveSession, personId: string): void {
    this.leave(this.presence, personId, session);
  }

  /** A meeting's state goes to the sessions taking part in it, read once for all of them. */
  subscribeMeeting(session: LiveSession, meetingId: string): void {
    let interest = this.meetings.get(meetingId);
    if (!interest) {
      const sessions = new Set<LiveSession>();
      const stop = this.fanout.subscribe<MeetingUpdate>(meetingTopic(meetingId), (update) => {
        const present = new Set(update.participantIds);
        for (const s of [...sessions]) s.offerMeeting(update, present);
      });
      interest = { sessions, stop };
      this.meetings.set(meetingId, interest);
    }
    interest.sessions.add(session);
  }

  unsubscribeMeeting(session: LiveSession, meetingId: string): void {
    const interest = this.meetings.get(meetingId);
    if (!interest) return;
    interest.sessions.delete(session);
    if (interest.sessions.size === 0) {
      interest.stop();
      this.meetings.delete(meetingId);
    }
  }

  forget(session: LiveSession): void {
    this.sessions.delete(session);
    if (session.personId) this.leave(this.people, session.personId, session);
  }

  /** This gateway's sessions following the room, and how many people they are (operators' `room`). */
  followersOf(roomId: string): { sessions: number; people: number } {
    const sessions = this.rooms.get(roomId)?.sessions ?? new Set<LiveSession>();
    return { sessions: sessions.size, people: new Set([...sessions].map((s) => s.personId)).size };
  }

  /** This gateway's live sessions of one person (operators' `person`). */
  sessionsOf(personId: string): { sessionId: string; openedAt: string }[] {
    return [...(this.people.get(personId)?.sessions ?? [])].map((s) => ({ sessionId: s.id, openedAt: s.openedAt }));
  }

  /** Closes every session, e.g. with 1001 on shutdown so clients reconnect elsewhere. */
  closeAll(code: number, reason: string): void {
    for (const session of [...this.sessions]) session.close(code, reason);
  }

  stats(): { sessions: number; rooms: number; meetings: number; watchedPeople: number } {
    return { sessions: this.sessions.size, rooms: this.rooms.size, meetings: this.meetings.size, watchedPeople: this.presence.size };
  }

  private join<T extends FanoutMessage = Activity>(map: Map<string, Interest>, topic: string, key: string, session: LiveSession, deliver: (message: T, sessions: Set<LiveSession>) => void): void {
    let interest = map.get(key);
    if (!interest) {
      const sessions = new Set<LiveSession>();
      interest = { sessions, stop: this.fanout.subscribe<T>(topic, (message) => deliver(message, sessions)) };
      map.set(key, interest);
    }
    interest.sessions.add(session);
  }

  private leave(map: Map<string, Interest>, key: string, session: LiveSession): void {
    const interest = map.get(key);
    if (!interest) return;
    interest.sessions.delete(session);
    if (interest.sessions.size === 0) {
      interest.stop();
      map.delete(key);
    }
  }
}
