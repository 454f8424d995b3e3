// The cluster work queue on RabbitMQ (AMQP 0-9-1 through amqplib; no plugins needed).
//
// Topology, per queue name Q (all durable, declared idempotently, on the default exchange):
//   Q              the work queue; jobs are persistent JSON messages, published on a
//                  ConfirmChannel with `mandatory` (an unroutable publish is an error, not a
//                  silent drop) and awaited until the broker confirms.
//   Q.delay.<ms>   one queue per retry delay, with `x-message-ttl: <ms>`,
//                  `x-dead-letter-exchange: ''` and `x-dead-letter-routing-key: Q`: a failed
//                  job is published here and flows back into Q when its TTL runs out. Every
//                  message of such a queue has the same TTL, so none waits behind a longer one;
//                  naming by delay (not by attempt) means a changed `backoffMs` declares new
//                  queues instead of clashing with the old arguments.
//   Q.dead         the dead letters: the job as published, with headers `x-squared-attempts`
//                  and `x-squared-error`.
// The attempt number travels in the `x-squared-attempt` header (absent = 1).
//
// Consuming: one channel per consumer, prefetch = concurrency, manual acks. A job whose handler
// throws is republished (confirmed) to the delay queue of attempt n — backoffMs * 2^(n-1) — or,
// at n = maxAttempts, to Q.dead, and only then acked: a crash in between duplicates the job,
// never loses it (at least once). A handler's DeferJobError republishes the job to the delay
// queue of the first retry with its attempt number unchanged (no attempt spent); a
// DeadLetterJobError sends it to Q.dead at once. A job in flight when the connection drops is
// requeued by the broker and redelivered; so is one whose channel the broker closes because
// its ack did not come within the broker's `consumer_timeout` (30 min by default) — and when
// such a handler finally fails, nothing is republished (the broker's copy is the job now;
// a retry too would fork it into two).
//
// Connection loss: the queue reconnects with exponential backoff (jittered) and re-establishes
// its consumers (each first lets its in-flight handlers finish, so concurrency stays bounded);
// while disconnected `publish`, `consume` and `deadLetters` reject at once with a clear error,
// and every broker round trip is bounded by `operationTimeoutMs`.
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, GetMessage } from 'amqplib';
import type { DeadLetter, QueueOptions, QueueStats, WorkQueue } from '../interfaces.ts';
import { addHeartbeat, errorText, redact, withTimeout } from './broker-calls.ts';
import { RabbitConsumer, type QueueLogger } from './consumer.ts';
import {
  ATTEMPT_HEADER, ATTEMPTS_HEADER, DEFERS_HEADER, ERROR_HEADER, MAX_ERROR_CHARS, deadQueueName, delayQueueArgs, delayQueueName, mainQueueArgs, parseJob,
  serializeJob, type QueueArgs,
} from './topology.ts';

export type { QueueLogger } from './consumer.ts';
export { deadQueueName, delayQueueName } from './topology.ts';

export interface RabbitWorkQueueOptions {
  /** e.g. amqp://guest:guest@127.0.0.1:5672 (a `heartbeat` query parameter is added when absent). */
  url: string;
  logger?: QueueLogger;
  /** Bound on each broker round trip: connect, declare, publish confirm, get (default 10 s). */
  operationTimeoutMs?: number;
  /** Reconnection delays: doubling from min to max, jittered (defaults 200 ms, 10 s). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** AMQP heartbeat, seconds (default 10): a dead peer is noticed within about twice that. */
  heartbeatSeconds?: number;
}

const silentLogger: QueueLogger = { info() {}, warn() {}, error() {} };

export class RabbitWorkQueue implements WorkQueue {
  readonly url: string;
  readonly logger: QueueLogger;
  readonly operationTimeoutMs: number;
  private readonly reconnectMinMs: number;
  private readonly reconnectMaxMs: number;
  private model: ChannelModel | undefined;
  private publisher: Promise<ConfirmChannel> | undefined;
  /** Queues declared on the current publisher channel. */
  private declaredOnPublisher = new Set<string>();
  /** Every queue name this instance declared, per work queue (for deleteQueues). */
  private readonly known = new Map<string, Set<string>>();
  private readonly returned = new Set<string>();
  private readonly consumers = new Set<RabbitConsumer>();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempt = 0;
  private closing = false;

