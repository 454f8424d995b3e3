// One live socket: its person, and per room the last seq it has delivered (its cursor).
// Every activity passes `offer`: the next seq is sent, older ones are dropped, and a gap
// is filled from the room's log before anything newer goes out. The resume after a
// reconnect is the same gap fill, starting at the client's positions, so replay and live
// stream meet without a gap or a duplicate.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'moleculer';
import type { Caller } from '../../contracts/caller.ts';
import type { MeetingUpdate } from '../../routing/fanout/fanout.ts';
import type { Activity } from '../../storage/records.ts';
import { fullBucket, takeToken, type TokenBucket } from '../../contracts/token-bucket.ts';
import { CLOSE_RESYNC, CLOSE_TRY_AGAIN_LATER, CLOSE_UNAUTHORIZED, type MeetingErrorBody, type MeetingFrame, type ServerFrame } from '../../contracts/live-frames.ts';
import { eventFrame, parseClientFrame, serverFrame } from './live-protocol.ts';

/** The part of a WebSocket a session needs; the uWS adapter implements it. */
export interface LiveSocket {
  send(frame: string): void;
  bufferedAmount(): number;
  close(code: number, reason: string): void;
}

export interface ReplayResult {
  activities: Activity[];
  upTo: number;
  head: number;
}

/** What a session needs from the gateway around it. */
export interface LiveSessionHost {
  authenticate(token: string): Promise<Caller>;
  liveRooms(personId: string): Promise<{ roomId: string; head: number; joinedSeq: number }[]>;
  replay(personId: string, positions: Record<string, number>): Promise<Record<string, ReplayResult>>;
  subscribeRoom(session: LiveSession, roomId: string): void;
  unsubscribeRoom(session: LiveSession, roomId: string): void;
  watchPerson(session: LiveSession): void;
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
}

const MAX_RESUME_ROOMS = 10_000;
const MAX_MEETINGS = 8;
/** Meeting requests of one socket waiting for their replies: past it, 429. */
const MAX_MEETING_REQUESTS_IN_FLIGHT = 32;

/** A meeting this session takes part in; `participantId` once the join was answered. */
interface MeetingSeat {
  participantId?: string;
  /** The version of the meeting state the client has (the last state or delta sent). */
  version: number;
  /** The newest version the fan-out announced: past `version`, the client is behind. */
  newest: number;
  /** A full state has been asked for and is on its way. */
  fetching: boolean;
}

/** Between two asks for a meeting's full state by one session. */
const MEETING_STATE_RETRY_MS = 200;

/** A failed meeting request as the client sees it: status, code, message; never a stack. */
function meetingError(err: unknown): MeetingErrorBody {
  const e = err as { code?: unknown; type?: unknown; message?: unknown; name?: string };
  if (typeof e?.code === 'number' && e.code >= 400 && e.code < 500) return { status: e.code, code: String(e.type ?? 'BAD_REQUEST'), message: String(e.message) };
  if (e?.name === 'RequestTimeoutError' || e?.name === 'ServiceNotAvailableError' || e?.code === 503) {
    return { status: 503, code: 'UNAVAILABLE', message: 'The meeting service is not available right now. Try again.' };
  }
  return { status: 500, code: 'INTERNAL', message: 'The request could not be carried out.' };
}

export class LiveSession {
  readonly id = randomUUID();
  personId: string | undefined;
  private caller: Caller | undefined;
  private readonly meetings = new Map<string, MeetingSeat>();
  /** Every frame after the hello takes a token: a client cannot make the actors work without bound. */
  private readonly budget: TokenBucket;
  private meetingRequestsInFlight = 0;
  private state: 'hello' | 'starting' | 'open' | 'closed' = 'hello';
  private readonly cursors = new Map<string, number>();
  private readonly filling = new Set<string>();
  private readonly pending = new Map<string, Activity[]>();
  /** Rooms replayed only up to the person's departure: no live subscription. */
  private readonly departed = new Set<string>();
  private readonly socket: LiveSocket;
  private readonly host: LiveSessionHost;
  private readonly helloTimer: NodeJS.Timeout;
  private checkTimer: NodeJS.Timeout | undefined;

  constructor(socket: LiveSocket, host: LiveSessionHost) {
    this.socket = socket;
    this.host = host;
    this.budget = fullBucket(host.frameBurst, Date.now());
    this.helloTimer = setTimeout(() => this.refuse('No hello frame was received in time.'), host.helloTimeoutMs);
  }

