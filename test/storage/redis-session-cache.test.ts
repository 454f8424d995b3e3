// RedisSessionCache: the SessionCache conformance suite on the shared Redis (SQUARED_REDIS),
// then its failure design on a redis-server of its own: without Redis every operation
// answers at once as an empty cache, and a person dropped during the outage is dropped in
// Redis as soon as it is back (so an entry cached before the outage cannot outlive it).
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisSessionCache } from '../../storage/redis/redis-session-cache.ts';
import { freePort, recordingLogger, startRedis, stopRedis, timed } from '../harness/redis-server.ts';
import { until } from '../harness/wait.ts';
import { sessionCacheConformance } from './session-cache.conformance.ts';
import { engineAddress } from '../harness/engine.ts';

const url = engineAddress('Redis session cache', 'SQUARED_REDIS', 'redis://127.0.0.1:6379', 'redis');

if (url) {
  describe('Redis session cache on the shared Redis', () => {
    const keyPrefix = `squared-test:${randomUUID()}:`;
    const logger = recordingLogger();
    let cache: RedisSessionCache;
    let raw: Redis;

    before(async () => {
      cache = await RedisSessionCache.create({ url, keyPrefix, logger });
      raw = new Redis(url);
    });
    after(async () => {
      const keys = await raw.keys(`${keyPrefix}*`);
      if (keys.length > 0) await raw.del(...keys);
      await Promise.all([cache.close(), raw.quit()]);
      assert.deepEqual(logger.lines.filter((l) => l.level === 'warn'), [], 'no warning while Redis is up');
    });

    sessionCacheConformance('redis', () => cache);

    test('entries and the person set live under the prefix with the entry TTL', async () => {
      await cache.set('tok', 'per', await cache.generation('per'), 'v', 30);
      const ttl = await raw.ttl(`${keyPrefix}t:tok`);
      assert.ok(ttl > 25 && ttl <= 30, `entry TTL ${ttl}`);
      assert.deepEqual(await raw.smembers(`${keyPrefix}p:per`), [`${keyPrefix}t:tok`]);
      assert.ok((await raw.ttl(`${keyPrefix}p:per`)) > 25);
    });
  });

  describe('Redis session cache when Redis goes away', () => {
    let port: number;
    let dir: string;
    let server: ChildProcess | undefined;
    let cache: RedisSessionCache;
    const logger = recordingLogger();

    before(async () => {
      port = await freePort();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-redis-'));
      server = await startRedis(port, dir);
      cache = await RedisSessionCache.create({ url: `redis://127.0.0.1:${port}`, logger, timeoutMs: 200, maxReconnectDelayMs: 200 });
    });
    after(async () => {
      await cache?.close();
      if (server) await stopRedis(server);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test('without Redis it answers at once as an empty cache, and a drop made meanwhile reaches Redis when it is back', async () => {
      const person = randomUUID();
      await cache.set('before', person, await cache.generation(person), 'cached before the outage', 60);
      assert.equal(await cache.get('before'), 'cached before the outage');

      // Redis goes down; its data (the entry above) survives on disk.
      await stopRedis(server!);
      server = undefined;
      await until(async () => (await cache.get('before')) === undefined, 5_000, 'the client to notice');
      const read = await timed(() => cache.get('before'));
      assert.equal(read.value, undefined, 'a failing get is a miss');
      assert.ok(read.ms < 1000, `answered in ${read.ms} ms`);
      assert.ok(Number.isNaN(await cache.generation(person)), 'an unknown generation caches nothing');
      await cache.set('during', person, 0, 'x', 60); // a no-op, not an error
      await cache.dropPerson(person); // the person changed during the outage: fails now, kept
      assert.ok(logger.lines.some((l) => l.level === 'warn'), 'the outage is logged');

      // Back with the old entry on disk: the kept drop must remove it.
      server = await startRedis(port, dir);
      await until(async () => (await cache.generation(person)) === 1, 10_000, 'the kept drop to reach Redis');
      assert.equal(await cache.get('before'), undefined, 'the entry cached before the outage is gone');
      assert.ok(logger.lines.some((l) => l.level === 'info' && l.msg.includes('available again')), 'the recovery is logged');
    });
  });
}
