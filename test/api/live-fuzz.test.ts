// The live socket under thousands of random and malformed frames, from a seeded generator
// (the seed is printed; SQUARED_FUZZ_SEED replays a run): wrong types, junk JSON, huge
// strings, deep nesting, binary frames, invalid UTF-8, bad hellos, frames before the hello,
// meeting requests with arguments of every wrong shape. Every socket gets only well-formed
// frames back (error frames, refused meeting replies) or a documented close; the server logs
// no error; and a socket beside them goes on receiving its room's events, in order.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { LiveClient } from '../../clients/live-client.ts';
import { SERVER_FRAME_TYPES } from '../../contracts/live-frames.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { createRoom, expectStatus } from '../harness/rooms.ts';
import { seededRandom as random } from '../harness/seeded-random.ts';
import { startTarget, type Target } from './target.ts';


const seed = Number(process.env.SQUARED_FUZZ_SEED ?? Date.now() % 1_000_000);
const rand = random(seed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
const int = (below: number) => Math.floor(rand() * below);

const TYPES = ['hello', 'ping', 'meeting', 'event', 'ready', 'resync', '', 'HELLO', 'x'.repeat(300)] as const;
const ACTIONS = ['join', 'leave', 'produce', 'consume', 'createTransport', 'connectTransport', 'mute', 'admit', 'lock', 'nope', '__proto__', 'constructor'] as const;

function junkValue(depth = 0): unknown {
  switch (int(depth > 3 ? 6 : 9)) {
    case 0: return null;
    case 1: return rand() < 0.5;
    case 2: return pick([0, -1, 1e308, -0, 2 ** 53 + 1, 3.14]);
    case 3: return 'é\u0000\ud800'.repeat(int(5)) + 'x'.repeat(int(200));
    case 4: return '';
    case 5: return pick(['hello', 'meeting', 'ping', '{"type":"hello"}', '__proto__']);
    case 6: return Array.from({ length: int(6) }, () => junkValue(depth + 1));
    case 7: return Object.fromEntries(Array.from({ length: int(6) }, (_, i) => [pick(['type', 'token', 'id', 'action', 'args', '__proto__', `k${i}`]), junkValue(depth + 1)]));
    default: return { type: pick(TYPES), token: junkValue(depth + 1) };
  }
}

/** One malformed or unexpected frame: [payload, binary]. */
function junkFrame(): [string | Buffer, boolean] {
  switch (int(10)) {
    case 0: return [Buffer.from(Array.from({ length: int(64) + 1 }, () => int(256))), true];
    case 1: return [JSON.stringify({ type: 'hello', token: '\ud800\udfff\u0000'.repeat(int(100)) }), false]; // lone surrogates, NUL
    case 2: return [pick(['', ' ', 'null', '[]', '"hello"', '{', '}{', '{"type":'], ), false];
    case 3: return ['['.repeat(5000) + ']'.repeat(5000), false];
    case 4: return [JSON.stringify({ type: 'ping', pad: 'x'.repeat(int(20_000)) }), false];
    case 5: return [JSON.stringify(junkValue()), false];
    case 6: return [JSON.stringify({ type: 'hello', token: junkValue(), resume: junkValue() }), false];
    case 7: return [JSON.stringify({ type: 'meeting', id: junkValue(), meetingId: junkValue(), action: pick(ACTIONS), args: junkValue(), transportId: junkValue(), rtpParameters: junkValue(), direction: junkValue() }), false];
    case 8: return [JSON.stringify({ type: 'meeting', id: `r${int(1e6)}`, meetingId: 'Y2lzY29zcGFyazovL3VzL01FRVRJTkcvMQ', action: pick(ACTIONS), participantId: junkValue() }), false];
    default: return [JSON.stringify({ type: pick(TYPES), ...(junkValue() as object) }), false];
  }
}

const SERVER_FRAMES = new Set<string>(SERVER_FRAME_TYPES);
// 1000: the test closes; 4001: no valid hello. A connection that breaks the WebSocket
// protocol itself (a frame over the payload limit, invalid UTF-8 in a text frame) is
// dropped by uWebSockets.js at once, without a close frame (1006, see
// docs/live-protocol.md): the test sends those on sockets of their own.
const CLOSES = new Set([1000, 4001]);

interface Outcome { frames: unknown[]; close: number }

function fuzzSocket(target: Target, frames: [string | Buffer, boolean][], token?: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(new URL('/v1/live', target.liveUrl.replace(/^https/, 'wss')), { ca: target.ca, handshakeTimeout: 10_000 });
    const received: unknown[] = [];
    socket.on('message', (data, binary) => received.push(binary ? { binary: true } : data.toString()));
    socket.once('close', (code) => resolve({ frames: received, close: code }));
    socket.once('error', (err) => (socket.readyState === WebSocket.CONNECTING ? reject(err) : undefined));
    socket.once('open', async () => {
      if (token) socket.send(JSON.stringify({ type: 'hello', token }));
      for (const [payload, binary] of frames) {
        if (socket.readyState !== WebSocket.OPEN) break;
        socket.send(payload, { binary });
        // Paced a little: a burst of megabytes at once is dropped by uWebSockets.js itself
        // (1006), which would end the fuzzing of that socket early.
        if (int(10) === 0) await new Promise((r) => setTimeout(r, 1));
      }
      // Let the answers arrive, then close (unless the server did already).
      setTimeout(() => socket.close(1000), 1500);
    });
  });
}

