// The meetings one live session takes part in: each request carried to the meeting's owner
// and answered with a `meeting.reply`, and per meeting a seat holding the version of the
// state the client has, so that a delta goes out only to a client that has the state it
// follows, and a client that missed one gets the full state instead.
import type { MeetingUpdate } from '../../routing/fanout/fanout.ts';
import type { MeetingErrorBody, MeetingFrame } from '../../contracts/live-frames.ts';
import type { SessionLink } from './live-session-host.ts';

const MAX_MEETINGS = 8;
/** Meeting requests of one socket waiting for their replies: past it, 429. */
export const MAX_MEETING_REQUESTS_IN_FLIGHT = 32;
/** Between two asks for a meeting's full state by one session. */
const MEETING_STATE_RETRY_MS = 200;

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

/** A failed meeting request as the client sees it: status, code, message; never a stack. */
function meetingError(err: unknown): MeetingErrorBody {
  const e = err as { code?: unknown; type?: unknown; message?: unknown; name?: string };
  if (typeof e?.code === 'number' && e.code >= 400 && e.code < 500) return { status: e.code, code: String(e.type ?? 'BAD_REQUEST'), message: String(e.message) };
  if (e?.name === 'RequestTimeoutError' || e?.name === 'ServiceNotAvailableError' || e?.code === 503) {
    return { status: 503, code: 'UNAVAILABLE', message: 'The meeting service is not available right now. Try again.' };
  }
  return { status: 500, code: 'INTERNAL', message: 'The request could not be carried out.' };
}

export class MeetingSeats {
  private readonly seats = new Map<string, MeetingSeat>();
  private requestsInFlight = 0;
  private readonly link: SessionLink;

  constructor(link: SessionLink) {
    this.link = link;
  }

  /** As many requests wait for their replies as a socket may have waiting. */
  saturated(): boolean {
    return this.requestsInFlight >= MAX_MEETING_REQUESTS_IN_FLIGHT;
  }

  /** Carries out a meeting request; its reply goes out when it is answered. */
  request(frame: MeetingFrame): void {
    this.requestsInFlight++;
    void this.carryOut(frame).finally(() => this.requestsInFlight--);
  }

  /**
   * A meeting request: answered with a `meeting.reply` carrying its id, whatever happens.
   * A join subscribes to the meeting's state first, so no state published after the join
   * is missed; the reply's snapshot and later ones are ordered by version.
   */
  private async carryOut(frame: MeetingFrame): Promise<void> {
    const { host, session } = this.link;
    const reply = (result: { ok: true; result: unknown } | { ok: false; error: MeetingErrorBody }) => this.link.send({ type: 'meeting.reply', id: frame.id, ...result });
    const fail = (status: number, code: string, message: string) => reply({ ok: false, error: { status, code, message } });
    const caller = this.link.caller();
    if (this.link.phase() !== 'open' || !caller) return fail(409, 'NOT_READY', 'Wait for the ready frame.');
    const joining = frame.action === 'join';
    if (joining) {
      if (this.seats.has(frame.meetingId)) return fail(409, 'MEETING_ALREADY_JOINED', 'This session has already joined the meeting.');
      if (this.seats.size >= MAX_MEETINGS) return fail(409, 'TOO_MANY_MEETINGS', `A session takes part in at most ${MAX_MEETINGS} meetings.`);
      this.seats.set(frame.meetingId, { version: 0, newest: 0, fetching: false });
      host.subscribeMeeting(session, frame.meetingId);
    }
    try {
      const result = await host.meetingRequest(session, caller, frame);
      if (this.isClosed()) return;
      const seat = this.seats.get(frame.meetingId);
      if (joining && seat) {
        const { participantId, meeting } = result as { participantId: string; meeting: { version: number } };
        seat.participantId = participantId;
        seat.version = Math.max(seat.version, meeting.version);
      }
      if (frame.action === 'leave') this.leave(frame.meetingId);
      reply({ ok: true, result });
      // Changes announced while the join was on its way are caught up after its state.
      if (joining && seat) this.catchUp(frame.meetingId, seat);
    } catch (err) {
      const error = meetingError(err);
      if (joining) {
        this.leave(frame.meetingId);
        // The join may have happened with only its answer lost: make sure it is undone.
        if (error.status >= 500) host.meetingSessionClosed(session, frame.meetingId);
      }
      if (this.isClosed()) return;
      if (error.status >= 500) host.logger.warn({ err, session: session.id, action: frame.action }, 'meeting request failed');
      reply({ ok: false, error });
    }
  }

