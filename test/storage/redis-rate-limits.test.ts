// RedisRateLimitStore: the RateLimitStore conformance suite on the shared Redis
// (SQUARED_REDIS), then what only Redis has — key prefix and TTL, the script cache, and the
// failure design (fail open within a bounded time, reconnect) on a dedicated redis-server
// this file starts and stops itself, so the shared one is never disturbed.
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisRateLimitStore } from '../../storage/redis/redis-rate-limits.ts';
import { freePort, recordingLogger, startRedis, stopRedis as stop, timed } from '../harness/redis-server.ts';
import { until } from '../harness/wait.ts';
import { rateLimitConformance } from './rate-limit.conformance.ts';
import { engineAddress } from '../harness/engine.ts';

const url = engineAddress('Redis rate limits', 'SQUARED_REDIS', 'redis://127.0.0.1:6379', 'redis');

if (url) {
  describe('Redis rate limits on the shared Redis', () => {
    const keyPrefix = `squared-test:${randomUUID()}:`;
    const logger = recordingLogger();
    let store: RedisRateLimitStore;
    let peer: RedisRateLimitStore;
    let raw: Redis;

    before(async () => {
      store = await RedisRateLimitStore.create({ url, keyPrefix, logger });
      peer = await RedisRateLimitStore.create({ url, keyPrefix, logger });
      raw = new Redis(url);
    });

    after(async () => {
      const keys = await raw.keys(`${keyPrefix}*`);
      if (keys.length > 0) await raw.del(...keys);
      await Promise.all([store.close(), peer.close(), raw.quit()]);
      assert.deepEqual(logger.lines.filter((l) => l.level === 'warn'), [], 'no warning while Redis is up');
    });

    rateLimitConformance('redis', () => ({ store, peer }));

    test('buckets live under the prefix only until they would be full again', async () => {
      assert.equal((await store.take('ttl', 5, 1)).allowed, true);
      assert.equal((await store.take('ttl', 5, 1)).allowed, true);
      const tokens = Number(await raw.hget(`${keyPrefix}ttl`, 't'));
      assert.ok(tokens >= 3 && tokens < 3.1, `about 3 tokens left, got ${tokens}`);
      const ttl = await raw.pttl(`${keyPrefix}ttl`);
      assert.ok(ttl > 1500 && ttl <= 2000, `2 tokens at 1/s refill in 2 s, PTTL ${ttl}`);

      assert.equal((await store.take('idle', 2, 20)).allowed, true);
      assert.equal(await raw.exists(`${keyPrefix}idle`), 1);
      await sleep(150);
      assert.equal(await raw.exists(`${keyPrefix}idle`), 0, 'an idle bucket expires once full');
      assert.equal(await raw.exists('ttl'), 0, 'nothing outside the prefix');
    });

    test('the bucket is stamped with the Redis clock', async () => {
      assert.equal((await store.take('clock', 5, 1)).allowed, true);
      const [seconds, micros] = await raw.time();
      const redisNowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      const stamped = Number(await raw.hget(`${keyPrefix}clock`, 'u'));
      assert.ok(stamped <= redisNowMs && redisNowMs - stamped < 1000, `stamp ${stamped}, Redis now ${redisNowMs}`);
    });
  });

  describe('Redis rate limits when Redis fails (a dedicated redis-server)', () => {
    let port: number;
    let server: ChildProcess | undefined;
    let store: RedisRateLimitStore;
    const logger = recordingLogger();
    const warnings = () => logger.lines.filter((l) => l.level === 'warn');

    before(async () => {
      port = await freePort();
      server = await startRedis(port);
      store = await RedisRateLimitStore.create({ url: `redis://127.0.0.1:${port}`, logger, timeoutMs: 250, warnIntervalMs: 60_000, maxReconnectDelayMs: 200 });
    });

    after(async () => {
      await store.close();
      if (server) await stop(server);
    });

    test('a flushed script cache is reloaded (EVALSHA falls back to EVAL)', async () => {
      const admin = new Redis(port, '127.0.0.1');
      try {
        assert.equal((await store.take('script', 3, 0.01)).allowed, true);
        await admin.script('FLUSH');
        assert.equal((await store.take('script', 3, 0.01)).allowed, true);
        assert.equal((await store.take('script', 3, 0.01)).allowed, true);
        assert.equal((await store.take('script', 3, 0.01)).allowed, false);
      } finally {
        await admin.quit();
      }
    });

    test('a stopped Redis: take answers allowed at once, one warning, and limits come back with Redis', async () => {
      assert.equal((await store.take('down', 1, 0.01)).allowed, true);
      assert.equal((await store.take('down', 1, 0.01)).allowed, false);

      await stop(server!);
      server = undefined;
      for (let i = 0; i < 20; i++) {
        const { value, ms } = await timed(() => store.take('down', 1, 0.01));
        assert.deepEqual(value, { allowed: true, retryAfterSeconds: 0 }, 'fail-open');
        assert.ok(ms < 1000, `take answered in ${ms.toFixed(0)} ms`);
      }
      const burst = await timed(() => Promise.all(Array.from({ length: 50 }, () => store.take('down', 1, 0.01))));
      assert.ok(burst.value.every((r) => r.allowed) && burst.ms < 1000, `50 concurrent takes answered in ${burst.ms.toFixed(0)} ms`);
      await sleep(500); // let reconnection attempts fail too
      assert.equal(warnings().length, 1, `one warning per interval, got ${JSON.stringify(warnings())}`);

      server = await startRedis(port);
      // A fresh server forgot the bucket: limits are back once a take is refused again.
      await until(async () => !(await store.take('back', 1, 0.01)).allowed, 5000, 'limits enforced after Redis returns');
      assert.equal(logger.lines.filter((l) => l.msg.includes('available again')).length, 1);
    });

    test('a Redis that stops answering (SIGSTOP): take answers allowed after the command timeout', async () => {
      assert.equal((await store.take('frozen', 1, 0.01)).allowed, true);
      server!.kill('SIGSTOP');
      try {
        const { value, ms } = await timed(() => store.take('frozen', 1, 0.01));
        assert.deepEqual(value, { allowed: true, retryAfterSeconds: 0 });
        assert.ok(ms >= 200 && ms < 1000, `answered after ${ms.toFixed(0)} ms (timeout 250 ms)`);
      } finally {
        server!.kill('SIGCONT');
      }
      await until(async () => !(await store.take('thawed', 1, 0.01)).allowed, 5000, 'limits enforced after Redis resumes');
    });

    test('create does not wait for an absent Redis longer than its connect timeout, and fails open', async () => {
      const absent = await freePort();
      const quiet = recordingLogger();
      const { value: lonely, ms } = await timed(() => RedisRateLimitStore.create({ url: `redis://127.0.0.1:${absent}`, logger: quiet, connectTimeoutMs: 300 }));
      try {
        assert.ok(ms < 1000, `create returned after ${ms.toFixed(0)} ms`);
        assert.deepEqual(await lonely.take('k', 1, 1), { allowed: true, retryAfterSeconds: 0 });
        assert.deepEqual(await lonely.take('k', 1, 1), { allowed: true, retryAfterSeconds: 0 });
        assert.equal(quiet.lines.filter((l) => l.level === 'warn').length, 1);
      } finally {
        await lonely.close();
      }
    });
  });
}
