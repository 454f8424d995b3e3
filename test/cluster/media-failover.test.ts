// Meetings when cluster nodes die, on the real engines with two media nodes: (a) every
// actor node killed with SIGKILL and started again — the meeting's placement and roster
// come back from the store, and the participants' media objects on the media node are
// theirs again; (b) the media node carrying a meeting killed with SIGKILL — the meeting
// moves to the other media node, the participants are told (mediaEpoch) and set their
// media up again there.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startLocalCluster, type LocalCluster } from '../../cluster/local-cluster.ts';
import { ApiClient } from '../../clients/api-client.ts';
import { dropClusterData } from '../../cluster/cluster-data.ts';
import { MeetingClient } from '../../clients/meeting-client.ts';
import { mediasoupWorkers, udpSockets } from '../harness/media-processes.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { OPUS_RTP_PARAMETERS } from '../harness/rtp.ts';

if (process.env.SQUARED_TEST_MODE !== 'cluster') {
  test('media fail-over tests need SQUARED_TEST_MODE=cluster and the engines (npm run engines:up)', { skip: !process.env.CI }, () => {
    assert.fail('media fail-over tests must run in CI');
  });
} else {
  describe('meetings when nodes die', { timeout: 300_000 }, () => {
    let cluster: LocalCluster;
    let ca: Buffer;
    let host: TestPerson;
    let guest: TestPerson;
    let meetingId: string;
    let hostSide: MeetingClient;
    let guestSide: MeetingClient;
    let routerCaps: object;

    before(async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-media-failover-'));
      cluster = await startLocalCluster({
        gateways: 1, actors: 2, media: 2, dataDir, isolated: true,
        env: { SQUARED_LOG_LEVEL: process.env.SQUARED_TEST_LOG_LEVEL ?? 'warn', SQUARED_MEDIA_WORKERS: '1' },
      });
      ca = fs.readFileSync(path.join(dataDir, 'tls', 'cert.pem'));
      const admin = new ApiClient(cluster.gateways()[0].url!, ca, JSON.parse(fs.readFileSync(path.join(dataDir, 'admin.json'), 'utf8')).token);
      [host, guest] = await createPeople(admin, 'Fay Failover', 'Gus Failover');
      meetingId = (await host.api.post('/v1/meetings', { title: 'Fail-over', enabledJoinBeforeHost: true })).body.id;
      hostSide = await MeetingClient.connect(cluster.gateways()[0].url!, ca, host.token, meetingId);
      guestSide = await MeetingClient.connect(cluster.gateways()[0].url!, ca, guest.token, meetingId);
      routerCaps = (await hostSide.ok('join')).routerRtpCapabilities;
      await guestSide.ok('join');
      await hostSide.ok('setRtpCapabilities', { rtpCapabilities: routerCaps });
    });
    after(async () => {
      hostSide?.close();
      guestSide?.close();
      await cluster?.stop();
      if (cluster) await dropClusterData(cluster.actors()[0].env);
    });

    /** Guest sends audio, host receives it: every step through the actors and the media node. */
    async function exchange(): Promise<void> {
      const send = await guestSide.ok('createTransport', { direction: 'send' });
      const { producerId } = await guestSide.ok('produce', { transportId: send.id, kind: 'audio', rtpParameters: OPUS_RTP_PARAMETERS });
      await hostSide.waitForState((s) => s.participants.some((p: any) => p.producers.some((pr: any) => pr.id === producerId)));
      const recv = await hostSide.ok('createTransport', { direction: 'recv' });
      const consumer = await hostSide.ok('consume', { transportId: recv.id, producerId });
      await hostSide.ok('resumeConsumer', { consumerId: consumer.id });
    }

    /** The media node whose worker holds the meeting's transports. */
    function carryingMediaNode() {
      const carrying = cluster.media().filter((node) => mediasoupWorkers(node.child.pid!).some((pid) => udpSockets(pid) > 0));
      assert.equal(carrying.length, 1, 'one media node carries the meeting');
      return carrying[0];
    }

    test('(a) every actor node killed with SIGKILL and restarted: placement and roster come back from the store', async () => {
      await exchange();
      const before = carryingMediaNode();
      for (const node of cluster.actors()) await cluster.kill(node, 'SIGKILL');
      for (const node of cluster.actors()) await cluster.restart(node);
      // The live sessions stayed on the gateway: their participants act again, on the same media node.
      const listed = await waitFor(() => host.api.get(`/v1/meetingParticipants?meetingId=${meetingId}`), (r) => r.status === 200, 30_000);
      assert.deepEqual(listed.body.items.map((p: { state: string }) => p.state), ['joined', 'joined']);
      await waitFor(() => hostSide.request('createTransport', { direction: 'recv' }), (r) => r.ok, 30_000);
      await exchange();
      assert.equal(carryingMediaNode(), before, 'the meeting stayed where it was placed');
    });

    test('(b) the media node carrying the meeting killed with SIGKILL: the meeting moves, the participants set their media up again', async () => {
      const victim = carryingMediaNode();
      const epochs = (s: any) => s.participants.map((p: { mediaEpoch: number }) => p.mediaEpoch);
      const before = epochs(hostSide.latestState());
      await cluster.kill(victim, 'SIGKILL');
      // The node is missed after the heartbeat timeout (6 s); then the meeting moves.
      const moved = await hostSide.waitForState((s) => epochs(s).every((e: number, i: number) => e > before[i]), 30_000);
      assert.ok(moved.participants.every((p: { producers: unknown[] }) => p.producers.length === 0));
      await guestSide.waitForState((s) => s.version >= moved.version);
      await hostSide.ok('setRtpCapabilities', { rtpCapabilities: routerCaps });
      await exchange();
      const now = carryingMediaNode();
      assert.notEqual(now, victim);
    });
  });
}

async function waitFor<T>(attempt: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt().catch((err: unknown) => err as T);
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`still not ok after ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
