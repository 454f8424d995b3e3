// Cluster fault tests on the real engines: during a steady storm of posts from several
// clients to several rooms through two gateways, (a) an actor node is killed with SIGKILL,
// (b) a gateway is killed with SIGKILL (its live clients reconnect to the other gateway
// and resume), (c) Redis is restarted, (d) an actor node and then a gateway are drained
// with SIGTERM and started again. Afterwards every live client has every accepted message
// exactly once, in per-room order with contiguous sequence numbers, and every accepted
// write is in Cassandra. A drain, unlike a kill, answers every request it took: no 5xx.
// After a kill, requests fail for less than FAILOVER_BOUND_MS (the fail-over window, and
// the 5xx it cost, are reported for each kill).
// (e) NATS, the transporter and the fan-out, is restarted: the nodes find each other again
// and live sessions catch up from the log what the fan-out lost.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, beforeEach, describe, test } from 'node:test';
import { startLocalCluster, type LocalCluster } from '../../cluster/local-cluster.ts';
import { ApiClient } from '../../clients/api-client.ts';
import { dropClusterData } from '../../cluster/cluster-data.ts';
import { LiveClient, type EventFrame } from '../../clients/live-client.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';

/**
 * After a node is killed, requests for what it owned must succeed again within this long:
 * its loss is seen by the NATS liveness probe (routing/node-liveness.ts) in about half a
 * second, not by a heartbeat timeout.
 */
const FAILOVER_BOUND_MS = 2000;

