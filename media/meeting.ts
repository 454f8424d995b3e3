// One meeting's media on this node: its participants and what each owns, the routers they
// are spread over, its links to other media nodes, and its recovery when a worker dies.
// Every operation names the participant it is for and may only touch that participant's
// objects; everything a participant owns is closed when they leave.
//
// The jobs are apart: `participant-media.ts` (one participant's transports, producers and
// consumers, within their caps), `meeting-routers.ts` (spreading over routers, piping
// between them, active speaker), `meeting-links.ts` (the same meeting on peer nodes) and
// `worker-recovery.ts` (routers made again when their worker dies). This class wires them
// and is what the media service, the tests and the media bench use.
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { DEFAULT_PARTICIPANT_MEDIA_LIMITS, type ParticipantMediaLimits } from '../contracts/config.ts';
import { MediaError } from './media-error.ts';
import { MeetingLinks } from './meeting-links.ts';
import { MeetingRouters, type RouterSlot } from './meeting-routers.ts';
import type { ConsumerInfo, LinkEndpoint, ListenSettings, MeetingEvents, PipedProducer, TransportInfo, TransportKind } from './meeting-types.ts';
import { ParticipantMedia } from './participant-media.ts';
import { WorkerRecovery } from './worker-recovery.ts';
import type { WorkerPool } from './worker-pool.ts';

export type { ConsumerInfo, LinkEndpoint, ListenSettings, MeetingEvents, PipedProducer, TransportInfo, TransportKind } from './meeting-types.ts';

export interface MeetingOptions {
  /** Past this many participants on a router, newcomers get a router on another worker. */
  participantsPerRouter?: number;
  /** What one participant may hold at once (default `DEFAULT_PARTICIPANT_MEDIA_LIMITS`). */
  participantLimits?: ParticipantMediaLimits;
}

export class Meeting extends EventEmitter<MeetingEvents> {
  readonly id: string;
  private readonly listen: ListenSettings;
  private readonly participantLimits: ParticipantMediaLimits;
  private readonly participants = new Map<string, ParticipantMedia>();
  private readonly routers: MeetingRouters;
  private readonly links: MeetingLinks;
  private readonly recovery: WorkerRecovery;
  private closed = false;

  private constructor(id: string, pool: WorkerPool, listen: ListenSettings, options: MeetingOptions) {
    super();
    this.id = id;
    this.listen = listen;
    this.participantLimits = options.participantLimits ?? DEFAULT_PARTICIPANT_MEDIA_LIMITS;
    this.routers = new MeetingRouters(id, pool, options.participantsPerRouter ?? 100, (participantId) => this.emit('activeSpeaker', { participantId }));
    this.links = new MeetingLinks(this.routers, listen, (producerId) => {
      const owner = this.participantOwning(producerId);
      return owner && { slot: owner.slot, participantId: owner.id };
    });
    this.recovery = new WorkerRecovery({ id, pool, routers: this.routers, participants: this.participants, links: this.links });
    this.recovery.on('moved', (event) => this.emit('moved', event));
    this.recovery.on('moveFailed', (event) => this.emit('moveFailed', event));
    this.recovery.on('linksLost', (event) => this.emit('linksLost', event));
  }

  /** A meeting on the least-loaded worker of `pool`. */
  static async create(id: string, pool: WorkerPool, listen: ListenSettings, options: MeetingOptions = {}): Promise<Meeting> {
    const meeting = new Meeting(id, pool, listen, options);
    await meeting.routers.openHome();
    meeting.recovery.start();
    return meeting;
  }

  /** The worker of the home router. */
  get workerPid(): number {
    return this.routers.home.worker.pid;
  }

  /** The workers the meeting's routers are on. */
  workerPids(): number[] {
    return this.routers.slots.map((slot) => slot.worker.pid);
  }

  get rtpCapabilities(): types.RtpCapabilities {
    return this.routers.home.router.rtpCapabilities;
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
    const slot = await this.routers.slotForNewcomer();
    if (this.participants.has(participantId)) throw new MediaError('already-joined', `${participantId} has already joined`);
    slot.participants.add(participantId);
    const participant = new ParticipantMedia(participantId, slot, rtpCapabilities, this.listen, this.participantLimits);
    // Its objects keep reporting after it left: a producer closing then still tells the peers.
    participant.on('consumerClosed', ({ consumerId }) => this.emit('consumerClosed', { participantId, consumerId }));
    participant.on('producerPaused', ({ producerId, paused }) => this.emit('producerPaused', { participantId, producerId, paused }));
    participant.on('producerClosed', ({ producerId }) => this.emit('producerGone', { producerId }));
    this.participants.set(participantId, participant);
    return slot.router.rtpCapabilities;
  }

  /** Sets (again, after `moved`) what a participant's device can receive. */
  setRtpCapabilities(participantId: string, rtpCapabilities: types.RtpCapabilities): void {
    this.participant(participantId).rtpCapabilities = rtpCapabilities;
  }

  /** A transport for the participant (see ParticipantMedia.createTransport). */
  async createTransport(participantId: string, kind: TransportKind, direction: 'send' | 'recv' = 'send'): Promise<TransportInfo> {
    return this.participant(participantId).createTransport(kind, direction);
  }

  /** WebRTC: the client's DTLS parameters; plain (`recv`): where the server should send RTP. */
  async connectTransport(participantId: string, transportId: string, params: { dtlsParameters?: types.DtlsParameters; ip?: string; port?: number }): Promise<void> {
    return this.participant(participantId).connectTransport(transportId, params);
  }

