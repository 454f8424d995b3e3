// One meeting as its owning actor holds it: the stored record, the participants who are in
// it (joined or in the lobby), and what only lives while it runs (active speaker, the
// state last shown to participants and its version, the lobby view last shown to each
// participant waiting in the lobby). Loaded from the store on first use, so an
// actor that restarts (or takes the meeting over) carries on where the previous one was.
import type { MeetingRecord, ParticipantRecord } from '../../storage/records.ts';
import type { ConferenceStore } from '../../storage/interfaces.ts';
import { deltaBetween, lobbyStateOf, meetingViewOf, viewOf, type LobbyState, type MeetingDelta, type MeetingState } from './meeting-state.ts';

export class LiveMeeting {
  meeting: MeetingRecord;
  /** Participants in `joined` or `lobby` state, by id. */
  readonly participants = new Map<string, ParticipantRecord>();
  activeSpeaker: string | null = null;
  /** Lobby participants who wait only for a host to arrive (not for an admission). */
  readonly waitingForHost = new Set<string>();
  /** Versions of pushed states increase across actor restarts: they start at the clock. */
  private version = Date.now();
  /** The state of `version`, once shown (published, or sent to a participant). */
  private shown: MeetingState | undefined;
  /**
   * The lobby view last shown to each participant in the lobby (its JSON without the
   * version), so that only a change goes out; '' when another actor may have shown one.
   */
  private readonly lobbyShown = new Map<string, string>();

  constructor(meeting: MeetingRecord, participants: ParticipantRecord[]) {
    this.meeting = meeting;
    for (const p of participants) if (p.state !== 'end') this.participants.set(p.id, p);
    // Those in the lobby were shown something by the actor before: if they leave before the
    // next change, they are told, as they would have been by it.
    for (const p of this.participants.values()) if (p.state === 'lobby') this.lobbyShown.set(p.id, '');
  }

  static async load(store: ConferenceStore, meetingId: string): Promise<LiveMeeting | undefined> {
    const meeting = await store.getMeeting(meetingId);
    if (!meeting) return undefined;
    return new LiveMeeting(meeting, await store.listParticipants(meetingId));
  }

  /** The participant this live session joined as, if any. */
  ofSession(sessionId: string): ParticipantRecord | undefined {
    for (const p of this.participants.values()) if (p.sessionId === sessionId) return p;
    return undefined;
  }

  joined(): ParticipantRecord[] {
    return [...this.participants.values()].filter((p) => p.state === 'joined');
  }

  hostPresent(): boolean {
    return this.joined().some((p) => p.host || p.coHost);
  }

  /** The state as last published: what a participant that missed a delta is sent. */
  state(): MeetingState {
    this.shown ??= this.build();
    return this.shown;
  }

  /**
   * What a participant waiting in the lobby is shown when they join: version 0, so that
   * the gateway never takes it for a state a delta could follow (once admitted, they are
   * sent the meeting's whole state).
   */
  lobbyState(participant: ParticipantRecord): LobbyState {
    return lobbyStateOf(this.meeting, participant, 0);
  }

  /**
   * A change to publish: the next version of the state, the delta from the one before
   * (`after` 0 when this actor had shown none: nobody can apply it, and the full state goes
   * with it), and the lobby frames (see lobbyFrames).
   */
  advance(): { state: MeetingState; delta: MeetingDelta; lobby: Record<string, string> } {
    const previous = this.shown;
    this.version = Math.max(this.version + 1, Date.now());
    this.shown = this.build();
    return { state: this.shown, delta: deltaBetween(previous, this.shown), lobby: this.lobbyFrames() };
  }

  /**
   * For each participant in the lobby, their lobby view when it changed ('' when it did
   * not: they are sent nothing of this change). Those who left the lobby without being
   * admitted (turned away, gone, the meeting ended) get a last view without themselves.
   */
  private lobbyFrames(): Record<string, string> {
    const frames: Record<string, string> = {};
    for (const p of this.participants.values()) {
      if (p.state !== 'lobby') continue;
      const view = lobbyStateOf(this.meeting, p, 0);
      const seen = JSON.stringify(view);
      frames[p.id] = this.lobbyShown.get(p.id) === seen ? '' : JSON.stringify({ ...view, version: this.version });
      this.lobbyShown.set(p.id, seen);
    }
    for (const id of [...this.lobbyShown.keys()]) {
      if (id in frames) continue;
      this.lobbyShown.delete(id);
      if (!this.participants.has(id)) frames[id] = JSON.stringify(lobbyStateOf(this.meeting, undefined, this.version));
    }
    return frames;
  }

  private build(): MeetingState {
    return {
      type: 'meeting.state',
      meetingId: this.meeting.id,
      version: this.version,
      meeting: meetingViewOf(this.meeting),
      participants: [...this.participants.values()].map(viewOf),
      activeSpeaker: this.activeSpeaker,
    };
  }
}
