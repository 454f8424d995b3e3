// RedisDeviceLeases: the DeviceLeaseStore conformance suite on the shared Redis (SQUARED_REDIS),
// its keys (under the prefix, with TTLs: nothing is left of a person whose devices lapsed),
// and its failure design: without Redis every operation fails at once, and it works again
// as soon as Redis is back.
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisDeviceLeases } from '../../storage/redis/redis-device-leases.ts';
import { freePort, recordingLogger, startRedis, stopRedis, timed } from '../harness/redis-server.ts';
import { until } from '../harness/wait.ts';
import { deviceLeaseConformance } from './presence-store.conformance.ts';
import { engineAddress } from '../harness/engine.ts';

const url = engineAddress('Redis presence leases', 'SQUARED_REDIS', 'redis://127.0.0.1:6379', 'redis');

if (url) {
  describe('Redis presence leases on the shared Redis', () => {
    const keyPrefix = `squared-test:${randomUUID()}:`;
    const logger = recordingLogger();
    let store: RedisDeviceLeases;
    let raw: Redis;

    before(async () => {
      store = await RedisDeviceLeases.create({ url, keyPrefix, logger });
      raw = new Redis(url);
    });
    after(async () => {
      const keys = await raw.keys(`${keyPrefix}*`);
      if (keys.length > 0) await raw.del(...keys);
      await Promise.all([store.close(), raw.quit()]);
      assert.deepEqual(logger.lines.filter((l) => l.level === 'warn'), [], 'no warning while Redis is up');
    });

    deviceLeaseConformance('redis', async () => store);

    test('a person\'s leases are one key with the lease\'s TTL, gone when the devices lapse', async () => {
      await store.renew([{ personId: 'per', deviceId: 'd', lastActivity: 1 }], 800);
      const ttl = await raw.pttl(`${keyPrefix}l:per`);
      assert.ok(ttl > 0 && ttl <= 800, `lease key TTL ${ttl}`);
      await sleep(1000);
      assert.equal(await raw.exists(`${keyPrefix}l:per`), 0);
    });
  });

  describe('Redis presence leases when Redis goes away', () => {
    let port: number;
    let dir: string;
    let server: ChildProcess | undefined;
    let store: RedisDeviceLeases;
    const logger = recordingLogger();

    before(async () => {
      port = await freePort();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-redis-'));
      server = await startRedis(port, dir);
      store = await RedisDeviceLeases.create({ url: `redis://127.0.0.1:${port}`, logger, timeoutMs: 200, maxReconnectDelayMs: 200 });
    });
    after(async () => {
      await store?.close();
      if (server) await stopRedis(server);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test('without Redis every operation fails at once (never a made-up answer); back, it works', async () => {
      const person = randomUUID();
      await store.renew([{ personId: person, deviceId: 'd', lastActivity: 5 }], 60_000);
      await stopRedis(server!);
      server = undefined;
      await until(async () => !store.reachable(), 5_000, 'the client to notice');
      const read = await timed(() => store.leasesOf([person]).then(() => 'answered', () => 'failed'));
      assert.equal(read.value, 'failed', 'no lease list is made up: the actor keeps what it showed');
      assert.ok(read.ms < 1000, `failed in ${read.ms} ms`);
      await assert.rejects(store.renew([{ personId: person, deviceId: 'd', lastActivity: 6 }], 60_000));
      assert.ok(logger.lines.some((l) => l.level === 'warn'), 'the outage is logged');
      server = await startRedis(port, dir);
      await until(async () => store.reachable(), 10_000, 'the client to reconnect');
      await store.renew([{ personId: person, deviceId: 'd', lastActivity: 7 }], 60_000);
      assert.deepEqual((await store.leasesOf([person])).get(person)!.map((l) => l.lastActivity), [7]);
    });
  });
}
