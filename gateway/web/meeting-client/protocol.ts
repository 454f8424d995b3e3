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
  hostUserId: string;
}

/** A `meeting.state` frame, or the `meeting` of the join reply (the same body). */
export interface MeetingState {
  meetingId: string;
  version: number;
  meeting: MeetingInfo;
  participants: Participant[];
  activeSpeaker: string | null;
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
