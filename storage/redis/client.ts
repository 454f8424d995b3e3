// The Redis client Squared's Redis stores use: bounded in time whatever Redis does, since
// each store answers without Redis when it must (see each store for what that means).
import { Redis } from 'ioredis';

export interface RedisClientOptions {
  /** e.g. redis://127.0.0.1:6379 or redis://:password@host:6379/2 */
  url: string;
  /** The longest a command waits for Redis (default 250 ms). */
  timeoutMs?: number;
  /** How long connecting waits for the first connection before going on without it (default 2000 ms). */
  connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts (default 2000 ms; they never stop). */
  maxReconnectDelayMs?: number;
  /** Hears every failure (a command, a connection attempt), e.g. to count it. */
  onError?: () => void;
}

/**
 * Never queue a command while disconnected (fail at once instead), never wait on a reply
 * longer than `timeoutMs`, never resend a command after a reconnection (what it was for is
 * long answered), and reconnect forever.
 */
export function boundedClientOptions(options: Omit<RedisClientOptions, 'url'>, connectionName: string) {
  const maxDelay = options.maxReconnectDelayMs ?? 2000;
  return {
    enableOfflineQueue: false,
    commandTimeout: options.timeoutMs ?? 250,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 10), maxDelay),
    connectionName,
  };
}

/** Resolves whether `redis` became ready within `timeoutMs`; it goes on connecting either way. */
export async function waitReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    const onReady = () => done(true);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    };
    redis.on('ready', onReady);
  });
}

/** QUIT when connected (pending replies are read), else a hard disconnect. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // fall through to a hard disconnect
    }
  }
  redis.disconnect();
}
