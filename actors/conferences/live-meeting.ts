// One meeting as its owning actor holds it: the stored record, the participants who are in
// it (joined or in the lobby), and what only lives while it runs (active speaker, the
// state last shown to participants and its version). Loaded from the store on first use, so an
// actor that restarts (or takes the meeting over) carries on where the previous one was.
import type { MeetingRecord, ParticipantRecord } from '../../storage/records.ts';
import type { ConferenceStore } from '../../storage/interfaces.ts';
import { deltaBetween, meetingViewOf, viewOf, type MeetingDelta, type MeetingState } from './meeting-state.ts';

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

  constructor(meeting: MeetingRecord, participants: ParticipantRecord[]) {
    this.meeting = meeting;
    for (const p of participants) if (p.state !== 'end') this.participants.set(p.id, p);
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
   * A change to publish: the next version of the state, and the delta from the one before
   * (`after` 0 when this actor had shown none: nobody can apply it, and the full state goes
   * with it).
   */
  advance(): { state: MeetingState; delta: MeetingDelta } {
    const previous = this.shown;
    this.version = Math.max(this.version + 1, Date.now());
    this.shown = this.build();
    return { state: this.shown, delta: deltaBetween(previous, this.shown) };
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
