// One consumer of a RabbitMQ work queue: its own channel with prefetch = concurrency, manual
// acks, a failed job republished for its next attempt (or dead-lettered) before it is acked,
// and a restart on the current connection once its in-flight jobs are done.
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { DeadLetterJobError, DeferJobError, type QueueOptions } from '../interfaces.ts';
import { errorText, sleep, withTimeout } from './broker-calls.ts';
import { deferDelayMs } from '../defer-backoff.ts';
import { ATTEMPT_HEADER, DEFERS_HEADER, deadQueueName, delayQueueArgs, delayQueueName, mainQueueArgs, parseJob, retryDelayMs, type QueueArgs } from './topology.ts';

export interface QueueLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** What a consumer needs of the work queue that owns it. */
export interface ConsumerHost {
  readonly logger: QueueLogger;
  readonly operationTimeoutMs: number;
  currentModel(): ChannelModel | undefined;
  declare(ch: Channel, queue: string, name: string, args: QueueArgs): Promise<void>;
  /** Puts the job back into the queue after `delayMs`, as attempt `attempt`. */
  scheduleAgain(queue: string, body: Buffer, delayMs: number, attempt: number, defers: number): Promise<void>;
  sendToDead(queue: string, body: Buffer, attempts: number, error: string): Promise<void>;
}

interface Active {
  model: ChannelModel;
  ch: Channel;
  consumerTag: string | undefined;
  open: boolean;
}

export class RabbitConsumer {
  private readonly owner: ConsumerHost;
  private readonly queue: string;
  private readonly handler: (job: unknown, attempt: number) => Promise<void>;
  private readonly options: QueueOptions;
  private readonly inFlight = new Set<Promise<void>>();
  private active: Active | undefined;
  private restarting: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(owner: ConsumerHost, queue: string, handler: (job: unknown, attempt: number) => Promise<void>, options: QueueOptions) {
    this.owner = owner;
    this.queue = queue;
    this.handler = handler;
    this.options = options;
  }

  /** Declares the topology on a channel of its own and starts consuming with prefetch = concurrency. */
  async start(model: ChannelModel): Promise<void> {
    const ch = await model.createChannel();
    const active: Active = { model, ch, consumerTag: undefined, open: true };
    ch.on('error', (err) => this.owner.logger.warn(`RabbitMQ consumer channel of ${this.queue}: ${errorText(err)}`));
    ch.on('close', () => {
      active.open = false;
      // A channel-level failure on a live connection: start again shortly. (On connection
      // loss, the reconnection restarts every consumer.)
      if (!this.stopped && this.active === active && this.owner.currentModel() === model) {
        clearTimeout(this.restartTimer);
        this.restartTimer = setTimeout(() => void this.restart(), 1000);
      }
    });
    try {
      await this.owner.declare(ch, this.queue, this.queue, mainQueueArgs());
      await this.owner.declare(ch, this.queue, deadQueueName(this.queue), mainQueueArgs());
      const delays = new Set<number>();
      for (let attempt = 1; attempt < this.options.maxAttempts; attempt++) delays.add(retryDelayMs(this.options, attempt));
      for (const delay of delays) await this.owner.declare(ch, this.queue, delayQueueName(this.queue, delay), delayQueueArgs(this.queue, delay));
      await ch.prefetch(this.options.concurrency);
      if (this.stopped) throw new Error('consumer stopped');
      this.active = active;
      const { consumerTag } = await ch.consume(this.queue, (msg) => this.onMessage(active, msg), { noAck: false });
      active.consumerTag = consumerTag;
    } catch (err) {
      if (this.active === active) this.active = undefined;
      await ch.close().catch(() => {});
      throw err;
    }
  }

