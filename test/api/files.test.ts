// Files on messages, from the outside: multipart uploads (small, 50 MB streamed with the
// receiving node's RSS measured, over the limit, a client that stops sending), `files` URLs
// fetched under the SSRF policy, downloads (GET, HEAD, ranges, 416, ETag) to members only,
// the type sniffed from the bytes, and deletion with the message from every store.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { openCassandraStorage, type CassandraStorage } from '../../storage/cassandra/index.ts';
import { pngClaiming } from '../harness/documents.ts';
import { startHttpsReceiver, type HttpsReceiver } from '../harness/https-receiver.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { addMember, expectStatus, roomWith } from '../harness/rooms.ts';
import { until } from '../harness/wait.ts';
import { startTarget, type Target } from './target.ts';

const MAX_FILE_BYTES = 51 * 1024 * 1024;
const IDLE_MS = 2000;

let target: Target;
let receiver: HttpsReceiver;
let cassandra: CassandraStorage | undefined;

before(async () => {
  receiver = await startHttpsReceiver();
  target = await startTarget({
    SQUARED_MAX_FILE_BYTES: String(MAX_FILE_BYTES), SQUARED_UPLOAD_IDLE_MS: String(IDLE_MS),
    SQUARED_WEBHOOK_ALLOW_HOSTS: 'localhost', NODE_EXTRA_CA_CERTS: receiver.caFile,
  });
  if (target.cluster) {
    const env = target.cluster.gateways()[0].env;
    cassandra = await openCassandraStorage({ contactPoints: [env.SQUARED_CASSANDRA], localDataCenter: 'datacenter1', keyspace: env.SQUARED_CASSANDRA_KEYSPACE, migrate: false });
  }
});
after(async () => {
  await cassandra?.close();
  await target.stop();
  await receiver.close();
});

const keyOf = (bytes: Buffer) => `sha256-${createHash('sha256').update(bytes).digest('hex')}`;

/** Whether the store the target uses holds the blob: its file on disk, or its row in Cassandra. */
async function blobExists(key: string): Promise<boolean> {
  if (cassandra) return (await cassandra.blobs.stat(key)) !== undefined;
  return fs.existsSync(path.join(target.process!.dataDir, 'blobs', key.slice(7, 9), key));
}

/** The process the upload streams through: the embedded process, or the gateway REST goes to. */
function receivingPid(): number {
  return (target.cluster ? target.cluster.gateways()[0].child.pid : target.process!.child.pid)!;
}

function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A request over its own TLS connection (`Connection: close`), its body written from `chunks`
 * as the server takes them (never buffered whole), chunked unless a Content-Length is given.
 * The answer is read while the body is still being written, as robust clients do: a server that
 * answers a refused upload (413, 408) and closes is heard even though the rest of the body
 * could not be sent.
 */
