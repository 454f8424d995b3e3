// Previews of the files on messages, from the outside (both modes): a PNG, a JPEG, a PDF and a
// text file posted as uploads; each message gets its `filePreviews` (the Squared extension)
// announced once as a `message.updated` on a live socket, with seq contiguous and the message
// not edited; the preview image decoded (sharp) to its real dimensions, served to members only;
// hostile files (a decompression bomb, a corrupt image) get `none` and the message stays as it
// was; deleting the message releases the preview's blob from the store.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { LiveClient, type EventFrame } from '../../clients/live-client.ts';
import { openCassandraStorage, type CassandraStorage } from '../../storage/cassandra/index.ts';
import { pdfDocument, pngClaiming } from '../harness/documents.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { roomWith } from '../harness/rooms.ts';
import { until } from '../harness/wait.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
let cassandra: CassandraStorage | undefined;
let alice: TestPerson;
let bob: TestPerson;
let eve: TestPerson;

before(async () => {
  target = await startTarget();
  if (target.cluster) {
    const env = target.cluster.gateways()[0].env;
    cassandra = await openCassandraStorage({ contactPoints: [env.SQUARED_CASSANDRA], localDataCenter: 'datacenter1', keyspace: env.SQUARED_CASSANDRA_KEYSPACE, migrate: false });
  }
  [alice, bob, eve] = await createPeople(target.admin, 'Alice Preview', 'Bob Preview', 'Eve Preview');
});
after(async () => {
  await cassandra?.close();
  await target.stop();
});

/** Whether the store the target uses holds the blob: its file on disk, or its row in Cassandra. */
async function blobExists(key: string): Promise<boolean> {
  if (cassandra) return (await cassandra.blobs.stat(key)) !== undefined;
  return fs.existsSync(path.join(target.process!.dataDir, 'blobs', key.slice(7, 9), key));
}

