// One meeting's media: routers on workers of the pool, and per participant the
// transports, producers and consumers they own. Every operation names the participant it
// is for and may only touch that participant's objects; everything a participant owns is
// closed when they leave.
//
// A meeting starts on one router. Past `participantsPerRouter` participants, newcomers go
// to a router on another worker, and a producer is piped (`pipeToRouter`) to each other
// router the first time someone there consumes it, so one meeting can outgrow one worker
// (one core). When a worker dies, the routers it held are made again on other workers: the
// participants who were on them lost their media objects and `moved` tells the signaling
// layer to have them set up their transports again (renegotiate); others only lose the
// consumers of the moved participants' media (`consumerClosed`).
//
// One meeting can also span media nodes: the Meeting of the same id on another node is a
// peer, reached through a link (a PipeTransport on the home router, one per peer). A local
// producer is piped out into the link (`pipeOut`), and the peer produces it with the same id
// (`pipeIn`) as a remote producer that its participants consume like a local one. What
// happens to a producer on its own node (closed, paused, a worker died) reaches the peers
// through the signaling layer (`producerGone`, `producerPaused`, `linksLost`).
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { MEETING_CODECS } from './codecs.ts';
import { MediaError } from './media-error.ts';
import type { MediaWorker, WorkerPool } from './worker-pool.ts';

export interface ListenSettings {
  /** The local address transports bind to. */
  ip: string;
  /** The address clients are told to reach (NAT); default `ip`. */
  announcedAddress?: string;
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

/** A router of the meeting, on one worker. */
interface RouterSlot {
  worker: MediaWorker;
  router: types.Router;
  participants: Set<string>;
  /** Producers of other routers piped here, by producer id (the same id on both sides). */
  piped: Map<string, Promise<types.Producer>>;
}

/** A PipeTransport on the home router to the same meeting on a peer node. */
interface Link {
  transport: Promise<types.PipeTransport>;
  /** The address asked for by `connectLink`, claimed before the worker confirms it. */
  target?: { ip: string; port: number; done: Promise<void> };
  connectedTo?: { ip: string; port: number };
  /** Local producers consumed into the link, by producer id. */
  out: Map<string, Promise<types.Consumer>>;
}

/** A producer of a peer node, produced on its link (on the home router) with the same id. */
interface RemoteProducer {
  peer: string;
  participantId: string;
  producer: Promise<types.Producer>;
}

interface Participant {
  id: string;
  slot: RouterSlot;
  rtpCapabilities: types.RtpCapabilities | undefined;
  transports: Map<string, types.Transport>;
  producers: Map<string, types.Producer>;
  consumers: Map<string, types.Consumer>;
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

export interface MeetingOptions {
  /** Past this many participants on a router, newcomers get a router on another worker. */
  participantsPerRouter?: number;
}

export class Meeting extends EventEmitter<MeetingEvents> {
  readonly id: string;
  private readonly pool: WorkerPool;
  private readonly listen: ListenSettings;
  private readonly participantsPerRouter: number;
  private readonly participants = new Map<string, Participant>();
  /** The first router is the home: active speaker detection runs there. */
  private readonly slots: RouterSlot[] = [];
  private speakerObserver: types.ActiveSpeakerObserver | undefined;
  /** Links to peer nodes, by the peer's node id. */
  private readonly links = new Map<string, Link>();
  private readonly remotes = new Map<string, RemoteProducer>();
  /** Set while the home router is made again: new links wait for it. */
  private homeMoved: Promise<void> | undefined;
  private closed = false;
  private readonly onWorkerDied = (dead: MediaWorker) => {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (slot.worker !== dead) continue;
      const moved = this.move(slot).catch((err: unknown) => {
        if (!this.closed) this.emit('moveFailed', { fromPid: dead.pid, error: err instanceof Error ? err : new Error(String(err)) });
      });
      if (slot === this.slots[0]) this.homeMoved = moved;
    }
  };

  private constructor(id: string, pool: WorkerPool, listen: ListenSettings, options: MeetingOptions) {
    super();
    this.id = id;
    this.pool = pool;
    this.listen = listen;
    this.participantsPerRouter = options.participantsPerRouter ?? 100;
  }

