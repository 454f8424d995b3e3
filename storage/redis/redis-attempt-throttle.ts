// Counted attempts and their locks on Redis, shared by every actor node of a cluster: a hash
// per key {a: counted attempts, l: locked until (ms)}, read and written by Lua scripts on the
// Redis clock, so that concurrent attempts on several nodes count exactly and agree on the
// lock; a key expires when it would be forgotten.
//
// When Redis is unreachable or slow, `attempt` answers within the client's timeout and FAILS
// OPEN, as the rate limits do: the attempt is let through uncounted, and the outage is
// logged (at most one warning per interval). Failing closed would refuse every sign-in
// while the stores that hold the accounts are healthy; meanwhile a guess still costs a
// scrypt hash, and signed-in sessions never depend on this store.
import { Redis } from 'ioredis';
import type { AttemptPolicy, AttemptThrottle } from '../interfaces.ts';
import { boundedClientOptions, closeRedis, waitReady, type RedisClientOptions } from './client.ts';
import { OutageLog, type OutageLogger } from './outage-log.ts';

export interface RedisAttemptThrottleOptions extends RedisClientOptions {
  logger: OutageLogger;
  /** Prepended to every key (default `squared:attempts:`). */
  keyPrefix?: string;
  warnIntervalMs?: number;
}

const NOW_MS = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

/** KEYS[1] the key; ARGV free attempts, lock ms, max lock ms, forget ms. Returns {allowed, retry ms}. */
const ATTEMPT_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
${NOW_MS}
local free = tonumber(ARGV[1])
local lockMs = tonumber(ARGV[2])
local maxLock = tonumber(ARGV[3])
local forget = tonumber(ARGV[4])
local counted = redis.call('HMGET', KEYS[1], 'a', 'l')
local attempts = tonumber(counted[1]) or 0
local lockedUntil = tonumber(counted[2]) or 0
if lockedUntil > now then return {0, lockedUntil - now} end
attempts = attempts + 1
local lock = 0
if attempts >= free then lock = math.floor(math.min(maxLock, lockMs * 2 ^ math.min(attempts - free, 40))) end
lockedUntil = 0
if lock > 0 then lockedUntil = now + lock end
redis.call('HSET', KEYS[1], 'a', attempts, 'l', lockedUntil)
redis.call('PEXPIRE', KEYS[1], math.max(forget, lock, 1))
return {1, 0}
`;

/** KEYS[1] the key; ARGV free attempts. The key's expiry is kept. */
const REFUND_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local attempts = math.max(0, (tonumber(redis.call('HGET', KEYS[1], 'a')) or 0) - 1)
redis.call('HSET', KEYS[1], 'a', attempts)
if attempts < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'l', 0) end
return 1
`;

interface WithScripts {
  squaredAttempt(key: string, free: string, lockMs: string, maxLockMs: string, forgetMs: string): Promise<[number, number]>;
  squaredAttemptRefund(key: string, free: string): Promise<number>;
}

export class RedisAttemptThrottle implements AttemptThrottle {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly outage: OutageLog;

  static async create(options: RedisAttemptThrottleOptions): Promise<RedisAttemptThrottle> {
    const redis = new Redis(options.url, boundedClientOptions(options, 'squared-attempts'));
    const throttle = new RedisAttemptThrottle(redis, options);
    if (!(await waitReady(redis, options.connectTimeoutMs ?? 2000))) throttle.outage.failed(new Error('Redis not ready at start'), false);
    return throttle;
  }

  private constructor(redis: Redis, options: RedisAttemptThrottleOptions) {
    this.redis = redis;
    this.prefix = options.keyPrefix ?? 'squared:attempts:';
    this.outage = new OutageLog(options.logger, options.warnIntervalMs ?? 30_000, {
      down: 'Redis attempt throttle unavailable: letting password attempts through uncounted (fail-open) until it is back',
      up: 'Redis attempt throttle available again',
      countName: 'uncountedAttempts',
    }, options.onError);
    redis.defineCommand('squaredAttempt', { numberOfKeys: 1, lua: ATTEMPT_LUA });
    redis.defineCommand('squaredAttemptRefund', { numberOfKeys: 1, lua: REFUND_LUA });
    redis.on('error', (err: Error) => this.outage.failed(err, false));
  }

  /** Whether Redis is connected now (the client's own state: no command sent). */
  reachable(): boolean {
    return this.redis.status === 'ready';
  }

  async attempt(key: string, policy: AttemptPolicy): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
    let reply: [number, number];
    try {
      reply = await (this.redis as unknown as WithScripts).squaredAttempt(this.prefix + key,
        String(policy.freeAttempts), String(policy.lockMs), String(policy.maxLockMs), String(policy.forgetMs));
    } catch (err) {
      this.outage.failed(err, true);
      return { allowed: true, retryAfterSeconds: 0 };
    }
    this.outage.succeeded();
    const [allowed, retryMs] = reply;
    return allowed === 1 ? { allowed: true, retryAfterSeconds: 0 } : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(retryMs / 1000)) };
  }

  async refund(key: string, policy: AttemptPolicy): Promise<void> {
    await this.run(() => (this.redis as unknown as WithScripts).squaredAttemptRefund(this.prefix + key, String(policy.freeAttempts)));
  }

  async clear(key: string): Promise<void> {
    await this.run(() => this.redis.del(this.prefix + key));
  }

  async close(): Promise<void> {
    await closeRedis(this.redis);
  }

  private async run(command: () => Promise<unknown>): Promise<void> {
    try {
      await command();
      this.outage.succeeded();
    } catch (err) {
      this.outage.failed(err, false);
    }
  }
}
