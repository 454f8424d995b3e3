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
// never loses it (at least once). A job in flight when the connection drops is requeued by the
// broker and redelivered.
//
// Connection loss: the queue reconnects with exponential backoff (jittered) and re-establishes
// its consumers (each first lets its in-flight handlers finish, so concurrency stays bounded);
// while disconnected `publish`, `consume` and `deadLetters` reject at once with a clear error,
// and every broker round trip is bounded by `operationTimeoutMs`.
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, GetMessage } from 'amqplib';
import type { DeadLetter, QueueOptions, WorkQueue } from '../interfaces.ts';

export interface QueueLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

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

export const ATTEMPT_HEADER = 'x-squared-attempt';
export const ATTEMPTS_HEADER = 'x-squared-attempts';
export const ERROR_HEADER = 'x-squared-error';

export const deadQueueName = (queue: string) => `${queue}.dead`;
export const delayQueueName = (queue: string, delayMs: number) => `${queue}.delay.${delayMs}`;
export const retryDelayMs = (options: QueueOptions, attempt: number) => Math.round(options.backoffMs * 2 ** (attempt - 1));

/** Longest error text kept in a dead letter's header (headers share the frame size limit). */
const MAX_ERROR_CHARS = 4000;

const silentLogger: QueueLogger = { info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return typeof err === 'string' ? err : JSON.stringify(err) ?? String(err);
}

function serializeJob(job: unknown): Buffer {
  const json = JSON.stringify(job);
  if (json === undefined) throw new TypeError('a job must be JSON-serializable (got undefined, a function or a symbol)');
  return Buffer.from(json, 'utf8');
}

function parseBody(content: Buffer): { ok: true; job: unknown } | { ok: false; raw: string } {
  const raw = content.toString('utf8');
  try {
    return { ok: true, job: JSON.parse(raw) };
  } catch {
    return { ok: false, raw };
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function addHeartbeat(url: string, seconds: number): string {
  try {
    const parsed = new URL(url);
    if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(seconds));
    return parsed.toString();
  } catch {
    return url;
  }
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid url)';
  }
}

interface QueueArgs {
  durable: true;
  arguments?: Record<string, unknown>;
}

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

  static mainArgs(): QueueArgs {
    return { durable: true };
  }

  static delayArgs(queue: string, delayMs: number): QueueArgs {
    return { durable: true, arguments: { 'x-message-ttl': delayMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue } };
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
    await this.send(queue, queue, RabbitWorkQueue.mainArgs(), body, {}, `publish to ${queue}`);
  }

  /** Republishes a failed job for its next attempt, into the delay queue of the failed attempt. */
  async scheduleRetry(queue: string, body: Buffer, failedAttempt: number, options: QueueOptions): Promise<void> {
    const delay = retryDelayMs(options, failedAttempt);
    await this.send(queue, delayQueueName(queue, delay), RabbitWorkQueue.delayArgs(queue, delay), body,
      { [ATTEMPT_HEADER]: failedAttempt + 1 }, `schedule the retry of a job of ${queue}`);
  }

  async sendToDead(queue: string, body: Buffer, attempts: number, error: string): Promise<void> {
    await this.send(queue, deadQueueName(queue), RabbitWorkQueue.mainArgs(), body,
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
    const model = this.requireModel(`read the dead letters of ${queue}`);
    const dead = deadQueueName(queue);
    const ch = await withTimeout(model.createChannel(), this.operationTimeoutMs, `RabbitMQ: no channel within ${this.operationTimeoutMs} ms`);
    ch.on('error', (err) => this.logger.warn(`RabbitMQ dead-letter reader channel error: ${errorText(err)}`));
    const out: DeadLetter[] = [];
    try {
      await withTimeout((async () => {
        await this.declare(ch, queue, dead, RabbitWorkQueue.mainArgs());
        while (out.length < max) {
          const msg: GetMessage | false = await ch.get(dead, { noAck: false });
          if (!msg) break;
          const headers = msg.properties.headers ?? {};
          const parsed = parseBody(msg.content);
          out.push({
            job: parsed.ok ? parsed.job : parsed.raw,
            attempts: Number(headers[ATTEMPTS_HEADER] ?? 0),
            error: String(headers[ERROR_HEADER] ?? ''),
          });
        }
      })(), this.operationTimeoutMs, `not answered within ${this.operationTimeoutMs} ms`);
    } catch (err) {
      throw new Error(`RabbitMQ: cannot read the dead letters of ${queue}: ${errorText(err)}`, { cause: err });
    } finally {
      try {
        ch.nackAll(true);
        await ch.close();
      } catch {
        // the channel is gone: the broker has requeued what it held
      }
    }
    return out;
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

interface Active {
  model: ChannelModel;
  ch: Channel;
  consumerTag: string | undefined;
  open: boolean;
}

class RabbitConsumer {
  private readonly owner: RabbitWorkQueue;
  private readonly queue: string;
  private readonly handler: (job: unknown, attempt: number) => Promise<void>;
  private readonly options: QueueOptions;
  private readonly inFlight = new Set<Promise<void>>();
  private active: Active | undefined;
  private restarting: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(owner: RabbitWorkQueue, queue: string, handler: (job: unknown, attempt: number) => Promise<void>, options: QueueOptions) {
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
      await this.owner.declare(ch, this.queue, this.queue, RabbitWorkQueue.mainArgs());
      await this.owner.declare(ch, this.queue, deadQueueName(this.queue), RabbitWorkQueue.mainArgs());
      const delays = new Set<number>();
      for (let attempt = 1; attempt < this.options.maxAttempts; attempt++) delays.add(retryDelayMs(this.options, attempt));
      for (const delay of delays) await this.owner.declare(ch, this.queue, delayQueueName(this.queue, delay), RabbitWorkQueue.delayArgs(this.queue, delay));
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
    const parsed = parseBody(msg.content);
    try {
      if (!parsed.ok) {
        await this.owner.sendToDead(this.queue, msg.content, attempt, 'the message body is not JSON');
      } else {
        try {
          await Promise.resolve().then(() => this.handler(parsed.job, attempt));
        } catch (err) {
          if (attempt >= this.options.maxAttempts) await this.owner.sendToDead(this.queue, msg.content, attempt, errorText(err));
          else await this.owner.scheduleRetry(this.queue, msg.content, attempt, this.options);
        }
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