function send(person: TestPerson | undefined, method: string, urlPath: string, options: { headers?: Record<string, string>; chunks?: AsyncIterable<Buffer> | Iterable<Buffer> } = {}): Promise<RawResponse> {
  const url = new URL(urlPath, target.url);
  const headers: Record<string, string> = { host: url.host, connection: 'close', ...options.headers };
  if (person) headers.authorization = `Bearer ${person.token}`;
  const chunked = options.chunks !== undefined && headers['content-length'] === undefined;
  if (chunked) headers['transfer-encoding'] = 'chunked';
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), ca: target.ca, servername: undefined });
    let head: { status: number; headers: Record<string, string>; length: number | undefined } | undefined;
    let pending = Buffer.alloc(0);
    const body: Buffer[] = [];
    let bodyBytes = 0;
    let answer: RawResponse | undefined;
    const complete = () => head !== undefined && head.length !== undefined && bodyBytes >= head.length;
    const answerNow = (): RawResponse | undefined => {
      if (!head) return undefined;
      const all = Buffer.concat(body);
      return { status: head.status, headers: head.headers, body: head.length === undefined ? all : all.subarray(0, head.length) };
    };
    socket.on('data', (data: Buffer) => {
      if (!head) {
        pending = Buffer.concat([pending, data]);
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [statusLine, ...lines] = pending.subarray(0, end).toString('latin1').split('\r\n');
        const parsed: Record<string, string> = {};
        for (const line of lines) parsed[line.slice(0, line.indexOf(':')).trim().toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
        const length = method === 'HEAD' ? 0 : parsed['content-length'] === undefined ? undefined : Number(parsed['content-length']);
        head = { status: Number(statusLine.split(' ')[1]), headers: parsed, length };
        data = pending.subarray(end + 4);
      }
      body.push(data);
      bodyBytes += data.length;
      if (complete()) {
        answer = answerNow();
        resolve(answer!);
        socket.destroy();
      }
    });
    const finish = (err?: Error) => {
      if (!answer && head && (head.length === undefined || complete())) answer = answerNow();
      if (answer) resolve(answer);
      else reject(err ?? new Error(`${method} ${urlPath}: the connection closed without a complete answer`));
    };
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    // A write refused because the server closed after answering: the answer is what counts.
    socket.on('error', (err) => finish(err));
    socket.setTimeout(120_000, () => socket.destroy(new Error(`${method} ${urlPath} timed out`)));
    socket.once('secureConnect', async () => {
      const requestHead = Buffer.from(`${method} ${url.pathname}${url.search} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
      const frame = (chunk: Buffer) => (!chunked ? chunk : chunk.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
      try {
        const chunks = (async function* all() {
          yield* options.chunks ?? [];
        })();
        // A first chunk that is there at once goes with the head: a server that answers on the
        // head alone and closes must not turn a second write into a reset before its answer is
        // read. A body that comes later (a slow client) leaves the head to go alone first.
        let next = chunks.next();
        const atOnce = await Promise.race([next.then((result) => result), new Promise<undefined>((none) => setTimeout(() => none(undefined), 5))]);
        socket.write(atOnce && !atOnce.done ? Buffer.concat([requestHead, frame(atOnce.value)]) : requestHead);
        if (atOnce && !atOnce.done) {
          await new Promise((resume) => setImmediate(resume));
          next = chunks.next();
        }
        for (let result = await next; !result.done; result = await chunks.next()) {
          const chunk = result.value;
          if (answer || socket.destroyed) return;
          const framed = frame(chunk);
          if (framed.length > 0 && !socket.write(framed)) await new Promise((drained) => socket.once('drain', drained));
          // Let the answer in: the writes alone may never leave the event loop to read it.
          await new Promise((resume) => setImmediate(resume));
        }
        if (chunked && !answer && !socket.destroyed) socket.write('0\r\n\r\n');
      } catch (err) {
        socket.destroy(err as Error);
      }
    });
  });
}

const BOUNDARY = 'squared-test-boundary-7d1f';

function formFields(fields: Record<string, string>): Buffer {
  return Buffer.from(Object.entries(fields).map(([name, value]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`).join(''));
}

function filePartHead(name: string, claimedType = 'application/octet-stream'): Buffer {
  return Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="${name}"; filename*=UTF-8''${encodeURIComponent(name)}\r\nContent-Type: ${claimedType}\r\n\r\n`);
}

const formEnd = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
const multipart = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` };

/** Posts a message with one file in a multipart form: the fields, then the file's bytes as `chunks`. */
async function postFile(person: TestPerson, fields: Record<string, string>, name: string, file: Buffer | (() => AsyncIterable<Buffer>), options: { claimedType?: string; declareLength?: boolean } = {}): Promise<RawResponse> {
  const head = Buffer.concat([formFields(fields), filePartHead(name, options.claimedType)]);
  const headers: Record<string, string> = { ...multipart };
  if (Buffer.isBuffer(file) && options.declareLength !== false) headers['content-length'] = String(head.length + file.length + formEnd.length);
  async function* chunks() {
    yield head;
    if (Buffer.isBuffer(file)) yield file;
    else yield* file();
    yield formEnd;
  }
  return send(person, 'POST', '/v1/messages', { headers, chunks: chunks() });
}

const json = (response: RawResponse) => JSON.parse(response.body.toString('utf8'));
const contentPath = (url: string) => new URL(url).pathname;

describe('uploads', () => {
  test('a small file on a message: the message carries a content URL; members download it, others get 404', async () => {
    const [alice, bob, eve] = await createPeople(target.admin, 'Alice Upload', 'Bob Upload', 'Eve Upload');
    const room = await roomWith(alice, [bob]);
    const bytes = Buffer.from('hello, file\n');
    const posted = await postFile(alice, { roomId: room.id, text: 'see attached' }, 'notes ü.txt', bytes, { claimedType: 'image/png' });
    assert.equal(posted.status, 200, posted.body.toString());
    const message = json(posted);
    assert.equal(message.text, 'see attached');
    assert.equal(message.files.length, 1);
    assert.match(message.files[0], /^https:\/\/[^/]+\/v1\/contents\/[A-Za-z0-9_-]+$/);
    const read = await bob.api.get(`/v1/messages/${message.id}`);
    assert.deepEqual(read.body.files, message.files);

    const download = await send(bob, 'GET', contentPath(message.files[0]));
    assert.equal(download.status, 200);
    assert.ok(download.body.equals(bytes));
    // Sniffed from the bytes, not the client's image/png.
    assert.equal(download.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(download.headers['content-length'], String(bytes.length));
    assert.equal(download.headers['x-content-type-options'], 'nosniff');
    assert.equal(download.headers['content-disposition'], `inline; filename="notes _.txt"; filename*=UTF-8''notes%20%C3%BC.txt`);
    assert.equal(download.headers.etag, `"${keyOf(bytes).slice(7)}"`);
    assert.equal(download.headers['accept-ranges'], 'bytes');

    const refused = await send(eve, 'GET', contentPath(message.files[0]));
    assert.equal(refused.status, 404);
    assert.equal(json(refused).errors[0].description, json(await send(eve, 'GET', '/v1/contents/not-a-file')).errors[0].description);
    assert.equal((await send(undefined, 'GET', contentPath(message.files[0]))).status, 401);
  });

  test('a non-member cannot upload into a room, and nothing is stored', async () => {
    const [alice, eve] = await createPeople(target.admin, 'Alice Closed', 'Eve Closed');
    const room = await roomWith(alice, []);
    const bytes = randomBytes(4096);
    const refused = await postFile(eve, { roomId: room.id }, 'x.bin', bytes);
    assert.equal(refused.status, 404);
    assert.equal(await blobExists(keyOf(bytes)), false);
  });

  test('the target fields must come before the file; one file per message; a form without a file is a plain message', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Order');
    const room = await roomWith(alice, []);
    // Each form in one write: the server answers these before the form's end and closes, and a
    // client still writing then would meet a reset instead of reading the answer.
    const late = await send(alice, 'POST', '/v1/messages', { headers: multipart, chunks: [Buffer.concat([filePartHead('a.txt'), Buffer.from('a'), Buffer.from('\r\n'), formFields({ roomId: room.id }), formEnd])] });
    assert.equal(late.status, 400);
    const two = await send(alice, 'POST', '/v1/messages', {
      headers: multipart, chunks: [Buffer.concat([formFields({ roomId: room.id }), filePartHead('a.txt'), Buffer.from('a\r\n'), filePartHead('b.txt'), Buffer.from('b'), formEnd])],
    });
    assert.equal(two.status, 400);
    const plain = await send(alice, 'POST', '/v1/messages', { headers: multipart, chunks: [formFields({ roomId: room.id, markdown: '**hi**' }), Buffer.from(`--${BOUNDARY}--\r\n`)] });
    assert.equal(plain.status, 200);
    assert.equal(json(plain).markdown, '**hi**');
    assert.equal(json(plain).files, undefined);
    const malformed = await send(alice, 'POST', '/v1/messages', { headers: { 'content-type': 'multipart/form-data' }, chunks: [Buffer.from('nothing')] });
    assert.equal(malformed.status, 400);
  });

  // Both modes: a gateway whose store is slower than the client (Cassandra) spools the rest of
  // the body to disk instead of holding it (gateway/http/request-stream.ts).
  test('50 MB streamed: stored whole, the receiving node\'s RSS stays bounded, ranges read back', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Large', 'Bob Large');
    const room = await roomWith(alice, [bob]);
    const size = 50 * 1024 * 1024;
    const block = randomBytes(1024 * 1024);
    const hash = createHash('sha256');
    const pid = receivingPid();
    const before = rssBytes(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 50);
    async function* file() {
      for (let i = 0; i < size / block.length; i++) {
        // Each MiB differs (its first bytes are its index), so no two chunks are the same.
        const chunk = Buffer.from(block);
        chunk.writeUInt32BE(i, 0);
        hash.update(chunk);
        yield chunk;
      }
    }
    let posted;
    try {
      posted = await postFile(alice, { roomId: room.id }, 'large.bin', file);
    } finally {
      clearInterval(sampler);
    }
    assert.equal(posted.status, 200, posted.body.toString());
    const grew = peak - before;
    // Streaming holds a few chunks at a time; the file held whole would add its 50 MiB and its
    // copies (uWS's chunks copied out, then joined): 100 MiB and more. What the bound leaves room
    // for is garbage: every chunk is copied once or more on its way (out of uWS or the spool,
    // into the store's chunks), and V8 collects those copies when they reach its external-memory
    // threshold (64 MiB), not as they are dropped.
    assert.ok(grew < 64 * 1024 * 1024, `RSS grew by ${Math.round(grew / 1024 / 1024)} MiB during a 50 MiB upload`);
    console.log(`# RSS of the receiving node grew by ${Math.round(grew / 1024 / 1024)} MiB during the 50 MiB upload`);
    const url = contentPath(json(posted).files[0]);

    const head = await send(bob, 'HEAD', url);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(size));
    assert.equal(head.headers['content-type'], 'application/octet-stream');
    assert.match(String(head.headers['content-disposition']), /^attachment; /);
    assert.equal(head.headers.etag, `"${hash.digest('hex')}"`);
    assert.equal(head.body.length, 0);

    const middle = await send(bob, 'GET', url, { headers: { range: `bytes=${3 * 1024 * 1024 - 2}-${3 * 1024 * 1024 + 5}` } });
    assert.equal(middle.status, 206);
    assert.equal(middle.headers['content-range'], `bytes ${3 * 1024 * 1024 - 2}-${3 * 1024 * 1024 + 5}/${size}`);
    const expected = Buffer.concat([block.subarray(block.length - 2), Buffer.from(block.subarray(0, 6))]);
    expected.writeUInt32BE(3, 2);
    assert.ok(middle.body.equals(expected));
    const suffix = await send(bob, 'GET', url, { headers: { range: 'bytes=-10' } });
    assert.equal(suffix.status, 206);
    assert.ok(suffix.body.equals(block.subarray(block.length - 10)));
    const whole = await send(bob, 'GET', url);
    assert.equal(whole.status, 200);
    assert.equal(whole.body.length, size);
  });

  test('over the limit: 413 at once when declared, 413 while streaming when not', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Limit');
    const room = await roomWith(alice, []);
    const block = randomBytes(1024 * 1024);
    const length = MAX_FILE_BYTES + 2 * 1024 * 1024;
    let declaredSent = 0;
    async function* body() {
      for (; declaredSent < length; declaredSent += block.length) yield block.subarray(0, Math.min(block.length, length - declaredSent));
    }
    // Declared too large: answered before any of the body is needed (the client waits a moment before sending it, as with Expect: 100-continue).
    async function* declaredBody() {
      await sleep(3000);
      yield* body();
    }
    const declared = await send(alice, 'POST', '/v1/messages', { headers: { ...multipart, 'content-length': String(length) }, chunks: declaredBody() });
    assert.equal(declared.status, 413);
    assert.equal(declaredSent, 0);
    let sent = 0;
    async function* endless() {
      for (;;) {
        sent += block.length;
        yield block;
        if (sent > MAX_FILE_BYTES * 2) throw new Error('the server read on past its limit');
      }
    }
    const streamed = await postFile(alice, { roomId: room.id }, 'huge.bin', endless).catch((err: NodeJS.ErrnoException) => err);
    if (streamed instanceof Error) {
      // The 413 goes out and the connection closes at once (uWS has no lingering close): the
      // reset of a client still sending can overtake the answer. The cut must come near the
      // limit (endless() throws past twice it) and be a reset, not a timeout.
      assert.ok(['EPIPE', 'ECONNRESET'].includes(String(streamed.code)), `cut with ${streamed.message}`);
    } else {
      assert.equal(streamed.status, 413, streamed.body.toString());
      assert.equal(json(streamed).errors.length, 1);
    }
    // The limit plus the form overhead the route allows (1 MiB), and what sockets hold in flight.
    assert.ok(sent <= MAX_FILE_BYTES + 16 * 1024 * 1024, `the server read ${sent} bytes before it cut the upload`);
    assert.equal((await alice.api.get(`/v1/messages?roomId=${room.id}`)).body.items.length, 0);
    // The store has no part of it.
    assert.equal(await blobExists(keyOf(block)), false);
  });

  test('a client that stops sending is cut off with 408, and nothing is kept', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Slow');
    const room = await roomWith(alice, []);
    const started = Date.now();
    async function* stalls() {
      yield Buffer.from('the first bytes, then nothing');
      await sleep(IDLE_MS * 4);
    }
    const answer = await postFile(alice, { roomId: room.id }, 'slow.txt', stalls);
    const waited = Date.now() - started;
    assert.equal(answer.status, 408);
    assert.ok(waited >= IDLE_MS - 100 && waited < IDLE_MS * 4, `answered after ${waited} ms`);
    const messages = await alice.api.get(`/v1/messages?roomId=${room.id}`);
    assert.equal(messages.body.items.length, 0);
  });
});

