// DeviceLeaseStore on Redis, shared by every presence actor of a cluster. Per person: a hash
// of their devices' leases (`l:<person>`, device → "expiresAt:lastActivity") whose key TTL
// is pushed forward by each renewal, so a person whose every gateway died leaves nothing
// after the lease; their last activity (`a:<person>`, kept 30 days); and a hash of the
// meetings they are in (`m:<person>`). A lapsed device inside a live hash is skipped on read
// and removed then.
//
// Times are the actor nodes' clocks (epoch ms), not Redis's: the nodes of a cluster are
// expected to keep time within a fraction of a lease. When Redis fails, every operation
// fails at once (the client's bounded options): the actor keeps what it showed and tries
// again, and the gateways' next heartbeats write the leases again once Redis is back.
import { Redis } from 'ioredis';
import { LAST_ACTIVITY_KEEP_MS, type DeviceLease, type DeviceLeaseStore, type DeviceReport } from '../presence-store.ts';
import { boundedClientOptions, closeRedis, waitReady, type RedisClientOptions } from './client.ts';
import { OutageLog, type OutageLogger } from './outage-log.ts';

export interface RedisDeviceLeasesOptions extends RedisClientOptions {
  logger: OutageLogger;
  /** Prepended to every key (default `squared:presence:`). */
  keyPrefix?: string;
}


/** KEYS: lease hash, last activity. ARGV: device, expiresAt, lastActivity, ttl ms, keep ms. */
const RENEW_LUA = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
local ttl = tonumber(ARGV[4])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[3]) > last then redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[5]) else redis.call('PEXPIRE', KEYS[2], ARGV[5]) end
return 1
`;

/** KEYS: meetings hash. ARGV: meeting, until, ttl ms. */
const MEETING_LUA = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local ttl = tonumber(ARGV[3])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`;

interface WithScripts {
  squaredPresenceRenew(leases: string, last: string, device: string, expiresAt: string, lastActivity: string, ttl: string, keep: string): Promise<number>;
  squaredPresenceMeeting(meetings: string, meetingId: string, until: string, ttl: string): Promise<number>;
}

export class RedisDeviceLeases implements DeviceLeaseStore {
  private readonly redis: Redis;
  private readonly scripts: WithScripts;
  private readonly prefix: string;
  private readonly outage: OutageLog;
  /** When Redis last failed, lost the connection or was connected again (see lastFailureAt). */
  private failedAt = 0;
  private connectedBefore = false;

  static async create(options: RedisDeviceLeasesOptions): Promise<RedisDeviceLeases> {
    const redis = new Redis(options.url, boundedClientOptions(options, 'squared-presence'));
    const store = new RedisDeviceLeases(redis, options);
    if (!(await waitReady(redis, options.connectTimeoutMs ?? 2000))) store.outage.failed(new Error('Redis not ready at start'), false);
    return store;
  }

  private constructor(redis: Redis, options: RedisDeviceLeasesOptions) {
    this.redis = redis;
    this.scripts = redis as unknown as WithScripts;
    this.prefix = options.keyPrefix ?? 'squared:presence:';
    this.outage = new OutageLog(options.logger, 30_000, {
      down: 'Redis presence leases unavailable: statuses are kept as they were until it is back',
      up: 'Redis presence leases available again',
      countName: 'failedOperations',
    }, options.onError);
    redis.defineCommand('squaredPresenceRenew', { numberOfKeys: 2, lua: RENEW_LUA });
    redis.defineCommand('squaredPresenceMeeting', { numberOfKeys: 1, lua: MEETING_LUA });
    redis.on('error', (err: Error) => {
      this.failedAt = Date.now();
      this.outage.failed(err, false);
    });
    // A connection lost and made again may be to a Redis that restarted empty.
    redis.on('close', () => (this.failedAt = Date.now()));
    redis.on('ready', () => {
      if (this.connectedBefore) this.failedAt = Date.now();
      this.connectedBefore = true;
    });
  }

  lastFailureAt(): number {
    return this.failedAt;
  }

  /** Whether Redis is connected now (the client's own state: no command sent). */
  reachable(): boolean {
    return this.redis.status === 'ready';
  }

