// Backup and restore of a cluster (`npm run backup` / `npm run restore` with SQUARED_CASSANDRA):
// Cassandra snapshots taken with nodetool on the node while a posting storm runs, collected
// with RabbitMQ's definitions; restored with nodetool import into a new keyspace; a cluster
// started on it serves every message acknowledged before the backup began, every room's log
// replays contiguous, the old tokens work, and the search index, rebuilt from the logs with
// `npm run reindex`, finds the messages. A truncated or altered backup, and a keyspace that
// is not empty, are refused with a message naming the problem.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { startLocalCluster, type LocalCluster } from '../../cluster/local-cluster.ts';
import { dropClusterData } from '../../cluster/cluster-data.ts';
import { ApiClient } from '../../clients/api-client.ts';
import { LiveClient } from '../../clients/live-client.ts';
import { createPeople } from '../harness/people.ts';
import { runOperatorCommand } from '../harness/operator-console.ts';
import { until } from '../harness/wait.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** Where the engines of `npm run engines:up` keep Cassandra's data files (cluster/engines/cassandra.sh). */
const CASSANDRA_DATA = path.join(process.env.SQUARED_ENGINES_DIR ?? path.join(os.homedir(), '.squared-engines'), 'data', 'cassandra', 'data');
const TOOLS = { SQUARED_NODETOOL: 'bash cluster/engines/tool.sh nodetool', SQUARED_RABBITMQCTL: 'bash cluster/engines/tool.sh rabbitmqctl' };

