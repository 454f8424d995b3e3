// One meeting as its owning actor holds it: the stored record, the participants who are in
// it (joined or in the lobby), and what only lives while it runs (active speaker, the
// version of the state pushed to participants). Loaded from the store on first use, so an
// actor that restarts (or takes the meeting over) carries on where the previous one was.
import type { MeetingRecord, ParticipantRecord } from '../../storage/records.ts';
import type { ConferenceStore } from '../../storage/interfaces.ts';

export class LiveMeeting {
  meeting: MeetingRecord;
  /** Participants in `joined` or `lobby` state, by id. */
  readonly participants = new Map<string, ParticipantRecord>();
  activeSpeaker: string | null = null;
  /** Lobby participants who wait only for a host to arrive (not for an admission). */
  readonly waitingForHost = new Set<string>();
  /** Versions of pushed states increase across actor restarts: they start at the clock. */
  private version = Date.now();

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

  /** The `meeting.state` frame (docs/meetings.md), with the next version. */
  snapshot() {
    this.version = Math.max(this.version + 1, Date.now());
    const m = this.meeting;
    return {
      type: 'meeting.state' as const,
      meetingId: m.id,
      version: this.version,
      meeting: { id: m.id, title: m.title, state: m.state, locked: m.locked, hostUserId: m.hostUserId },
      participants: [...this.participants.values()].map((p) => ({
        id: p.id, personId: p.personId, displayName: p.displayName, host: p.host, coHost: p.coHost, state: p.state,
        muted: p.muted, video: p.video, handRaised: p.handRaised, mediaEpoch: p.mediaEpoch, producers: p.producers,
        connected: p.detachedAt === undefined,
      })),
      activeSpeaker: this.activeSpeaker,
    };
  }
}
