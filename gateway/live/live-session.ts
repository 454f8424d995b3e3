// One live socket's session: its hello (the token checked, and checked again from time to
// time while the socket is open), the limit on the frames it sends, and the dispatch of
// each frame. What it follows is kept by its parts: the room streams (cursors and gap fill,
// room-streams.ts) and the meeting seats (meeting-seats.ts).
import { randomUUID } from 'node:crypto';
import type { Caller } from '../../contracts/caller.ts';
import type { MeetingUpdate } from '../../routing/fanout/fanout.ts';
import type { Activity } from '../../storage/records.ts';
import { fullBucket, takeToken, type TokenBucket } from '../../contracts/token-bucket.ts';
import { METRIC } from '../../contracts/metrics.ts';
import { CLOSE_RATE_LIMITED, CLOSE_RESYNC, CLOSE_TRY_AGAIN_LATER, CLOSE_UNAUTHORIZED, type ServerFrame } from '../../contracts/live-frames.ts';
import type { LiveSessionHost, LiveSocket, SessionLink, SessionPhase } from './live-session-host.ts';
import { jsonShapeProblem } from '../json-shape.ts';
import { parseClientFrame, serverFrame } from './live-protocol.ts';
import { MAX_MEETING_REQUESTS_IN_FLIGHT, MeetingSeats } from './meeting-seats.ts';
import { RoomStreams } from './room-streams.ts';
import { TypingThrottle } from './typing.ts';
import { MAX_PRESENCE_WATCHES, PresenceWatches } from './presence-watches.ts';

const MAX_RESUME_ROOMS = 10_000;
/**
 * Members and elements of the first frame, measured before it is parsed: a resume of 3,000
 * real room ids already fills the 256 KiB a frame may have, while 19,000 short keys cost
 * 15-45 ms to parse and check, from a client not yet known.
 */
const MAX_HELLO_VALUES = 3000;

export class LiveSession {
  readonly id = randomUUID();
  readonly openedAt = new Date().toISOString();
  personId: string | undefined;
  private caller: Caller | undefined;
  /** Every frame after the hello takes a token: a client cannot make the actors work without bound. */
  private readonly budget: TokenBucket;
  private state: SessionPhase = 'hello';
  private readonly rooms: RoomStreams;
  private readonly meetings: MeetingSeats;
  private readonly presence: PresenceWatches;
  private readonly typing = new TypingThrottle();
  private readonly socket: LiveSocket;
  private readonly host: LiveSessionHost;
  private readonly helloTimer: NodeJS.Timeout;
  private checkTimer: NodeJS.Timeout | undefined;

  constructor(socket: LiveSocket, host: LiveSessionHost) {
    this.socket = socket;
    this.host = host;
    this.budget = fullBucket(host.frameBurst, Date.now());
    const link: SessionLink = {
      session: this,
      socket,
      host,
      phase: () => this.state,
      caller: () => this.caller,
      send: (frame) => this.send(frame),
      resync: (reason) => this.resync(reason),
    };
    this.rooms = new RoomStreams(link, () => this.presence.recheckSoon());
    this.meetings = new MeetingSeats(link);
    this.presence = new PresenceWatches(link);
    this.helloTimer = setTimeout(() => this.refuse('No hello frame was received in time.'), host.helloTimeoutMs);
  }

