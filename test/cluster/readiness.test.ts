// /ready follows the engines a node uses (cluster pass only). The cluster here has a Redis
// and a NATS of its own (the shared engines are never stopped). With Redis stopped, a
// gateway (its rate limits are on Redis, and fail open) still serves: /ready is 200
// `degraded` naming redis, and an actors node (its session cache and password throttle)
// shows squared_engine_up{engine="redis"} 0 and counts Redis errors. With NATS stopped a
// gateway cannot reach any actor: /ready is 503 naming nats. Each engine back: 200 `ready`.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { ApiClient, type ApiResponse } from '../../clients/api-client.ts';
import { dropClusterData } from '../../cluster/cluster-data.ts';
import { startLocalCluster, type LocalCluster } from '../../cluster/local-cluster.ts';
import { metricsUrlOf, scrape, valueOf } from '../harness/metrics.ts';
import { startNats, stopNats } from '../harness/nats-server.ts';
import { freePort, startRedis, stopRedis } from '../harness/redis-server.ts';
import type { ChildProcess } from 'node:child_process';

/** /ready reads cached state: it must follow an engine within a few seconds (Redis reconnects at most 2 s apart). */
const FOLLOW_BOUND_MS = 8000;

if (process.env.SQUARED_TEST_MODE !== 'cluster') {
  test('readiness tests need SQUARED_TEST_MODE=cluster and the engines (npm run engines:up)', { skip: !process.env.CI }, () => {
    assert.fail('readiness tests must run in CI');
  });
} else {
  describe('/ready and the engines', { timeout: 180_000 }, () => {
    let cluster: LocalCluster;
    let gateway: ApiClient;
    let actorMetrics: string;
    let redisPort: number;
    let natsPort: number;
    let redis: ChildProcess;
    let nats: ChildProcess;

    before(async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-readiness-'));
      [redisPort, natsPort] = [await freePort(), await freePort()];
      [redis, nats] = await Promise.all([startRedis(redisPort), startNats(natsPort)]);
      cluster = await startLocalCluster({
        gateways: 1, actors: 1, media: 0, dataDir, isolated: true,
        env: {
          SQUARED_LOG_LEVEL: process.env.SQUARED_TEST_LOG_LEVEL ?? 'error', SQUARED_METRICS_PORT: '0',
          SQUARED_REDIS: `redis://127.0.0.1:${redisPort}`, SQUARED_NATS: `nats://127.0.0.1:${natsPort}`,
        },
      });
      gateway = new ApiClient(cluster.gateways()[0].url!, fs.readFileSync(path.join(dataDir, 'tls', 'cert.pem')));
      actorMetrics = metricsUrlOf(cluster.actors()[0].output());
    });
    after(async () => {
      gateway?.close();
      await cluster?.stop();
      if (cluster) await dropClusterData(cluster.actors()[0].env);
      if (redis) await stopRedis(redis);
      if (nats) await stopNats(nats);
    });

    const ready = () => gateway.get('/ready', { token: null, unchecked: true });
    async function until(what: string, check: (response: ApiResponse) => boolean): Promise<{ response: ApiResponse; ms: number }> {
      const started = Date.now();
      for (;;) {
        const response = await ready();
        if (check(response)) return { response, ms: Date.now() - started };
        assert.ok(Date.now() - started < FOLLOW_BOUND_MS, `${what} within ${FOLLOW_BOUND_MS} ms; last: ${response.status} ${response.text}`);
        await sleep(100);
      }
    }

    test('Redis stopped: /ready is 200 degraded naming redis; Redis back: ready again', async (t) => {
      assert.equal((await ready()).status, 200, 'ready with every engine up');
      const errorsBefore = valueOf(await scrape(actorMetrics), 'squared_engine_errors_total', 'COUNTER', { engine: 'redis' });
      assert.equal(valueOf(await scrape(actorMetrics), 'squared_engine_up', 'GAUGE', { engine: 'redis' }), 1);
      await stopRedis(redis);
      try {
        const { response: down, ms } = await until('degraded after Redis stopped', (r) => r.body?.status === 'degraded');
        t.diagnostic(`/ready said degraded ${ms} ms after Redis stopped`);
        assert.equal(down.status, 200, 'a node that serves without Redis stays in service');
        assert.deepEqual(down.body.degradedEngines, ['redis']);
        assert.match(down.body.message, /redis/);
        await sleep(1500); // the gauge is sampled every second
        const actor = await scrape(actorMetrics);
        assert.equal(valueOf(actor, 'squared_engine_up', 'GAUGE', { engine: 'redis' }), 0, 'the actors node shows Redis down');
        assert.ok(valueOf(actor, 'squared_engine_errors_total', 'COUNTER', { engine: 'redis' }) > errorsBefore, 'and counts its errors');
      } finally {
        redis = await startRedis(redisPort);
      }
      const { response: up, ms } = await until('ready after Redis returned', (r) => r.body?.status === 'ready');
      t.diagnostic(`/ready turned 200 ${ms} ms after Redis was up`);
      assert.deepEqual(up.body, { status: 'ready' });
      await sleep(1500);
      assert.equal(valueOf(await scrape(actorMetrics), 'squared_engine_up', 'GAUGE', { engine: 'redis' }), 1, 'the actors node shows Redis back');
    });
    test('NATS stopped: /ready is 503 naming nats; NATS back: 200 again', async (t) => {
      assert.equal((await ready()).status, 200, 'ready with every engine up');
      await stopNats(nats);
      try {
        const { response: down, ms } = await until('503 after NATS stopped', (r) => r.status === 503);
        t.diagnostic(`/ready turned 503 ${ms} ms after NATS stopped`);
        assert.deepEqual(down.body.missingEngines, ['nats']);
        assert.match(down.body.message, /nats/);
        assert.equal(down.headers['retry-after'], '1');
      } finally {
        nats = await startNats(natsPort);
      }
      const { ms } = await until('200 after NATS returned', (r) => r.status === 200);
      t.diagnostic(`/ready turned 200 ${ms} ms after NATS was up`);
    });
  });
}