describe('files URLs', () => {
  test('a https URL is fetched and stored like an upload, its type sniffed (not the remote claim)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Fetch', 'Bob Fetch');
    const room = await roomWith(alice, [bob]);
    const png = pngClaiming(3, 2);
    receiver.on('/pictures/cat.png', () => ({ status: 200, body: png, headers: { 'content-type': 'text/html' } }));
    const posted = await alice.api.post('/v1/messages', { roomId: room.id, text: 'a cat', files: [`${receiver.url}/pictures/cat.png`] });
    expectStatus(posted, 200);
    assert.match(posted.body.files[0], /\/v1\/contents\//);
    const download = await send(bob, 'GET', contentPath(posted.body.files[0]));
    assert.equal(download.status, 200);
    assert.ok(download.body.equals(png));
    assert.equal(download.headers['content-type'], 'image/png');
    assert.match(String(download.headers['content-disposition']), /^inline; filename="cat.png"/);
  });

  test('refused: http, loopback and metadata addresses, a name resolving to loopback, redirects, failures', async () => {
    const [alice] = await createPeople(target.admin, 'Alice SSRF');
    const room = await roomWith(alice, []);
    receiver.on('/moved', () => ({ status: 302, headers: { location: 'https://127.0.0.1/secret' } }));
    receiver.on('/missing', () => ({ status: 404 }));
    const refused = [
      `http://localhost:${receiver.port}/plain`,
      `https://127.0.0.1:${receiver.port}/loopback`,
      'https://169.254.169.254/latest/meta-data/',
      'https://[::1]/v6',
      `https://${os.hostname()}:${receiver.port}/rebinding`,
      `${receiver.url}/moved`,
      `${receiver.url}/missing`,
      'not a url',
    ];
    for (const url of refused) {
      const answer = await alice.api.post('/v1/messages', { roomId: room.id, files: [url] });
      expectStatus(answer, 400, url);
    }
    assert.equal(receiver.received('/loopback').length + receiver.received('/rebinding').length + receiver.received('/plain').length, 0);
    assert.equal((await alice.api.get(`/v1/messages?roomId=${room.id}`)).body.items.length, 0);
  });
});

