// Files deleted without their message's deletion, from the outside: a deleted room's files go
// from every store (records and blobs; a file of another room with the same bytes and the
// uploader's avatar stay), and an upload whose process died before its message came is swept
// after the grace period (SQUARED_UPLOAD_GRACE_MS, short here), its blob gone from the store.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { openCassandraStorage, type CassandraStorage } from '../../storage/cassandra/index.ts';
import type { FileRecord } from '../../storage/file-store.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { expectStatus, roomWith } from '../harness/rooms.ts';
import { until } from '../harness/wait.ts';
import { restartCrashedEmbedded, startTarget, type Target } from './target.ts';

/** Short, so that the sweep is seen within the test; an upload must reach `stored` within half of it. */
const GRACE_MS = 4000;
const env = { SQUARED_UPLOAD_GRACE_MS: String(GRACE_MS) };

let target: Target;
let cassandra: CassandraStorage | undefined;

before(async () => {
  target = await startTarget(env);
  if (target.cluster) {
    const nodeEnv = target.cluster.gateways()[0].env;
    cassandra = await openCassandraStorage({ contactPoints: [nodeEnv.SQUARED_CASSANDRA], localDataCenter: 'datacenter1', keyspace: nodeEnv.SQUARED_CASSANDRA_KEYSPACE, migrate: false });
  }
});
after(async () => {
  await cassandra?.close();
  await target.stop();
});

const keyOf = (bytes: Buffer) => `sha256-${createHash('sha256').update(bytes).digest('hex')}`;

async function blobExists(key: string): Promise<boolean> {
  if (cassandra) return (await cassandra.blobs.stat(key)) !== undefined;
  return fs.existsSync(path.join(target.process!.dataDir, 'blobs', key.slice(7, 9), key));
}

/** The file records the target's store holds for `roomId` (undefined: those on no message). */
async function recordsOf(roomId: string | undefined, of: Target = target): Promise<FileRecord[]> {
  if (of !== target) {
    // Another target of this file: embedded only (its files.db), else its files as their reads say.
    const db = new DatabaseSync(path.join(of.process!.dataDir, 'files.db'), { readOnly: true });
    try {
      return db.prepare('SELECT doc FROM files').all().map((row) => JSON.parse(String(row.doc)) as FileRecord).filter((file) => file.roomId === roomId);
    } finally {
      db.close();
    }
  }
  if (cassandra) return roomId ? cassandra.files.listByRoom(roomId, { max: 1000 }) : cassandra.files.listUnattached(new Date(Date.now() + 3600_000).toISOString(), 1000);
  const db = new DatabaseSync(path.join(target.process!.dataDir, 'files.db'), { readOnly: true });
  try {
    return db.prepare('SELECT doc FROM files').all().map((row) => JSON.parse(String(row.doc)) as FileRecord).filter((file) => file.roomId === roomId);
  } finally {
    db.close();
  }
}