if (process.env.SQUARED_TEST_MODE !== 'cluster') {
  test('cluster fault tests need SQUARED_TEST_MODE=cluster and the engines (npm run engines:up)', { skip: !process.env.CI }, () => {
    assert.fail('cluster fault tests must run in CI');
  });
} else {
  describe('faults during a storm of posts', { timeout: 600_000 }, () => {
    let cluster: LocalCluster;
    let ca: Buffer;
    let adminToken: string;

    before(async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-faults-'));
      cluster = await startLocalCluster({
        gateways: 2, actors: 2, dataDir, isolated: true,
        // Sessions compare their rooms' heads every 2 s (a minute by default): a publication
        // lost with a killed node is then filled within the test's patience.
        env: { SQUARED_LOG_LEVEL: process.env.SQUARED_TEST_LOG_LEVEL ?? 'warn', SQUARED_RATE_BURST: '100000', SQUARED_RATE_PER_SECOND: '100000', SQUARED_LIVE_CHECK_SECONDS: '2' },
      });
      ca = fs.readFileSync(path.join(dataDir, 'tls', 'cert.pem'));
      adminToken = JSON.parse(fs.readFileSync(path.join(dataDir, 'admin.json'), 'utf8')).token;
    });
    after(async () => {
      await cluster?.stop();
      if (cluster) await dropClusterData(cluster.actors()[0].env);
    });

    const urls = () => cluster.gateways().map((g) => g.url!);
    let diagnostic: (message: string) => void = () => undefined;
    beforeEach((t) => {
      if ('diagnostic' in t) diagnostic = (message) => t.diagnostic(message);
    });

    test('npm run repl joins the cluster: its console lists every node and calls an action', async () => {
      const { SQUARED_NATS, SQUARED_NAMESPACE } = cluster.actors()[0].env;
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-repl-'));
      const repl = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'cluster/repl.ts'], {
        env: { ...process.env, SQUARED_NATS, SQUARED_NAMESPACE, HOME: home }, stdio: ['pipe', 'pipe', 'pipe'],
      });
      let output = '';
      repl.stdout.on('data', (chunk) => (output += chunk));
      repl.stderr.on('data', (chunk) => (output += chunk));
      const exited = new Promise<number | null>((resolve) => repl.once('exit', (code) => resolve(code)));
      try {
        const nodeIds = cluster.nodes.map((node) => node.env.SQUARED_NODE_ID);
        // Nodes are discovered a moment after the console connects: ask until all are listed.
        for (let i = 0; i < 30 && !nodeIds.every((id) => output.includes(id)); i++) {
          repl.stdin.write('nodes\n');
          await sleep(1000);
        }
        for (const id of nodeIds) assert.ok(output.includes(id), `${id} is listed: ${output.slice(-2000)}`);
        repl.stdin.write('call media.load\n');
        for (let i = 0; i < 20 && !/"meetings"|meetings:/.test(output); i++) await sleep(500);
        assert.match(output, /"meetings"|meetings:/, `media.load answered: ${output.slice(-2000)}`);
        repl.stdin.end();
        assert.equal(await Promise.race([exited, sleep(20_000).then(() => 'still running')]), 0, 'the console ends with its input');
      } finally {
        repl.kill('SIGKILL');
      }
    });

    test('(a) an actor node killed with SIGKILL: its rooms are served again within 2 s', async () => {
      try {
        const outcome = await storm(async () => {
          await cluster.kill(cluster.actors()[0], 'SIGKILL');
        });
        diagnostic(`fail-over window after the kill: ${outcome.failoverWindowMs} ms, ${outcome.serverErrors.length} answers 5xx`);
        assert.ok(outcome.failoverWindowMs < FAILOVER_BOUND_MS, `calls fail for ${outcome.failoverWindowMs} ms after the kill (bound ${FAILOVER_BOUND_MS} ms)`);
      } finally {
        // Started again whatever happened: the next tests need both actor nodes.
        await cluster.restart(cluster.actors()[0]);
      }
    });

    test('(b) a gateway killed with SIGKILL: its clients reconnect to the other and resume', async () => {
      const victim = cluster.gateways()[0];
      try {
        const outcome = await storm(async () => {
          await cluster.kill(victim, 'SIGKILL');
        });
        diagnostic(`fail-over window after the kill: ${outcome.failoverWindowMs} ms, ${outcome.serverErrors.length} answers 5xx`);
        assert.ok(outcome.failoverWindowMs < FAILOVER_BOUND_MS, `calls fail for ${outcome.failoverWindowMs} ms after the kill (bound ${FAILOVER_BOUND_MS} ms)`);
      } finally {
        await cluster.restart(victim);
      }
    });

    test('(c) Redis restarted', async () => {
      await storm(async () => {
        execFileSync('bash', ['cluster/engines/down.sh', 'redis'], { stdio: 'ignore' });
        await sleep(500);
        execFileSync('bash', ['cluster/engines/up.sh', 'redis'], { stdio: 'ignore' });
      });
    });

    test('(e) NATS restarted: the cluster finds itself again and live clients catch up', async () => {
      await storm(async () => {
        execFileSync('bash', ['cluster/engines/down.sh', 'nats'], { stdio: 'ignore' });
        await sleep(1000);
        execFileSync('bash', ['cluster/engines/up.sh', 'nats'], { stdio: 'ignore' });
      }, 20_000);
    });

    test('(d) an actor node and a gateway drained with SIGTERM and started again: no request fails on the server', async () => {
      const outcome = await storm(async () => {
        await cluster.restart(cluster.actors()[1]);
        await sleep(2000);
        await cluster.restart(cluster.gateways()[1]);
      });
      assert.deepEqual(outcome.serverErrors, [], 'no 5xx answer while nodes drain');
      // Refused connections never reached a gateway; a request cut after it was sent
      // would have an unknown outcome, which a drain must not cause.
      assert.deepEqual(outcome.cut, [], 'no request cut off while nodes drain');
    });

    /**
     * Posts from 4 people into 3 shared rooms through both gateways while `fault` happens,
     * then checks what every follower received and what is stored.
     */
    async function storm(fault: () => Promise<void>, afterFaultMs = 8000): Promise<{ serverErrors: string[]; cut: string[]; longestStallMs: number; failoverWindowMs: number }> {
      const admin = new ApiClient(urls()[0], ca, adminToken);
      const people = await createPeople(admin, 'Storm A', 'Storm B', 'Storm C', 'Storm D');
      const rooms: string[] = [];
      for (let r = 0; r < 3; r++) {
        const room = await people[0].api.post('/v1/rooms', { title: `storm ${r}` });
        for (const p of people.slice(1)) await people[0].api.post('/v1/memberships', { roomId: room.body.id, personId: p.id });
        rooms.push(room.body.id);
      }
      const followers = await Promise.all(people.map((p, i) => Follower.start(p, ca, urls, i % 2)));
      const accepted = new Map<string, string>(); // message id -> room id
      let failed = 0;
      const serverErrors: string[] = [];
      const cut: string[] = [];
      const errorCodes = new Map<string, number>();
      const acceptedAt: number[] = [];
      // When a request that reached a live gateway failed (a 5xx, or cut after TLS was up);
      // a connection refused by a dead gateway never carried a request and is not counted.
      const failedAt: number[] = [];
      let faultAt = Number.POSITIVE_INFINITY;
      let storming = true;
      const posters = people.map(async (person, i) => {
        for (let n = 0; storming; n++) {
          // Alternate gateways per request; a dead gateway's URL simply fails and is retried.
          const api = new ApiClient(urls()[(i + n) % 2], ca, person.token);
          const roomId = rooms[(i + n) % rooms.length];
          try {
            const response = await api.post('/v1/messages', { roomId, text: `${person.displayName} #${n}` }, { unchecked: true });
            if (response.status === 200) {
              accepted.set(response.body.id, roomId);
              acceptedAt.push(Date.now());
            }
            else failed++;
            if (response.status >= 500) {
              serverErrors.push(`${response.status} ${response.text.slice(0, 200)}`);
              failedAt.push(Date.now());
            }
          } catch (err) {
            failed++;
            const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message.slice(0, 60);
            errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1);
            // A connection refused or reset before TLS was up never carried the request.
            // Anything else (reset or hang-up after TLS) leaves its outcome unknown.
            const neverSent = (err as { requestMayHaveBeenSent?: boolean }).requestMayHaveBeenSent === false;
            if (!neverSent) {
              cut.push(`${code}: ${(err as Error).message}`);
              failedAt.push(Date.now());
            }
          } finally {
            api.close();
          }
          await sleep(5);
        }
      });
      await sleep(3000);
      faultAt = Date.now();
      await fault();
      await sleep(afterFaultMs);
      storming = false;
      await Promise.all(posters);
      acceptedAt.sort((a, b) => a - b);
      const longestStallMs = acceptedAt.reduce((longest, at, i) => (i === 0 ? 0 : Math.max(longest, at - acceptedAt[i - 1])), 0);
      diagnostic(`longest time without an accepted post: ${longestStallMs} ms`);
      // How long after the fault began requests still failed: the fail-over window.
      const failoverWindowMs = Math.max(0, ...failedAt.filter((at) => at >= faultAt).map((at) => at - faultAt));
      assert.ok(accepted.size > 100, `the storm got through (${accepted.size} accepted, ${failed} failed)`);
      diagnostic(`${accepted.size} posts accepted, ${failed} not (${serverErrors.length} of them 5xx; connection errors ${JSON.stringify(Object.fromEntries(errorCodes))})`);

      // Every live client catches up to every room's head, with everything exactly once.
      const heads = new Map<string, number>();
      const reader = new ApiClient(urls()[1], ca, people[0].token);
      for (const roomId of rooms) {
        const live = await connectPatiently(urls()[1], ca, people[0].token);
        heads.set(roomId, live.frames[0].positions[roomId]);
        live.close();
      }
      for (const follower of followers) {
        await follower.caughtUp(heads, 60_000);
        for (const roomId of rooms) {
          const events = follower.events.filter((e) => e.roomId === roomId);
          for (let i = 1; i < events.length; i++) assert.equal(events[i].seq, events[i - 1].seq + 1, `${follower.name}: contiguous seqs in a room`);
        }
        const ids = follower.events.filter((e) => e.event === 'message.created').map((e) => e.data.id as string);
        assert.equal(new Set(ids).size, ids.length, `${follower.name}: no message twice`);
        const received = new Set(ids);
        const missing = [...accepted.keys()].filter((id) => !received.has(id));
        assert.deepEqual(missing, [], `${follower.name}: every accepted message arrived`);
        follower.stop();
      }
      diagnostic(`followers reconnected ${followers.map((f) => f.reconnects).join(', ')} times; ${followers[0].events.length} events each`);
      // And every accepted write is in the store (Cassandra), read through the API.
      for (const [id, roomId] of accepted) {
        const stored = await reader.get(`/v1/messages/${id}`);
        assert.equal(stored.status, 200, `message ${id} is stored`);
        assert.equal(stored.body.roomId, roomId);
      }
      reader.close();
      admin.close();
      return { serverErrors, cut, longestStallMs, failoverWindowMs };
    }
  });
}