  /**
   * A change of a meeting's state, from the fan-out. The client gets the delta when it has
   * the state the delta applies to; otherwise (a fan-out message lost, a new owner) the
   * full state, from the update when it carries one, else asked of the meeting's owner.
   */
  offer(update: MeetingUpdate, present: Set<string>): void {
    const seat = this.seats.get(update.meetingId);
    if (!seat || this.isClosed()) return;
    // Waiting in the lobby: only the participant's own lobby view, never the meeting's state.
    const lobbyView = seat.participantId === undefined ? undefined : update.lobby?.[seat.participantId];
    if (lobbyView !== undefined) {
      if (lobbyView) this.link.socket.send(lobbyView);
      if (!present.has(seat.participantId!)) this.leave(update.meetingId);
      return;
    }
    seat.newest = Math.max(seat.newest, update.version);
    if (update.version > seat.version && seat.participantId !== undefined && !seat.fetching) {
      if (update.after === seat.version) {
        seat.version = update.version;
        this.link.socket.send(update.frame);
      } else if (update.full) {
        seat.version = update.version;
        this.link.socket.send(update.full);
      } else {
        this.catchUp(update.meetingId, seat);
      }
    }
    // Expelled, or the meeting ended: this session is out of it.
    if (seat.participantId && !present.has(seat.participantId)) this.leave(update.meetingId);
  }

  /** The session is gone: every meeting it joined is told, so its participant may leave. */
  release(): void {
    for (const [meetingId, seat] of this.seats) {
      this.link.host.unsubscribeMeeting(this.link.session, meetingId);
      if (seat.participantId) this.link.host.meetingSessionClosed(this.link.session, meetingId);
    }
    this.seats.clear();
  }

  /** Sends the meeting's full state if the client is behind what the fan-out announced. */
  private catchUp(meetingId: string, seat: MeetingSeat): void {
    const caller = this.link.caller();
    if (seat.fetching || seat.participantId === undefined || seat.newest <= seat.version || !caller || this.isClosed()) return;
    seat.fetching = true;
    const again = () => setTimeout(() => this.catchUp(meetingId, seat), MEETING_STATE_RETRY_MS).unref();
    this.link.host.meetingState(caller, meetingId).then(
      (state) => {
        seat.fetching = false;
        if (this.isClosed() || this.seats.get(meetingId) !== seat) return;
        if (state.version > seat.version) {
          seat.version = state.version;
          seat.newest = Math.max(seat.newest, state.version);
          this.link.socket.send(JSON.stringify(state));
        }
        // Something newer was announced meanwhile, and dropped: ask again.
        if (seat.newest > seat.version) again();
      },
      (err: unknown) => {
        seat.fetching = false;
        if (this.isClosed() || this.seats.get(meetingId) !== seat) return;
        const status = (err as { code?: unknown })?.code;
        // The meeting or the right to see it is gone: the next state (or none) says so.
        if (typeof status === 'number' && status >= 400 && status < 500) return;
        this.link.host.logger.debug({ err, session: this.link.session.id, meetingId }, 'a meeting state could not be fetched; trying again');
        setTimeout(() => this.catchUp(meetingId, seat), 5 * MEETING_STATE_RETRY_MS).unref();
      },
    );
  }

  private leave(meetingId: string): void {
    if (!this.seats.delete(meetingId)) return;
    this.link.host.unsubscribeMeeting(this.link.session, meetingId);
  }

  private isClosed(): boolean {
    return this.link.phase() === 'closed';
  }
}
