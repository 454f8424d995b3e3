// Token buckets on Redis, shared by every gateway of a cluster. One Lua script reads,
// refills, takes and writes a bucket atomically on the Redis clock, so gateways with skewed
// clocks and concurrent requests for one key still agree; idle buckets expire on their own.
import { Redis } from 'ioredis';
import type { RateLimitStore } from '../interfaces.ts';
import { boundedClientOptions, closeRedis, waitReady, type RedisClientOptions } from './client.ts';
import { OutageLog, type OutageLogger } from './outage-log.ts';

export type RateLimitLogger = OutageLogger;

export interface RedisRateLimitOptions extends RedisClientOptions {
  logger: RateLimitLogger;
  /** Prepended to every bucket key (default `squared:ratelimit:`), to share a Redis with other uses. */
  keyPrefix?: string;
  /** At most one warning per interval while Redis is failing (default 30 s). */
  warnIntervalMs?: number;
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
  private readonly outage: OutageLog;
  private readonly ownsClient: boolean;

  /** Connects with the options that keep `take` bounded (`boundedClientOptions`). */
  static async create(options: RedisRateLimitOptions): Promise<RedisRateLimitStore> {
    const redis = new Redis(options.url, RedisRateLimitStore.clientOptions(options));
    const store = new RedisRateLimitStore(redis, { ...options, ownsClient: true });
    // Go on without it: takes fail open until it is reachable (the warning is shared with the connection errors).
    if (!(await waitReady(redis, options.connectTimeoutMs ?? 2000))) store.outage.failed(new Error('Redis not ready at start'), false);
    return store;
  }

  static clientOptions(options: Omit<RedisClientOptions, 'url'>) {
    return boundedClientOptions(options, 'squared-ratelimit');
  }

  /**
   * Uses `redis`, which should be created with `clientOptions` (an offline queue or no
   * command timeout would let `take` wait on an unreachable Redis).
   */
  constructor(redis: Redis, options: { logger: RateLimitLogger; keyPrefix?: string; warnIntervalMs?: number; ownsClient?: boolean; onError?: () => void }) {
    this.redis = redis;
    this.keyPrefix = options.keyPrefix ?? 'squared:ratelimit:';
    this.outage = new OutageLog(options.logger, options.warnIntervalMs ?? 30_000, {
      down: 'Redis rate limits unavailable: allowing requests without a limit (fail-open) until it is back',
      up: 'Redis rate limits available again',
      countName: 'uncheckedRequests',
    }, options.onError);
    this.ownsClient = options.ownsClient ?? false;
    this.redis.defineCommand('squaredRateLimitTake', { numberOfKeys: 1, lua: TAKE_LUA });
    // Without a listener ioredis prints every failed reconnection; route them to the throttled warning.
    this.redis.on('error', (err: Error) => this.outage.failed(err, false));
  }

  async take(key: string, burst: number, perSecond: number): Promise<TakeResult> {
    let reply: [number, number];
    try {
      reply = await (this.redis as unknown as WithTakeCommand).squaredRateLimitTake(this.keyPrefix + key, String(burst), String(perSecond));
    } catch (err) {
      this.outage.failed(err, true);
      return { allowed: true, retryAfterSeconds: 0 };
    }
    this.outage.succeeded();
    const [allowed, retry] = reply;
    if (allowed === 1) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: retry < 0 ? Number.POSITIVE_INFINITY : retry };
  }

  /** Whether Redis is connected now (the client's own state: no command sent). */
  reachable(): boolean {
    return this.redis.status === 'ready';
  }

  async close(): Promise<void> {
    if (this.ownsClient) await closeRedis(this.redis);
  }
}