  /** A meeting on the least-loaded worker of `pool`. */
  static async create(id: string, pool: WorkerPool, listen: ListenSettings, options: MeetingOptions = {}): Promise<Meeting> {
    const meeting = new Meeting(id, pool, listen, options);
    meeting.slots.push(await meeting.newSlot(pool.leastLoaded()));
    pool.on('workerDied', meeting.onWorkerDied);
    return meeting;
  }

  /** The worker of the home router. */
  get workerPid(): number {
    return this.slots[0].worker.pid;
  }

  /** The workers the meeting's routers are on. */
  workerPids(): number[] {
    return this.slots.map((slot) => slot.worker.pid);
  }

  get rtpCapabilities(): types.RtpCapabilities {
    return this.slots[0].router.rtpCapabilities;
  }

  participantIds(): string[] {
    return [...this.participants.keys()];
  }

  /** The worker a participant's media is on. */
  workerPidOf(participantId: string): number {
    return this.participant(participantId).slot.worker.pid;
  }

  /** Adds a participant; `rtpCapabilities` (what their device can receive) are needed to consume. */
  async join(participantId: string, rtpCapabilities?: types.RtpCapabilities): Promise<types.RtpCapabilities> {
    this.assertOpen();
    if (this.participants.has(participantId)) throw new MediaError('already-joined', `${participantId} has already joined`);
    const slot = await this.slotForNewcomer();
    if (this.participants.has(participantId)) throw new MediaError('already-joined', `${participantId} has already joined`);
    slot.participants.add(participantId);
    this.participants.set(participantId, { id: participantId, slot, rtpCapabilities, transports: new Map(), producers: new Map(), consumers: new Map() });
    return slot.router.rtpCapabilities;
  }

  /** Sets (again, after `moved`) what a participant's device can receive. */
  setRtpCapabilities(participantId: string, rtpCapabilities: types.RtpCapabilities): void {
    this.participant(participantId).rtpCapabilities = rtpCapabilities;
  }

  /**
   * A transport for the participant. Plain RTP transports are one-way: `send` learns the
   * sender's address from its first packet (comedia), `recv` is told where to send by
   * `connectTransport`.
   */
  async createTransport(participantId: string, kind: TransportKind, direction: 'send' | 'recv' = 'send'): Promise<TransportInfo> {
    const participant = this.participant(participantId);
    if (kind === 'webrtc') {
      const transport = await participant.slot.router.createWebRtcTransport({ listenInfos: [this.listenInfo('udp'), this.listenInfo('tcp')], preferUdp: true, appData: { participantId } });
      this.own(participant.transports, transport);
      return { id: transport.id, kind, iceParameters: transport.iceParameters, iceCandidates: transport.iceCandidates, dtlsParameters: transport.dtlsParameters };
    }
    // Plain RTP (synthetic participants, media bench). A sender gets separate RTP and RTCP
    // ports: RTP tools such as ffmpeg send them from two sockets, and comedia learns each
    // port's remote from its own first packet. A receiver gets RTCP multiplexed on one port.
    const comedia = direction === 'send';
    const transport = await participant.slot.router.createPlainTransport({ listenInfo: this.listenInfo('udp'), rtcpMux: !comedia, comedia, appData: { participantId, comedia } });
    this.own(participant.transports, transport);
    return { id: transport.id, kind, ip: this.announcedIp, port: transport.tuple.localPort, rtcpPort: transport.rtcpTuple?.localPort ?? transport.tuple.localPort };
  }

