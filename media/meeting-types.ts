// What a Meeting answers and announces, and the settings its parts share: where transports
// listen, what a participant's transports, consumers and links look like to the signaling
// layer, and the events the media plane raises on its own.
import type { types } from 'mediasoup';

export interface ListenSettings {
  /** The local address transports bind to. */
  ip: string;
  /** The address clients are told to reach (NAT); default `ip`. */
  announcedAddress?: string;
}

/** How a transport listens on `protocol` (every transport of a meeting listens alike). */
export function listenInfo(listen: ListenSettings, protocol: 'udp' | 'tcp'): types.TransportListenInfo {
  return { protocol, ip: listen.ip, ...(listen.announcedAddress ? { announcedAddress: listen.announcedAddress } : {}) };
}

/** The address peers and clients are told to reach. */
export function announcedIp(listen: ListenSettings): string {
  return listen.announcedAddress ?? listen.ip;
}

export type TransportKind = 'webrtc' | 'plain';

export interface TransportInfo {
  id: string;
  kind: TransportKind;
  /** WebRTC: what the client needs to connect. */
  iceParameters?: types.IceParameters;
  iceCandidates?: types.IceCandidate[];
  dtlsParameters?: types.DtlsParameters;
  /** Plain RTP: where to send RTP and RTCP. */
  ip?: string;
  port?: number;
  rtcpPort?: number;
}

/** This node's end of a link to a peer node, for the peer to connect to. */
export interface LinkEndpoint {
  ip: string;
  port: number;
  /** Where this end sends, once connected. */
  connectedTo?: { ip: string; port: number };
}

/** A producer piped out into a link: what the peer needs to produce it (`pipeIn`). */
export interface PipedProducer {
  producerId: string;
  participantId: string;
  kind: types.MediaKind;
  rtpParameters: types.RtpParameters;
  paused: boolean;
}

export interface ConsumerInfo {
  id: string;
  producerId: string;
  /** The participant whose media this is. */
  producerParticipantId: string;
  kind: types.MediaKind;
  rtpParameters: types.RtpParameters;
  /** Consumers start paused on the server until the client resumes them. */
  paused: boolean;
}

export interface MeetingEvents {
  /** These participants' router is on a new worker: they must set up their media again. */
  moved: [{ fromPid: number; toPid: number; participantIds: string[] }];
  /** A consumer of `participantId` was closed by the server (its producer went away). */
  consumerClosed: [{ participantId: string; consumerId: string }];
  /** A producer was paused or resumed (by its owner or a host). */
  producerPaused: [{ participantId: string; producerId: string; paused: boolean }];
  /** The loudest participant changed. */
  activeSpeaker: [{ participantId: string }];
  /** A router could not be made again after its worker died. */
  moveFailed: [{ fromPid: number; error: Error }];
  /** A local participant's producer closed, for whatever reason: peers drop their copies. */
  producerGone: [{ producerId: string }];
  /** The home router was made again after its worker died: the links to these peers died with it. */
  linksLost: [{ peers: string[] }];
  closed: [];
}