  /** Use `create`, which connects. */
  constructor(options: RabbitWorkQueueOptions) {
    this.url = addHeartbeat(options.url, options.heartbeatSeconds ?? 10);
    this.logger = options.logger ?? silentLogger;
    this.operationTimeoutMs = options.operationTimeoutMs ?? 10_000;
    this.reconnectMinMs = options.reconnectMinMs ?? 200;
    this.reconnectMaxMs = options.reconnectMaxMs ?? 10_000;
  }

  static async create(options: RabbitWorkQueueOptions): Promise<RabbitWorkQueue> {
    const queue = new RabbitWorkQueue(options);
    await queue.connect();
    return queue;
  }

  /** Whether a connection is up right now. */
  get connected(): boolean {
    return this.model !== undefined;
  }

  // ---- connection management

  private async connect(): Promise<void> {
    const what = `RabbitMQ at ${redact(this.url)}`;
    let model: ChannelModel;
    try {
      model = await withTimeout(amqp.connect(this.url, { timeout: this.operationTimeoutMs }), this.operationTimeoutMs + 1000, `${what}: no connection within ${this.operationTimeoutMs} ms`);
    } catch (err) {
      throw new Error(`${what}: cannot connect: ${errorText(err)}`, { cause: err });
    }
    if (this.closing) {
      await model.close().catch(() => {});
      throw new Error('work queue is closed');
    }
    model.on('error', (err) => this.logger.warn(`${what}: connection error: ${errorText(err)}`));
    model.on('close', () => this.onConnectionLost(model));
    model.on('blocked', (reason) => this.logger.warn(`${what}: connection blocked by the broker (${reason}); publishes wait for it`));
    model.on('unblocked', () => this.logger.info(`${what}: connection unblocked`));
    this.model = model;
    this.publisher = undefined;
    this.declaredOnPublisher = new Set();
    for (const consumer of this.consumers) void consumer.restart();
  }