function problemsOf(outcome: Outcome): string[] {
  const problems: string[] = [];
  if (!CLOSES.has(outcome.close)) problems.push(`closed with ${outcome.close}`);
  for (const raw of outcome.frames) {
    if (typeof raw !== 'string') {
      problems.push('a binary frame from the server');
      continue;
    }
    let frame: { type?: unknown; message?: unknown };
    try {
      frame = JSON.parse(raw);
    } catch {
      problems.push(`not JSON: ${raw.slice(0, 80)}`);
      continue;
    }
    if (typeof frame.type !== 'string' || !SERVER_FRAMES.has(frame.type)) problems.push(`unknown frame ${raw.slice(0, 80)}`);
    if (frame.type === 'error' && typeof frame.message !== 'string') problems.push(`error frame without a message: ${raw.slice(0, 80)}`);
  }
  return problems;
}

describe('live socket fuzzing', { timeout: 180_000 }, () => {
  let target: Target;
  let alice: TestPerson;

  before(async () => {
    target = await startTarget();
    [alice] = await createPeople(target.admin, 'Alice Fuzz');
  });
  after(() => target?.stop());

  test(`thousands of malformed frames (seed ${seed}) get well-formed answers, documented closes, no server error`, async () => {
    const room = await createRoom(alice);
    const watcher = await LiveClient.connect(target.liveUrl, target.ca, alice.token);
    const posted: string[] = [];
    const post = async (text: string) => {
      const reply = await alice.api.post('/v1/messages', { roomId: room.id, text });
      expectStatus(reply, 200, 'post beside the fuzzing');
      posted.push(text);
    };
    await post('before');

    // Before any hello: every socket is refused with an error frame and 4001.
    const early = await Promise.all(Array.from({ length: 12 }, () => fuzzSocket(target, [junkFrame(), junkFrame()])));
    for (const outcome of early) {
      assert.deepEqual(problemsOf(outcome), []);
      assert.equal(outcome.close, 4001, 'a socket without a hello is closed');
    }

    // After a valid hello: 8 sockets × 300 frames, while posts go on in the room.
    let frames = 0;
    const sessions = Array.from({ length: 8 }, () => {
      const batch = Array.from({ length: 300 }, junkFrame);
      frames += batch.length;
      return fuzzSocket(target, batch, alice.token);
    });
    for (let i = 0; i < 5; i++) await post(`during ${i}`);
    const outcomes = await Promise.all(sessions);
    for (const outcome of outcomes) {
      assert.deepEqual(problemsOf(outcome), []);
      // Frames sent while the hello is being checked may be answered before it is.
      const readies = outcome.frames.filter((raw) => typeof raw === 'string' && JSON.parse(raw).type === 'ready');
      assert.equal(readies.length, 1, 'a fuzzed session starts, once');
    }
    assert.ok(frames >= 2400);

    // A flood of large frames, each answered at once, is carried through to its end (the
    // answers are written after uWebSockets.js's message handler, see live-endpoint.ts).
    const flood = await fuzzSocket(target, Array.from({ length: 40 }, (): [string, boolean] => [JSON.stringify({ type: 'ping', pad: 'x'.repeat(200_000) }), false]), alice.token);
    assert.deepEqual(problemsOf(flood), []);
    assert.ok(flood.frames.length > 40, `the flood was answered (${flood.frames.length} frames)`);

    // Frames that break the WebSocket protocol itself end their own connection, and only it.
    const breakers = await Promise.all([
      fuzzSocket(target, [[Buffer.from([0x7b, 0xff, 0xfe, 0xc3, 0x28, 0x7d]), false]], alice.token),
      fuzzSocket(target, [[JSON.stringify({ type: 'ping', pad: 'x'.repeat(300 * 1024) }), false]], alice.token),
    ]);
    for (const outcome of breakers) {
      assert.ok([1000, 1006].includes(outcome.close), `closed with ${outcome.close}`);
      assert.deepEqual(problemsOf({ ...outcome, close: 1000 }), []);
    }
    await post('after');

    // The socket beside them saw every post, once, in order.
    await watcher.waitFor(() => watcher.eventsOf(room.id).filter((e) => e.event === 'message.created').length >= posted.length, 20_000);
    const texts = watcher.eventsOf(room.id).filter((e) => e.event === 'message.created').map((e) => e.data.text);
    assert.deepEqual(texts, posted);
    const seqs = watcher.eventsOf(room.id).map((e) => e.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i), 'contiguous seqs');
    watcher.close();

    // Nothing the fuzzing did is an error on the server's side (pino level 50 and up).
    const logs = target.process ? [target.process.output()] : target.cluster!.nodes.map((node) => node.output());
    const errors = logs.flatMap((log) => log.split('\n')).filter((line) => /"level":(5|6)0/.test(line));
    assert.deepEqual(errors.map((line) => line.slice(0, 400)), []);
  });
});
