// Token buckets on Redis, shared by every gateway of a cluster. One Lua script reads,
// refills, takes and writes a bucket atomically on the Redis clock, so gateways with skewed
// clocks and concurrent requests for one key still agree; idle buckets expire on their own.
import { Redis } from 'ioredis';
import type { RateLimitStore } from '../interfaces.ts';

/** The logging this store needs; a Moleculer or pino logger fits. */
export interface RateLimitLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RedisRateLimitOptions {
  /** e.g. redis://127.0.0.1:6379 or redis://:password@host:6379/2 */
  url: string;
  logger: RateLimitLogger;
  /** Prepended to every bucket key (default `squared:ratelimit:`), to share a Redis with other uses. */
  keyPrefix?: string;
  /** The longest a `take` waits for Redis before answering without it (default 250 ms). */
  timeoutMs?: number;
  /** How long `create` waits for the first connection before going on without it (default 2000 ms). */
  connectTimeoutMs?: number;
  /** At most one warning per interval while Redis is failing (default 30 s). */
  warnIntervalMs?: number;
  /** Longest pause between reconnection attempts (default 2000 ms; they never stop). */
  maxReconnectDelayMs?: number;
}

export type TakeResult = { allowed: boolean; retryAfterSeconds: number };

/**
 * KEYS[1] the bucket; ARGV[1] burst, ARGV[2] refill per second. Returns {allowed, retryAfter},
 * retryAfter -1 meaning "never" (no refill). The bucket is a hash {t: tokens, u: updated ms}.
 * A missing bucket is a full one, so the key lives only until the bucket would be full again:
 * expiring it then changes nothing, and idle keys cost no memory.
 */
const TAKE_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local bucket = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(bucket[1])
local updated = tonumber(bucket[2])
if tokens == nil or updated == nil then
  tokens = burst
  updated = now
end
local elapsed = now - updated
if elapsed < 0 then elapsed = 0 end
if rate > 0 then tokens = tokens + elapsed / 1000 * rate end
if tokens > burst then tokens = burst end
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
elseif rate > 0 then
  retry = math.max(1, math.ceil((1 - tokens) / rate))
else
  retry = -1
