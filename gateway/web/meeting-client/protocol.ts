// The frames of docs/meetings.md that this page reads, as types.
import type { types } from 'mediasoup-client';

export interface ProducerInfo {
  id: string;
  kind: types.MediaKind;
  paused: boolean;
}

export interface Participant {
  id: string;
  personId: string;
  displayName: string;
  host: boolean;
  coHost: boolean;
  state: 'joined' | 'lobby';
  muted: boolean;
  video: unknown;
  handRaised: boolean;
  mediaEpoch: number;
  producers: ProducerInfo[];
  /** False while the participant's live socket is gone and the server keeps its place. */
  connected: boolean;
}

export interface MeetingInfo {
  id: string;
  title: string;
  state: 'active' | 'inProgress' | 'ended';
  locked: boolean;
  /** Absent in what a participant waiting in the lobby is shown (title, state, lock only). */
  hostUserId?: string;
}

/** A `meeting.state` frame, or the `meeting` of the join reply (the same body). */
export interface MeetingState {
  meetingId: string;
  version: number;
  meeting: MeetingInfo;
  participants: Participant[];
  activeSpeaker: string | null;
}

/** A `meeting.delta` frame: the change from the state of version `after`; absent fields did not change. */
export interface MeetingDelta {
  meetingId: string;
  version: number;
  after: number;
  meeting?: MeetingInfo;
  /** Participants that joined or changed, each whole. */
  participants?: Participant[];
  /** Ids of participants no longer in the meeting. */
  left?: string[];
  activeSpeaker?: string | null;
}

/** The state after `delta`, which must follow `state` (delta.after === state.version). */
export function withDelta(state: MeetingState, delta: MeetingDelta): MeetingState {
  const gone = new Set(delta.left ?? []);
  const byId = new Map<string, Participant>();
  for (const p of state.participants) if (!gone.has(p.id)) byId.set(p.id, p);
  // A Map keeps the first insertion's place: changed participants stay where they were, new ones come last.
  for (const p of delta.participants ?? []) byId.set(p.id, p);
  return {
    meetingId: state.meetingId,
    version: delta.version,
    meeting: delta.meeting ?? state.meeting,
    participants: [...byId.values()],
    activeSpeaker: 'activeSpeaker' in delta ? delta.activeSpeaker ?? null : state.activeSpeaker,
  };
}

export interface JoinResult {
  participantId: string;
  state: 'joined' | 'lobby';
  /** A join naming our previous participant id took that place back (media and all). */
  resumed: boolean;
  routerRtpCapabilities: types.RtpCapabilities;
  meeting: MeetingState;
}

export interface TransportResult {
  id: string;
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
  sctpParameters?: types.SctpParameters;
}

export interface ConsumeResult {
  id: string;
  producerId: string;
  kind: types.MediaKind;
  rtpParameters: types.RtpParameters;
}

export interface ErrorBody {
  status: number;
  code?: string;
  message: string;
  /** With 429: the socket sent too fast, and may send again after this wait. */
  retryAfterMs?: number;
}
