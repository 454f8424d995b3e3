// What a client without a token can make the server do, over real HTTPS (issue 15,
// findings 1 and 7). A body of up to the 1 MiB limit built to be costly to parse (a form of
// 500,000 fields, a JSON object of 90,000 members) is answered with a 4xx at once, and the
// event loop never stalls: a /health probe running meanwhile stays fast. A request with two
// Content-Length (or Transfer-Encoding) headers is answered with one 400 and its connection
// closed, so nothing hidden in its body ever runs as a second request (RFC 9112 §6.3).
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { ApiClient } from '../../clients/api-client.ts';
import { startTarget, type Target } from './target.ts';

/** A correctness guard, not a benchmark: the quadratic parse stalled the loop for seconds. */
const MAX_STALL_MS = 500;
const BODY_LIMIT = 1024 * 1024;

let target: Target;
before(async () => {
  target = await startTarget();
});
after(() => target.stop());

/** Asks /health over and over until stopped, and answers the slowest round trip (ms). */
function probeHealth(): { stop(): Promise<number> } {
  const probe = new ApiClient(target.url, target.ca);
  let running = true;
  let slowest = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const response = await probe.get('/health', { token: null });
      slowest = Math.max(slowest, performance.now() - started);
      assert.equal(response.status, 200);
      await sleep(5);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      probe.close();
      return slowest;
    },
  };
}

const repeatedFields = (bytes: number) => 'a&'.repeat(Math.floor(bytes / 2) - 1) + 'a';
const manyMembers = (bytes: number) => {
  const members: string[] = [];
  for (let i = 0, size = 2; size + 12 < bytes; i++) {
    const member = `"k${i}":1`;
    members.push(member);
    size += member.length + 1;
  }
  return `{${members.join(',')}}`;
};

test('bodies built to be costly to parse are answered with a 4xx at once, and /health stays fast meanwhile', async () => {
  const attacker = new ApiClient(target.url, target.ca);
  const cases = [
    { what: '50 KB form of repeated keys, token endpoint', path: '/v1/access_token', body: repeatedFields(50_000), type: 'application/x-www-form-urlencoded', expect: 400 },
    { what: '50 KB form of repeated keys, no token', path: '/v1/rooms', body: repeatedFields(50_000), type: 'application/x-www-form-urlencoded', expect: 401 },
    { what: '1 MiB form of repeated keys, token endpoint', path: '/v1/access_token', body: repeatedFields(BODY_LIMIT), type: 'application/x-www-form-urlencoded', expect: 400 },
    { what: '1 MiB form of repeated keys, no token', path: '/v1/rooms', body: repeatedFields(BODY_LIMIT), type: 'application/x-www-form-urlencoded', expect: 401 },
    { what: '1 MiB JSON object of many members, token endpoint', path: '/v1/access_token', body: manyMembers(BODY_LIMIT), type: 'application/json', expect: 400 },
  ];
  try {
    for (const { what, path, body, type, expect } of cases) {
      assert.ok(body.length <= BODY_LIMIT, `${what}: within the body limit`);
      const probe = probeHealth();
      const started = performance.now();
      const response = await attacker.post(path, undefined, { raw: { body, contentType: type }, token: null, unchecked: path === '/v1/access_token' });
      const tookMs = performance.now() - started;
      await sleep(50); // a probe or two after the answer
      const slowestHealthMs = await probe.stop();
      assert.equal(response.status, expect, `${what}: ${response.text.slice(0, 200)}`);
      assert.ok(response.body.message, `${what}: a Webex error`);
      assert.ok(slowestHealthMs < MAX_STALL_MS, `${what}: /health took ${Math.round(slowestHealthMs)} ms meanwhile (answered in ${Math.round(tookMs)} ms)`);
    }
  } finally {
    attacker.close();
  }
});

/** Writes raw bytes on one TLS connection and collects what comes back until the server closes it. */
async function rawExchange(parts: string[], gapMs = 0): Promise<{ text: string; closedByServer: boolean }> {
  const { hostname, port } = new URL(target.url);
  const socket = tls.connect({ host: hostname, port: Number(port), ca: target.ca });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined); // a write after the server closed: what the test looks at is what came back
  const closed = new Promise<boolean>((resolve) => socket.once('close', () => resolve(true)));
  for (const [i, part] of parts.entries()) {
    if (i > 0 && gapMs > 0) await sleep(gapMs);
    if (!socket.destroyed) socket.write(part);
  }
  const closedByServer = await Promise.race([closed, sleep(3000).then(() => false)]);
  socket.destroy();
  return { text, closedByServer };
}

const statusLines = (text: string) => [...text.matchAll(/(?:^|\r\n)(HTTP\/1\.1 \d{3})/g)].map((m) => m[1]);

test('two Content-Length headers, or two Transfer-Encoding: one 400, the connection closed, no second response', async () => {
  const host = new URL(target.url).host;
  const smuggled = `GET /health HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
  const head = (path: string, framing: string) => `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n${framing}\r\n`;
  const cases = [
    { what: 'to a route, in one write', parts: [head('/v1/rooms', `Content-Length: 2\r\nContent-Length: ${2 + smuggled.length}\r\n`) + '{}' + smuggled] },
    { what: 'to an unknown path, in one write', parts: [head('/v1/nowhere', `Content-Length: 2\r\nContent-Length: ${2 + smuggled.length}\r\n`) + '{}' + smuggled] },
    { what: 'to a route, the hidden request written later', parts: [head('/v1/rooms', `Content-Length: 2\r\nContent-Length: ${2 + smuggled.length}\r\n`) + '{}', smuggled], gapMs: 200 },
    { what: 'two Transfer-Encoding headers', parts: [head('/v1/rooms', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n') + '2\r\n{}\r\n0\r\n\r\n' + smuggled] },
    { what: 'Content-Length with Transfer-Encoding', parts: [head('/v1/rooms', 'Content-Length: 2\r\nTransfer-Encoding: chunked\r\n') + '2\r\n{}\r\n0\r\n\r\n' + smuggled] },
  ];
  for (const { what, parts, gapMs } of cases) {
    const { text, closedByServer } = await rawExchange(parts, gapMs);
    assert.deepEqual(statusLines(text), ['HTTP/1.1 400'], `${what}: ${JSON.stringify(text.slice(0, 400))}`);
    assert.ok(closedByServer, `${what}: the server closed the connection`);
    assert.equal(text.match(/\r\nConnection: close\r\n/gi)?.length, 1, `${what}: says Connection: close, once`);
  }
  // The server is fine afterwards.
  assert.equal((await target.admin.get('/health', { token: null })).status, 200);
});
