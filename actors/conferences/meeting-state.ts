// What participants see of a meeting (docs/meetings.md): the full state, sent on join and
// to a participant that missed something, and the delta between two states, sent after
// each change. A delta carries only what changed, so a change costs each participant the
// size of the change, not of the whole roster.
import type { MeetingRecord, ParticipantProducer, ParticipantRecord } from '../../storage/records.ts';

export interface ParticipantView {
  id: string;
  personId: string;
  displayName: string;
  host: boolean;
  coHost: boolean;
  state: ParticipantRecord['state'];
  muted: boolean;
  video: ParticipantRecord['video'];
  handRaised: boolean;
  mediaEpoch: number;
  producers: ParticipantProducer[];
  connected: boolean;
}

export interface MeetingView {
  id: string;
  title: string;
  state: MeetingRecord['state'];
  locked: boolean;
  hostUserId: string;
}

/** What a lobby shows of the meeting: its title and state, and whether it is locked. */
export type LobbyMeetingView = Pick<MeetingView, 'id' | 'title' | 'state' | 'locked'>;

/** The `meeting.state` frame. */
export interface MeetingState {
  type: 'meeting.state';
  meetingId: string;
  version: number;
  meeting: MeetingView;
  participants: ParticipantView[];
  activeSpeaker: string | null;
}

/**
 * The `meeting.state` frame a participant waiting in the lobby is sent instead of the
 * meeting's: what a lobby shows (the meeting's title and state) and only their own
 * participant, so its state says when they are admitted; without it (an empty list) they
 * were turned away or the meeting ended. Never the roster, and never a delta: lobby views
 * are whole, and the meeting's state comes whole once they are in.
 */
export interface LobbyState {
  type: 'meeting.state';
  meetingId: string;
  version: number;
  meeting: LobbyMeetingView;
  participants: ParticipantView[];
  activeSpeaker: null;
}

/**
 * The `meeting.delta` frame: what changed from the state of version `after` to the state
 * of version `version`. Absent fields did not change; `participants` are the ones that
 * joined or changed (each whole), `left` the ids of those that are no longer in it.
 */
export interface MeetingDelta {
  type: 'meeting.delta';
  meetingId: string;
  version: number;
  after: number;
  meeting?: MeetingView;
  participants?: ParticipantView[];
  left?: string[];
  activeSpeaker?: string | null;
}

export function viewOf(p: ParticipantRecord): ParticipantView {
  return {
    id: p.id, personId: p.personId, displayName: p.displayName, host: p.host, coHost: p.coHost, state: p.state,
    muted: p.muted, video: p.video, handRaised: p.handRaised, mediaEpoch: p.mediaEpoch, producers: p.producers,
    connected: p.detachedAt === undefined,
  };
}

export function meetingViewOf(m: MeetingRecord): MeetingView {
  return { id: m.id, title: m.title, state: m.state, locked: m.locked, hostUserId: m.hostUserId };
}

export function lobbyStateOf(m: MeetingRecord, self: ParticipantRecord | undefined, version: number): LobbyState {
  return {
    type: 'meeting.state', meetingId: m.id, version,
    meeting: { id: m.id, title: m.title, state: m.state, locked: m.locked },
    participants: self ? [viewOf(self)] : [],
    activeSpeaker: null,
  };
}

/** The delta that turns `previous` (or nothing: everything is new) into `next`. */
export function deltaBetween(previous: MeetingState | undefined, next: MeetingState): MeetingDelta {
  const delta: MeetingDelta = { type: 'meeting.delta', meetingId: next.meetingId, version: next.version, after: previous?.version ?? 0 };
  if (!previous || JSON.stringify(previous.meeting) !== JSON.stringify(next.meeting)) delta.meeting = next.meeting;
  const before = new Map((previous?.participants ?? []).map((p) => [p.id, JSON.stringify(p)]));
  const changed = next.participants.filter((p) => before.get(p.id) !== JSON.stringify(p));
  if (changed.length > 0) delta.participants = changed;
  const present = new Set(next.participants.map((p) => p.id));
  const left = [...before.keys()].filter((id) => !present.has(id));
  if (left.length > 0) delta.left = left;
  if (!previous || previous.activeSpeaker !== next.activeSpeaker) delta.activeSpeaker = next.activeSpeaker;
  return delta;
}
