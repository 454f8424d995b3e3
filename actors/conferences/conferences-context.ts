// What the conference actions share: the store, the meetings this actor holds live, one
// queue per meeting (every change to a meeting runs alone, in arrival order), calls to the
// meeting's media node, and the push of a meeting's state to its participants.
import type { Context, ServiceBroker } from 'moleculer';
import { meetingTopic, type Fanout } from '../../routing/fanout/fanout.ts';
import { ownerOf } from '../../routing/owner-strategy.ts';
import type { ConferenceStore } from '../../storage/interfaces.ts';
import type { MeetingRecord, ParticipantRecord } from '../../storage/records.ts';
import { callerOf, type Caller } from '../../contracts/caller.ts';
import { ApiError, conflict, forbidden, notFound } from '../../contracts/errors.ts';
import type { ResourceEvent } from '../../contracts/resource-events.ts';
import { KeyedQueue } from '../keyed-queue.ts';
import { meetingEvent, participantEvent } from './meeting-webhook-events.ts';
import { LiveMeeting } from './live-meeting.ts';
import type { MeetingState } from './meeting-state.ts';

export const MEETING_ID = /^[0-9a-f]{32}$/;

export class ConferencesContext {
  readonly store: ConferenceStore;
  readonly fanout: Fanout;
  private readonly live = new Map<string, LiveMeeting>();
  /**
   * Meetings with someone in them that this actor has run, kept across forgetAll: when a
   * node is lost, these are the meetings that may have had participants or media on it.
   */
  private readonly occupied = new Set<string>();
  private readonly queue = new KeyedQueue();
  private readonly pipes = new KeyedQueue();

  /** Participants of one meeting on one media node before newcomers go to another. */
  readonly participantsPerNode: number;
  /** How long a detached participant keeps their place (see ParticipantRecord.detachedAt). */
  readonly reconnectGraceMs: number;
  /** The end of each detached participant's grace, by participant id. */
  private readonly graces = new Map<string, NodeJS.Timeout>();

  constructor(store: ConferenceStore, fanout: Fanout, participantsPerNode: number, reconnectGraceMs: number) {
    this.store = store;
    this.fanout = fanout;
    this.participantsPerNode = participantsPerNode;
    this.reconnectGraceMs = reconnectGraceMs;
  }

  /** Runs `task` alone for the meeting, with the meeting live (404 when there is none). */
  withMeeting<T>(meetingId: string, task: (live: LiveMeeting) => Promise<T>): Promise<T> {
    if (!MEETING_ID.test(meetingId)) return Promise.reject(notFound('Meeting not found.'));
    return this.queue.run(meetingId, async () => {
      let live = this.live.get(meetingId);
      if (!live) {
        live = await LiveMeeting.load(this.store, meetingId);
        if (!live) throw notFound('Meeting not found.');
        this.live.set(meetingId, live);
        // Graces that started under another actor end here too.
        for (const participant of live.participants.values()) this.startGrace(participant);
      }
      try {
        return await task(live);
      } finally {
        if (live.participants.size > 0) this.occupied.add(meetingId);
        else this.occupied.delete(meetingId);
      }
    });
  }

  /** The meetings with participants that this actor has run (see `occupied`). */
  occupiedMeetings(): string[] {
    return [...this.occupied];
  }

  forget(meetingId: string): void {
    this.live.delete(meetingId);
    this.occupied.delete(meetingId);
  }

  /** Drops every live meeting; each is loaded from the store again on its next use. */
  forgetAll(): void {
    this.live.clear();
  }

  /** Hears the webhook events of each stored change (set by the service: it emits them). */
  announce: (events: ResourceEvent[]) => void = () => undefined;
  /** Hears each person joining a meeting (past any lobby) or leaving it (set by the service: it emits it). */
  participation: (personId: string, meetingId: string, inMeeting: boolean) => void = () => undefined;