  private onConnectionLost(model: ChannelModel): void {
    if (this.model !== model) return;
    this.model = undefined;
    this.publisher = undefined;
    this.declaredOnPublisher = new Set();
    if (this.closing) return;
    this.logger.warn(`RabbitMQ at ${redact(this.url)}: connection lost; reconnecting`);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer) return;
    const base = Math.min(this.reconnectMaxMs, this.reconnectMinMs * 2 ** this.reconnectAttempt);
    const delay = Math.round(base * (0.5 + Math.random() / 2));
    this.reconnectAttempt++;
    this.reconnectTimer = setTimeout(async () => {
      this.reconnectTimer = undefined;
      if (this.closing || this.model) return;
      try {
        await this.connect();
        this.reconnectAttempt = 0;
        this.logger.info(`RabbitMQ at ${redact(this.url)}: reconnected`);
      } catch (err) {
        this.logger.warn(`RabbitMQ reconnection failed (retrying): ${errorText(err)}`);
        this.scheduleReconnect();
      }
    }, delay);
  }

  /** The live connection, or a clear error while there is none. */
  currentModel(): ChannelModel | undefined {
    return this.model;
  }

  private requireModel(action: string): ChannelModel {
    if (this.closing) throw new Error(`work queue is closed; cannot ${action}`);
    if (!this.model) throw new Error(`RabbitMQ at ${redact(this.url)} is not connected (reconnecting); cannot ${action}`);
    return this.model;
  }

  private getPublisher(action: string): Promise<ConfirmChannel> {
    const model = this.requireModel(action);
    if (!this.publisher) {
      const created = model.createConfirmChannel().then((ch) => {
        ch.on('error', (err) => this.logger.warn(`RabbitMQ publisher channel error: ${errorText(err)}`));
        ch.on('return', (msg: ConsumeMessage) => {
          if (msg.properties.messageId) this.returned.add(String(msg.properties.messageId));
        });
        ch.on('close', () => {
          if (this.publisher === created) {
            this.publisher = undefined;
            this.declaredOnPublisher = new Set();
          }
        });
        return ch;
      });
      created.catch(() => {
        if (this.publisher === created) this.publisher = undefined;
      });
      this.publisher = created;
    }
    return this.publisher;
  }

  private remember(queue: string, name: string): void {
    let names = this.known.get(queue);
    if (!names) this.known.set(queue, (names = new Set()));
    names.add(name);
  }

  /** Declares `name` (idempotent; arguments must match an existing queue's). */
  async declare(ch: Channel, queue: string, name: string, args: QueueArgs): Promise<void> {
    await ch.assertQueue(name, args);
    this.remember(queue, name);
  }

  /** Publishes `body` to queue `target` (declared first, once per channel) and waits for the broker's confirm. */
  private async send(queue: string, target: string, args: QueueArgs, body: Buffer, headers: Record<string, unknown>, action: string): Promise<void> {
    const work = (async () => {
      const ch = await this.getPublisher(action);
      if (!this.declaredOnPublisher.has(target)) {
        await this.declare(ch, queue, target, args);
        this.declaredOnPublisher.add(target);
      }
      const messageId = randomUUID();
      await new Promise<void>((resolve, reject) => {
        try {
          ch.sendToQueue(target, body, { persistent: true, mandatory: true, messageId, contentType: 'application/json', headers }, (err) => {
            if (err) reject(new Error(`the broker did not accept it: ${errorText(err)}`));
            else if (this.returned.delete(messageId)) reject(new Error(`unroutable: queue ${target} does not exist`));
            else resolve();
          });
        } catch (err) {
          reject(err);
        }
      });
    })();
    try {
      await withTimeout(work, this.operationTimeoutMs, `not confirmed by the broker within ${this.operationTimeoutMs} ms`);
    } catch (err) {
      const message = errorText(err);
      throw new Error(message.includes('cannot ') ? message : `RabbitMQ: cannot ${action}: ${message}`, { cause: err });
    }
  }

  // ---- WorkQueue

  async publish(queue: string, job: unknown): Promise<void> {
    const body = serializeJob(job);
    await this.send(queue, queue, mainQueueArgs(), body, {}, `publish to ${queue}`);
  }

  /** Republishes a job into the delay queue of `delayMs`, from which it flows back into the queue as attempt `attempt`. */
  async scheduleAgain(queue: string, body: Buffer, delayMs: number, attempt: number, defers: number): Promise<void> {
    const delay = Math.max(0, Math.round(delayMs));
    await this.send(queue, delayQueueName(queue, delay), delayQueueArgs(queue, delay), body,
      { [ATTEMPT_HEADER]: attempt, [DEFERS_HEADER]: defers }, `schedule the next delivery of a job of ${queue}`);
  }

  async sendToDead(queue: string, body: Buffer, attempts: number, error: string): Promise<void> {
    await this.send(queue, deadQueueName(queue), mainQueueArgs(), body,
      { [ATTEMPTS_HEADER]: attempts, [ERROR_HEADER]: error.slice(0, MAX_ERROR_CHARS) }, `dead-letter a job of ${queue}`);
  }

  async consume(queue: string, handler: (job: unknown, attempt: number) => Promise<void>, options: QueueOptions): Promise<() => Promise<void>> {
    if (!(options.maxAttempts >= 1) || !(options.concurrency >= 1) || !(options.backoffMs >= 0)) {
      throw new RangeError('QueueOptions: maxAttempts and concurrency must be >= 1, backoffMs >= 0');
    }
    const model = this.requireModel(`consume ${queue}`);
    const consumer = new RabbitConsumer(this, queue, handler, options);
    this.consumers.add(consumer);
    try {
      await withTimeout(consumer.start(model), this.operationTimeoutMs, `RabbitMQ: consumer of ${queue} not started within ${this.operationTimeoutMs} ms`);
    } catch (err) {
      this.consumers.delete(consumer);
      await consumer.stop();
      throw new Error(`RabbitMQ: cannot consume ${queue}: ${errorText(err)}`, { cause: err });
    }
    let stopping: Promise<void> | undefined;
    return () => {
      stopping ??= consumer.stop().finally(() => this.consumers.delete(consumer));
      return stopping;
    };
  }

  /**
   * Reads up to `max` dead letters, oldest first, without consuming them: on a channel of its
   * own, `basic.get` without ack until `max` messages are held (held messages are not given out
   * again, so each is read once), then `nack` all with requeue, which puts them back in their
   * original positions; if this process dies meanwhile the broker requeues them when the
   * channel goes. While a read is in progress, a concurrent reader sees fewer messages.
   */
  async deadLetters(queue: string, max: number): Promise<DeadLetter[]> {
    return this.onChannel(`read the dead letters of ${queue}`, async (ch) => {
      const dead = deadQueueName(queue);
      await this.declare(ch, queue, dead, mainQueueArgs());
      const out: DeadLetter[] = [];
      while (out.length < max) {
        const msg: GetMessage | false = await ch.get(dead, { noAck: false });
        if (!msg) break;
        const headers = msg.properties.headers ?? {};
        const parsed = parseJob(msg.content);
        out.push({ job: parsed.ok ? parsed.job : parsed.raw, attempts: Number(headers[ATTEMPTS_HEADER] ?? 0), error: String(headers[ERROR_HEADER] ?? '') });
      }
      return out;
    });
  }

  async stats(queue: string): Promise<QueueStats> {
    return this.onChannel(`count the jobs of ${queue}`, async (ch) => {
      // Declaring answers the counts, and creates nothing that consume() would not.
      const main = await ch.assertQueue(queue, mainQueueArgs());
      const dead = await ch.assertQueue(deadQueueName(queue), mainQueueArgs());
      return { ready: main.messageCount, dead: dead.messageCount };
    });
  }

  /**
   * Looks at up to `max` dead letters, oldest first: each job is confirmed in the queue before
   * its dead letter is acked (at least once). A letter that is not JSON (never written by
   * publish: someone put it there by hand) is skipped — held unacked, so it goes back to its
   * place when the channel closes, for a person to look at — and counted in a warning; the
   * letters behind it are still moved.
   */
  async requeueDeadLetters(queue: string, max: number): Promise<number> {
    return this.onChannel(`requeue the dead letters of ${queue}`, async (ch) => {
      const dead = deadQueueName(queue);
      await this.declare(ch, queue, dead, mainQueueArgs());
      let moved = 0;
      let skipped = 0;
      for (let seen = 0; seen < max; seen++) {
        const msg: GetMessage | false = await ch.get(dead, { noAck: false });
        if (!msg) break;
        const parsed = parseJob(msg.content);
        if (!parsed.ok) {
          skipped++;
          continue;
        }
        await this.publish(queue, parsed.job);
        ch.ack(msg);
        moved++;
      }
      if (skipped > 0) this.logger.warn(`RabbitMQ: ${skipped} dead letters of ${queue} are not JSON and were left in ${dead}`);
      return moved;
    });
  }

  /** Runs `work` on a channel of its own, bounded by the operation timeout; what it did not ack goes back. */
  private async onChannel<T>(action: string, work: (ch: Channel) => Promise<T>): Promise<T> {
    const model = this.requireModel(action);
    const ch = await withTimeout(model.createChannel(), this.operationTimeoutMs, `RabbitMQ: no channel within ${this.operationTimeoutMs} ms`);
    ch.on('error', (err) => this.logger.warn(`RabbitMQ channel error (${action}): ${errorText(err)}`));
    try {
      return await withTimeout(work(ch), this.operationTimeoutMs, `not answered within ${this.operationTimeoutMs} ms`);
    } catch (err) {
      throw new Error(`RabbitMQ: cannot ${action}: ${errorText(err)}`, { cause: err });
    } finally {
      try {
        ch.nackAll(true);
        await ch.close();
      } catch {
        // the channel is gone: the broker has requeued what it held
      }
    }
  }

  /** Deletes the queue, its dead-letter queue and every delay queue this instance declared for it (tests, ops). */
  async deleteQueues(queue: string): Promise<void> {
    const model = this.requireModel(`delete ${queue}`);
    const names = new Set([queue, deadQueueName(queue), ...(this.known.get(queue) ?? [])]);
    await withTimeout((async () => {
      const ch = await model.createChannel();
      ch.on('error', () => {});
      try {
        for (const name of names) await ch.deleteQueue(name);
      } finally {
        await ch.close().catch(() => {});
      }
    })(), this.operationTimeoutMs, `RabbitMQ: deleting the queues of ${queue} not answered within ${this.operationTimeoutMs} ms`);
    this.known.delete(queue);
    for (const name of names) this.declaredOnPublisher.delete(name);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    await Promise.all([...this.consumers].map((c) => c.stop()));
    this.consumers.clear();
    const model = this.model;
    this.model = undefined;
    this.publisher = undefined;
    if (model) await model.close().catch(() => {});
  }
}
