// SessionCache on Redis, shared by every actor node of a cluster: an entry per token hash
// (with its TTL), a set of a person's entries, and a person's generation, changed together
// by Lua scripts so that a drop and a racing set cannot interleave.
//
// When Redis is unreachable or slow every operation answers within the client's timeout as
// if the cache were empty: `get` misses, `generation` refuses caching, `set` does nothing;
// authentication reads the people store instead. A `dropPerson` that fails is kept and
// replayed as soon as Redis is back, so an entry cached before the outage does not outlive
// a change of its person by more than the outage; entries expire after their TTL in any case.
// Keys of one script span several slots: a single Redis (with replicas), not Redis Cluster.
import { Redis } from 'ioredis';
import type { SessionCache } from '../interfaces.ts';
import { boundedClientOptions, closeRedis, waitReady, type RedisClientOptions } from './client.ts';
import { OutageLog, type OutageLogger } from './outage-log.ts';

export interface RedisSessionCacheOptions extends RedisClientOptions {
  logger: OutageLogger;
  /** Prepended to every key (default `squared:session:`). */
  keyPrefix?: string;
  warnIntervalMs?: number;
}

/** A person's generation outlives any read that could race it by far; then it may go. */
const GENERATION_TTL_SECONDS = 7 * 24 * 3600;

/** KEYS: entry, person's set, person's generation. ARGV: generation, value, ttl seconds. */
const SET_LUA = `
local current = tonumber(redis.call('GET', KEYS[3]) or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
local ttl = tonumber(ARGV[3])
redis.call('SET', KEYS[1], ARGV[2], 'EX', ttl)
redis.call('SADD', KEYS[2], KEYS[1])
if redis.call('TTL', KEYS[2]) < ttl then redis.call('EXPIRE', KEYS[2], ttl) end
return 1
`;

/** KEYS: person's set, person's generation. Entries are named by the set's members. */
const DROP_LUA = `
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ${GENERATION_TTL_SECONDS})
local entries = redis.call('SMEMBERS', KEYS[1])
for i = 1, #entries do redis.call('DEL', entries[i]) end
redis.call('DEL', KEYS[1])
return #entries
`;

interface WithScripts {
  squaredSessionSet(entry: string, set: string, generation: string, gen: string, value: string, ttl: string): Promise<number>;
  squaredSessionDrop(set: string, generation: string): Promise<number>;
}

export class RedisSessionCache implements SessionCache {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly outage: OutageLog;
  /** Drops that failed, replayed when Redis is back. */
  private readonly pendingDrops = new Set<string>();
  private replaying = false;

  static async create(options: RedisSessionCacheOptions): Promise<RedisSessionCache> {
    const redis = new Redis(options.url, boundedClientOptions(options, 'squared-sessions'));
    const cache = new RedisSessionCache(redis, options);
    if (!(await waitReady(redis, options.connectTimeoutMs ?? 2000))) cache.outage.failed(new Error('Redis not ready at start'), false);
    return cache;
  }

  private constructor(redis: Redis, options: RedisSessionCacheOptions) {
    this.redis = redis;
    this.prefix = options.keyPrefix ?? 'squared:session:';
    this.outage = new OutageLog(options.logger, options.warnIntervalMs ?? 30_000, {
      down: 'Redis session cache unavailable: authenticating from the people store until it is back',
      up: 'Redis session cache available again',
      countName: 'uncachedOperations',
    }, options.onError);
    redis.defineCommand('squaredSessionSet', { numberOfKeys: 3, lua: SET_LUA });
    redis.defineCommand('squaredSessionDrop', { numberOfKeys: 2, lua: DROP_LUA });
    redis.on('error', (err: Error) => this.outage.failed(err, false));
    redis.on('ready', () => void this.replayDrops());
  }

  /** Whether Redis is connected now (the client's own state: no command sent). */
  reachable(): boolean {
    return this.redis.status === 'ready';
  }

  async get(tokenHash: string): Promise<string | undefined> {
    return (await this.attempt(() => this.redis.get(this.entryKey(tokenHash)))) ?? undefined;
  }

  async generation(personId: string): Promise<number> {
    const value = await this.attempt(() => this.redis.get(this.generationKey(personId)));
    // Unknown (Redis failing): NaN matches no generation, so nothing is cached.
    return value === undefined ? Number.NaN : Number(value ?? 0);
  }

  async set(tokenHash: string, personId: string, generation: number, value: string, ttlSeconds: number): Promise<void> {
    const ttl = Math.floor(ttlSeconds);
    if (!Number.isFinite(generation) || ttl < 1 || this.pendingDrops.size > 0) return;
    await this.attempt(() => (this.redis as unknown as WithScripts).squaredSessionSet(
      this.entryKey(tokenHash), this.setKey(personId), this.generationKey(personId), String(generation), value, String(ttl)));
  }

  async dropPerson(personId: string): Promise<void> {
    const dropped = await this.attempt(() => (this.redis as unknown as WithScripts).squaredSessionDrop(this.setKey(personId), this.generationKey(personId)));
    if (dropped === undefined) this.pendingDrops.add(personId);
  }

  async close(): Promise<void> {
    await closeRedis(this.redis);
  }

  /** Runs a command; undefined when Redis failed (logged, throttled). */
  private async attempt<T>(command: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await command();
      this.outage.succeeded();
      if (this.pendingDrops.size > 0) void this.replayDrops();
      return result;
    } catch (err) {
      this.outage.failed(err, true);
      return undefined;
    }
  }

  /** Replays failed drops (a drop twice is harmless: one more generation). */
  private async replayDrops(): Promise<void> {
    if (this.replaying) return;
    this.replaying = true;
    try {
      for (const personId of [...this.pendingDrops]) {
        try {
          await (this.redis as unknown as WithScripts).squaredSessionDrop(this.setKey(personId), this.generationKey(personId));
        } catch {
          return; // still failing: the next success or reconnection tries again
        }
        this.pendingDrops.delete(personId);
      }
    } finally {
      this.replaying = false;
    }
  }

  private entryKey(tokenHash: string): string {
    return `${this.prefix}t:${tokenHash}`;
  }

  private setKey(personId: string): string {
    return `${this.prefix}p:${personId}`;
  }

  private generationKey(personId: string): string {
    return `${this.prefix}g:${personId}`;
  }
}