end
redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'u', now)
local ttl = 86400000
if rate > 0 then ttl = math.min(ttl, math.ceil((burst - tokens) * 1000 / rate)) end
if ttl < 1 then ttl = 1 end
redis.call('PEXPIRE', KEYS[1], ttl)
return {allowed, retry}
`;

/** The script registered on the client with `defineCommand`: EVALSHA, with EVAL on NOSCRIPT. */
interface WithTakeCommand {
  squaredRateLimitTake(key: string, burst: string, perSecond: string): Promise<[number, number]>;
}

/**
 * RateLimitStore on Redis: the same token buckets as MemoryRateLimitStore (burst, refill per
 * second, retryAfterSeconds >= 1 rounded up), shared by all gateways.
 *
 * When Redis is unreachable or slow, `take` answers within `timeoutMs` and FAILS OPEN: it
 * allows the request. A rate limiter protects fairness and capacity, it guards no data: a
 * few seconds without limits cost at most some extra load, which the request timeouts, body
 * limits and the actors' own queues still bound. Failing closed would turn an outage of this
 * auxiliary cache into an outage of the whole API (every request refused or hung) while the
 * stores that hold the data are healthy. So the outage is logged (at most one warning per
 * interval, with the count of unchecked requests) and the client reconnects in the background.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly redis: Redis;
  private readonly keyPrefix: string;
  private readonly logger: RateLimitLogger;
  private readonly warnIntervalMs: number;
  private readonly ownsClient: boolean;

  /** Redis failed since the last successful take. */
  private failing = false;
  /** A warning was logged for the current outage. */
  private warned = false;
  private lastWarnMs = Number.NEGATIVE_INFINITY;
  /** Failures not logged because of the interval, since the last warning. */
  private suppressed = 0;
  /** Requests allowed without a check in the current outage. */
  private unchecked = 0;

  /** Connects with the options that keep `take` bounded (see `clientOptions`). */
  static async create(options: RedisRateLimitOptions): Promise<RedisRateLimitStore> {
    const redis = new Redis(options.url, RedisRateLimitStore.clientOptions(options));
    const store = new RedisRateLimitStore(redis, { ...options, ownsClient: true });
    await store.waitReady(options.connectTimeoutMs ?? 2000);
    return store;
  }

  /**
   * Client options for a rate limiter: never queue a command while disconnected (answer at
   * once instead), never wait on a reply longer than `timeoutMs`, never resend a take after a
   * reconnection (the request it was for is long answered), and reconnect forever.
   */
  static clientOptions(options: Pick<RedisRateLimitOptions, 'timeoutMs' | 'connectTimeoutMs' | 'maxReconnectDelayMs'>) {
    const maxDelay = options.maxReconnectDelayMs ?? 2000;
    return {
      enableOfflineQueue: false,
      commandTimeout: options.timeoutMs ?? 250,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: options.connectTimeoutMs ?? 2000,
      retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 10), maxDelay),
      connectionName: 'squared-ratelimit',
    };
  }

  /**
   * Uses `redis`, which should be created with `clientOptions` (an offline queue or no
   * command timeout would let `take` wait on an unreachable Redis).
   */
  constructor(redis: Redis, options: { logger: RateLimitLogger; keyPrefix?: string; warnIntervalMs?: number; ownsClient?: boolean }) {
    this.redis = redis;
    this.keyPrefix = options.keyPrefix ?? 'squared:ratelimit:';
    this.logger = options.logger;
    this.warnIntervalMs = options.warnIntervalMs ?? 30_000;
    this.ownsClient = options.ownsClient ?? false;
    this.redis.defineCommand('squaredRateLimitTake', { numberOfKeys: 1, lua: TAKE_LUA });
    // Without a listener ioredis prints every failed reconnection; route them to the throttled warning.
    this.redis.on('error', (err: Error) => this.failed(err, false));
  }

  async take(key: string, burst: number, perSecond: number): Promise<TakeResult> {
    let reply: [number, number];
    try {
      reply = await (this.redis as unknown as WithTakeCommand).squaredRateLimitTake(this.keyPrefix + key, String(burst), String(perSecond));
    } catch (err) {
      this.failed(err, true);
      return { allowed: true, retryAfterSeconds: 0 };
    }
    if (this.failing) this.recovered();
    const [allowed, retry] = reply;
    if (allowed === 1) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: retry < 0 ? Number.POSITIVE_INFINITY : retry };
  }

  async close(): Promise<void> {
    if (!this.ownsClient) return;
    if (this.redis.status === 'ready') {
      try {
        await this.redis.quit();
        return;
      } catch {
        // fall through to a hard disconnect
      }
    }
    this.redis.disconnect();
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    if (this.redis.status === 'ready') return;
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      const onReady = () => done(true);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.redis.off('ready', onReady);
        resolve(ok);
      };
      this.redis.on('ready', onReady);
    });
    // Go on without it: takes fail open until it is reachable (the warning is shared with the connection errors).
    if (!ready) this.failed(new Error(`Redis not ready within ${timeoutMs} ms`), false);
  }

  private failed(err: unknown, unchecked: boolean): void {
    this.failing = true;
    if (unchecked) this.unchecked++;
    const now = Date.now();
    if (now - this.lastWarnMs < this.warnIntervalMs) {
      this.suppressed++;
      return;
    }
    this.logger.warn(
      { err: err instanceof Error ? err.message : String(err), suppressedWarnings: this.suppressed, uncheckedRequests: this.unchecked },
      'Redis rate limits unavailable: allowing requests without a limit (fail-open) until it is back',
    );
    this.lastWarnMs = now;
    this.suppressed = 0;
    this.warned = true;
  }

  private recovered(): void {
    // Only an outage that was warned about is announced over: flapping stays at one line per interval.
    if (this.warned) this.logger.info({ uncheckedRequests: this.unchecked }, 'Redis rate limits available again');
    this.failing = false;
    this.warned = false;
    this.unchecked = 0;
  }
}