  async restartIce(participantId: string, transportId: string): Promise<types.IceParameters> {
    return this.participant(participantId).restartIce(transportId);
  }

  async produce(participantId: string, transportId: string, kind: types.MediaKind, rtpParameters: types.RtpParameters): Promise<string> {
    const participant = this.participant(participantId);
    const producerId = await participant.produce(transportId, kind, rtpParameters);
    if (kind === 'audio') void this.routers.observeSpeaker(participant.slot, producerId);
    return producerId;
  }

  /** A consumer of another participant's producer (local or remote), paused until `resumeConsumer`. */
  async consume(participantId: string, transportId: string, producerId: string): Promise<ConsumerInfo> {
    const participant = this.participant(participantId);
    return participant.consume(transportId, producerId, async () => {
      const { slot, participantId: producerParticipantId } = await this.consumable(producerId);
      participant.assertCanConsume();
      return { idHere: await this.routers.pipe(slot, participant.slot, producerId), producerParticipantId };
    });
  }

  async resumeConsumer(participantId: string, consumerId: string): Promise<void> {
    await this.participant(participantId).setConsumerPaused(consumerId, false);
  }

  async pauseConsumer(participantId: string, consumerId: string): Promise<void> {
    await this.participant(participantId).setConsumerPaused(consumerId, true);
  }

  async setProducerPaused(participantId: string, producerId: string, paused: boolean): Promise<void> {
    await this.participant(participantId).setProducerPaused(producerId, paused);
  }

  /** A host's mute: pauses every audio producer of `participantId` on the server. */
  async muteAudio(participantId: string): Promise<string[]> {
    return this.participant(participantId).muteAudio();
  }

  closeProducer(participantId: string, producerId: string): void {
    this.participant(participantId).closeProducer(producerId);
  }

  /**
   * This node's end of the link to `peer` (made on first use). A peer is another media node
   * holding the same meeting; its node id is just a name here.
   */
  async linkEndpoint(peer: string): Promise<LinkEndpoint> {
    this.assertOpen();
    await this.recovery.homeMoved;
    this.assertOpen();
    return this.links.endpoint(peer);
  }

  /** Has the link to `peer` send to the peer's end. Asking again for the same address is harmless. */
  async connectLink(peer: string, ip: string, port: number): Promise<void> {
    this.assertOpen();
    return this.links.connect(peer, ip, port);
  }

  /** Sends a local participant's producer into the link to `peer`; answers what the peer needs for `pipeIn`. */
  async pipeOut(peer: string, producerId: string): Promise<PipedProducer> {
    this.assertOpen();
    return this.links.pipeOut(peer, producerId);
  }

  /** Produces a peer's producer on the link from it, with the same id (see MeetingLinks.pipeIn). */
  async pipeIn(peer: string, piped: PipedProducer): Promise<void> {
    this.assertOpen();
    return this.links.pipeIn(peer, piped);
  }

  /** Closes a remote producer (its producer at the peer is gone); unknown ids are ignored. */
  dropRemote(producerId: string): void {
    this.links.dropRemote(producerId);
  }

  /** Follows the pause of a remote producer at its node; unknown ids are ignored. */
  async setRemotePaused(producerId: string, paused: boolean): Promise<void> {
    return this.links.setRemotePaused(producerId, paused);
  }

  /** Closes the link to `peer`: what came through it and what was sent into it. */
  closeLink(peer: string): void {
    this.links.closeLink(peer);
  }

  /** The peers this meeting has a link to. */
  linkedPeers(): string[] {
    return this.links.peers();
  }

  /** The producers of everyone but `participantId`: what they may consume. */
  othersProducers(participantId: string): { participantId: string; producerId: string; kind: types.MediaKind }[] {
    const out: { participantId: string; producerId: string; kind: types.MediaKind }[] = [];
    for (const p of this.participants.values()) {
      if (p.id === participantId) continue;
      for (const producer of p.producerList()) out.push({ participantId: p.id, ...producer });
    }
    return out;
  }

  /** Stats of one of the participant's own objects (for tests, dashboards). */
  async stats(participantId: string, id: string): Promise<unknown[]> {
    return this.participant(participantId).stats(id);
  }

  /** Closes everything the participant owns (their consumers at others close with their producers). */
  leave(participantId: string): void {
    const participant = this.participants.get(participantId);
    if (!participant) return;
    participant.close();
    participant.slot.participants.delete(participantId);
    this.participants.delete(participantId);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.recovery.stop();
    this.routers.close();
    this.participants.clear();
    this.links.forgetAll();
    this.emit('closed');
  }

  private participant(participantId: string): ParticipantMedia {
    this.assertOpen();
    const participant = this.participants.get(participantId);
    if (!participant) throw new MediaError('not-joined', `${participantId} is not in meeting ${this.id}`);
    return participant;
  }

  private participantOwning(producerId: string): ParticipantMedia | undefined {
    for (const owner of this.participants.values()) if (owner.ownsProducer(producerId)) return owner;
    return undefined;
  }

  /** Where a local or remote producer is, and whose it is. */
  private async consumable(producerId: string): Promise<{ slot: RouterSlot; participantId: string }> {
    const owner = this.participantOwning(producerId);
    if (owner) return { slot: owner.slot, participantId: owner.id };
    return { slot: this.routers.home, participantId: await this.links.remoteOwner(producerId) };
  }

  private assertOpen(): void {
    if (this.closed) throw new MediaError('closed', `meeting ${this.id} has ended`);
  }
}