  /** WebRTC: the client's DTLS parameters; plain (`recv`): where the server should send RTP. */
  async connectTransport(participantId: string, transportId: string, params: { dtlsParameters?: types.DtlsParameters; ip?: string; port?: number }): Promise<void> {
    const transport = this.find(this.participant(participantId).transports, transportId, 'transport');
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

  async restartIce(participantId: string, transportId: string): Promise<types.IceParameters> {
    const transport = this.find(this.participant(participantId).transports, transportId, 'transport');
    if (transport.type !== 'webrtc') throw new MediaError('bad-request', 'only a WebRTC transport has ICE');
    return (transport as types.WebRtcTransport).restartIce();
  }

  async produce(participantId: string, transportId: string, kind: types.MediaKind, rtpParameters: types.RtpParameters): Promise<string> {
    const participant = this.participant(participantId);
    const transport = this.find(participant.transports, transportId, 'transport');
    let producer: types.Producer;
    try {
      producer = await transport.produce({ kind, rtpParameters, appData: { participantId } });
    } catch (err) {
      throw new MediaError('bad-request', `cannot produce: ${(err as Error).message}`);
    }
    this.own(participant.producers, producer);
    producer.observer.once('close', () => this.emit('producerGone', { producerId: producer.id }));
    if (kind === 'audio') void this.observeSpeaker(participant.slot, producer.id);
    return producer.id;
  }

  /** A consumer of another participant's producer, paused until `resumeConsumer`. */
  async consume(participantId: string, transportId: string, producerId: string): Promise<ConsumerInfo> {
    const participant = this.participant(participantId);
    const transport = this.find(participant.transports, transportId, 'transport');
    const { slot, participantId: producerParticipantId } = await this.consumable(producerId);
    if (!participant.rtpCapabilities) throw new MediaError('cannot-consume', 'join with rtpCapabilities before consuming');
    const idHere = await this.pipe(slot, participant.slot, producerId);
    if (!participant.slot.router.canConsume({ producerId: idHere, rtpCapabilities: participant.rtpCapabilities })) throw new MediaError('cannot-consume', `the device cannot receive producer ${producerId}`);
    const consumer = await transport.consume({ producerId: idHere, rtpCapabilities: participant.rtpCapabilities, paused: true, appData: { participantId } });
    this.own(participant.consumers, consumer);
    consumer.on('producerclose', () => {
      participant.consumers.delete(consumer.id);
      this.emit('consumerClosed', { participantId, consumerId: consumer.id });
    });
    return { id: consumer.id, producerId, producerParticipantId, kind: consumer.kind, rtpParameters: consumer.rtpParameters, paused: consumer.paused };
  }

  async resumeConsumer(participantId: string, consumerId: string): Promise<void> {
    await this.find(this.participant(participantId).consumers, consumerId, 'consumer').resume();
  }

  async pauseConsumer(participantId: string, consumerId: string): Promise<void> {
    await this.find(this.participant(participantId).consumers, consumerId, 'consumer').pause();
  }

  async setProducerPaused(participantId: string, producerId: string, paused: boolean): Promise<void> {
    const producer = this.find(this.participant(participantId).producers, producerId, 'producer');
    if (paused) await producer.pause();
    else await producer.resume();
    this.emit('producerPaused', { participantId, producerId, paused });
  }

  /** A host's mute: pauses every audio producer of `participantId` on the server. */
  async muteAudio(participantId: string): Promise<string[]> {
    const paused: string[] = [];
    for (const producer of this.participant(participantId).producers.values()) {
      if (producer.kind !== 'audio' || producer.paused) continue;
      await producer.pause();
      paused.push(producer.id);
      this.emit('producerPaused', { participantId, producerId: producer.id, paused: true });
    }
    return paused;
  }

  closeProducer(participantId: string, producerId: string): void {
    const participant = this.participant(participantId);
    this.find(participant.producers, producerId, 'producer').close();
    participant.producers.delete(producerId);
  }

  /**
   * This node's end of the link to `peer` (made on first use). A peer is another media node
   * holding the same meeting; its node id is just a name here.
   */
  async linkEndpoint(peer: string): Promise<LinkEndpoint> {
    this.assertOpen();
    await this.homeMoved;
    this.assertOpen();
    let link = this.links.get(peer);
    if (!link) {
      // RTX on both ends: between hosts, packets get lost.
      const created: Link = { transport: this.slots[0].router.createPipeTransport({ listenInfo: this.listenInfo('udp'), enableRtx: true, appData: { peer } }), out: new Map() };
      created.transport.catch(() => this.links.get(peer) === created && this.links.delete(peer));
      this.links.set(peer, created);
      link = created;
    }
    const transport = await link.transport;
    return { ip: this.announcedIp, port: transport.tuple.localPort, ...(link.connectedTo ? { connectedTo: { ...link.connectedTo } } : {}) };
  }

  /** Has the link to `peer` send to the peer's end. Asking again for the same address is harmless. */
  async connectLink(peer: string, ip: string, port: number): Promise<void> {
    this.assertOpen();
    const link = this.links.get(peer);
    if (!link) throw new MediaError('bad-request', `no link to ${peer}: ask for its endpoint first`);
    if (link.target) {
      if (link.target.ip !== ip || link.target.port !== port) throw new MediaError('bad-request', `the link to ${peer} is connected to ${link.target.ip}:${link.target.port}, not ${ip}:${port}`);
      return link.target.done;
    }
    const done = link.transport.then((transport) => transport.connect({ ip, port })).then(
      () => void (link.connectedTo = { ip, port }),
      (err: unknown) => {
        if (link.target?.done === done) link.target = undefined;
        throw new MediaError('bad-request', `cannot connect the link to ${peer}: ${(err as Error).message}`);
      },
    );
    link.target = { ip, port, done };
    return done;
  }

  /** Sends a local participant's producer into the link to `peer`; answers what the peer needs for `pipeIn`. */
  async pipeOut(peer: string, producerId: string): Promise<PipedProducer> {
    this.assertOpen();
    const link = this.links.get(peer);
    if (!link) throw new MediaError('not-found', `no link to ${peer}`);
    const owner = this.localProducerOwner(producerId);
    let consumer = link.out.get(producerId);
    if (!consumer) {
      const consuming = Promise.all([this.pipe(owner.slot, this.slots[0], producerId), link.transport])
        .then(([idAtHome, transport]) => transport.consume({ producerId: idAtHome }))
        .catch((err: unknown) => {
          throw new MediaError('not-found', `cannot pipe producer ${producerId} to ${peer}: ${(err as Error).message}`);
        });
      const forget = () => link.out.get(producerId) === consuming && link.out.delete(producerId);
      consuming.then((c) => c.observer.once('close', forget), forget);
      link.out.set(producerId, consuming);
      consumer = consuming;
    }
    const piped = await consumer;
    return { producerId, participantId: owner.id, kind: piped.kind, rtpParameters: piped.rtpParameters, paused: piped.producerPaused };
  }

  /**
   * Produces a peer's producer (as `pipeOut` there answered) on the link from it, with the
   * same id: a remote producer, which local participants consume like their own.
   */
  async pipeIn(peer: string, piped: PipedProducer): Promise<void> {
    this.assertOpen();
    const { producerId, participantId, kind, rtpParameters, paused } = piped;
    const link = this.links.get(peer);
    if (!link) throw new MediaError('not-found', `no link to ${peer}`);
    const known = this.remotes.get(producerId);
    if (known && known.peer !== peer) throw new MediaError('bad-request', `producer ${producerId} comes from ${known.peer}, not ${peer}`);
    if (known) {
      await known.producer;
      return;
    }
    if (this.participantOwning(producerId)) throw new MediaError('bad-request', `producer ${producerId} is produced here`);
    const forget = () => this.remotes.get(producerId)?.producer === producing && this.remotes.delete(producerId);
    const producing = link.transport
      .then((transport) => transport.produce({ id: producerId, kind, rtpParameters, paused, appData: { participantId, peer } }))
      .then((producer) => {
        producer.observer.once('close', forget);
        return producer;
      }, (err: unknown) => {
        forget();
        throw new MediaError('bad-request', `cannot pipe in producer ${producerId} from ${peer}: ${(err as Error).message}`);
      });
    this.remotes.set(producerId, { peer, participantId, producer: producing });
    await producing;
  }

  /**
   * Closes a remote producer (its producer at the peer is gone). Unknown ids are ignored:
   * every node hears of every producer that goes, piped here or not.
   */
  dropRemote(producerId: string): void {
    const remote = this.remotes.get(producerId);
    if (!remote) return;
    this.remotes.delete(producerId);
    void remote.producer.then((producer) => producer.close(), () => undefined);
  }

  /** Follows the pause of a remote producer at its node; unknown ids are ignored (as above). */
  async setRemotePaused(producerId: string, paused: boolean): Promise<void> {
    const remote = this.remotes.get(producerId);
    if (!remote) return;
    const producer = await remote.producer;
    if (paused) await producer.pause();
    else await producer.resume();
  }

  /** Closes the link to `peer`: what came through it and what was sent into it. */
  closeLink(peer: string): void {
    const link = this.links.get(peer);
    if (!link) return;
    this.links.delete(peer);
    for (const [producerId, remote] of this.remotes) if (remote.peer === peer) this.remotes.delete(producerId);
    void link.transport.then((transport) => transport.close(), () => undefined);
  }

  /** The peers this meeting has a link to. */
  linkedPeers(): string[] {
    return [...this.links.keys()];
  }

  /** The producers of everyone but `participantId`: what they may consume. */
  othersProducers(participantId: string): { participantId: string; producerId: string; kind: types.MediaKind }[] {
    const out: { participantId: string; producerId: string; kind: types.MediaKind }[] = [];
    for (const p of this.participants.values()) {
      if (p.id === participantId) continue;
      for (const producer of p.producers.values()) out.push({ participantId: p.id, producerId: producer.id, kind: producer.kind });
    }
    return out;
  }

  /** Stats of one of the participant's own objects (for tests, dashboards). */
  async stats(participantId: string, id: string): Promise<unknown[]> {
    const participant = this.participant(participantId);
    const object = participant.transports.get(id) ?? participant.producers.get(id) ?? participant.consumers.get(id);
    if (!object) throw new MediaError('not-found', `no object ${id} of yours`);
    return object.getStats();
  }

  /** Closes everything the participant owns (their consumers at others close with their producers). */
  leave(participantId: string): void {
    const participant = this.participants.get(participantId);
    if (!participant) return;
    for (const transport of participant.transports.values()) transport.close();
    participant.slot.participants.delete(participantId);
    this.participants.delete(participantId);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.off('workerDied', this.onWorkerDied);
    for (const slot of this.slots) slot.router.close();
    this.participants.clear();
    this.links.clear();
    this.remotes.clear();
    this.emit('closed');
  }

  /** The router with room for one more; a router on another worker when all are full. */
  private async slotForNewcomer(): Promise<RouterSlot> {
    const roomy = this.slots.find((slot) => slot.participants.size < this.participantsPerRouter);
    if (roomy) return roomy;
    const used = new Set(this.slots.map((slot) => slot.worker));
    const others = this.pool.workers().filter((w) => !used.has(w));
    const worker = others.length > 0 ? others.reduce((a, b) => (b.load < a.load ? b : a)) : this.pool.leastLoaded();
    const slot = await this.newSlot(worker);
    this.slots.push(slot);
    return slot;
  }

  private async newSlot(worker: MediaWorker): Promise<RouterSlot> {
    const router = await worker.worker.createRouter({ mediaCodecs: MEETING_CODECS, appData: { meetingId: this.id } });
    const slot: RouterSlot = { worker, router, participants: new Set(), piped: new Map() };
    if (this.slots.length === 0 || this.slots[0].worker === worker) await this.startSpeakerDetection(router);
    return slot;
  }

  private async startSpeakerDetection(router: types.Router): Promise<void> {
    this.speakerObserver = await router.createActiveSpeakerObserver({ interval: 300 });
    this.speakerObserver.on('dominantspeaker', ({ producer }) => {
      const participantId = producer.appData.participantId as string | undefined;
      if (participantId) this.emit('activeSpeaker', { participantId });
    });
  }

  /**
   * Audio producers are observed on the home router (piped there if they are elsewhere).
   * The observer reads the ssrc-audio-level RTP header extension, which browsers send and
   * plain RTP tools usually do not.
   */
  private async observeSpeaker(slot: RouterSlot, producerId: string): Promise<void> {
    try {
      const idAtHome = await this.pipe(slot, this.slots[0], producerId);
      await this.speakerObserver?.addProducer({ producerId: idAtHome });
    } catch {
      // the producer or a router closed meanwhile: nothing to observe
    }
  }

  /**
   * Makes `producerId` (on `from`) consumable on `to`, piping it once per router; answers its
   * id there. That is the same id unless both routers are on one worker (after a move, or
   * with more routers than workers), which cannot hold two producers of one id.
   */
  private async pipe(from: RouterSlot, to: RouterSlot, producerId: string): Promise<string> {
    if (from === to) return producerId;
    let piped = to.piped.get(producerId);
    if (!piped) {
      piped = from.router.pipeToRouter({ producerId, router: to.router, keepId: from.worker !== to.worker }).then(({ pipeProducer }) => {
        pipeProducer!.observer.once('close', () => to.piped.delete(producerId));
        return pipeProducer!;
      });
      to.piped.set(producerId, piped);
      piped.catch(() => to.piped.delete(producerId));
    }
    return (await piped).id;
  }

  /** A worker died: its routers are made again elsewhere; their participants must renegotiate. */
  private async move(slot: RouterSlot): Promise<void> {
    const fromPid = slot.worker.pid;
    const participantIds = [...slot.participants];
    const lostProducers: string[] = [];
    for (const id of participantIds) {
      const participant = this.participants.get(id)!;
      lostProducers.push(...participant.producers.keys());
      participant.transports.clear();
      participant.producers.clear();
      participant.consumers.clear();
    }
    // Their media piped to the other routers is gone too: closing the pipe producers closes
    // the consumers of it there (`consumerClosed`).
    for (const other of this.slots) {
      if (other === slot) continue;
      for (const producerId of lostProducers) void other.piped.get(producerId)?.then((p) => p.close(), () => undefined);
    }
    slot.piped.clear();
    // The links and what came through them were on the home router.
    const home = slot === this.slots[0];
    const lostPeers = home ? [...this.links.keys()] : [];
    if (home) {
      this.links.clear();
      this.remotes.clear();
    }
    // With no other worker alive (a pool of one), the meeting waits for the replacement.
    const worker = this.pool.workers().some((w) => w !== slot.worker) ? this.pool.leastLoaded(slot.worker) : await this.replacement();
    if (this.closed) return;
    slot.router = await worker.worker.createRouter({ mediaCodecs: MEETING_CODECS, appData: { meetingId: this.id } });
    slot.worker = worker;
    if (home) await this.startSpeakerDetection(slot.router);
    if (lostPeers.length > 0) this.emit('linksLost', { peers: lostPeers });
    this.emit('moved', { fromPid, toPid: worker.pid, participantIds });
  }

  private replacement(): Promise<MediaWorker> {
    return new Promise((resolve, reject) => {
      const onReplaced = (worker: MediaWorker) => {
        this.off('closed', onClosed);
        resolve(worker);
      };
      const onClosed = () => {
        this.pool.off('workerReplaced', onReplaced);
        reject(new MediaError('closed', `meeting ${this.id} closed while waiting for a worker`));
      };
      this.pool.once('workerReplaced', onReplaced);
      this.once('closed', onClosed);
    });
  }

  private participant(participantId: string): Participant {
    this.assertOpen();
    const participant = this.participants.get(participantId);
    if (!participant) throw new MediaError('not-joined', `${participantId} is not in meeting ${this.id}`);
    return participant;
  }

  private participantOwning(producerId: string): Participant | undefined {
    for (const owner of this.participants.values()) if (owner.producers.has(producerId)) return owner;
    return undefined;
  }

  private localProducerOwner(producerId: string): Participant {
    const owner = this.participantOwning(producerId);
    if (!owner) throw new MediaError('not-found', `no producer ${producerId} of a participant on this node`);
    return owner;
  }

  /** Where a local or remote producer is, and whose it is. */
  private async consumable(producerId: string): Promise<{ slot: RouterSlot; participantId: string }> {
    const owner = this.participantOwning(producerId);
    if (owner) return { slot: owner.slot, participantId: owner.id };
    const remote = this.remotes.get(producerId);
    if (!remote) throw new MediaError('not-found', `no producer ${producerId} in this meeting`);
    try {
      await remote.producer;
    } catch {
      throw new MediaError('not-found', `no producer ${producerId} in this meeting`);
    }
    return { slot: this.slots[0], participantId: remote.participantId };
  }

  private listenInfo(protocol: 'udp' | 'tcp'): types.TransportListenInfo {
    return { protocol, ip: this.listen.ip, ...(this.listen.announcedAddress ? { announcedAddress: this.listen.announcedAddress } : {}) };
  }

  /** The address peers and clients are told to reach. */
  private get announcedIp(): string {
    return this.listen.announcedAddress ?? this.listen.ip;
  }

  /** Only the participant's own objects are found: anyone else's id is simply unknown to them. */
  private find<T>(objects: Map<string, T>, id: string, what: string): T {
    const object = objects.get(id);
    if (!object) throw new MediaError('not-found', `no ${what} ${id} of yours`);
    return object;
  }

  /** Keeps `object` in `objects` until it closes, whatever closes it. */
  private own<T extends { id: string; observer: { once(event: 'close', fn: () => void): unknown } }>(objects: Map<string, T>, object: T): void {
    objects.set(object.id, object);
    object.observer.once('close', () => objects.delete(object.id));
  }

  private assertOpen(): void {
    if (this.closed) throw new MediaError('closed', `meeting ${this.id} has ended`);
  }
}