  /** Stores a change of the meeting record (compare-and-set on its version). */
  async saveMeeting(live: LiveMeeting, change: Partial<MeetingRecord>, actorId = live.meeting.hostUserId): Promise<void> {
    const next: MeetingRecord = { ...live.meeting, ...change, version: live.meeting.version + 1, lastModified: new Date().toISOString() };
    if (!(await this.store.updateMeeting(next, live.meeting.version))) {
      // Another actor changed it (an ownership hand-over): start again from the store.
      this.live.delete(live.meeting.id);
      throw conflict('The meeting changed meanwhile; try again.');
    }
    const event = meetingEvent(live.meeting, next, actorId);
    live.meeting = next;
    if (event) this.announce([event]);
  }

  async saveParticipant(live: LiveMeeting, participant: ParticipantRecord): Promise<void> {
    const before = live.participants.get(participant.id);
    await this.store.putParticipant(participant);
    const event = participantEvent(live.meeting, before, participant);
    if (event) {
      this.announce([event]);
      // The person's presence shows `meeting` while they are in one (the presence actor hears it).
      this.participation(participant.personId, live.meeting.id, event.event === 'joined');
    }
    if (participant.state === 'end') live.participants.delete(participant.id);
    else live.participants.set(participant.id, participant);
  }

  /**
   * Pushes the change of the meeting's state to every gateway holding one of its
   * participants, as a delta (with the full state too when this actor had shown none, so
   * that nobody has to ask for it); answers the new state.
   */
  publish(live: LiveMeeting): MeetingState {
    const { state, delta, lobby } = live.advance();
    this.fanout.publish(meetingTopic(live.meeting.id), {
      meetingId: live.meeting.id, version: state.version, after: delta.after, participantIds: state.participants.map((p) => p.id),
      frame: JSON.stringify(delta), ...(delta.after === 0 ? { full: JSON.stringify(state) } : {}),
      // Participants in the lobby get their lobby view instead of the meeting's state.
      ...(Object.keys(lobby).length > 0 ? { lobby } : {}),
    });
    return state;
  }

  /**
   * Whether this node owns the meeting now: the one the Shard strategy routes its calls
   * to. What happens to a meeting on its own (media events, lost nodes) is the owner's to
   * handle, so that two actors never both apply it.
   */
  owns(broker: ServiceBroker, meetingId: string): boolean {
    const owner = ownerOf(broker, 'conferences.signal', { meetingId });
    return owner === undefined || owner === broker.nodeID;
  }

  /** The media node of a participant's media: its own, or (never placed) the meeting's. */
  nodeOf(live: LiveMeeting, participant: ParticipantRecord): string {
    return participant.mediaNodeId ?? live.meeting.mediaNodeId;
  }

  /** Every media node the meeting uses: its home and its participants' nodes. */
  nodesOf(live: LiveMeeting): string[] {
    return [...new Set([live.meeting.mediaNodeId, ...[...live.participants.values()].map((p) => this.nodeOf(live, p))])];
  }

  /**
   * Calls a media node of the meeting (its home by default). A media node that is gone is
   * a 503, never a crash; the meeting's media are then moved off it (see relocate), and
   * their participants set their media up again.
   */
  async media<T = unknown>(ctx: Context, live: LiveMeeting, action: string, params: object, nodeId = live.meeting.mediaNodeId): Promise<T> {
    try {
      return await ctx.call<T, object>(`media.${action}`, { meetingId: live.meeting.id, ...params }, { nodeID: nodeId });
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const name = (err as Error)?.name;
      if (name === 'ServiceNotAvailableError' || name === 'ServiceNotFoundError' || name === 'RequestTimeoutError') {
        if (!ctx.broker.registry.nodes.get(nodeId)?.available) this.moveOff(ctx, live.meeting.id, nodeId);
        throw new ApiError(503, 'The media node of this meeting is not available. Try again shortly.', 'MEDIA_UNAVAILABLE');
      }
      throw err;
    }
  }

  /** Calls the media node of the participant's media. */
  mediaOf<T = unknown>(ctx: Context, live: LiveMeeting, participant: ParticipantRecord, action: string, params: object): Promise<T> {
    return this.media<T>(ctx, live, action, { participantId: participant.id, ...params }, this.nodeOf(live, participant));
  }

