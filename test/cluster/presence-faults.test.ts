// Presence under faults (README, Presence), on a cluster of two gateways with a Redis of its
// own (restarting it disturbs no one else): (a) a gateway killed with SIGKILL — the devices
// on it lapse within the lease and their people go `unknown`, while a person with a device on
// the other gateway stays `active` with no frame at all (no flap); (b) Redis restarted empty
// — every lease is lost, and statuses come back from the gateways' heartbeats within one
// lease, with no crash, no flap of those still connected, and no one stuck `active` whose
// socket closed during the outage.
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { startLocalCluster, type LocalCluster } from '../../cluster/local-cluster.ts';
import { ApiClient } from '../../clients/api-client.ts';
import { dropClusterData } from '../../cluster/cluster-data.ts';
import { LiveClient, type Frame } from '../../clients/live-client.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { freePort, startRedis, stopRedis } from '../harness/redis-server.ts';
import { until } from '../harness/wait.ts';

const LEASE_MS = 3000;
/** Past the lease: the sweep (250 ms), the pace and the fan-out. */
const SLACK_MS = 1500;

if (process.env.SQUARED_TEST_MODE !== 'cluster') {
  test('presence fault tests need SQUARED_TEST_MODE=cluster and the engines (npm run engines:up)', { skip: !process.env.CI }, () => {
    assert.fail('cluster fault tests must run in CI');
  });
} else {
  describe('presence under faults', { timeout: 300_000 }, () => {
    let cluster: LocalCluster;
    let ca: Buffer;
    let admin: ApiClient;
    let redis: ChildProcess | undefined;
    let redisPort: number;
    const sockets: LiveClient[] = [];

    before(async () => {
      redisPort = await freePort();
      redis = await startRedis(redisPort);
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-presence-faults-'));
      cluster = await startLocalCluster({
        gateways: 2, actors: 1, dataDir, isolated: true,
        env: {
          SQUARED_LOG_LEVEL: process.env.SQUARED_TEST_LOG_LEVEL ?? 'warn', SQUARED_RATE_BURST: '100000', SQUARED_RATE_PER_SECOND: '100000',
          SQUARED_REDIS: `redis://127.0.0.1:${redisPort}`,
          SQUARED_PRESENCE_LEASE_MS: String(LEASE_MS), SQUARED_PRESENCE_IDLE_MS: '600000', SQUARED_PRESENCE_MIN_INTERVAL_MS: '300',
        },
      });
      ca = fs.readFileSync(path.join(dataDir, 'tls', 'cert.pem'));
      // REST through the gateway that is never killed.
      admin = new ApiClient(cluster.gateways()[1].url!, ca, JSON.parse(fs.readFileSync(path.join(dataDir, 'admin.json'), 'utf8')).token);
    });
    after(async () => {
      for (const socket of sockets) socket.close();
      admin?.close();
      await cluster?.stop();
      if (cluster) await dropClusterData(cluster.actors()[0].env);
      if (redis) await stopRedis(redis);
    });

    const connect = async (person: TestPerson, gateway: number) => {
      const client = await LiveClient.connect(cluster.gateways()[gateway].url!, ca, person.token);
      sockets.push(client);
      return client;
    };
    const statusOf = async (viewer: TestPerson, person: TestPerson) => {
      const got = await viewer.api.get(`/v1/people/${person.id}`);
      assert.equal(got.status, 200, got.text);
      return got.body.status as string | undefined;
    };
    const statusesSeen = (client: LiveClient, personId: string) => client.frames.filter((f) => f.type === 'presence' && f.personId === personId).map((f) => f.status);
    const isPresence = (personId: string, status: string) => (f: Frame) => f.type === 'presence' && f.personId === personId && f.status === status;

    test('(a) a gateway killed with SIGKILL: its devices lapse within the lease, the devices elsewhere do not flap', async () => {
      const [alice, bob, wanda] = await createPeople(admin, 'Alice Two Gateways', 'Bob Doomed Gateway', 'Wanda Watcher');
      const room = await alice.api.post('/v1/rooms', { title: 'presence faults' });
      for (const member of [bob, wanda]) assert.equal((await alice.api.post('/v1/memberships', { roomId: room.body.id, personId: member.id })).status, 200);
      await connect(alice, 0);
      await connect(alice, 1);
      await connect(bob, 0);
      const watcher = await connect(wanda, 1);
      await until(async () => (await statusOf(wanda, alice)) === 'active' && (await statusOf(wanda, bob)) === 'active', 10_000, 'both to show active');
      watcher.send({ type: 'presence.subscribe', personIds: [alice.id, bob.id] });
      await watcher.waitFor(isPresence(alice.id, 'active'));
      await watcher.waitFor(isPresence(bob.id, 'active'));

      const victim = cluster.gateways()[0];
      const killedAt = Date.now();
      await cluster.kill(victim, 'SIGKILL');
      try {
        await watcher.waitFor(isPresence(bob.id, 'unknown'), LEASE_MS + SLACK_MS + 5000);
        const lapsedAfter = Date.now() - killedAt;
        assert.ok(lapsedAfter <= LEASE_MS + SLACK_MS, `Bob went unknown ${lapsedAfter} ms after the kill (lease ${LEASE_MS} ms)`);
        assert.equal(await statusOf(wanda, bob), 'unknown');
        await sleep(LEASE_MS);
        assert.deepEqual(statusesSeen(watcher, alice.id), ['active'], 'Alice, still on the other gateway, never flapped');
        assert.equal(await statusOf(wanda, alice), 'active');
      } finally {
        await cluster.restart(victim);
      }
    });

    test('(b) Redis restarted empty: statuses recover from the heartbeats within one lease, no flap, nobody stuck active', async () => {
      const [alice, carol, dave, wanda] = await createPeople(admin, 'Alice Stays', 'Carol Leaves', 'Dave Clears', 'Wanda Again');
      const room = await alice.api.post('/v1/rooms', { title: 'presence redis' });
      for (const member of [carol, dave, wanda]) assert.equal((await alice.api.post('/v1/memberships', { roomId: room.body.id, personId: member.id })).status, 200);
      await connect(alice, 1);
      const carolSocket = await connect(carol, 1);
      await connect(dave, 1);
      const watcher = await connect(wanda, 1);
      await until(async () => (await statusOf(wanda, alice)) === 'active' && (await statusOf(wanda, carol)) === 'active', 10_000, 'both to show active');
      await until(async () => (await statusOf(wanda, dave)) === 'active', 10_000, 'Dave to show active');
      watcher.send({ type: 'presence.subscribe', personIds: [alice.id, carol.id, dave.id] });
      await watcher.waitFor(isPresence(alice.id, 'active'));
      await watcher.waitFor(isPresence(carol.id, 'active'));
      await watcher.waitFor(isPresence(dave.id, 'active'));

      await stopRedis(redis!);
      redis = undefined;
      // During the outage: Carol's socket closes (its release cannot reach Redis), and people
      // are still answered (without their presence, if it cannot be read), never a 5xx.
      carolSocket.close();
      await sleep(1000);
      const during = await wanda.api.get(`/v1/people/${alice.id}`);
      assert.equal(during.status, 200, during.text);
      redis = await startRedis(redisPort);
      const backAt = Date.now();
      // Dave's owner reads him at once (a clear of his status), most likely before his
      // gateway's next heartbeat wrote his lease again: he must not show offline meanwhile.
      assert.equal((await dave.api.delete('/v1/people/me/status')).status, 204);

      await until(async () => (await statusOf(wanda, alice)) === 'active', LEASE_MS + SLACK_MS, 'Alice to show active again from the heartbeats');
      await watcher.waitFor(isPresence(carol.id, 'unknown'), 2 * LEASE_MS + SLACK_MS);
      assert.ok(Date.now() - backAt <= 2 * LEASE_MS + SLACK_MS, `Carol unknown ${Date.now() - backAt} ms after Redis was back`);
      assert.equal(await statusOf(wanda, carol), 'unknown', 'nobody stuck active');
      await sleep(LEASE_MS);
      assert.deepEqual(statusesSeen(watcher, alice.id), ['active'], 'Alice, connected throughout, never flapped');
      assert.deepEqual(statusesSeen(watcher, dave.id), ['active'], 'nor Dave, read before his lease was written again');
      for (const node of cluster.nodes) assert.equal(node.child.exitCode, null, `${node.name} is still running`);
    });
  });
}
