// What a meeting does when a worker of the pool dies: each of its routers on that worker is
// made again on another worker. The participants who were on it lost their media objects,
// and `moved` tells the signaling layer to have them set up their transports again
// (renegotiate); the others only lose their consumers of the moved participants' media
// (`consumerClosed`, as the piped copies close). When the home router moves, the links to
// peer nodes died with it (`linksLost`). With no other worker alive (a pool of one), the
// move waits for the pool's replacement of the dead one.
import { EventEmitter } from 'node:events';
import { MediaError } from './media-error.ts';
import type { MeetingLinks } from './meeting-links.ts';
import type { MeetingRouters, RouterSlot } from './meeting-routers.ts';
import type { MeetingEvents } from './meeting-types.ts';
import type { ParticipantMedia } from './participant-media.ts';
import type { MediaWorker, WorkerPool } from './worker-pool.ts';

export type WorkerRecoveryEvents = Pick<MeetingEvents, 'moved' | 'moveFailed' | 'linksLost'>;

export interface RecoveredMeeting {
  id: string;
  pool: WorkerPool;
  routers: MeetingRouters;
  participants: ReadonlyMap<string, ParticipantMedia>;
  links: MeetingLinks;
}

export class WorkerRecovery extends EventEmitter<WorkerRecoveryEvents> {
  /** The move of the home router under way, if any: links wait for it before they use the home. */
  homeMoved: Promise<void> | undefined;
  private readonly meeting: RecoveredMeeting;
  private stopped = false;
  /** Aborted when the meeting closes: a move waiting for a replacement worker gives up. */
  private readonly stopping = new AbortController();

  constructor(meeting: RecoveredMeeting) {
    super();
    this.meeting = meeting;
  }

  start(): void {
    this.meeting.pool.on('workerDied', this.onWorkerDied);
  }

  stop(): void {
    this.stopped = true;
    this.meeting.pool.off('workerDied', this.onWorkerDied);
    this.stopping.abort();
  }

  private readonly onWorkerDied = (dead: MediaWorker): void => {
    if (this.stopped) return;
    const { routers } = this.meeting;
    for (const slot of routers.slots) {
      if (slot.worker !== dead) continue;
      const moved = this.move(slot).catch((err: unknown) => {
        if (!this.stopped) this.emit('moveFailed', { fromPid: dead.pid, error: err instanceof Error ? err : new Error(String(err)) });
      });
      if (slot === routers.home) this.homeMoved = moved;
    }
  };

  /** A worker died: its routers are made again elsewhere; their participants must renegotiate. */
  private async move(slot: RouterSlot): Promise<void> {
    const { pool, routers, participants, links } = this.meeting;
    const fromPid = slot.worker.pid;
    const participantIds = [...slot.participants];
    const lostProducers: string[] = [];
    for (const id of participantIds) lostProducers.push(...participants.get(id)!.forgetMedia());
    // Their media piped to the other routers is gone too: closing the pipe producers closes
    // the consumers of it there (`consumerClosed`).
    routers.dropPipedFrom(slot, lostProducers);
    // The links and what came through them were on the home router.
    const lostPeers = slot === routers.home ? links.forgetAll() : [];
    const worker = pool.workers().some((w) => w !== slot.worker) ? pool.leastLoaded(slot.worker) : await this.replacement();
    if (this.stopped) return;
    await routers.rebuild(slot, worker);
    if (lostPeers.length > 0) this.emit('linksLost', { peers: lostPeers });
    this.emit('moved', { fromPid, toPid: worker.pid, participantIds });
  }

  private replacement(): Promise<MediaWorker> {
    const { pool, id } = this.meeting;
    return new Promise((resolve, reject) => {
      const onReplaced = (worker: MediaWorker) => {
        this.stopping.signal.removeEventListener('abort', onStopped);
        resolve(worker);
      };
      const onStopped = () => {
        pool.off('workerReplaced', onReplaced);
        reject(new MediaError('closed', `meeting ${id} closed while waiting for a worker`));
      };
      pool.once('workerReplaced', onReplaced);
      this.stopping.signal.addEventListener('abort', onStopped, { once: true });
    });
  }
}
