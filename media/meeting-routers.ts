// The routers one meeting is spread over, on workers of the pool. A meeting starts on one
// router, the home. Past `participantsPerRouter` participants, newcomers go to a router on
// another worker, and a producer is piped (`pipeToRouter`) to each other router the first
// time someone there consumes it, so one meeting can outgrow one worker (one core).
// Active speaker detection runs on the home router, fed every audio producer (piped home
// when it is elsewhere).
import type { types } from 'mediasoup';
import { MEETING_CODECS } from './codecs.ts';
import type { MediaWorker, WorkerPool } from './worker-pool.ts';

/** A router of the meeting, on one worker. */
export interface RouterSlot {
  worker: MediaWorker;
  router: types.Router;
  participants: Set<string>;
  /** Producers of other routers piped here, by producer id (the same id on both sides). */
  piped: Map<string, Promise<types.Producer>>;
}

export class MeetingRouters {
  /** The first router is the home: active speaker detection and links to peers are there. */
  readonly slots: RouterSlot[] = [];
  private readonly meetingId: string;
  private readonly pool: WorkerPool;
  private readonly participantsPerRouter: number;
  private readonly onActiveSpeaker: (participantId: string) => void;
  private speakerObserver: types.ActiveSpeakerObserver | undefined;

  constructor(meetingId: string, pool: WorkerPool, participantsPerRouter: number, onActiveSpeaker: (participantId: string) => void) {
    this.meetingId = meetingId;
    this.pool = pool;
    this.participantsPerRouter = participantsPerRouter;
    this.onActiveSpeaker = onActiveSpeaker;
  }

  /** Makes the home router, on the least-loaded worker of the pool. */
  async openHome(): Promise<void> {
    this.slots.push(await this.newSlot(this.pool.leastLoaded()));
  }

  get home(): RouterSlot {
    return this.slots[0];
  }

  /** The router with room for one more; a router on another worker when all are full. */
  async slotForNewcomer(): Promise<RouterSlot> {
    const roomy = this.slots.find((slot) => slot.participants.size < this.participantsPerRouter);
    if (roomy) return roomy;
    const used = new Set(this.slots.map((slot) => slot.worker));
    const others = this.pool.workers().filter((w) => !used.has(w));
    const worker = others.length > 0 ? others.reduce((a, b) => (b.load < a.load ? b : a)) : this.pool.leastLoaded();
    const slot = await this.newSlot(worker);
    this.slots.push(slot);
    return slot;
  }

  /**
   * Makes `producerId` (on `from`) consumable on `to`, piping it once per router; answers its
   * id there. That is the same id unless both routers are on one worker (after a move, or
   * with more routers than workers), which cannot hold two producers of one id.
   */
  async pipe(from: RouterSlot, to: RouterSlot, producerId: string): Promise<string> {
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

  /**
   * Audio producers are observed on the home router (piped there if they are elsewhere).
   * The observer reads the ssrc-audio-level RTP header extension, which browsers send and
   * plain RTP tools usually do not.
   */
  async observeSpeaker(slot: RouterSlot, producerId: string): Promise<void> {
    try {
      const idAtHome = await this.pipe(slot, this.home, producerId);
      await this.speakerObserver?.addProducer({ producerId: idAtHome });
    } catch {
      // the producer or a router closed meanwhile: nothing to observe
    }
  }

  /**
   * `slot`'s router died with its worker, and with it `lostProducers`: their copies piped to
   * the other routers are closed (which closes the consumers of them there), and nothing
   * piped into `slot` is left.
   */
  dropPipedFrom(slot: RouterSlot, lostProducers: string[]): void {
    for (const other of this.slots) {
      if (other === slot) continue;
      for (const producerId of lostProducers) void other.piped.get(producerId)?.then((p) => p.close(), () => undefined);
    }
    slot.piped.clear();
  }

  /** Makes `slot`'s router again on `worker` (its own died); the home gets its speaker detection back. */
  async rebuild(slot: RouterSlot, worker: MediaWorker): Promise<void> {
    const home = slot === this.home;
    slot.router = await this.createRouter(worker);
    slot.worker = worker;
    if (home) await this.startSpeakerDetection(slot.router);
  }

  close(): void {
    for (const slot of this.slots) slot.router.close();
  }

  private async newSlot(worker: MediaWorker): Promise<RouterSlot> {
    const router = await this.createRouter(worker);
    const slot: RouterSlot = { worker, router, participants: new Set(), piped: new Map() };
    // Only the home has the observer: a second one elsewhere would be fed producers of the
    // home (piped there) that its router does not have.
    if (this.slots.length === 0) await this.startSpeakerDetection(router);
    return slot;
  }

  private createRouter(worker: MediaWorker): Promise<types.Router> {
    return worker.worker.createRouter({ mediaCodecs: MEETING_CODECS, appData: { meetingId: this.meetingId } });
  }

  private async startSpeakerDetection(router: types.Router): Promise<void> {
    this.speakerObserver = await router.createActiveSpeakerObserver({ interval: 300 });
    this.speakerObserver.on('dominantspeaker', ({ producer }) => {
      const participantId = producer.appData.participantId as string | undefined;
      if (participantId) this.onActiveSpeaker(participantId);
    });
  }
}
