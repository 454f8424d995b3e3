// One meeting across two media nodes, in Chromium, on the real engines: with one
// participant per media node allowed, the host's media are on one node and the guest's on
// the other, piped between them (mediasoup pipe transports). Each page receives the
// other's audio and video; a host's mute reaches across the link; the gateway is drained
// and started again (a deploy): both pages reconnect and take their places back, media
// untouched; and when the guest's media node is killed with SIGKILL, the guest's media
// move to the remaining node and flow again both ways.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startLocalCluster, type ClusterNode, type LocalCluster } from '../../cluster/local-cluster.ts';
import { ApiClient } from '../../clients/api-client.ts';
import { launchBrowser, MeetingPage } from '../harness/browser.ts';
import { dropClusterData } from '../../cluster/cluster-data.ts';
import { mediasoupWorkers, udpSockets } from '../harness/media-processes.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';

if (process.env.SQUARED_TEST_MODE !== 'cluster') {
  test('the cross-node meeting test needs SQUARED_TEST_MODE=cluster and the engines (npm run engines:up)', { skip: !process.env.CI }, () => {
    assert.fail('the cross-node meeting test must run in CI');
  });
} else {
  describe('a meeting across two media nodes, in Chromium', { timeout: 300_000 }, () => {
    let cluster: LocalCluster;
    let browser: Browser;
    let host: TestPerson;
    let guest: TestPerson;
    let meetingId: string;
    const pages: MeetingPage[] = [];

    before(async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-across-nodes-'));
      cluster = await startLocalCluster({
        // A port of our choosing, so that the gateway comes back on it after its restart.
        gateways: 1, actors: 1, media: 2, dataDir, isolated: true, basePort: await freePort(),
        env: { SQUARED_LOG_LEVEL: process.env.SQUARED_TEST_LOG_LEVEL ?? 'warn', SQUARED_MEDIA_WORKERS: '1', SQUARED_MEETING_PARTICIPANTS_PER_NODE: '1' },
      });
      const ca = fs.readFileSync(path.join(dataDir, 'tls', 'cert.pem'));
      const admin = new ApiClient(cluster.gateways()[0].url!, ca, JSON.parse(fs.readFileSync(path.join(dataDir, 'admin.json'), 'utf8')).token);
      [host, guest] = await createPeople(admin, 'Nora Node', 'Ned Node');
      meetingId = (await host.api.post('/v1/meetings', { title: 'Across nodes', enabledJoinBeforeHost: true })).body.id;
      browser = await launchBrowser(ca);
    });
    after(async () => {
      for (const page of pages) await page.close().catch(() => undefined);
      await browser?.close();
      await cluster?.stop();
      if (cluster) await dropClusterData(cluster.actors()[0].env);
    });

    async function join(person: TestPerson): Promise<{ page: MeetingPage; participantId: string }> {
      const page = await MeetingPage.open(browser, cluster.gateways()[0].url!, person.displayName, { token: person.token, meetingId });
      pages.push(page);
      const joined = await page.waitFor('joined', (s) => s.phase === 'joined');
      return { page, participantId: joined.participantId! };
    }

    /** Bytes `page` receives from `fromId` over two seconds. */
    async function received(page: MeetingPage, fromId: string): Promise<{ audioBytes: number; videoBytes: number }> {
      const zero = { audioBytes: 0, videoBytes: 0 };
      const first = (await page.inbound())[fromId] ?? zero;
      await sleep(2000);
      const second = (await page.inbound())[fromId] ?? zero;
      return { audioBytes: second.audioBytes - first.audioBytes, videoBytes: second.videoBytes - first.videoBytes };
    }
    async function assertFlowing(page: MeetingPage, fromId: string, what: string, kinds: ('audio' | 'video')[] = ['audio', 'video']): Promise<void> {
      await page.waitForInbound(`${what}: bytes`, fromId, (b) => (!kinds.includes('audio') || b.audioBytes > 0) && (!kinds.includes('video') || b.videoBytes > 0));
      const delta = await received(page, fromId);
      if (kinds.includes('audio')) assert.ok(delta.audioBytes >= 1500, `${what}: only ${delta.audioBytes} audio bytes in 2 s`);
      if (kinds.includes('video')) assert.ok(delta.videoBytes >= 10_000, `${what}: only ${delta.videoBytes} video bytes in 2 s`);
    }
    /** The media nodes whose worker holds WebRTC transports. */
    const carrying = (): ClusterNode[] =>
      cluster.media().filter((node) => node.child.exitCode === null && node.child.signalCode === null && mediasoupWorkers(node.child.pid!).some((pid) => udpSockets(pid) > 0));

    let hostPage: MeetingPage;
    let guestPage: MeetingPage;
    let hostId: string;
    let guestId: string;

    test('host and guest are on different media nodes and each receives the other', async () => {
      ({ page: hostPage, participantId: hostId } = await join(host));
      ({ page: guestPage, participantId: guestId } = await join(guest));
      await assertFlowing(hostPage, guestId, 'host ← guest, across the link');
      await assertFlowing(guestPage, hostId, 'guest ← host, across the link');
      assert.equal(carrying().length, 2, 'both media nodes carry part of the meeting');
    });

    test('the host mutes the guest over REST: its audio stops across the link, its video goes on', async () => {
      const muted = await host.api.put(`/v1/meetingParticipants/${guestId}`, { muted: true });
      assert.equal(muted.status, 200, muted.text);
      await hostPage.waitForRoster('the guest muted', (ps) => ps.find((p) => p.id === guestId)?.muted === true, 10_000);
      await sleep(500);
      const delta = await received(hostPage, guestId);
      assert.ok(delta.audioBytes <= 400, `the guest's audio still arrives: ${delta.audioBytes} bytes in 2 s`);
      assert.ok(delta.videoBytes >= 10_000, `the guest's video stopped too: ${delta.videoBytes} bytes in 2 s`);
      await guestPage.page.getByRole('button', { name: 'Unmute', exact: true }).click({ timeout: 10_000 });
      await assertFlowing(hostPage, guestId, 'host ← guest after unmuting', ['audio']);
    });

    test('the gateway drained and started again: both pages reconnect and take their places back, with the same media', async () => {
      const before = await hostPage.snapshot();
      const epochs = Object.fromEntries(before.state!.participants.map((p) => [p.id, p.mediaEpoch]));
      await cluster.restart(cluster.gateways()[0]);
      for (const [page, id] of [[hostPage, hostId], [guestPage, guestId]] as const) {
        const back = await page.waitFor('reconnected', (s) => s.reconnects >= 1 && s.phase === 'joined', 60_000);
        assert.equal(back.participantId, id, `${page.name} keeps its participant id`);
      }
      const roster = await hostPage.waitForRoster('both connected again', (ps) => ps.length === 2 && ps.every((p) => p.connected));
      assert.deepEqual(Object.fromEntries(roster.state!.participants.map((p) => [p.id, p.mediaEpoch])), epochs, 'nobody had to set media up again');
      await assertFlowing(hostPage, guestId, 'host ← guest after the gateway restart');
      await assertFlowing(guestPage, hostId, 'guest ← host after the gateway restart');
      const listed = await host.api.get(`/v1/meetingParticipants?meetingId=${meetingId}`);
      assert.deepEqual(listed.body.items.map((p: { id: string; state: string }) => `${p.id} ${p.state}`).sort(), [`${guestId} joined`, `${hostId} joined`].sort());
    });

    test('one of the two media nodes killed with SIGKILL: the media that were on it move to the other and flow again both ways', async () => {
      const nodes = carrying();
      assert.equal(nodes.length, 2);
      const epochs = async () => Object.fromEntries(((await hostPage.snapshot()).state?.participants ?? []).map((p) => [p.id, p.mediaEpoch]));
      const before = await epochs();
      const victim = nodes[1];
      await cluster.kill(victim, 'SIGKILL');
      // Missed after the heartbeat timeout (6 s); then the participant's media move.
      await hostPage.waitFor('a participant told to set its media up again', (s) => (s.state?.participants ?? []).some((p) => p.mediaEpoch > (before[p.id] ?? 0)), 40_000);
      await assertFlowing(hostPage, guestId, 'host ← guest after the move');
      await assertFlowing(guestPage, hostId, 'guest ← host after the move');
      assert.deepEqual(carrying().map((node) => node.name), nodes.filter((node) => node !== victim).map((node) => node.name), 'everything on the surviving node');
    });
  });
}

/** A TCP port free now, below the ephemeral range (where a client's connection could take it meanwhile). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
