// A preview job under a node kill (issue 12's fault acceptance), cluster mode on the real
// engines: two actors nodes consume the previews queue; each job is held (a test-only knob,
// cluster/fault-injection.ts) after its preview blob is stored and before it is recorded —
// the worst moment to die, with a blob no record names. The node holding the job is killed
// with SIGKILL. The job is redone on the other node (RabbitMQ redelivers what the dead
// node's channel had not acknowledged), the preview appears once (one `message.updated` on
// a live socket), exactly one blob is owned by the file's preview — the one served — and it
// is gone once the message is deleted: no orphan.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import cassandra from 'cassandra-driver';
import sharp from 'sharp';
import { ApiClient } from '../../clients/api-client.ts';
import { LiveClient } from '../../clients/live-client.ts';
import { startLocalCluster, type ClusterNode, type LocalCluster } from '../../cluster/local-cluster.ts';
import { dropClusterData } from '../../cluster/cluster-data.ts';
import { createPeople } from '../harness/people.ts';
import { roomWith } from '../harness/rooms.ts';
import { until } from '../harness/wait.ts';

const HOLD_MS = 5000;

if (process.env.SQUARED_TEST_MODE !== 'cluster') {
  test('preview fault tests need SQUARED_TEST_MODE=cluster and the engines (npm run engines:up)', { skip: !process.env.CI }, () => {
    assert.fail('cluster fault tests must run in CI');
  });
} else {
  describe('a preview job when the node rendering it is killed', { timeout: 180_000 }, () => {
    let cluster: LocalCluster;
    let ca: Buffer;
    let adminToken: string;
    let db: cassandra.Client;

    before(async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-preview-faults-'));
      cluster = await startLocalCluster({
        gateways: 1, actors: 2, dataDir, isolated: true,
        env: { SQUARED_LOG_LEVEL: process.env.SQUARED_TEST_LOG_LEVEL ?? 'warn', SQUARED_TEST_FAULT_PREVIEW_HOLD_MS: String(HOLD_MS) },
      });
      ca = fs.readFileSync(path.join(dataDir, 'tls', 'cert.pem'));
      adminToken = JSON.parse(fs.readFileSync(path.join(dataDir, 'admin.json'), 'utf8')).token;
      const env = cluster.actors()[0].env;
      db = new cassandra.Client({ contactPoints: [env.SQUARED_CASSANDRA], localDataCenter: 'datacenter1', keyspace: env.SQUARED_CASSANDRA_KEYSPACE });
    });
    after(async () => {
      await db?.shutdown();
      await cluster?.stop();
      if (cluster) await dropClusterData(cluster.actors()[0].env);
    });

    /** The keys of the blobs `owner` holds (the isolated keyspace's few blobs, read whole). */
    async function blobsOwnedBy(owner: string): Promise<string[]> {
      const rows = (await db.execute('SELECT key, owners FROM blobs', [], { consistency: cassandra.types.consistencies.quorum })).rows;
      return rows.filter((row) => (row.owners as string[] | null)?.includes(owner)).map((row) => String(row.key));
    }

    const holding = (fileId: string) => (node: ClusterNode) => node.output().includes(`SQUARED_TEST_PREVIEW_HELD ${fileId}`);

    test('the job is redone elsewhere, the preview appears once, no orphan blob', async (t) => {
      const url = cluster.gateways()[0].url!;
      const admin = new ApiClient(url, ca, adminToken);
      const [alice, bob] = await createPeople(admin, 'Alice Killed Preview', 'Bob Killed Preview');
      const roomId = (await roomWith(alice, [bob])).id;
      const live = await LiveClient.connect(url, ca, bob.token);

      const png = await sharp({ create: { width: 1600, height: 1200, channels: 3, background: { r: 200, g: 100, b: 20 } } }).png().toBuffer();
      const boundary = `----squared${randomUUID()}`;
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="roomId"\r\n\r\n${roomId}\r\n`),
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="kill.png"\r\nContent-Type: image/png\r\n\r\n`),
        png, Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const posted = await alice.api.post('/v1/messages', undefined, { raw: { body, contentType: `multipart/form-data; boundary=${boundary}` } });
      assert.equal(posted.status, 200, posted.text);
      const messageId: string = posted.body.id;
      const fileId = new URL(posted.body.files[0]).pathname.split('/').pop()!;
      const owner = `preview:${fileId}`;

      // The node that took the job has stored its blob and holds the job before recording it.
      await until(() => cluster.actors().some(holding(fileId)), 30_000, 'a node holding the preview job');
      const [victim] = cluster.actors().filter(holding(fileId));
      const survivor = cluster.actors().find((node) => node !== victim)!;
      assert.equal(holding(fileId)(survivor), false, 'one node had the job');
      assert.equal((await blobsOwnedBy(owner)).length, 1, 'the victim stored the preview blob before it died');
      const killedAt = Date.now();
      await cluster.kill(victim, 'SIGKILL');

      const updated = await live.waitFor((f) => f.type === 'event' && f.event === 'message.updated' && f.data.id === messageId, 90_000);
      t.diagnostic(`the preview appeared ${Date.now() - killedAt} ms after the kill`);
      assert.ok(holding(fileId)(survivor), 'the job was redone on the other node');
      const [preview] = updated.data.filePreviews;
      assert.deepEqual([preview.state, preview.kind, preview.width, preview.height], ['ready', 'image', 640, 480]);
      const served = await bob.api.get(new URL(preview.url).pathname);
      assert.equal(served.status, 200);
      const meta = await sharp(served.bytes).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 640, 480]);

      // A late repeat (a third delivery, a second announcement) would show by now.
      await sleep(HOLD_MS + 3000);
      const announced = live.eventsOf(roomId).filter((e) => e.event === 'message.updated' && e.data.id === messageId);
      assert.equal(announced.length, 1, 'the preview appears once');
      const seqs = live.eventsOf(roomId).map((e) => e.seq);
      seqs.forEach((seq, i) => i === 0 || assert.equal(seq, seqs[i - 1] + 1, `seq ${seq} follows ${seqs[i - 1]}`));
      const key = `sha256-${String(served.headers.etag).replaceAll('"', '')}`;
      assert.deepEqual(await blobsOwnedBy(owner), [key], 'one preview blob, the one served: the victim\'s was the same bytes');

      assert.equal((await alice.api.delete(`/v1/messages/${messageId}`)).status, 204);
      await until(async () => (await blobsOwnedBy(owner)).length === 0, 20_000, 'the preview blob released with its message');
      assert.equal((await bob.api.get(new URL(preview.url).pathname)).status, 404);
      live.close();
      admin.close();
      alice.api.close();
      bob.api.close();
    });
  });
}