  receive(text: string): void {
    if (this.state === 'closed') return;
    if (this.state === 'hello') {
      // An address refused for its failed attempts is turned away before any work.
      const waitSeconds = this.host.helloRefusal(this.socket.remoteAddress);
      if (waitSeconds > 0) return this.rateLimited(waitSeconds);
      const shape = jsonShapeProblem(text, 4, MAX_HELLO_VALUES);
      if (shape) return this.refuseHello(`The first frame ${shape}.`);
    }
    const frame = parseClientFrame(text);
    if ('problem' in frame) {
      if (this.state === 'hello') return this.refuseHello(frame.problem);
      if (frame.requestId) return this.send({ type: 'meeting.reply', id: frame.requestId, ok: false, error: { status: 400, code: 'BAD_FRAME', message: frame.problem } });
      return this.send({ type: 'error', message: frame.problem });
    }
    if (frame.type !== 'hello' && this.host.framesPerSecond > 0) {
      const waitMs = takeToken(this.budget, this.host.frameBurst, this.host.framesPerSecond, Date.now());
      if (waitMs > 0) {
        this.host.metrics.increment(METRIC.rateLimited, { limit: 'live_frames' });
        return this.tooMany(frame.type === 'meeting' ? frame.id : undefined, waitMs, 'Too many frames on this socket: slow down.');
      }
    }
    switch (frame.type) {
      case 'hello':
        if (this.state !== 'hello') return this.send({ type: 'error', message: 'The session has already started.' });
        this.state = 'starting';
        clearTimeout(this.helloTimer);
        this.start(frame.token, frame.resume).catch((err: unknown) => {
          this.host.logger.warn({ err, session: this.id }, 'live session could not start');
          this.resync('unavailable');
        });
        return;
      case 'ping':
        if (this.state === 'hello') return this.refuseHello('The first frame must be hello.');
        return this.send({ type: 'pong' });
      case 'read':
        if (this.state === 'hello') return this.refuseHello('The first frame must be hello.');
        this.host.deviceActive(this);
        // The receipt comes back through the room's fan-out, to this socket as to the others.
        this.host.markRead(this.caller!, frame.roomId, frame.messageId).catch((err: { message?: string; code?: number }) => {
          const known = typeof err?.code === 'number' && err.code < 500;
          this.send({ type: 'error', message: known ? String(err.message) : 'The read could not be recorded: send it again.' });
        });
        return;
      case 'typing':
        if (this.state === 'hello') return this.refuseHello('The first frame must be hello.');
        this.host.deviceActive(this);
        return this.typed(frame.roomId, frame.typing ?? true);
      case 'activity':
        if (this.state === 'hello') return this.refuseHello('The first frame must be hello.');
        if (this.state === 'open') this.host.deviceActive(this);
        return;
      case 'presence.subscribe':
        if (this.state === 'hello') return this.refuseHello('The first frame must be hello.');
        if (this.state !== 'open') return this.send({ type: 'error', message: 'Wait for the ready frame.' });
        if (frame.personIds.length > MAX_PRESENCE_WATCHES) return this.send({ type: 'error', message: `At most ${MAX_PRESENCE_WATCHES} people can be watched by one socket.` });
        this.presence.subscribe(frame.personIds).catch((err: unknown) => {
          this.host.logger.warn({ err, session: this.id }, 'a presence subscription could not be made');
          this.send({ type: 'error', message: 'The presence subscription could not be made: send it again.' });
        });
        return;
      case 'meeting':
        if (this.state === 'hello') return this.refuseHello('The first frame must be hello.');
        if (this.meetings.saturated()) {
          return this.tooMany(frame.id, 100, `At most ${MAX_MEETING_REQUESTS_IN_FLIGHT} meeting requests of a socket wait for their replies at once.`);
        }
        this.meetings.request(frame);
        return;
      default: {
        const unknown: never = frame;
        throw new Error(`unhandled frame ${JSON.stringify(unknown)}`);
      }
    }
  }