function form(boundary: string, fields: Record<string, string>, file?: { name: string; bytes: Buffer }): Buffer {
  const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`).join('');
  if (!file) return Buffer.from(`${parts}--${boundary}--\r\n`);
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  return Buffer.concat([Buffer.from(parts + head), file.bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]);
}

async function postFile(person: TestPerson, fields: Record<string, string>, bytes: Buffer) {
  const boundary = `squared-${randomUUID()}`;
  return person.api.post('/v1/messages', undefined, { raw: { body: form(boundary, fields, { name: 'f.bin', bytes }), contentType: `multipart/form-data; boundary=${boundary}` } });
}

describe('a deleted room', () => {
  test('its files go from every store; the same bytes in another room and the uploader\'s avatar stay', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Room Files', 'Bob Room Files');
    const avatar = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 20, g: 120, b: 200 } } }).png().toBuffer();
    expectStatus(await alice.api.put(`/v1/people/${alice.id}/avatar`, undefined, { raw: { body: avatar, contentType: 'image/png' } }), 200);
    const avatarUrl = new URL((await alice.api.get('/v1/people/me')).body.avatar).pathname;

    const doomed = await roomWith(alice, [bob]);
    const other = await roomWith(alice, []);
    const own = [randomBytes(70_000), randomBytes(300_000), randomBytes(10)];
    const shared = randomBytes(50_000);
    for (const bytes of own) expectStatus(await postFile(alice, { roomId: doomed.id }, bytes), 200);
    expectStatus(await postFile(bob, { roomId: doomed.id, text: 'mine too' }, shared), 200);
    const kept = await postFile(alice, { roomId: other.id }, shared);
    expectStatus(kept, 200);
    assert.equal((await recordsOf(doomed.id)).length, 4);
    for (const bytes of [...own, shared]) assert.equal(await blobExists(keyOf(bytes)), true);

    expectStatus(await alice.api.delete(`/v1/rooms/${doomed.id}`), 204);
    await until(async () => (await recordsOf(doomed.id)).length === 0, 20_000, 'the deleted room\'s file records are gone');
    await until(async () => !(await Promise.all(own.map((bytes) => blobExists(keyOf(bytes))))).some(Boolean), 20_000, 'the deleted room\'s blobs are gone');
    // Bytes a file of another room owns too stay, and so does that file.
    assert.equal(await blobExists(keyOf(shared)), true);
    const download = await alice.api.get(new URL(kept.body.files[0]).pathname);
    assert.equal(download.status, 200);
    assert.equal((await recordsOf(other.id)).length, 1);
    assert.equal((await alice.api.get(avatarUrl, { token: null })).status, 200);
  });
});

describe('a deletion the files actor did not hear of (its node down, an attach racing it)', () => {
  test('a file of a deleted message is refused at its next read, and deleted then', async () => {
    const deaf = await startTarget({ ...env, SQUARED_TEST_FAULT_DROP_FILE_DELETION_EVENTS: '1' });
    try {
      const [alice, bob] = await createPeople(deaf.admin, 'Alice Unheard', 'Bob Unheard');
      const room = await roomWith(alice, [bob]);
      const posted = await postFile(alice, { roomId: room.id, text: 'soon gone' }, randomBytes(20_000));
      expectStatus(posted, 200);
      const url = new URL(posted.body.files[0]).pathname;
      expectStatus(await bob.api.get(url), 200, 'served while its message is there');
      expectStatus(await alice.api.delete(`/v1/messages/${posted.body.id}`), 204);
      if (deaf.process) assert.equal((await recordsOf(room.id, deaf)).length, 1, 'the deletion went unheard: the record is still there');
      expectStatus(await bob.api.get(url), 404, 'never served after its message');
      expectStatus(await alice.api.get(url), 404, 'not to its uploader either');
      if (deaf.process) await until(async () => (await recordsOf(room.id, deaf)).length === 0, 10_000, 'deleted at that read');
    } finally {
      await deaf.stop();
    }
  });
});

describe('uploads that never reach a message', () => {
  test('refused by its message: the upload leaves no record and no blob', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Refused Upload');
    const room = await roomWith(alice, []);
    const bytes = randomBytes(40_000);
    const refused = await postFile(alice, { roomId: room.id, parentId: 'Y2lzY29zcGFyazovL3VzL01FU1NBR0Uvbm90LWEtbWVzc2FnZQ' }, bytes);
    assert.ok(refused.status >= 400 && refused.status < 500, `answered ${refused.status}`);
    await until(async () => !(await blobExists(keyOf(bytes))), 10_000, 'the refused upload\'s blob is gone');
    await until(async () => (await recordsOf(undefined)).length === 0, 10_000, 'no upload record is left');
  });

  test('the receiving process dies after the file is stored, before the message: the sweep deletes the upload past the grace period', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Orphan');
    const room = await roomWith(alice, []);
    const bytes = randomBytes(200_000);
    const boundary = `squared-${randomUUID()}`;
    // The whole file part and the start of another part, then nothing: the file is stored and
    // recorded, and the message waits for a form that never ends.
    const partial = form(boundary, { roomId: room.id }, { name: 'orphan.bin', bytes }).subarray(0, -`--\r\n`.length);
    const url = new URL(target.url);
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), ca: target.ca });
    socket.on('error', () => undefined);
    await new Promise((connected) => socket.once('secureConnect', connected));
    socket.write(`POST /v1/messages HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${alice.token}\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: ${partial.length + 100}\r\n\r\n`);
    socket.write(Buffer.concat([partial, Buffer.from('\r\n')]));
    await until(async () => blobExists(keyOf(bytes)), 10_000, 'the upload is stored');
    await until(async () => (await recordsOf(undefined)).some((file) => file.blobKey === keyOf(bytes)), 10_000, 'the upload is recorded');

    const started = Date.now();
    if (target.cluster) {
      // The gateway dies; the actors nodes (with the files actor) live on.
      const gateway = target.cluster.gateways()[0];
      await target.cluster.kill(gateway, 'SIGKILL');
      socket.destroy();
      await target.cluster.restart(gateway);
    } else {
      const child = target.process!.child;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGKILL');
      await exited;
      socket.destroy();
      await restartCrashedEmbedded(target, env);
    }
    await until(async () => !(await blobExists(keyOf(bytes))), GRACE_MS * 5, 'the orphaned upload\'s blob is swept');
    assert.ok(Date.now() - started >= GRACE_MS / 2, 'not before the grace period');
    await until(async () => (await recordsOf(undefined)).length === 0, 5000, 'the orphaned upload\'s record is swept');
  });
});
