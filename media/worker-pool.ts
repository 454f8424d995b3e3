// The mediasoup workers of a media node: one per core by default, each a native process.
// Meetings are placed on the least-loaded worker. A worker that dies is replaced (with a
// growing pause if replacements keep dying), and its death is announced so that its
// meetings can move; the Node process itself never goes down with a worker.
import { EventEmitter } from 'node:events';
import os from 'node:os';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';

export interface MediaLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WorkerPoolOptions {
  /** Workers to run (default: one per core). */
  size?: number;
  /** The UDP/TCP port range of the workers' transports. */
  rtcMinPort?: number;
  rtcMaxPort?: number;
  /** The worker binary (default: mediasoup's, see media/worker-build). */
  workerBin?: string;
  logger: MediaLogger;
}

/** A worker and what runs on it: the load is its consumers plus producers. */
export class MediaWorker {
  readonly worker: types.Worker;
  consumers = 0;
  producers = 0;
  routers = 0;

  constructor(worker: types.Worker) {
    this.worker = worker;
    // Counted from mediasoup's observer events, so nothing else has to report them.
    worker.observer.on('newrouter', (router) => {
      this.routers++;
      router.observer.once('close', () => this.routers--);
      router.observer.on('newtransport', (transport) => {
        transport.observer.on('newproducer', (producer) => {
          this.producers++;
          producer.observer.once('close', () => this.producers--);
        });
        transport.observer.on('newconsumer', (consumer) => {
          this.consumers++;
          consumer.observer.once('close', () => this.consumers--);
        });
      });
    });
  }

  get pid(): number {
    return this.worker.pid;
  }

  get load(): number {
    return this.consumers + this.producers;
  }
}

export class WorkerPool extends EventEmitter<{ workerDied: [MediaWorker, Error]; workerReplaced: [MediaWorker] }> {
  private readonly healthy = new Set<MediaWorker>();
  private readonly options: WorkerPoolOptions;
  private closed = false;
  /** Deaths in a row without a worker surviving a minute: the replacement backs off. */
  private recentDeaths = 0;

  private constructor(options: WorkerPoolOptions) {
    super();
    this.options = options;
  }

  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    const size = options.size ?? os.availableParallelism();
    await Promise.all(Array.from({ length: size }, () => pool.spawn()));
    options.logger.info({ workers: [...pool.healthy].map((w) => w.pid) }, 'media workers started');
    return pool;
  }

  workers(): MediaWorker[] {
    return [...this.healthy];
  }

  /** The healthy worker with the least load (ties: fewer routers), other than `except`. */
  leastLoaded(except?: MediaWorker): MediaWorker {
    let best: MediaWorker | undefined;
    for (const w of this.healthy) {
      if (w === except) continue;
      if (!best || w.load < best.load || (w.load === best.load && w.routers < best.routers)) best = w;
    }
    if (!best && except && this.healthy.has(except)) best = except;
    if (!best) throw new Error('no healthy media worker');
    return best;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.healthy) w.worker.close();
    this.healthy.clear();
  }

  private async spawn(): Promise<MediaWorker> {
    const worker = await mediasoup.createWorker({
      logLevel: 'warn',
      rtcMinPort: this.options.rtcMinPort,
      rtcMaxPort: this.options.rtcMaxPort,
      ...(this.options.workerBin ? { workerBin: this.options.workerBin } : {}),
    });
    const media = new MediaWorker(worker);
    this.healthy.add(media);
    const survived = setTimeout(() => (this.recentDeaths = 0), 60_000);
    survived.unref();
    worker.on('died', (error) => {
      clearTimeout(survived);
      this.healthy.delete(media);
      // A worker that exits with code 0 was stopped by a signal sent to the whole process
      // group (Ctrl-C in a terminal, a service manager stopping Squared) just before this
      // process closes it: not a crash. mediasoup says so only in the message.
      if (/code:0, signal:null/.test(error.message)) this.options.logger.info({ pid: worker.pid }, 'media worker exited');
      else this.options.logger.error({ pid: worker.pid, err: error.message }, 'media worker died');
      this.emit('workerDied', media, error);
      if (!this.closed) this.replace();
    });
    return media;
  }

  private replace(): void {
    const delayMs = Math.min(30_000, 100 * 2 ** this.recentDeaths++);
    setTimeout(() => {
      if (this.closed) return;
      this.spawn().then(
        (media) => {
          this.options.logger.info({ pid: media.pid }, 'media worker replaced');
          this.emit('workerReplaced', media);
        },
        (err: Error) => {
          this.options.logger.error({ err: err.message }, 'a media worker could not be started; retrying');
          this.replace();
        },
      );
    }, delayMs).unref();
  }
}