  private async start(token: string, resume: Record<string, number> | undefined): Promise<void> {
    let caller: Caller;
    try {
      caller = await this.host.authenticate(token);
    } catch (err) {
      const status = (err as { code?: unknown })?.code;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        // Counted against the address; the one too many is told to wait rather than to sign in again.
        const waitSeconds = await this.host.helloFailed(this.socket.remoteAddress);
        return waitSeconds > 0 ? this.rateLimited(waitSeconds) : this.refuse('The access token is not valid.');
      }
      // The token could not be checked (the people actor is unreachable for a moment): that
      // is no verdict on the token, and the client should come back, not sign in again.
      this.host.logger.warn({ err, session: this.id }, 'a live session could not check its token');
      return this.tryAgainLater('The service cannot check the access token right now: reconnect shortly.');
    }
    if (resume && Object.keys(resume).length > MAX_RESUME_ROOMS) return this.refuse(`At most ${MAX_RESUME_ROOMS} rooms can be resumed.`);
    if (this.isClosed()) return;
    this.personId = caller.id;
    this.caller = caller;
    this.scheduleChecks(token);
    // Subscribe before reading positions: whatever is committed after the read reaches
    // the session live, whatever before it comes from the log, and cursors dedupe the overlap.
    this.host.watchPerson(this);
    const rooms = await this.host.liveRooms(caller.id);
    if (this.isClosed()) return;
    const positions = this.rooms.follow(rooms, resume);
    this.state = 'open';
    this.host.deviceOpened(this);
    const readStatus = Object.fromEntries(rooms.map((room) => [room.roomId, room.readStatus]));
    this.send({ type: 'ready', sessionId: this.id, personId: caller.id, heartbeatSeconds: this.host.heartbeatSeconds, positions, readStatus });
    await this.rooms.replayAll();
  }

  /** An activity of a room this session is subscribed to, from the fan-out. */
  offer(activity: Activity, frame?: string): void {
    this.rooms.offer(activity, frame);
  }

  /** A read receipt (a `read` frame) of a room this session follows, from the fan-out. */
  offerRead(frame: string): void {
    if (this.state === 'open') this.socket.send(frame);
  }

  /**
   * A notification for this session's person (a `notification` frame): whether the session
   * took it. Not a client whose outgoing buffer is already full (it is about to resync):
   * unreached, the person gets the push instead.
   */
  offerNotification(frame: string): boolean {
    if (this.state !== 'open' || this.socket.bufferedAmount() > this.host.maxBufferedBytes) return false;
    this.socket.send(frame);
    return true;
  }

  /** One of this person's own membership changes, from the fan-out. */
  offerOwn(activity: Activity): void {
    this.rooms.offerOwn(activity);
  }

  /** The client's person is typing in a room (typing.ts: checked here, against the rooms this session follows). */
  private typed(roomId: string, typing: boolean): void {
    if (this.state !== 'open') return this.send({ type: 'error', message: 'Wait for the ready frame.' });
    if (!this.rooms.follows(roomId)) return this.send({ type: 'error', message: `You are not a member of the room ${JSON.stringify(roomId)}.` });
    if (this.typing.allow(roomId, typing, Date.now())) this.host.publishTyping(roomId, this.personId!, typing);
  }

  /** Someone else typing in a room this session follows, from the fan-out; dropped rather than queued when the client is behind. */
  offerTyping(roomId: string, frame: string): void {
    if (this.state !== 'open' || !this.rooms.follows(roomId)) return;
    if (this.socket.bufferedAmount() > this.host.maxBufferedBytes) return;
    this.socket.send(frame);
  }

  /** A change of a person this session watches, from the fan-out. */
  offerPresence(personId: string, frame: string): void {
    this.presence.offer(personId, frame);
  }

  /** This person posted in the room: their typing there has ended. */
  ownMessage(roomId: string): void {
    this.typing.cleared(roomId);
  }

  /** A change of the state of a meeting this session takes part in, from the fan-out. */
  offerMeeting(update: MeetingUpdate, present: Set<string>): void {
    this.meetings.offer(update, present);
  }

  /** The fan-out was interrupted: every room is brought up to its head from the log. */
  catchUp(): void {
    this.rooms.catchUp();
  }

  /**
   * A session outlives its hello: from time to time (with jitter, so that sessions opened
   * together do not check together) it checks its token again, and ends when the token is
   * no longer accepted; and it compares its rooms' heads with what it delivered, filling
   * any gap from the log. The fan-out is best effort: an activity whose publication was
   * lost (its node died between commit and publish) is otherwise noticed only at the room's
   * next event. An actor that cannot answer is not a verdict: the session goes on.
   */
  private scheduleChecks(token: string): void {
    if (!(this.host.checkSeconds > 0)) return;
    const every = this.host.checkSeconds * 1000 * (0.9 + Math.random() * 0.2);
    this.checkTimer = setTimeout(() => {
      this.host.authenticate(token).then(
        () => {
          if (this.isClosed()) return;
          void this.rooms.checkHeads();
          this.presence.recheckSoon(0);
          this.scheduleChecks(token);
        },
        (err: { code?: number }) => {
          if (err?.code === 401) return this.refuse('The access token is no longer valid.');
          if (!this.isClosed()) this.scheduleChecks(token);
        },
      );
    }, every);
    this.checkTimer.unref?.();
  }

  private resync(reason: 'backpressure' | 'unavailable'): void {
    if (this.isClosed()) return;
    this.host.metrics.increment(METRIC.resyncs, { reason });
    this.send({ type: 'resync', reason, positions: this.rooms.positions() });
    this.close(CLOSE_RESYNC, 'resync');
  }

  /** A frame refused for going too fast: a 429 reply to a meeting request, else an error frame. */
  private tooMany(requestId: string | undefined, waitMs: number, message: string): void {
    const retryAfterMs = Math.max(1, Math.ceil(waitMs));
    if (requestId) return this.send({ type: 'meeting.reply', id: requestId, ok: false, error: { status: 429, code: 'RATE_LIMITED', message, retryAfterMs } });
    this.send({ type: 'error', message, retryAfterMs });
  }

  private tryAgainLater(message: string): void {
    if (this.isClosed()) return;
    this.send({ type: 'error', message });
    this.close(CLOSE_TRY_AGAIN_LATER, 'try again later');
  }

  /** A first frame that is no hello: refused (4001), and counted against the address. */
  private refuseHello(message: string): void {
    this.host.helloFailed(this.socket.remoteAddress).catch(() => undefined);
    this.refuse(message);
  }

  private rateLimited(waitSeconds: number): void {
    if (this.isClosed()) return;
    this.host.metrics.increment(METRIC.rateLimited, { limit: 'anonymous' });
    this.send({ type: 'error', message: 'Too many failed sign-ins from this address: wait retryAfterMs, then reconnect.', retryAfterMs: waitSeconds * 1000 });
    this.close(CLOSE_RATE_LIMITED, 'rate limited');
  }

  private refuse(message: string): void {
    if (this.isClosed()) return;
    this.send({ type: 'error', message });
    this.close(CLOSE_UNAUTHORIZED, 'unauthorized');
  }

  private send(frame: ServerFrame): void {
    if (!this.isClosed()) this.socket.send(serverFrame(frame));
  }

  close(code: number, reason: string): void {
    if (this.isClosed()) return;
    this.socket.close(code, reason);
    this.closed();
  }

  /** The socket is gone (closed by either side): release everything the session holds. */
  closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.helloTimer);
    clearTimeout(this.checkTimer);
    this.rooms.release();
    this.meetings.release();
    this.presence.release();
    // Only a session that started had a device to report.
    if (this.caller) this.host.deviceClosed(this);
    this.host.forget(this);
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }
}