function runEntry(script: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(ROOT, 'cluster', script), ...args], {
    cwd: ROOT, env: { ...process.env, ...TOOLS, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

if (process.env.SQUARED_TEST_MODE !== 'cluster') {
  test('cluster backup tests need SQUARED_TEST_MODE=cluster and the engines (npm run engines:up)', { skip: !process.env.CI }, () => {
    assert.fail('cluster tests must run in CI');
  });
} else {
  describe('backup and restore of a cluster with the engines\' own tools', { timeout: 600_000 }, () => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-cluster-backup-'));
    const backupDir = path.join(scratch, 'backup');
    const clusters: LocalCluster[] = [];
    const keyspaces: Record<string, string>[] = [];
    after(async () => {
      for (const cluster of clusters) await cluster.stop();
      for (const env of keyspaces) await dropClusterData(env);
      fs.rmSync(scratch, { recursive: true, force: true });
    });

    test('a backup taken during a posting storm restores into a new keyspace with every acknowledged message, contiguous logs and a rebuilt index', async () => {
      const sourceDir = path.join(scratch, 'source');
      const source = await startLocalCluster({
        gateways: 1, actors: 1, media: 0, dataDir: sourceDir, isolated: true,
        env: { SQUARED_LOG_LEVEL: process.env.SQUARED_TEST_LOG_LEVEL ?? 'warn', SQUARED_RATE_BURST: '100000', SQUARED_RATE_PER_SECOND: '100000' },
      });
      clusters.push(source);
      const sourceEnv = source.actors()[0].env;
      keyspaces.push(sourceEnv);
      const ca = fs.readFileSync(path.join(sourceDir, 'tls', 'cert.pem'));
      const admin = new ApiClient(source.gateways()[0].url!, ca, JSON.parse(fs.readFileSync(path.join(sourceDir, 'admin.json'), 'utf8')).token);
      const [alice, bob] = await createPeople(admin, 'Alice Cluster Backup', 'Bob Cluster Backup');
      const rooms: string[] = [];
      for (let i = 0; i < 3; i++) {
        const room = await alice.api.post('/v1/rooms', { title: `cluster backed up ${i}` });
        assert.equal(room.status, 200, room.text);
        assert.equal((await alice.api.post('/v1/memberships', { roomId: room.body.id, personId: bob.id })).status, 200);
        rooms.push(room.body.id);
      }

      const accepted: { id: string; roomId: string; text: string; at: number }[] = [];
      let storming = true;
      const writers = Array.from({ length: 4 }, async (_, writer) => {
        const author = writer % 2 === 0 ? alice : bob;
        for (let i = 0; storming; i++) {
          const roomId = rooms[(writer + i) % rooms.length];
          const text = `writer${writer} message${i} backupword`;
          const response = await author.api.post('/v1/messages', { roomId, text });
          assert.equal(response.status, 200, response.text);
          accepted.push({ id: response.body.id, roomId, text, at: Date.now() });
        }
      });
      await until(() => accepted.length >= 60, 60_000, '60 posts accepted');

      const acknowledgedBefore = accepted.slice();
      const backupStarted = Date.now();
      const backup = await runEntry('backup.ts', ['--out', backupDir, '--cassandra-data', CASSANDRA_DATA], sourceEnv);
      const backupEnded = Date.now();
      storming = false;
      await Promise.all(writers);
      assert.equal(backup.code, 0, backup.stderr);
      assert.match(backup.stdout, /backup of keyspace squared_[0-9a-f]+ \(1 Cassandra node, snapshot squared-\S+, RabbitMQ definitions\)/);
      assert.ok(accepted.some((m) => m.at > backupStarted && m.at < backupEnded), 'the storm went on while the backup was taken (it is online)');

      const manifest = JSON.parse(fs.readFileSync(path.join(backupDir, 'manifest.json'), 'utf8'));
      assert.deepEqual(Object.keys(manifest.roomHeads).sort(), [...rooms].sort());
      const tables: string[] = manifest.hosts[0].tables;
      for (const table of ['activities', 'room_heads', 'people', 'tokens', 'memberships']) assert.ok(tables.includes(table), `${table} is in the backup`);
      assert.ok(manifest.files.some((f: { path: string }) => f.path === 'rabbitmq/definitions.json'));
      // The snapshot's hard links are gone from the node once copied.
      const left = fs.readdirSync(path.join(CASSANDRA_DATA, sourceEnv.SQUARED_CASSANDRA_KEYSPACE))
        .filter((dir) => fs.existsSync(path.join(CASSANDRA_DATA, sourceEnv.SQUARED_CASSANDRA_KEYSPACE, dir, 'snapshots', manifest.snapshotTag)));
      assert.deepEqual(left, []);

      // Never over live data: the source keyspace is refused.
      const over = await runEntry('restore.ts', [backupDir], sourceEnv);
      assert.equal(over.code, 1);
      assert.match(over.stderr, /keyspace squared_[0-9a-f]+ is not empty \(room_heads has rows\)/);

      await source.stop();
      clusters.splice(clusters.indexOf(source), 1);

      const tag = randomBytes(4).toString('hex');
      const isolation = { SQUARED_NAMESPACE: `squared-${tag}`, SQUARED_CASSANDRA_KEYSPACE: `squared_${tag}`, SQUARED_REDIS_PREFIX: `squared:${tag}:`, SQUARED_ES_INDEX: `squared-messages-${tag}` };
      const restoredEnv: Record<string, string> = { ...sourceEnv, ...isolation };
      keyspaces.push(restoredEnv);
      const restored = await runEntry('restore.ts', [backupDir], restoredEnv);
      assert.equal(restored.code, 0, restored.stderr);
      assert.match(restored.stdout, new RegExp(`into keyspace squared_${tag}: start the cluster on it, then rebuild the search index with npm run reindex`));

      const copyDir = path.join(scratch, 'copy');
      const copy = await startLocalCluster({
        gateways: 1, actors: 1, media: 0, dataDir: copyDir,
        env: { ...isolation, SQUARED_LOG_LEVEL: process.env.SQUARED_TEST_LOG_LEVEL ?? 'warn', SQUARED_RATE_BURST: '100000', SQUARED_RATE_PER_SECOND: '100000' },
      });
      clusters.push(copy);
      const copyUrl = copy.gateways()[0].url!;
      const copyCa = fs.readFileSync(path.join(copyDir, 'tls', 'cert.pem'));
      // Alice's token was restored with the people: her session goes on.
      const api = new ApiClient(copyUrl, copyCa, alice.token);

      const live = await LiveClient.connect(copyUrl, copyCa, alice.token, Object.fromEntries(rooms.map((roomId) => [roomId, 0])));
      const positions = live.frames[0].positions as Record<string, number>;
      for (const roomId of rooms) {
        const head = positions[roomId];
        assert.ok(head >= manifest.roomHeads[roomId], `room head ${head} is at least the ${manifest.roomHeads[roomId]} the manifest recorded`);
        await live.waitFor(() => live.eventsOf(roomId).at(-1)?.seq === head, 30_000);
        const replayed = live.eventsOf(roomId).map((e) => e.seq);
        assert.ok(replayed[0] <= 2, 'the replay starts at the room\'s first activities');
        assert.deepEqual(replayed, Array.from({ length: head - replayed[0] + 1 }, (_, i) => i + replayed[0]), 'the log is contiguous');
      }
      live.close();

      for (const message of acknowledgedBefore) {
        const read = await api.get(`/v1/messages/${message.id}`);
        assert.equal(read.status, 200, `message ${message.id} was restored`);
        assert.equal(read.body.text, message.text);
        assert.equal(read.body.roomId, message.roomId);
      }
      const next = await api.post('/v1/messages', { roomId: rooms[0], text: 'after the cluster restore' });
      assert.equal(next.status, 200, next.text);

      // The index is derived: rebuilt from the restored logs, it finds what was acknowledged.
      const reindexed = await runOperatorCommand({ SQUARED_NATS: sourceEnv.SQUARED_NATS, SQUARED_NAMESPACE: isolation.SQUARED_NAMESPACE }, ['reindex'], 180_000);
      assert.equal(reindexed.code, 0, reindexed.output);
      const probe = acknowledgedBefore[0];
      const word = probe.text.split(' ')[1];
      await until(async () => {
        const found = await api.get(`/v1/messages/search?q=${word}&roomId=${probe.roomId}`);
        return found.status === 200 && found.body.items.some((item: { id: string }) => item.id === probe.id);
      }, 30_000, `the rebuilt index finds ${probe.id}`);
      api.close();
      admin.close();
    });

    test('a truncated or altered cluster backup is refused before anything is written', async () => {
      const target = { ...keyspaces[0], SQUARED_CASSANDRA_KEYSPACE: `squared_${randomBytes(4).toString('hex')}` };
      keyspaces.push(target);
      const dataFile = (dir: string) => {
        const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
        return path.join(dir, manifest.files.find((f: { path: string }) => /\/activities\/.*-Data\.db$/.test(f.path)).path);
      };
      const cases: { name: string; damage: (dir: string) => void; refusal: RegExp }[] = [
        { name: 'truncated', damage: (dir) => fs.truncateSync(dataFile(dir), Math.floor(fs.statSync(dataFile(dir)).size / 2)), refusal: /activities\/\S+-Data\.db is \d+ bytes, the manifest says \d+: the backup is truncated/ },
        {
          name: 'altered',
          damage: (dir) => {
            const bytes = fs.readFileSync(dataFile(dir));
            bytes[Math.floor(bytes.length / 2)] ^= 0xff;
            fs.writeFileSync(dataFile(dir), bytes);
          },
          refusal: /activities\/\S+-Data\.db was altered: its SHA-256 does not match the manifest/,
        },
        { name: 'incomplete', damage: (dir) => fs.rmSync(path.join(dir, 'manifest.json')), refusal: /is not a complete backup: it has no manifest\.json/ },
      ];
      for (const { name, damage, refusal } of cases) {
        const dir = path.join(scratch, name);
        fs.cpSync(backupDir, dir, { recursive: true });
        damage(dir);
        const result = await runEntry('restore.ts', [dir], target);
        assert.equal(result.code, 1, `${name}: ${result.stdout}`);
        assert.match(result.stderr, refusal, name);
      }
      // Nothing was written: the target keyspace was never created.
      const created = await runEntry('backup.ts', ['--out', path.join(scratch, 'never'), '--cassandra-data', CASSANDRA_DATA], target);
      assert.equal(created.code, 1);
      assert.match(created.stderr, new RegExp(`keyspace ${target.SQUARED_CASSANDRA_KEYSPACE} does not exist`));
    });
  });
}
