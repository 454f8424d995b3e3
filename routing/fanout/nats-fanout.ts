// Fan-out between processes over NATS core subjects: the cluster-mode Fanout. Room actors
// publish each committed activity to its subjects; a gateway subscribes to a subject only
// while one of its sockets follows it, so NATS routes a room's traffic only to the gateways
// that want it (interest-based routing), and a gateway never filters other rooms' traffic.
import { connect, Events, type Msg, type NatsConnection, type NatsError, type Subscription } from 'nats';
import type { Activity } from '../../storage/records.ts';
import type { Fanout, FanoutMessage } from './fanout.ts';

/** The logging the fan-out needs; a Moleculer or pino logger fits. */
export interface FanoutLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface NatsFanoutOptions {
  /** e.g. nats://127.0.0.1:4222, or several servers of one NATS cluster. */
  servers: string | string[];
  logger: FanoutLogger;
  /** The connection's name in NATS monitoring (default `squared-fanout`). */
  name?: string;
  /** Reconnection backoff: the first pause, doubling up to the last (default 250 ms .. 5 s); it never gives up. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** How long `create` waits for the first connection before failing (default 5 s). */
  connectTimeoutMs?: number;
  /** How long `close` lets the drain run before closing hard (default 5 s). */
  drainTimeoutMs?: number;
  /** At most one warning about dropped publishes per interval (default 30 s). */
  warnIntervalMs?: number;
  /** Hears every lost connection and asynchronous server error, e.g. to count it. */
  onError?: () => void;
}

const SAFE_TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * A NATS subject token for any string: itself when it only has base64url characters (every
 * Squared id does), otherwise `~` + base64url of its UTF-8, which cannot clash with a plain
 * token (`~` is not base64url) and cannot contain `.`, `*`, `>` or whitespace.
 */
export function subjectToken(value: string): string {
  return SAFE_TOKEN.test(value) ? value : `~${Buffer.from(value, 'utf8').toString('base64url')}`;
}

/** `room:<roomId>` → `squared.room.<roomId>`, `person:<personId>` → `squared.person.<personId>`. */
export function subjectOf(topic: string): string {
  const colon = topic.indexOf(':');
  if (colon < 0) return `squared.${subjectToken(topic)}`;
  return `squared.${subjectToken(topic.slice(0, colon))}.${subjectToken(topic.slice(colon + 1))}`;
}

interface Topic {
  subscription: Subscription;
  listeners: Set<(message: FanoutMessage) => void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Fanout on NATS core: at-most-once, and in publish order per subject for one publisher
 * (one connection per process keeps that order). `publish` never throws: while NATS is
 * unreachable activities are dropped (counted, with at most one warning per interval) and
 * gateways heal the gaps from the activity log; the connection reconnects forever with
 * backoff and NATS restores the subscriptions.
 */
export class NatsFanout implements Fanout {
  private readonly nc: NatsConnection;
  private readonly logger: FanoutLogger;
  private readonly warnIntervalMs: number;
  private readonly drainTimeoutMs: number;
  private readonly topics = new Map<string, Topic>();
  private readonly resumedListeners = new Set<() => void>();
  private readonly onError: () => void;

  private connected = true;
  private closing: Promise<void> | undefined;
  private dropped = 0;
  private droppedSinceWarning = 0;
  private droppedSinceConnected = 0;
  private lastWarnMs = Number.NEGATIVE_INFINITY;

  /** Connects (failing when no server answers within connectTimeoutMs); later outages are reconnected forever. */
  static async create(options: NatsFanoutOptions): Promise<NatsFanout> {
    const backoff = new Backoff(options.reconnectMinMs ?? 250, options.reconnectMaxMs ?? 5000);
    const nc = await connect({
      servers: options.servers,
      name: options.name ?? 'squared-fanout',
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectDelayHandler: () => backoff.next(),
      timeout: options.connectTimeoutMs ?? 5000,
      // Stale connections are noticed after about 2 × 20 s without a PONG.
      pingInterval: 20_000,
      maxPingOut: 2,
    });
    return new NatsFanout(nc, options, backoff);
  }

  constructor(nc: NatsConnection, options: Pick<NatsFanoutOptions, 'logger' | 'drainTimeoutMs' | 'warnIntervalMs' | 'onError'>, backoff?: Backoff) {
    this.nc = nc;
    this.onError = options.onError ?? (() => undefined);
    this.logger = options.logger;
    this.warnIntervalMs = options.warnIntervalMs ?? 30_000;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 5000;
    // The first connection's dial loop started the outage clock: start the next outage afresh.
    backoff?.reset();
    void this.watchStatus(backoff);
    void nc.closed().then((err) => {
      this.connected = false;
      if (err && !this.closing) this.logger.error({ err: err.message }, 'NATS fan-out connection closed for good: activities are no longer delivered');
    });
  }

  /** Whether the connection is up now (its status events: no round trip). */
  reachable(): boolean {
    return this.connected && !this.closing;
  }

  publish(topic: string, message: FanoutMessage): void {
    if (this.closing) return;
    if (!this.connected) {
      this.drop(undefined);
      return;
    }
    try {
      this.nc.publish(subjectOf(topic), encoder.encode(JSON.stringify(message)));
    } catch (err) {
      this.drop(err);
    }
  }

