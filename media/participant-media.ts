// One participant's media in a meeting: the transports, producers and consumers they own
// on their router, each kept until it closes, whatever closes it. Only this participant's
// objects are found here: anyone else's id is simply unknown. Each kind of object is
// capped (`ParticipantMediaLimits`), counting those still being made, so that no
// participant can bind a node's ports or load its workers without bound; one closed frees
// its place. What the server closes or pauses on its own goes up as events: a participant
// never refers to its meeting.
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { ParticipantMediaLimits } from '../contracts/config.ts';
import { MediaError } from './media-error.ts';
import type { RouterSlot } from './meeting-routers.ts';
import { announcedIp, listenInfo, type ConsumerInfo, type ListenSettings, type TransportInfo, type TransportKind } from './meeting-types.ts';

export interface ParticipantMediaEvents {
  /** A consumer was closed by the server: its producer went away. */
  consumerClosed: [{ consumerId: string }];
  producerPaused: [{ producerId: string; paused: boolean }];
  /** A producer closed, for whatever reason. */
  producerClosed: [{ producerId: string }];
}

type Owned = { id: string; observer: { once(event: 'close', fn: () => void): unknown } };

export class ParticipantMedia extends EventEmitter<ParticipantMediaEvents> {
  readonly id: string;
  /** The participant's router (made again in place when its worker dies). */
  readonly slot: RouterSlot;
  rtpCapabilities: types.RtpCapabilities | undefined;
  private readonly listen: ListenSettings;
  private readonly limits: ParticipantMediaLimits;
  private readonly transports = new Map<string, types.Transport>();
  private readonly producers = new Map<string, types.Producer>();
  private readonly consumers = new Map<string, types.Consumer>();
  /** Objects being made, which count against the caps before they exist. */
  private readonly making: ParticipantMediaLimits = { transports: 0, producers: 0, consumers: 0 };

  constructor(id: string, slot: RouterSlot, rtpCapabilities: types.RtpCapabilities | undefined, listen: ListenSettings, limits: ParticipantMediaLimits) {
    super();
    this.id = id;
    this.slot = slot;
    this.rtpCapabilities = rtpCapabilities;
    this.listen = listen;
    this.limits = limits;
  }

  /**
   * A transport on the participant's router. Plain RTP transports are one-way: `send` learns
   * the sender's address from its first packet (comedia), `recv` is told where to send by
   * `connectTransport`.
   */
  async createTransport(kind: TransportKind, direction: 'send' | 'recv'): Promise<TransportInfo> {
    const appData = { participantId: this.id };
    if (kind === 'webrtc') {
      const transport = await this.admit('transports', this.transports, () =>
        this.slot.router.createWebRtcTransport({ listenInfos: [listenInfo(this.listen, 'udp'), listenInfo(this.listen, 'tcp')], preferUdp: true, appData }));
      return { id: transport.id, kind, iceParameters: transport.iceParameters, iceCandidates: transport.iceCandidates, dtlsParameters: transport.dtlsParameters };
    }
    // Plain RTP (synthetic participants, media bench). A sender gets separate RTP and RTCP
    // ports: RTP tools such as ffmpeg send them from two sockets, and comedia learns each
    // port's remote from its own first packet. A receiver gets RTCP multiplexed on one port.
    const comedia = direction === 'send';
    const transport = await this.admit('transports', this.transports, () =>
      this.slot.router.createPlainTransport({ listenInfo: listenInfo(this.listen, 'udp'), rtcpMux: !comedia, comedia, appData: { ...appData, comedia } }));
    return { id: transport.id, kind, ip: announcedIp(this.listen), port: transport.tuple.localPort, rtcpPort: transport.rtcpTuple?.localPort ?? transport.tuple.localPort };
  }

  /** WebRTC: the client's DTLS parameters; plain (`recv`): where the server should send RTP. */
  async connectTransport(transportId: string, params: { dtlsParameters?: types.DtlsParameters; ip?: string; port?: number }): Promise<void> {
    const transport = this.transport(transportId);
    if (transport.type === 'webrtc' && !params.dtlsParameters) throw new MediaError('bad-request', 'a WebRTC transport is connected with dtlsParameters');
    if (transport.type === 'plain' && transport.appData.comedia) throw new MediaError('bad-request', 'a sending plain transport learns its remote address from the first packet');
    if (transport.type === 'plain' && (!params.ip || !params.port)) throw new MediaError('bad-request', 'a plain transport is connected with ip and port');
    try {
      if (transport.type === 'webrtc') await (transport as types.WebRtcTransport).connect({ dtlsParameters: params.dtlsParameters! });
      else await (transport as types.PlainTransport).connect({ ip: params.ip!, port: params.port! });
    } catch (err) {
      // e.g. connected twice, or parameters the worker refuses
      throw new MediaError('bad-request', `cannot connect transport ${transportId}: ${(err as Error).message}`);
    }
  }

  async restartIce(transportId: string): Promise<types.IceParameters> {
    const transport = this.transport(transportId);
    if (transport.type !== 'webrtc') throw new MediaError('bad-request', 'only a WebRTC transport has ICE');
    return (transport as types.WebRtcTransport).restartIce();
  }