/** A message with one uploaded file, the target field first (docs/files.md). */
async function postFile(person: TestPerson, roomId: string, name: string, bytes: Buffer) {
  const boundary = `----squared${randomUUID()}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="roomId"\r\n\r\n${roomId}\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\n${name}\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    bytes, Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const posted = await person.api.post('/v1/messages', undefined, { raw: { body, contentType: `multipart/form-data; boundary=${boundary}` } });
  assert.equal(posted.status, 200, posted.text);
  return posted.body as { id: string; files: string[]; text: string; created: string };
}

const image = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: { r: 30, g: 160, b: 90 } } });

/** The message's one `message.updated` on Bob's socket (none other may follow), and the message as read back. */
async function previewed(live: LiveClient, roomId: string, messageId: string) {
  const updated = (await live.waitFor((f) => f.type === 'event' && f.event === 'message.updated' && f.data.id === messageId, 30_000)) as EventFrame;
  const read = await bob.api.get(`/v1/messages/${messageId}`);
  assert.equal(read.status, 200);
  assert.deepEqual(read.body.filePreviews, updated.data.filePreviews, 'the message shows what was announced');
  const seqs = live.eventsOf(roomId).map((e) => e.seq);
  seqs.forEach((seq, i) => i === 0 || assert.equal(seq, seqs[i - 1] + 1, `seq ${seq} follows ${seqs[i - 1]}`));
  return { event: updated, message: read.body };
}

describe('previews of the files on messages', () => {
  let live: LiveClient;
  let roomId: string;
  before(async () => {
    roomId = (await roomWith(alice, [bob])).id;
    live = await LiveClient.connect(target.liveUrl, target.ca, bob.token);
  });
  after(() => live.close());

  test('a PNG: a WebP thumbnail of its real size, announced once, not an edit, to members only', async () => {
    const posted = await postFile(alice, roomId, 'wide.png', await image(1200, 800).png().toBuffer());
    assert.equal(posted.files.length, 1);
    const { event, message } = await previewed(live, roomId, posted.id);
    assert.equal(event.actorId, alice.id);
    assert.equal(message.updated, undefined, 'a preview is not an edit: no updated time');
    assert.equal(message.text, 'wide.png');
    const [preview] = message.filePreviews;
    assert.deepEqual(
      { file: preview.file, state: preview.state, kind: preview.kind, mimeType: preview.mimeType, width: preview.width, height: preview.height },
      { file: posted.files[0], state: 'ready', kind: 'image', mimeType: 'image/webp', width: 640, height: 427 },
    );
    assert.equal(preview.url, `${posted.files[0]}/preview`);
    const served = await bob.api.get(new URL(preview.url).pathname);
    assert.equal(served.status, 200);
    assert.equal(served.headers['content-type'], 'image/webp');
    assert.equal(served.headers['x-content-type-options'], 'nosniff');
    const meta = await sharp(served.bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 640, 427]);
    assert.equal((await bob.api.get(new URL(preview.url).pathname, { headers: { 'if-none-match': String(served.headers.etag) } })).status, 304);
    assert.equal((await eve.api.get(new URL(preview.url).pathname)).status, 404, 'a non-member learns nothing');
    // The message may still be edited as the person's own edit (the preview spent none of it).
    const edited = await alice.api.put(`/v1/messages/${posted.id}`, { roomId, text: 'wide.png, edited' });
    assert.equal(edited.status, 200, edited.text);
    assert.deepEqual(edited.body.filePreviews, message.filePreviews, 'an edit keeps the preview');
    const updates = live.eventsOf(roomId).filter((e) => e.event === 'message.updated' && e.data.id === posted.id);
    assert.equal(updates.length, 2, 'one for the preview, one for the edit');
  });

  test('a JPEG smaller than a thumbnail is not enlarged', async () => {
    const posted = await postFile(alice, roomId, 'small.jpg', await image(300, 200).jpeg().toBuffer());
    const [preview] = (await previewed(live, roomId, posted.id)).message.filePreviews;
    assert.deepEqual([preview.state, preview.kind, preview.width, preview.height], ['ready', 'image', 300, 200]);
    const meta = await sharp((await bob.api.get(new URL(preview.url).pathname)).bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 300, 200]);
  });

  test('a PDF: its first page as a PNG, 640 px high for a letter page, its page count', async () => {
    const posted = await postFile(alice, roomId, 'report.pdf', pdfDocument({ pages: 3, rgb: [0, 0, 1] }));
    const [preview] = (await previewed(live, roomId, posted.id)).message.filePreviews;
    assert.deepEqual([preview.state, preview.kind, preview.mimeType, preview.pages], ['ready', 'pdf', 'image/png', 3]);
    const served = await bob.api.get(new URL(preview.url).pathname);
    assert.equal(served.headers['content-type'], 'image/png');
    const { data, info } = await sharp(served.bytes).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [Math.round((612 * 640) / 792), 640]);
    assert.deepEqual([preview.width, preview.height], [info.width, info.height]);
    const centre = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
    assert.deepEqual([...data.subarray(centre, centre + 3)], [0, 0, 255], 'the page is drawn in its colour');
  });

  test('a text file: a snippet on the message, and no image to serve', async () => {
    const text = Array.from({ length: 60 }, (_, i) => `line ${i} ✓`).join('\n');
    const posted = await postFile(alice, roomId, 'notes.txt', Buffer.from(text));
    const [preview] = (await previewed(live, roomId, posted.id)).message.filePreviews;
    assert.deepEqual([preview.state, preview.kind, preview.truncated, preview.url], ['ready', 'text', true, undefined]);
    assert.equal(preview.snippet, text.split('\n').slice(0, 40).join('\n'));
    assert.equal((await bob.api.get(`${new URL(posted.files[0]).pathname}/preview`)).status, 404);
  });

  test('hostile files (a decompression bomb, a corrupt image) get none; the message stays intact', async () => {
    const bomb = await postFile(alice, roomId, 'bomb.png', pngClaiming(100_000, 100_000));
    const png = await image(400, 300).png().toBuffer();
    const corrupt = await postFile(alice, roomId, 'corrupt.png', png.subarray(0, png.length / 2));
    for (const [posted, reason] of [[bomb, 'too-large'], [corrupt, 'unreadable']] as const) {
      const { message } = await previewed(live, roomId, posted.id);
      assert.deepEqual(message.filePreviews, [{ file: posted.files[0], state: 'none', reason }]);
      assert.deepEqual([message.text, message.files, message.created, message.updated], [posted.text, posted.files, posted.created, undefined]);
      assert.equal((await bob.api.get(new URL(posted.files[0]).pathname)).status, 200, 'the file itself is still served');
    }
  });

  test('deleting the message releases its preview\'s blob, from the store too', async () => {
    const posted = await postFile(alice, roomId, 'gone.png', await image(900, 900).png().toBuffer());
    const [preview] = (await previewed(live, roomId, posted.id)).message.filePreviews;
    const served = await bob.api.get(new URL(preview.url).pathname);
    const key = `sha256-${String(served.headers.etag).replaceAll('"', '')}`;
    assert.equal(await blobExists(key), true);
    assert.equal((await alice.api.delete(`/v1/messages/${posted.id}`)).status, 204);
    await until(async () => !(await blobExists(key)), 15_000, 'the preview blob released');
    assert.equal((await bob.api.get(new URL(preview.url).pathname)).status, 404);
  });
});