  subscribe<T extends FanoutMessage = Activity>(topic: string, typed: (message: T) => void): () => void {
    const listener = typed as (message: FanoutMessage) => void;
    if (this.closing) return () => {};
    let entry = this.topics.get(topic);
    if (!entry) {
      const listeners = new Set<(message: FanoutMessage) => void>();
      let subscription: Subscription;
      try {
        subscription = this.nc.subscribe(subjectOf(topic), { callback: (err, msg) => this.deliver(topic, listeners, err, msg) });
      } catch (err) {
        // Only a connection closed for good refuses a subscription (and that was logged as an error).
        this.logger.warn({ topic, err: (err as Error).message }, 'NATS fan-out: cannot subscribe');
        return () => {};
      }
      entry = { subscription, listeners };
      this.topics.set(topic, entry);
    }
    const own = entry;
    own.listeners.add(listener);
    return () => {
      own.listeners.delete(listener);
      if (own.listeners.size === 0 && this.topics.get(topic) === own) {
        this.topics.delete(topic);
        try {
          own.subscription.unsubscribe();
        } catch {
          // already closed: nothing left to stop
        }
      }
    };
  }

  /** Resolves once the server has processed everything sent so far (subscriptions included). */
  async flush(): Promise<void> {
    await this.nc.flush();
  }

  stats(): { connected: boolean; subscriptions: number; inMsgs: number; outMsgs: number; dropped: number } {
    const { inMsgs, outMsgs } = this.nc.stats();
    return { connected: this.connected, subscriptions: this.topics.size, inMsgs, outMsgs, dropped: this.dropped };
  }

  /** Drains: messages already received are delivered and publishes flushed, then the connection closes. */
  onResumed(listener: () => void): () => void {
    this.resumedListeners.add(listener);
    return () => this.resumedListeners.delete(listener);
  }

  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  private async drain(): Promise<void> {
    if (this.nc.isClosed()) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.drainTimeoutMs);
    });
    try {
      const outcome = await Promise.race([this.nc.drain().then(() => 'drained' as const), timedOut]);
      if (outcome === 'timeout') this.logger.warn({ timeoutMs: this.drainTimeoutMs }, 'NATS fan-out drain timed out: closing');
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'NATS fan-out drain failed: closing');
    } finally {
      clearTimeout(timer);
      this.topics.clear();
      if (!this.nc.isClosed()) await this.nc.close();
    }
  }

  private deliver(topic: string, listeners: Set<(message: FanoutMessage) => void>, err: NatsError | null, msg: Msg): void {
    if (err) {
      this.logger.warn({ topic, err: err.message }, 'NATS fan-out subscription error');
      return;
    }
    let message: FanoutMessage;
    try {
      message = JSON.parse(decoder.decode(msg.data)) as FanoutMessage;
    } catch (parseError) {
      this.logger.warn({ topic, err: (parseError as Error).message }, 'NATS fan-out: dropped a payload that is not JSON');
      return;
    }
    for (const listener of listeners) {
      try {
        listener(message);
      } catch (listenerError) {
        // One failing listener must not starve the others nor stop the subscription.
        this.logger.error({ topic, err: (listenerError as Error).message }, 'fan-out listener failed');
      }
    }
  }

  private drop(err: unknown): void {
    this.dropped++;
    this.droppedSinceWarning++;
    this.droppedSinceConnected++;
    const now = Date.now();
    if (now - this.lastWarnMs < this.warnIntervalMs) return;
    this.logger.warn(
      { err: err === undefined ? 'disconnected' : err instanceof Error ? err.message : String(err), dropped: this.droppedSinceWarning },
      'NATS fan-out: dropping activities (gateways heal the gaps from the log)',
    );
    this.lastWarnMs = now;
    this.droppedSinceWarning = 0;
  }

  private async watchStatus(backoff: Backoff | undefined): Promise<void> {
    for await (const status of this.nc.status()) {
      switch (status.type) {
        case Events.Disconnect:
          this.connected = false;
          this.onError();
          this.logger.warn({ server: status.data }, 'NATS fan-out disconnected: reconnecting');
          break;
        case Events.Reconnect:
          this.connected = true;
          backoff?.reset();
          this.logger.info({ server: status.data, droppedMeanwhile: this.droppedSinceConnected }, 'NATS fan-out reconnected');
          this.droppedSinceConnected = 0;
          for (const listener of this.resumedListeners) listener();
          break;
        case Events.Error:
          this.onError();
          this.logger.warn({ err: String(status.data) }, 'NATS fan-out: asynchronous server error');
          break;
        case Events.LDM:
          this.logger.info({ server: status.data }, 'NATS server entering lame duck mode: will move to another server');
          break;
        default:
          break;
      }
    }
  }
}

/**
 * Pauses between reconnection attempts, doubling from `minMs` to `maxMs` with ±20 % jitter.
 * nats.js asks for the pause on every pass of its dial loop (also while it waits), so the pause
 * is derived from how long the outage has lasted rather than from a count of calls: half the
 * outage so far, which makes attempts at about min, 2·min, 4·min, … after the disconnect.
 */
export class Backoff {
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly clock: () => number;
  private since: number | undefined;

  constructor(minMs: number, maxMs: number, clock: () => number = Date.now) {
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.clock = clock;
  }

  next(): number {
    const now = this.clock();
    this.since ??= now;
    const base = Math.min(this.maxMs, Math.max(this.minMs, (now - this.since) / 2));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  reset(): void {
    this.since = undefined;
  }
}