  /** Makes a detached participant leave at the end of their grace, on the meeting's owner (set by the service). */
  endGrace: ((meetingId: string, participantId: string, detachedAt: string) => void) | undefined;

  /** Starts (again) the grace of a detached participant; nothing for one a session holds. */
  startGrace(participant: ParticipantRecord): void {
    const { id, meetingId, detachedAt } = participant;
    if (!detachedAt) return;
    clearTimeout(this.graces.get(id));
    const timer = setTimeout(() => {
      this.graces.delete(id);
      this.endGrace?.(meetingId, id, detachedAt);
    }, Math.max(0, Date.parse(detachedAt) + this.reconnectGraceMs - Date.now()));
    timer.unref();
    this.graces.set(id, timer);
  }

  /** The participant is back (or gone): its grace, if one runs here, ends without effect. */
  cancelGrace(participantId: string): void {
    clearTimeout(this.graces.get(participantId));
    this.graces.delete(participantId);
  }

  /** Moves a meeting's media off a media node that is gone (set by the service: see roster.ts). */
  relocate: ((ctx: Context, live: LiveMeeting, deadNodeId: string) => Promise<void>) | undefined;

  /**
   * Queues the move of a meeting's media off `nodeId` (it may be called from inside the
   * meeting's queue, so it is not awaited); nothing happens if nothing is there any more.
   */
  moveOff(ctx: Context, meetingId: string, nodeId: string): void {
    void this.withMeeting(meetingId, async (live) => {
      if (live.participants.size === 0 || !this.nodesOf(live).includes(nodeId)) return;
      await this.relocate?.(ctx, live, nodeId);
      this.publish(live);
    }).catch((err: unknown) => ctx.service?.logger.warn({ err, meetingId }, 'a meeting could not move off a lost media node'));
  }

  /** Runs piping work of a meeting one at a time (two consumers of one producer pipe it once). */
  piping<T>(meetingId: string, task: () => Promise<T>): Promise<T> {
    return this.pipes.run(meetingId, task);
  }

  /** Hosts are the meeting's host and co-hosts. */
  isHost(caller: Caller, live: LiveMeeting): boolean {
    if (caller.id === live.meeting.hostUserId) return true;
    return [...live.participants.values()].some((p) => p.personId === caller.id && p.coHost);
  }

  mustHost(ctx: Context, live: LiveMeeting): void {
    if (!this.isHost(callerOf(ctx), live)) throw forbidden('Only a host of the meeting may do this.');
  }

  /** Whether the caller may see the room (the rooms actor decides, under its rules). */
  async seesRoom(ctx: Context, roomId: string): Promise<boolean> {
    try {
      await ctx.call('rooms.get', { roomId }, { meta: { caller: callerOf(ctx) } });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return false;
      throw err;
    }
  }

  /**
   * Who may see a meeting (its details over REST, its state and roster on the live socket):
   * its host, whoever is in it now (joined, not waiting in the lobby), and, for a room
   * meeting, whoever sees the room. Knocking is not enough, and neither is having been in
   * it once: a lobby shows only the meeting's title and state (LiveMeeting.lobbyState), and
   * a past participant record is history, not a right. There are no invitees in Squared.
   */
  async maySee(ctx: Context, live: LiveMeeting): Promise<boolean> {
    const caller = callerOf(ctx);
    if (this.isHost(caller, live) || this.isIn(caller, live)) return true;
    return Boolean(live.meeting.roomId) && (await this.seesRoom(ctx, live.meeting.roomId!));
  }

  /** As maySee, with a 404 for those who may not: as in Webex, a meeting's existence stays private. */
  async mustSee(ctx: Context, live: LiveMeeting): Promise<void> {
    if (!(await this.maySee(ctx, live))) throw notFound('Meeting not found.');
  }

  /** Whether the caller is in the meeting now: one of their participants has joined (lobby waiting is not in). */
  isIn(caller: Caller, live: LiveMeeting): boolean {
    return live.joined().some((p) => p.personId === caller.id);
  }
}