  receive(text: string): void {
    if (this.state === 'closed') return;
    const frame = parseClientFrame(text);
    if ('problem' in frame) {
      if (this.state === 'hello') return this.refuse(frame.problem);
      if (frame.requestId) return this.send({ type: 'meeting.reply', id: frame.requestId, ok: false, error: { status: 400, code: 'BAD_FRAME', message: frame.problem } });
      return this.send({ type: 'error', message: frame.problem });
    }
    if (frame.type !== 'hello' && this.host.framesPerSecond > 0) {
      const waitMs = takeToken(this.budget, this.host.frameBurst, this.host.framesPerSecond, Date.now());
      if (waitMs > 0) return this.tooMany(frame.type === 'meeting' ? frame.id : undefined, waitMs, 'Too many frames on this socket: slow down.');
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
        if (this.state === 'hello') return this.refuse('The first frame must be hello.');
        return this.send({ type: 'pong' });
      case 'meeting':
        if (this.state === 'hello') return this.refuse('The first frame must be hello.');
        if (this.meetingRequestsInFlight >= MAX_MEETING_REQUESTS_IN_FLIGHT) {
          return this.tooMany(frame.id, 100, `At most ${MAX_MEETING_REQUESTS_IN_FLIGHT} meeting requests of a socket wait for their replies at once.`);
        }
        this.meetingRequestsInFlight++;
        void this.meetingRequest(frame).finally(() => this.meetingRequestsInFlight--);
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
      if (typeof status === 'number' && status >= 400 && status < 500) return this.refuse('The access token is not valid.');
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
    const positions: Record<string, number> = {};
    for (const { roomId, head, joinedSeq } of rooms) {
      this.host.subscribeRoom(this, roomId);
      const resumed = resume?.[roomId];
      this.cursors.set(roomId, resumed !== undefined ? Math.min(resumed, head) : resume ? joinedSeq - 1 : head);
      positions[roomId] = head;
    }
    for (const [roomId, seq] of Object.entries(resume ?? {})) {
      if (this.cursors.has(roomId)) continue;
      this.cursors.set(roomId, seq);
      this.departed.add(roomId);
    }
    this.state = 'open';
    this.send({ type: 'ready', sessionId: this.id, personId: caller.id, heartbeatSeconds: this.host.heartbeatSeconds, positions });
    await this.fill([...this.cursors.keys()]);
  }

  /**
   * A meeting request: answered with a `meeting.reply` carrying its id, whatever happens.
   * A join subscribes to the meeting's state first, so no state published after the join
   * is missed; the reply's snapshot and later ones are ordered by version.
   */
  private async meetingRequest(frame: MeetingFrame): Promise<void> {
    const reply = (result: { ok: true; result: unknown } | { ok: false; error: MeetingErrorBody }) => this.send({ type: 'meeting.reply', id: frame.id, ...result });
    const fail = (status: number, code: string, message: string) => reply({ ok: false, error: { status, code, message } });
    if (this.state !== 'open' || !this.caller) return fail(409, 'NOT_READY', 'Wait for the ready frame.');
    const joining = frame.action === 'join';
    if (joining) {
      if (this.meetings.has(frame.meetingId)) return fail(409, 'MEETING_ALREADY_JOINED', 'This session has already joined the meeting.');
      if (this.meetings.size >= MAX_MEETINGS) return fail(409, 'TOO_MANY_MEETINGS', `A session takes part in at most ${MAX_MEETINGS} meetings.`);
      this.meetings.set(frame.meetingId, { version: 0, newest: 0, fetching: false });
      this.host.subscribeMeeting(this, frame.meetingId);
    }
    try {
      const result = await this.host.meetingRequest(this, this.caller, frame);
      if (this.isClosed()) return;
      const seat = this.meetings.get(frame.meetingId);
      if (joining && seat) {
        const { participantId, meeting } = result as { participantId: string; meeting: { version: number } };
        seat.participantId = participantId;
        seat.version = Math.max(seat.version, meeting.version);
      }
      if (frame.action === 'leave') this.leaveMeeting(frame.meetingId);
      reply({ ok: true, result });
      // Changes announced while the join was on its way are caught up after its state.
      if (joining && seat) this.catchUpMeeting(frame.meetingId, seat);
    } catch (err) {
      const error = meetingError(err);
      if (joining) {
        this.leaveMeeting(frame.meetingId);
        // The join may have happened with only its answer lost: make sure it is undone.
        if (error.status >= 500) this.host.meetingSessionClosed(this, frame.meetingId);
      }
      if (this.isClosed()) return;
      if (error.status >= 500) this.host.logger.warn({ err, session: this.id, action: frame.action }, 'meeting request failed');
      reply({ ok: false, error });
    }
  }

  /**
   * A change of a meeting's state, from the fan-out. The client gets the delta when it has
   * the state the delta applies to; otherwise (a fan-out message lost, a new owner) the
   * full state, from the update when it carries one, else asked of the meeting's owner.
   */
  offerMeeting(update: MeetingUpdate, present: Set<string>): void {
    const seat = this.meetings.get(update.meetingId);
    if (!seat || this.isClosed()) return;
    seat.newest = Math.max(seat.newest, update.version);
    if (update.version > seat.version && seat.participantId !== undefined && !seat.fetching) {
      if (update.after === seat.version) {
        seat.version = update.version;
        this.socket.send(update.frame);
      } else if (update.full) {
        seat.version = update.version;
        this.socket.send(update.full);
      } else {
        this.catchUpMeeting(update.meetingId, seat);
      }
    }
    // Expelled, or the meeting ended: this session is out of it.
    if (seat.participantId && !present.has(seat.participantId)) this.leaveMeeting(update.meetingId);
  }

  /** Sends the meeting's full state if the client is behind what the fan-out announced. */
  private catchUpMeeting(meetingId: string, seat: MeetingSeat): void {
    if (seat.fetching || seat.participantId === undefined || seat.newest <= seat.version || !this.caller || this.isClosed()) return;
    seat.fetching = true;
    const again = () => setTimeout(() => this.catchUpMeeting(meetingId, seat), MEETING_STATE_RETRY_MS).unref();
    this.host.meetingState(this.caller, meetingId).then(
      (state) => {
        seat.fetching = false;
        if (this.isClosed() || this.meetings.get(meetingId) !== seat) return;
        if (state.version > seat.version) {
          seat.version = state.version;
          seat.newest = Math.max(seat.newest, state.version);
          this.socket.send(JSON.stringify(state));
        }
        // Something newer was announced meanwhile, and dropped: ask again.
        if (seat.newest > seat.version) again();
      },
      (err: unknown) => {
        seat.fetching = false;
        if (this.isClosed() || this.meetings.get(meetingId) !== seat) return;
        const status = (err as { code?: unknown })?.code;
        // The meeting or the right to see it is gone: the next state (or none) says so.
        if (typeof status === 'number' && status >= 400 && status < 500) return;
        this.host.logger.debug({ err, session: this.id, meetingId }, 'a meeting state could not be fetched; trying again');
        setTimeout(() => this.catchUpMeeting(meetingId, seat), 5 * MEETING_STATE_RETRY_MS).unref();
      },
    );
  }

  private leaveMeeting(meetingId: string): void {
    if (!this.meetings.delete(meetingId)) return;
    this.host.unsubscribeMeeting(this, meetingId);
  }

  /** An activity of a room this session is subscribed to, from the fan-out. */
  offer(activity: Activity, frame?: string): void {
    if (this.state !== 'open' && this.state !== 'starting') return;
    const at = this.cursors.get(activity.roomId);
    if (at === undefined || activity.seq <= at) return;
    if (this.filling.has(activity.roomId) || this.state === 'starting') {
      this.queue(activity);
      return;
    }
    if (activity.seq > at + 1) {
      this.queue(activity);
      void this.fill([activity.roomId]);
      return;
    }
    this.deliver(activity, frame);
  }

  /** One of this person's own membership changes: a room joined starts its stream here. */
  offerOwn(activity: Activity): void {
    if (activity.event === 'membership.created' && !this.cursors.has(activity.roomId) && this.state === 'open') {
      this.cursors.set(activity.roomId, activity.seq - 1);
      this.departed.delete(activity.roomId);
      this.host.subscribeRoom(this, activity.roomId);
    }
    this.offer(activity);
  }

  private queue(activity: Activity): void {
    const list = this.pending.get(activity.roomId) ?? [];
    list.push(activity);
    this.pending.set(activity.roomId, list);
  }

  private deliver(activity: Activity, frame?: string): void {
    if (this.isClosed()) return;
    if (this.socket.bufferedAmount() > this.host.maxBufferedBytes) return this.resync('backpressure');
    this.socket.send(frame ?? eventFrame(activity));
    this.cursors.set(activity.roomId, activity.seq);
    const leaving = activity.event === 'room.deleted' || (activity.event === 'membership.deleted' && activity.data.personId === this.personId);
    if (leaving) this.leave(activity.roomId);
  }

  private leave(roomId: string): void {
    this.cursors.delete(roomId);
    this.pending.delete(roomId);
    this.departed.delete(roomId);
    this.host.unsubscribeRoom(this, roomId);
  }

  /** Replays the rooms' logs from their cursors until caught up, then flushes what queued meanwhile. */
  private async fill(roomIds: string[]): Promise<void> {
    // Rooms another fill is at are left to it: it delivers and releases them.
    const taken = roomIds.filter((roomId) => !this.filling.has(roomId));
    for (const roomId of taken) this.filling.add(roomId);
    let todo = taken;
    try {
      while (todo.length > 0 && !this.isClosed()) {
        const positions: Record<string, number> = {};
        for (const roomId of todo) positions[roomId] = this.cursors.get(roomId) ?? 0;
        const results = await this.host.replay(this.personId!, positions);
        const next: string[] = [];
        for (const roomId of todo) {
          const result = results[roomId];
          if (!result || this.isClosed()) continue;
          for (const activity of result.activities) {
            const at = this.cursors.get(roomId);
            if (at !== undefined && activity.seq > at) this.deliver(activity);
          }
          // Activities this person may not see are skipped over, not waited for.
          const at = this.cursors.get(roomId);
          if (at === undefined) continue;
          if (result.upTo > at) this.cursors.set(roomId, result.upTo);
          if (result.upTo < result.head) next.push(roomId);
        }
        todo = next;
      }
    } catch (err) {
      this.host.logger.warn({ err, session: this.id }, 'live replay failed');
      this.resync('unavailable');
      return;
    } finally {
      for (const roomId of taken) this.filling.delete(roomId);
    }
    for (const roomId of taken) {
      // A room replayed only up to a departure has nothing live to wait for.
      if (this.departed.has(roomId)) this.leave(roomId);
      const queued = this.pending.get(roomId);
      this.pending.delete(roomId);
      for (const activity of (queued ?? []).sort((a, b) => a.seq - b.seq)) this.offer(activity);
    }
  }

  /**
   * The fan-out was interrupted (a reconnection): activities published meanwhile may never
   * arrive, and a quiet room would not show the gap until its next event. So every room is
   * brought up to its head from the log now.
   */
  catchUp(): void {
    if (this.state !== 'open') return;
    void this.fill([...this.cursors.keys()].filter((roomId) => !this.departed.has(roomId)));
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
          void this.checkHeads();
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

  /** Fills the rooms whose head is past what this session delivered. */
  private async checkHeads(): Promise<void> {
    let rooms: { roomId: string; head: number }[];
    try {
      rooms = await this.host.liveRooms(this.personId!);
    } catch {
      return; // next time
    }
    if (this.state !== 'open') return;
    const behind = rooms.filter(({ roomId, head }) => {
      const at = this.cursors.get(roomId);
      return at !== undefined && at < head && !this.departed.has(roomId);
    });
    if (behind.length > 0) await this.fill(behind.map((r) => r.roomId));
  }

  /** Positions delivered so far, for a resync or a reconnect hint. */
  positions(): Record<string, number> {
    return Object.fromEntries(this.cursors);
  }

  private resync(reason: 'backpressure' | 'unavailable'): void {
    if (this.isClosed()) return;
    this.send({ type: 'resync', reason, positions: this.positions() });
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
    for (const roomId of this.cursors.keys()) this.host.unsubscribeRoom(this, roomId);
    this.cursors.clear();
    for (const [meetingId, seat] of this.meetings) {
      this.host.unsubscribeMeeting(this, meetingId);
      if (seat.participantId) this.host.meetingSessionClosed(this, meetingId);
    }
    this.meetings.clear();
    this.pending.clear();
    this.host.forget(this);
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }
}