  async produce(transportId: string, kind: types.MediaKind, rtpParameters: types.RtpParameters): Promise<string> {
    const transport = this.transport(transportId);
    const producer = await this.admit('producers', this.producers, async () => {
      try {
        return await transport.produce({ kind, rtpParameters, appData: { participantId: this.id } });
      } catch (err) {
        throw new MediaError('bad-request', `cannot produce: ${(err as Error).message}`);
      }
    });
    producer.observer.once('close', () => this.emit('producerClosed', { producerId: producer.id }));
    return producer.id;
  }

  /**
   * A consumer of `producerId`, paused until resumed. `reach` finds the producer and makes
   * it consumable on this participant's router (its id here): costly work, done once the
   * transport is known to be theirs and the consumer within the cap.
   */
  async consume(transportId: string, producerId: string, reach: () => Promise<{ idHere: string; producerParticipantId: string }>): Promise<ConsumerInfo> {
    const transport = this.transport(transportId);
    let producerParticipantId = '';
    const consumer = await this.admit('consumers', this.consumers, async () => {
      const reached = await reach();
      producerParticipantId = reached.producerParticipantId;
      if (!this.rtpCapabilities || !this.slot.router.canConsume({ producerId: reached.idHere, rtpCapabilities: this.rtpCapabilities })) {
        throw new MediaError('cannot-consume', `the device cannot receive producer ${producerId}`);
      }
      return transport.consume({ producerId: reached.idHere, rtpCapabilities: this.rtpCapabilities, paused: true, appData: { participantId: this.id } });
    });
    consumer.on('producerclose', () => {
      this.consumers.delete(consumer.id);
      this.emit('consumerClosed', { consumerId: consumer.id });
    });
    return { id: consumer.id, producerId, producerParticipantId, kind: consumer.kind, rtpParameters: consumer.rtpParameters, paused: consumer.paused };
  }

  /** Consuming needs to know what the device can receive. */
  assertCanConsume(): void {
    if (!this.rtpCapabilities) throw new MediaError('cannot-consume', 'join with rtpCapabilities before consuming');
  }

  async setConsumerPaused(consumerId: string, paused: boolean): Promise<void> {
    const consumer = this.find(this.consumers, consumerId, 'consumer');
    if (paused) await consumer.pause();
    else await consumer.resume();
  }

  async setProducerPaused(producerId: string, paused: boolean): Promise<void> {
    const producer = this.find(this.producers, producerId, 'producer');
    if (paused) await producer.pause();
    else await producer.resume();
    this.emit('producerPaused', { producerId, paused });
  }

  /** A host's mute: pauses every audio producer on the server; answers those it paused. */
  async muteAudio(): Promise<string[]> {
    const paused: string[] = [];
    for (const producer of this.producers.values()) {
      if (producer.kind !== 'audio' || producer.paused) continue;
      await producer.pause();
      paused.push(producer.id);
      this.emit('producerPaused', { producerId: producer.id, paused: true });
    }
    return paused;
  }

  closeProducer(producerId: string): void {
    this.find(this.producers, producerId, 'producer').close();
    this.producers.delete(producerId);
  }

  ownsProducer(producerId: string): boolean {
    return this.producers.has(producerId);
  }

  producerList(): { producerId: string; kind: types.MediaKind }[] {
    return [...this.producers.values()].map((producer) => ({ producerId: producer.id, kind: producer.kind }));
  }

  /** Stats of one of the participant's own objects (for tests, dashboards). */
  async stats(id: string): Promise<unknown[]> {
    const object = this.transports.get(id) ?? this.producers.get(id) ?? this.consumers.get(id);
    if (!object) throw new MediaError('not-found', `no object ${id} of yours`);
    return object.getStats();
  }

  /** The router died with its worker, and everything on it: forgets it all; answers the producers lost. */
  forgetMedia(): string[] {
    const lost = [...this.producers.keys()];
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
    return lost;
  }

  /** Closes every transport, and with them the producers and consumers on them. */
  close(): void {
    for (const transport of this.transports.values()) transport.close();
  }

  private transport(transportId: string): types.Transport {
    return this.find(this.transports, transportId, 'transport');
  }

  /** Only the participant's own objects are found: anyone else's id is simply unknown to them. */
  private find<T>(objects: Map<string, T>, id: string, what: string): T {
    const object = objects.get(id);
    if (!object) throw new MediaError('not-found', `no ${what} ${id} of yours`);
    return object;
  }

  /**
   * Makes one more object of a kind if the cap allows, counting it from the start so that
   * concurrent requests cannot pass the cap together; keeps it in `objects` until it closes.
   */
  private async admit<Kept extends Owned, T extends Kept>(what: keyof ParticipantMediaLimits, objects: Map<string, Kept>, make: () => Promise<T>): Promise<T> {
    const limit = this.limits[what];
    if (objects.size + this.making[what] >= limit) {
      throw new MediaError('limit-reached', `a participant may have at most ${limit} ${what} at once: close one first`);
    }
    this.making[what]++;
    let object: T;
    try {
      object = await make();
    } finally {
      this.making[what]--;
    }
    objects.set(object.id, object);
    object.observer.once('close', () => objects.delete(object.id));
    return object;
  }
}