describe('downloads', () => {
  test('ranges: 206, 416 outside, several ranges or an invalid one answered whole; If-None-Match 304', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Range');
    const room = await roomWith(alice, []);
    const bytes = randomBytes(10_000);
    const message = json(await postFile(alice, { roomId: room.id }, 'r.bin', bytes));
    const url = contentPath(message.files[0]);
    const first = await send(alice, 'GET', url, { headers: { range: 'bytes=0-99' } });
    assert.equal(first.status, 206);
    assert.equal(first.headers['content-length'], '100');
    assert.ok(first.body.equals(bytes.subarray(0, 100)));
    const open = await send(alice, 'GET', url, { headers: { range: 'bytes=9990-' } });
    assert.ok(open.body.equals(bytes.subarray(9990)));
    const clipped = await send(alice, 'GET', url, { headers: { range: 'bytes=9000-20000' } });
    assert.equal(clipped.headers['content-range'], 'bytes 9000-9999/10000');
    const outside = await send(alice, 'GET', url, { headers: { range: 'bytes=10000-' } });
    assert.equal(outside.status, 416);
    assert.equal(outside.headers['content-range'], 'bytes */10000');
    for (const range of ['bytes=0-1,5-6', 'bytes=9-2', 'lines=1-2']) {
      const whole = await send(alice, 'GET', url, { headers: { range } });
      assert.equal(whole.status, 200, range);
      assert.equal(whole.body.length, bytes.length);
    }
    const cached = await send(alice, 'GET', url, { headers: { 'if-none-match': first.headers.etag as string } });
    assert.equal(cached.status, 304);
    assert.equal(cached.body.length, 0);
  });

  test('HTML, SVG and scripts are served as attachments, as text; images inline as themselves', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Active');
    const room = await roomWith(alice, []);
    const cases: [string, Buffer, string, string][] = [
      ['page.html', Buffer.from('<!doctype html><script>alert(1)</script>'), 'text/plain; charset=utf-8', 'attachment'],
      ['a.txt', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), 'text/plain; charset=utf-8', 'attachment'],
      ['x.js', Buffer.from('alert(document.cookie)'), 'text/plain; charset=utf-8', 'attachment'],
      ['photo', pngClaiming(4, 4), 'image/png', 'inline'],
      ['doc.pdf', Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n', 'latin1'), 'application/pdf', 'inline'],
    ];
    for (const [name, bytes, type, disposition] of cases) {
      const message = json(await postFile(alice, { roomId: room.id }, name, bytes, { claimedType: 'text/html' }));
      const download = await send(alice, 'GET', contentPath(message.files[0]));
      assert.equal(download.headers['content-type'], type, name);
      assert.equal(String(download.headers['content-disposition']).split(';')[0], disposition, name);
      assert.equal(download.headers['x-content-type-options'], 'nosniff');
      assert.match(String(download.headers['content-security-policy']), /sandbox/);
    }
  });

  test('a member removed from the room loses access; a member added later has it', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice Access', 'Bob Access', 'Carol Access');
    const room = await roomWith(alice, [bob]);
    const message = json(await postFile(alice, { roomId: room.id }, 'a.txt', Buffer.from('shared')));
    const url = contentPath(message.files[0]);
    assert.equal((await send(bob, 'GET', url)).status, 200);
    assert.equal((await send(carol, 'GET', url)).status, 404);
    const memberships = await alice.api.get(`/v1/memberships?roomId=${room.id}&personId=${bob.id}`);
    expectStatus(await alice.api.delete(`/v1/memberships/${memberships.body.items[0].id}`), 204);
    assert.equal((await send(bob, 'GET', url)).status, 404);
    assert.equal((await send(bob, 'HEAD', url)).status, 404);
    await addMember(alice, room.id, carol);
    assert.equal((await send(carol, 'GET', url)).status, 200);
  });
});

describe('deletion', () => {
  test('deleting the message deletes its file from every store; bytes another message shares stay', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Delete', 'Bob Delete');
    const room = await roomWith(alice, [bob]);
    const bytes = randomBytes(300_000);
    const first = json(await postFile(alice, { roomId: room.id }, 'one.bin', bytes));
    const second = json(await postFile(bob, { roomId: room.id }, 'two.bin', bytes));
    assert.notEqual(first.files[0], second.files[0]);
    assert.equal(await blobExists(keyOf(bytes)), true);
    expectStatus(await alice.api.delete(`/v1/messages/${first.id}`), 204);
    await until(async () => (await send(alice, 'GET', contentPath(first.files[0]))).status === 404, 10_000, 'the deleted message\'s file is gone');
    const kept = await send(alice, 'GET', contentPath(second.files[0]));
    assert.equal(kept.status, 200);
    assert.ok(kept.body.equals(bytes));
    expectStatus(await bob.api.delete(`/v1/messages/${second.id}`), 204);
    await until(async () => !(await blobExists(keyOf(bytes))), 10_000, 'the blob is deleted with its last file');
    assert.equal((await send(bob, 'GET', contentPath(second.files[0]))).status, 404);
  });
});