/** A live client that follows one person across reconnects, resuming where it was. */
class Follower {
  readonly events: EventFrame[] = [];
  readonly name: string;
  private client: LiveClient | undefined;
  private stopped = false;
  private readonly person: TestPerson;
  private readonly ca: Buffer;
  private readonly urls: () => string[];
  private gateway: number;
  reconnects = 0;

  private constructor(person: TestPerson, ca: Buffer, urls: () => string[], gateway: number) {
    this.person = person;
    this.name = person.displayName;
    this.ca = ca;
    this.urls = urls;
    this.gateway = gateway;
  }

  static async start(person: TestPerson, ca: Buffer, urls: () => string[], gateway: number): Promise<Follower> {
    const follower = new Follower(person, ca, urls, gateway);
    await follower.connect(undefined);
    return follower;
  }

  private positions(): Record<string, number> {
    const positions: Record<string, number> = {};
    for (const e of this.events) positions[e.roomId] = e.seq;
    return positions;
  }

  private async connect(resume: Record<string, number> | undefined): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const client = await LiveClient.connect(this.urls()[this.gateway], this.ca, this.person.token, resume);
        this.client = client;
        const take = (frame: { type: string }) => {
          if (frame.type === 'event') this.events.push(frame as EventFrame);
        };
        client.frames.forEach(take);
        client.onFrame(take);
        // On close, resume from the last event on the other gateway.
        void client.closed.then(() => {
          if (this.stopped) return;
          this.gateway = (this.gateway + 1) % 2;
          this.reconnects++;
          void this.connect(this.positions());
        });
        return;
      } catch {
        this.gateway = (this.gateway + 1) % 2;
        await sleep(Math.min(1000, 100 * (attempt + 1)));
      }
    }
  }

  async caughtUp(heads: Map<string, number>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const positions = this.positions();
      if ([...heads].every(([roomId, head]) => (positions[roomId] ?? 0) >= head)) return;
      if (Date.now() > deadline) throw new Error(`${this.name} did not catch up: ${JSON.stringify(positions)} vs ${JSON.stringify(Object.fromEntries(heads))}`);
      await sleep(100);
    }
  }

  stop(): void {
    this.stopped = true;
    this.client?.close();
  }
}

/**
 * A live connection, tried again as a client would while the cluster recovers: a node
 * that died may still be routed to until its heartbeat times out, and a hello whose token
 * cannot be checked meanwhile is told to come back (1013).
 */
async function connectPatiently(url: string, ca: Buffer, token: string): Promise<LiveClient> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await LiveClient.connect(url, ca, token);
    } catch (err) {
      if (attempt >= 30 || /not valid/.test(String(err))) throw err;
      await sleep(500);
    }
  }
}