  /** (Re)starts consuming on the current connection, once in-flight jobs are done; serialized. */
  restart(): Promise<void> {
    this.restarting ??= (async () => {
      while (!this.stopped) {
        const model = this.owner.currentModel();
        if (!model) return; // the reconnection calls again
        if (this.active?.open && this.active.model === model) return;
        while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
        if (this.stopped || this.owner.currentModel() !== model) continue;
        try {
          await withTimeout(this.start(model), this.owner.operationTimeoutMs, `not started within ${this.owner.operationTimeoutMs} ms`);
          return;
        } catch (err) {
          this.owner.logger.warn(`RabbitMQ: restarting the consumer of ${this.queue} failed (retrying): ${errorText(err)}`);
          await sleep(1000);
        }
      }
    })().finally(() => {
      this.restarting = undefined;
    });
    return this.restarting;
  }

  private onMessage(active: Active, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The broker cancelled the consumer (e.g. the queue was deleted).
      this.owner.logger.warn(`RabbitMQ cancelled the consumer of ${this.queue}`);
      if (!this.stopped) {
        active.open = false;
        void active.ch.close().catch(() => {});
      }
      return;
    }
    const work = this.handle(active, msg);
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async handle(active: Active, msg: ConsumeMessage): Promise<void> {
    const header = Number(msg.properties.headers?.[ATTEMPT_HEADER] ?? 1);
    const attempt = Number.isInteger(header) && header >= 1 ? header : 1;
    const deferred = Number(msg.properties.headers?.[DEFERS_HEADER] ?? 0);
    const defers = Number.isInteger(deferred) && deferred >= 0 ? deferred : 0;
    const parsed = parseJob(msg.content);
    try {
      if (!parsed.ok) {
        await this.owner.sendToDead(this.queue, msg.content, attempt, 'the message body is not JSON');
      } else {
        let failure: unknown;
        let failed = false;
        try {
          await Promise.resolve().then(() => this.handler(parsed.job, attempt));
        } catch (err) {
          failed = true;
          failure = err;
        }
        if (!active.open) {
          // The channel closed while the handler ran (the broker's delivery timeout, a channel
          // error, the connection lost): the broker has put the message back and gives it out
          // again — maybe already to another consumer. Republishing a retry now would fork the
          // job into two copies, and the ack cannot land: the broker's copy is the job now.
          this.owner.logger.warn(`RabbitMQ: the channel of a job of ${this.queue} closed while it was handled; the broker redelivers it`);
          return;
        }
        if (failed) await this.afterFailure(msg.content, attempt, defers, failure);
      }
    } catch (err) {
      // Could not republish: give the job back to the queue (after a pause, so a broker that
      // refuses publishes does not make this spin); it keeps its attempt number.
      this.owner.logger.error(`RabbitMQ: job of ${this.queue} requeued: ${errorText(err)}`);
      await sleep(Math.min(1000, Math.max(100, this.options.backoffMs)));
      try {
        active.ch.nack(msg, false, true);
      } catch {
        // channel gone: the broker requeues it
      }
      return;
    }
    try {
      active.ch.ack(msg);
    } catch {
      // channel gone: the broker requeues the job and it is delivered again (at least once)
    }
  }

  /** A deferral goes back with its attempt unspent; a failure is retried, or dead-lettered after the last attempt (or at once, when the handler says so). */
  private async afterFailure(body: Buffer, attempt: number, deferCount: number, err: unknown): Promise<void> {
    if (err instanceof DeferJobError) {
      const defers = deferCount + 1;
      await this.owner.scheduleAgain(this.queue, body, deferDelayMs(err.delayMs ?? retryDelayMs(this.options, 1), defers), attempt, defers);
    }
    else if (err instanceof DeadLetterJobError || attempt >= this.options.maxAttempts) await this.owner.sendToDead(this.queue, body, attempt, errorText(err));
    else await this.owner.scheduleAgain(this.queue, body, retryDelayMs(this.options, attempt), attempt + 1, deferCount);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const active = this.active;
    if (active?.open && active.consumerTag) {
      try {
        await withTimeout(active.ch.cancel(active.consumerTag), this.owner.operationTimeoutMs, 'cancel timed out');
      } catch {
        // channel or connection gone: nothing more will be delivered on it
      }
    }
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    if (this.restarting) await this.restarting.catch(() => {});
    if (this.active?.open) await this.active.ch.close().catch(() => {});
    this.active = undefined;
  }
}
