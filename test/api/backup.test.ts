// Backup and restore of an embedded installation (`npm run backup`, `npm run restore`): a
// backup taken while a posting storm runs restores into an installation where every room's
// log is contiguous up to the head the manifest recorded and every message acknowledged
// before the backup began reads back through the API; a truncated, altered or incomplete
// backup, and a non-empty data directory, are refused with a message naming the problem.
// Embedded mode only: a cluster's data lives in its engines and is backed up with their
// own tools (README, "Operating Squared").
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { LiveClient } from '../../clients/live-client.ts';
import { ApiClient } from '../../clients/api-client.ts';
import { createPeople } from '../harness/people.ts';
import { startSquared, type SquaredProcess } from '../harness/squared-process.ts';
import { testMode } from './target.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-backup-test-'));

/** Runs one of the operators' entry points (cluster/backup.ts, cluster/restore.ts) to its end. */
function runEntry(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(ROOT, 'cluster', script), ...args], {
    cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

const restore = (backupDir: string, dataDir: string) => runEntry('restore.ts', [backupDir, '--data-dir', dataDir]);

describe('backup and restore of an embedded installation', { skip: testMode() === 'cluster' ? 'embedded only: a cluster is backed up with its engines\' tools (README, "Operating Squared")' : false }, () => {
  const servers: SquaredProcess[] = [];
  const backupDir = path.join(scratch, 'backup');
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  test('a backup taken during a posting storm restores with every acknowledged message and contiguous logs', async () => {
    const source = await startSquared({ env: { SQUARED_RATE_BURST: '100000', SQUARED_RATE_PER_SECOND: '100000' } });
    servers.push(source);
    const admin = new ApiClient(source.url, source.ca, source.adminToken);
    const [alice, bob] = await createPeople(admin, 'Alice Backup', 'Bob Backup');
    const rooms: string[] = [];
    for (let i = 0; i < 3; i++) {
      const room = await alice.api.post('/v1/rooms', { title: `backed up ${i}` });
      assert.equal(room.status, 200);
      assert.equal((await alice.api.post('/v1/memberships', { roomId: room.body.id, personId: bob.id })).status, 200);
      rooms.push(room.body.id);
    }

    const accepted: { id: string; roomId: string; text: string; at: number }[] = [];
    let storming = true;
    const writers = Array.from({ length: 6 }, async (_, writer) => {
      const author = writer % 2 === 0 ? alice : bob;
      for (let i = 0; storming; i++) {
        const roomId = rooms[(writer + i) % rooms.length];
        const text = `writer ${writer} message ${i}`;
        const response = await author.api.post('/v1/messages', { roomId, text });
        assert.equal(response.status, 200, response.text);
        accepted.push({ id: response.body.id, roomId, text, at: Date.now() });
      }
    });
    while (accepted.length < 90) await new Promise((resolve) => setTimeout(resolve, 20));

    const acknowledgedBefore = accepted.slice();
    const backupStarted = Date.now();
    const backup = await runEntry('backup.ts', ['--out', backupDir], { SQUARED_DATA_DIR: source.dataDir });
    const backupEnded = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 200));
    storming = false;
    await Promise.all(writers);
    assert.equal(backup.code, 0, backup.stderr);
    const duringBackup = accepted.filter((m) => m.at > backupStarted && m.at < backupEnded).length;
    assert.ok(duringBackup > 0, 'the storm went on while the backup was taken (it is online)');

    const manifest = JSON.parse(fs.readFileSync(path.join(backupDir, 'manifest.json'), 'utf8'));
    assert.deepEqual(Object.keys(manifest.roomHeads).sort(), [...rooms].sort());
    for (const file of ['rooms.db', 'people.db', 'teams.db', 'conferences.db', 'search.db', 'tls/cert.pem', 'tls/key.pem', 'admin.json']) {
      assert.ok(manifest.files.some((f: { path: string }) => f.path === file), `${file} is in the backup`);
    }

    const restoredDir = path.join(scratch, 'restored');
    const restored = await restore(backupDir, restoredDir);
    assert.equal(restored.code, 0, restored.stderr);
    const copy = await startSquared({ dataDir: restoredDir });
    servers.push(copy);
    const api = new ApiClient(copy.url, copy.ca, alice.token);

    // Every room's log is contiguous, from its first activity to the head of the snapshot.
    const live = await LiveClient.connect(copy.url, copy.ca, alice.token, Object.fromEntries(rooms.map((roomId) => [roomId, 0])));
    const positions = live.frames[0].positions as Record<string, number>;
    const logOf = new DatabaseSync(path.join(restoredDir, 'rooms.db'), { readOnly: true });
    for (const roomId of rooms) {
      const head = manifest.roomHeads[roomId];
      assert.equal(positions[roomId], head, 'the restored head is the one the manifest recorded');
      const acknowledgedHere = acknowledgedBefore.filter((m) => m.roomId === roomId).length;
      assert.ok(head >= 2 + acknowledgedHere, `room head ${head} covers the ${acknowledgedHere} messages acknowledged before the backup`);
      // The log itself holds seqs 1..head, no gap, no duplicate …
      const seqs = (logOf.prepare('SELECT seq FROM activities WHERE room_id = ? ORDER BY seq').all(roomId) as { seq: number }[]).map((row) => Number(row.seq));
      assert.deepEqual(seqs, Array.from({ length: head }, (_, i) => i + 1));
      // … and a live client replays it, from the creator's joining to the head, in order.
      await live.waitFor(() => live.eventsOf(roomId).at(-1)?.seq === head, 20_000);
      const replayed = live.eventsOf(roomId).map((e) => e.seq);
      assert.ok(replayed[0] <= 2, 'the replay starts at the room\'s first activities');
      assert.deepEqual(replayed, Array.from({ length: head - replayed[0] + 1 }, (_, i) => i + replayed[0]));
    }
    live.close();
    logOf.close();

    // Every message acknowledged before the backup began reads back, text and room.
    for (const message of acknowledgedBefore) {
      const read = await api.get(`/v1/messages/${message.id}`);
      assert.equal(read.status, 200, `message ${message.id} was restored`);
      assert.equal(read.body.text, message.text);
      assert.equal(read.body.roomId, message.roomId);
    }
    // And the restored installation goes on: the next post takes the next seq.
    const next = await api.post('/v1/messages', { roomId: rooms[0], text: 'after the restore' });
    assert.equal(next.status, 200);
    api.close();
    admin.close();
  });

  test('a truncated, altered or incomplete backup is refused, and nothing is restored', async () => {
    const damaged = (name: string, damage: (dir: string) => void) => {
      const dir = path.join(scratch, name);
      fs.cpSync(backupDir, dir, { recursive: true });
      damage(dir);
      return dir;
    };
    const cases: { name: string; damage: (dir: string) => void; refusal: RegExp }[] = [
      { name: 'truncated', damage: (dir) => fs.truncateSync(path.join(dir, 'rooms.db'), fs.statSync(path.join(dir, 'rooms.db')).size / 2), refusal: /rooms\.db is \d+ bytes, the manifest says \d+: the backup is truncated/ },
      {
        name: 'altered',
        damage: (dir) => {
          const file = path.join(dir, 'people.db');
          const bytes = fs.readFileSync(file);
          bytes[Math.floor(bytes.length / 2)] ^= 0xff;
          fs.writeFileSync(file, bytes);
        },
        refusal: /people\.db was altered: its SHA-256 does not match the manifest/,
      },
      {
        name: 'manifest-edited',
        damage: (dir) => {
          const file = path.join(dir, 'manifest.json');
          fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/"snapshotAt": "[^"]+"/, '"snapshotAt": "2020-01-01T00:00:00.000Z"'));
        },
        refusal: /manifest\.json was altered: its checksum does not match its content/,
      },
      { name: 'incomplete', damage: (dir) => fs.rmSync(path.join(dir, 'manifest.json')), refusal: /is not a complete backup: it has no manifest\.json/ },
      { name: 'file-missing', damage: (dir) => fs.rmSync(path.join(dir, 'tls', 'key.pem')), refusal: /tls\/key\.pem is missing from the backup/ },
    ];
    for (const { name, damage, refusal } of cases) {
      const target = path.join(scratch, `restore-${name}`);
      const result = await restore(damaged(name, damage), target);
      assert.equal(result.code, 1, `${name}: ${result.stdout}`);
      assert.match(result.stderr, refusal, name);
      assert.equal(fs.existsSync(target), false, `${name}: nothing was written`);
    }

    // A data directory that is not empty is never restored over.
    const occupied = path.join(scratch, 'occupied');
    fs.mkdirSync(occupied);
    fs.writeFileSync(path.join(occupied, 'rooms.db'), 'an installation');
    const result = await restore(backupDir, occupied);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /is not empty \(rooms\.db\): a restore goes into an empty data directory/);
    assert.equal(fs.readFileSync(path.join(occupied, 'rooms.db'), 'utf8'), 'an installation');
  });
});