  async renew(devices: DeviceReport[], ttlMs: number): Promise<void> {
    if (devices.length === 0) return;
    const expiresAt = String(Date.now() + ttlMs);
    await this.attempt(async () => {
      const pipeline = this.redis.pipeline();
      for (const d of devices) {
        (pipeline as unknown as WithScripts).squaredPresenceRenew(this.leaseKey(d.personId), this.lastKey(d.personId), d.deviceId, expiresAt, String(d.lastActivity), String(ttlMs), String(LAST_ACTIVITY_KEEP_MS));
      }
      failed(await pipeline.exec());
    });
  }

  async release(personId: string, deviceId: string): Promise<void> {
    await this.attempt(() => this.redis.hdel(this.leaseKey(personId), deviceId));
  }

  async leasesOf(personIds: string[]): Promise<Map<string, DeviceLease[]>> {
    const found = new Map<string, DeviceLease[]>();
    if (personIds.length === 0) return found;
    const now = Date.now();
    const hashes = await this.attempt(async () => {
      const pipeline = this.redis.pipeline();
      for (const personId of personIds) pipeline.hgetall(this.leaseKey(personId));
      return failed(await pipeline.exec()) as Record<string, string>[];
    });
    const lapsed: [string, string][] = [];
    personIds.forEach((personId, i) => {
      const leases: DeviceLease[] = [];
      for (const [deviceId, value] of Object.entries(hashes[i] ?? {})) {
        const [expiresAt, lastActivity] = value.split(':').map(Number);
        if (expiresAt > now) leases.push({ personId, deviceId, lastActivity, expiresAt });
        else lapsed.push([personId, deviceId]);
      }
      found.set(personId, leases);
    });
    // Lapsed devices of a person still leased elsewhere: removed now, without waiting (a failure leaves them to the next read).
    if (lapsed.length > 0) {
      const pipeline = this.redis.pipeline();
      for (const [personId, deviceId] of lapsed) pipeline.hdel(this.leaseKey(personId), deviceId);
      pipeline.exec().catch(() => undefined);
    }
    return found;
  }

  async lastActivityOf(personIds: string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    if (personIds.length === 0) return found;
    const values = await this.attempt(() => this.redis.mget(personIds.map((id) => this.lastKey(id))));
    personIds.forEach((personId, i) => {
      if (values[i] !== null) found.set(personId, Number(values[i]));
    });
    return found;
  }

  async setMeeting(personId: string, meetingId: string, inMeeting: boolean, ttlMs: number): Promise<void> {
    const key = this.meetingKey(personId);
    await this.attempt(() => (inMeeting ? this.scripts.squaredPresenceMeeting(key, meetingId, String(Date.now() + ttlMs), String(ttlMs)) : this.redis.hdel(key, meetingId)));
  }

  async meetingsOf(personIds: string[]): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    if (personIds.length === 0) return found;
    const now = Date.now();
    const hashes = await this.attempt(async () => {
      const pipeline = this.redis.pipeline();
      for (const personId of personIds) pipeline.hgetall(this.meetingKey(personId));
      return failed(await pipeline.exec()) as Record<string, string>[];
    });
    personIds.forEach((personId, i) => {
      const meetings = Object.entries(hashes[i] ?? {}).filter(([, until]) => Number(until) > now).map(([meetingId]) => meetingId);
      if (meetings.length > 0) found.set(personId, meetings);
    });
    return found;
  }

  async close(): Promise<void> {
    await closeRedis(this.redis);
  }

  /** Runs commands; a failure is counted and logged (throttled), then thrown to the caller. */
  private async attempt<T>(command: () => Promise<T>): Promise<T> {
    try {
      const result = await command();
      this.outage.succeeded();
      return result;
    } catch (err) {
      this.failedAt = Date.now();
      this.outage.failed(err, true);
      throw err;
    }
  }

  private leaseKey(personId: string): string {
    return `${this.prefix}l:${personId}`;
  }

  private lastKey(personId: string): string {
    return `${this.prefix}a:${personId}`;
  }

  private meetingKey(personId: string): string {
    return `${this.prefix}m:${personId}`;
  }
}

/** A pipeline's results, or its first error thrown. */
function failed(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error('Redis pipeline aborted');
  for (const [err] of results) if (err) throw err;
  return results.map(([, value]) => value);
}
