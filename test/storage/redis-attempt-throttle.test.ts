// RedisAttemptThrottle: the AttemptThrottle conformance suite on the shared Redis
// (SQUARED_REDIS), then what only Redis has — the key prefix and expiry, and the failure
// design (fail open within a bounded time) on a dedicated redis-server this file starts and
// stops itself, so the shared one is never disturbed.
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisAttemptThrottle } from '../../storage/redis/redis-attempt-throttle.ts';
import { freePort, recordingLogger, startRedis, stopRedis as stop, timed } from '../harness/redis-server.ts';
import { until } from '../harness/wait.ts';
import { attemptThrottleConformance } from './attempt-throttle.conformance.ts';
import { engineAddress } from '../harness/engine.ts';

const url = engineAddress('Redis attempt throttle', 'SQUARED_REDIS', 'redis://127.0.0.1:6379', 'redis');
const policy = { freeAttempts: 2, lockMs: 30_000, maxLockMs: 60_000, forgetMs: 5_000 };

if (url) {
  describe('Redis attempt throttle on the shared Redis', () => {
    const keyPrefix = `squared-test:${randomUUID()}:`;
    const logger = recordingLogger();
    let throttle: RedisAttemptThrottle;
    let peer: RedisAttemptThrottle;
    let raw: Redis;

    before(async () => {
      throttle = await RedisAttemptThrottle.create({ url, keyPrefix, logger });
      peer = await RedisAttemptThrottle.create({ url, keyPrefix, logger });
      raw = new Redis(url);
    });

    after(async () => {
      const keys = await raw.keys(`${keyPrefix}*`);
      if (keys.length > 0) await raw.del(...keys);
      await Promise.all([throttle.close(), peer.close(), raw.quit()]);
      assert.deepEqual(logger.lines.filter((l) => l.level === 'warn'), [], 'no warning while Redis is up');
    });

    attemptThrottleConformance('redis', () => ({ throttle, peer }));

    test('a key lives under the prefix until it is forgotten, or its lock ends if later', async () => {
      await throttle.attempt('ttl', policy);
      const counting = await raw.pttl(`${keyPrefix}ttl`);
      assert.ok(counting > 4000 && counting <= 5000, `forgotten after forgetMs, PTTL ${counting}`);
      await throttle.attempt('ttl', policy);
      const locked = await raw.pttl(`${keyPrefix}ttl`);
      assert.ok(locked > 29_000 && locked <= 30_000, `kept for its lock, PTTL ${locked}`);
      assert.equal(await raw.exists('ttl'), 0, 'nothing outside the prefix');
    });
  });

  describe('Redis attempt throttle when Redis fails (a dedicated redis-server)', () => {
    let port: number;
    let server: ChildProcess | undefined;
    let throttle: RedisAttemptThrottle;
    const logger = recordingLogger();

    before(async () => {
      port = await freePort();
      server = await startRedis(port);
      throttle = await RedisAttemptThrottle.create({ url: `redis://127.0.0.1:${port}`, logger, timeoutMs: 250, warnIntervalMs: 60_000, maxReconnectDelayMs: 200 });
    });

    after(async () => {
      await throttle.close();
      if (server) await stop(server);
    });

    test('a stopped Redis: attempts pass at once, uncounted, with one warning; the throttle is back with Redis', async () => {
      await throttle.attempt('down', policy);
      await throttle.attempt('down', policy);
      assert.equal((await throttle.attempt('down', policy)).allowed, false);
      await stop(server!);
      server = undefined;
      for (let i = 0; i < 10; i++) {
        const { value, ms } = await timed(() => throttle.attempt('down', policy));
        assert.deepEqual(value, { allowed: true, retryAfterSeconds: 0 }, 'fail-open');
        assert.ok(ms < 1000, `attempt answered in ${ms.toFixed(0)} ms`);
      }
      const { ms } = await timed(() => Promise.all([throttle.clear('down'), throttle.refund('down', policy)]));
      assert.ok(ms < 1000, `clear and refund answered in ${ms.toFixed(0)} ms without Redis`);
      assert.equal(logger.lines.filter((l) => l.level === 'warn').length, 1);
      server = await startRedis(port);
      await until(async () => {
        const key = `back-${randomUUID()}`;
        await throttle.attempt(key, policy);
        await throttle.attempt(key, policy);
        return !(await throttle.attempt(key, policy)).allowed;
      }, 5000, 'locks enforced after Redis returns');
    });
  });
}
