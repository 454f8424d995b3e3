// One media epoch of this participant: a send and a recv transport on the meeting's
// router, our microphone and camera produced on the first, the others' producers consumed
// on the second. When the server moves our media (mediaEpoch grows), the whole session is
// closed and a new one is made; the device and the local tracks outlive it.
import type { Device, types } from 'mediasoup-client';
import type { ConsumeResult, MeetingState, TransportResult } from './protocol.ts';
import type { Signaling } from './signaling.ts';

/** Where media requests go: the page's current live socket (it changes when the page reconnects). */
export type Requester = Pick<Signaling, 'request'>;

export interface RemoteTrack {
  participantId: string;
  producerId: string;
  track: MediaStreamTrack;
}

export interface MediaSessionEvents {
  onTrack(remote: RemoteTrack): void;
  onTrackEnded(remote: RemoteTrack): void;
}

export interface InboundBytes {
  audioBytes: number;
  videoBytes: number;
}

type ConsumerData = { participantId: string };

export class MediaSession {
  readonly epoch: number;
  private readonly signaling: Requester;
  private readonly device: Device;
  private readonly events: MediaSessionEvents;
  private sendTransport: types.Transport | undefined;
  private recvTransport: types.Transport | undefined;
  private audioProducer: types.Producer | undefined;
  private readonly consumers = new Map<string, types.Consumer<ConsumerData>>();
  private closed = false;

  constructor(signaling: Requester, device: Device, epoch: number, events: MediaSessionEvents) {
    this.signaling = signaling;
    this.device = device;
    this.epoch = epoch;
    this.events = events;
  }

  /** Makes both transports and produces every local track (paused audio stays paused). */
  async start(local: MediaStream, audioPaused: boolean): Promise<void> {
    this.sendTransport = await this.transport('send');
    this.recvTransport = await this.transport('recv');
    for (const track of local.getTracks()) {
      // The tracks belong to the page, not to this epoch's producers: they are produced again after a move.
      const producer = await this.sendTransport.produce({ track, stopTracks: false });
      if (track.kind === 'audio') {
        this.audioProducer = producer;
        if (audioPaused) await this.setAudioPaused(true);
      }
    }
  }

  /** Consumes every producer of the others not consumed yet, and drops consumers whose producer is gone. */
  async sync(state: MeetingState, selfId: string): Promise<void> {
    const wanted = new Map<string, string>();
    for (const participant of state.participants) {
      if (participant.id === selfId || participant.state !== 'joined') continue;
      for (const producer of participant.producers) wanted.set(producer.id, participant.id);
    }
    for (const [producerId, consumer] of this.consumers) {
      if (wanted.has(producerId)) continue;
      this.consumers.delete(producerId);
      consumer.close();
      this.events.onTrackEnded({ participantId: consumer.appData.participantId, producerId, track: consumer.track });
    }
    for (const [producerId, participantId] of wanted) {
      if (this.closed) return;
      if (this.consumers.has(producerId)) continue;
      try {
        await this.consume(producerId, participantId);
      } catch (err) {
        // Gone meanwhile, most likely; the next snapshot says whether to try again.
        console.warn(`could not consume ${producerId} of ${participantId}`, err);
      }
    }
  }

  get audioPaused(): boolean {
    return this.audioProducer?.paused ?? true;
  }

  /** Pauses our microphone here and on the server; resuming also lifts a host's mute. */
  async setAudioPaused(paused: boolean): Promise<void> {
    const producer = this.audioProducer;
    if (!producer) return;
    if (paused) producer.pause();
    else producer.resume();
    await this.signaling.request(paused ? 'pauseProducer' : 'resumeProducer', { producerId: producer.id });
  }

  /** The server already paused our audio (a host's mute): stop sending it too. */
  pauseAudioLocally(): void {
    if (this.audioProducer && !this.audioProducer.paused) this.audioProducer.pause();
  }

  /** Bytes received so far by the current consumers, per producing participant. */
  async inboundBytes(): Promise<Record<string, InboundBytes>> {
    const totals: Record<string, InboundBytes> = {};
    if (!this.recvTransport || this.closed) return totals;
    const byMid = new Map<string, types.Consumer<ConsumerData>>();
    const byTrack = new Map<string, types.Consumer<ConsumerData>>();
    for (const consumer of this.consumers.values()) {
      byMid.set(consumer.localId, consumer);
      byTrack.set(consumer.track.id, consumer);
    }
    const report = await this.recvTransport.getStats();
    report.forEach((stat: { type: string; mid?: string; trackIdentifier?: string; bytesReceived?: number }) => {
      if (stat.type !== 'inbound-rtp') return;
      const consumer = (stat.mid !== undefined ? byMid.get(stat.mid) : undefined) ?? (stat.trackIdentifier !== undefined ? byTrack.get(stat.trackIdentifier) : undefined);
      if (!consumer) return;
      const entry = (totals[consumer.appData.participantId] ??= { audioBytes: 0, videoBytes: 0 });
      if (consumer.kind === 'audio') entry.audioBytes += stat.bytesReceived ?? 0;
      else entry.videoBytes += stat.bytesReceived ?? 0;
    });
    return totals;
  }

  /** Closes the transports here only: after a move the server has already dropped them, and on leave it drops them itself. */
  close(): void {
    this.closed = true;
    for (const [producerId, consumer] of this.consumers) {
      this.events.onTrackEnded({ participantId: consumer.appData.participantId, producerId, track: consumer.track });
    }
    this.consumers.clear();
    this.sendTransport?.close();
    this.recvTransport?.close();
  }

  private async transport(direction: 'send' | 'recv'): Promise<types.Transport> {
    const params = await this.signaling.request<TransportResult>('createTransport', { direction });
    const transport = direction === 'send' ? this.device.createSendTransport(params) : this.device.createRecvTransport(params);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.signaling.request('connectTransport', { transportId: transport.id, dtlsParameters }).then(callback, errback);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters }, callback, errback) => {
        this.signaling
          .request<{ producerId: string }>('produce', { transportId: transport.id, kind, rtpParameters })
          .then(({ producerId }) => callback({ id: producerId }), errback);
      });
    }
    transport.on('connectionstatechange', (state) => {
      if (state === 'failed' && !this.closed) void this.restartIce(transport);
    });
    return transport;
  }

  private async restartIce(transport: types.Transport): Promise<void> {
    try {
      const { iceParameters } = await this.signaling.request<{ iceParameters: types.IceParameters }>('restartIce', { transportId: transport.id });
      await transport.restartIce({ iceParameters });
    } catch (err) {
      console.warn(`ICE restart of ${transport.direction} transport failed`, err);
    }
  }

  private async consume(producerId: string, participantId: string): Promise<void> {
    const recv = this.recvTransport!;
    const params = await this.signaling.request<ConsumeResult>('consume', { transportId: recv.id, producerId });
    if (this.closed) return;
    const consumer = await recv.consume<ConsumerData>({ ...params, appData: { participantId } });
    this.consumers.set(producerId, consumer);
    this.events.onTrack({ participantId, producerId, track: consumer.track });
    // The server starts every consumer paused: no media before the track above can play it.
    await this.signaling.request('resumeConsumer', { consumerId: consumer.id });
  }
}
