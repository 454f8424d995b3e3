// Typing indicators over real WSS (docs/live-protocol.md, "Typing"): a member's `typing`
// reaches the room's other members on any gateway (in cluster mode the sender and the
// receivers sit on two gateways), never the sender's own sockets nor a non-member; a
// non-member's is refused; nothing of it is in the log, the room's seq or a resume; the
// person's next message clears it; a socket's frames stay limited.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { LiveClient, type Frame } from '../../clients/live-client.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { startTarget, type Target } from './target.ts';

const FRAME_BURST = 20;
const FRAMES_PER_SECOND = 10;

let target: Target;
before(async () => {
  target = await startTarget({
    SQUARED_LIVE_FRAME_BURST: String(FRAME_BURST), SQUARED_LIVE_FRAMES_PER_SECOND: String(FRAMES_PER_SECOND),
    SQUARED_RATE_BURST: '100000', SQUARED_RATE_PER_SECOND: '100000',
  });
});
after(() => target.stop());

/** `near`: on the gateway REST goes to; `far`: the live gateway (another one in cluster mode). */
const connect = (person: TestPerson, where: 'near' | 'far', resume?: Record<string, number>) =>
  LiveClient.connect(where === 'near' ? target.url : target.liveUrl, target.ca, person.token, resume);

async function roomWith(owner: TestPerson, ...members: TestPerson[]): Promise<string> {
  const room = await owner.api.post('/v1/rooms', { title: `typing ${Math.random()}` });
  assert.equal(room.status, 200, room.text);
  for (const member of members) {
    const added = await owner.api.post('/v1/memberships', { roomId: room.body.id, personId: member.id });
    assert.equal(added.status, 200, added.text);
  }
  return room.body.id;
}

/**
 * Sends `typing` as a client does, repeating it until every receiver has it: the signal is
 * best effort (a gateway's subscription to the room, made as a socket starts, may not be in
 * place at NATS yet when the first one is published), and a repeat heals a lost one. Repeats
 * are 1.2 s apart, past the once-a-second limit on passing them on.
 */
async function typeUntilSeen(sender: LiveClient, roomId: string, personId: string, ...receivers: LiveClient[]): Promise<Frame[]> {
  for (let attempt = 0; attempt < 15; attempt++) {
    sender.send({ type: 'typing', roomId });
    const seen = await Promise.all(receivers.map((r) => r.waitFor(isTyping(roomId, personId, true), 1200).catch(() => undefined)));
    if (seen.every((f) => f !== undefined)) return seen as Frame[];
  }
  throw new Error('the typing signal never reached every receiver');
}

const typingOf = (client: LiveClient, personId?: string) =>
  client.frames.filter((f) => f.type === 'typing' && (personId === undefined || f.personId === personId));
const isTyping = (roomId: string, personId: string, typing: boolean) => (f: Frame) =>
  f.type === 'typing' && f.roomId === roomId && f.personId === personId && f.typing === typing;

describe('typing', () => {
  test('reaches the other members on every gateway with an expiry hint, not the sender\'s sockets nor non-members', async () => {
    const [alice, bob, carol, dave] = await createPeople(target.admin, 'Alice Typist', 'Bob Reader', 'Carol Reader', 'Dave Outsider');
    const roomId = await roomWith(alice, bob, carol);
    const aliceHere = await connect(alice, 'near');
    const aliceThere = await connect(alice, 'far');
    const bobThere = await connect(bob, 'far');
    const carolHere = await connect(carol, 'near');
    const daveThere = await connect(dave, 'far');
    const daveHere = await connect(dave, 'near');
    try {
      const [seenByBob, seenByCarol] = await typeUntilSeen(aliceHere, roomId, alice.id, bobThere, carolHere);
      for (const frame of [seenByBob, seenByCarol]) {
        assert.deepEqual(Object.keys(frame).sort(), ['expiresInMs', 'personId', 'roomId', 'type', 'typing']);
        assert.equal(frame.expiresInMs, 6000);
        assert.equal(frame.seq, undefined);
      }
      // Each gateway hands a signal to all its sessions of the room at once: once Bob and
      // Carol have it, the sessions beside them would have it too.
      assert.deepEqual(typingOf(aliceHere), []);
      assert.deepEqual(typingOf(aliceThere), []);
      assert.deepEqual(typingOf(daveThere), []);
      assert.deepEqual(typingOf(daveHere), []);

      // Typing from the other gateway reaches Alice and Carol, and Bob's own sockets not.
      await typeUntilSeen(bobThere, roomId, bob.id, aliceHere, aliceThere, carolHere);
      assert.deepEqual(typingOf(bobThere, bob.id), []);
      assert.deepEqual(typingOf(daveThere), []);
    } finally {
      for (const c of [aliceHere, aliceThere, bobThere, carolHere, daveThere, daveHere]) c.close();
    }
  });

  test('a non-member is refused with an error frame and nobody hears of it', async () => {
    const [alice, bob, mallory] = await createPeople(target.admin, 'Alice Member', 'Bob Member', 'Mallory Outsider');
    const roomId = await roomWith(alice, bob);
    const bobLive = await connect(bob, 'far');
    const malloryLive = await connect(mallory, 'near');
    const aliceLive = await connect(alice, 'near');
    try {
      malloryLive.send({ type: 'typing', roomId });
      const refused = await malloryLive.waitFor((f) => f.type === 'error');
      assert.match(refused.message, /not a member/);
      malloryLive.send({ type: 'typing', roomId: 'Y2lzY29zcGFyazovL3VzL1JPT00vbm9uZQ' });
      await malloryLive.waitFor((f) => f.type === 'error' && f !== refused);
      // A bad frame is refused as any other, and the socket stays open.
      malloryLive.send({ type: 'typing', roomId, typing: 'yes' });
      await malloryLive.waitFor((f) => f.type === 'error' && /typing/.test(f.message));
      malloryLive.send({ type: 'ping' });
      await malloryLive.waitFor((f) => f.type === 'pong');

      // Alice's signal is published after Mallory's would have been: once Bob has it, he would have had Mallory's.
      await typeUntilSeen(aliceLive, roomId, alice.id, bobLive);
      assert.deepEqual(typingOf(bobLive, mallory.id), []);
    } finally {
      for (const c of [bobLive, malloryLive, aliceLive]) c.close();
    }
  });

  test('is cleared by the person\'s next message in the room, and by typing false', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Poster', 'Bob Watcher');
    const roomId = await roomWith(alice, bob);
    const aliceLive = await connect(alice, 'near');
    const bobLive = await connect(bob, 'far');
    try {
      await typeUntilSeen(aliceLive, roomId, alice.id, bobLive);
      const posted = await alice.api.post('/v1/messages', { roomId, text: 'done typing' });
      assert.equal(posted.status, 200, posted.text);
      const cleared = await bobLive.waitFor(isTyping(roomId, alice.id, false));
      assert.equal(cleared.expiresInMs, undefined);
      assert.ok(bobLive.events.some((e) => e.event === 'message.created' && e.data.id === posted.body.id));
      assert.deepEqual(typingOf(aliceLive), []);

      // Right after her message (once her socket has seen it), Alice's next typing goes out at once; typing false stops it.
      await aliceLive.waitFor((f) => f.type === 'event' && f.data.id === posted.body.id);
      const before = typingOf(bobLive, alice.id).length;
      aliceLive.send({ type: 'typing', roomId });
      await bobLive.waitFor((f) => isTyping(roomId, alice.id, true)(f) && typingOf(bobLive, alice.id).indexOf(f) >= before);
      aliceLive.send({ type: 'typing', roomId, typing: false });
      await bobLive.waitFor((f) => isTyping(roomId, alice.id, false)(f) && f !== cleared);
    } finally {
      aliceLive.close();
      bobLive.close();
    }
  });

  test('is never in the log, the room\'s seq or a resume', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice Ephemeral', 'Bob Resumer', 'Carol Marker');
    const roomId = await roomWith(alice, bob, carol);
    const aliceLive = await connect(alice, 'near');
    let bobLive = await connect(bob, 'far');
    const head = bobLive.frames[0].positions[roomId];
    try {
      await typeUntilSeen(aliceLive, roomId, alice.id, bobLive);
      const positions = bobLive.positions();
      bobLive.close();
      await bobLive.closed;
      // Resume from before the room's start: everything in its log comes again, typing not.
      bobLive = await connect(bob, 'far', { ...positions, [roomId]: 0 });
      assert.equal(bobLive.frames[0].positions[roomId], head, 'typing took no seq');
      // Carol's message (no typing of hers to clear) marks the end of the replay.
      const marker = await carol.api.post('/v1/messages', { roomId, text: 'marker' });
      assert.equal(marker.status, 200, marker.text);
      await bobLive.waitFor((f) => f.type === 'event' && f.data.id === marker.body.id);
      assert.deepEqual(typingOf(bobLive), []);
      const seqs = bobLive.eventsOf(roomId).map((e) => e.seq);
      assert.equal(seqs.at(-1), head + 1, 'the marker took the seq after the head');
      for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, `seq ${seqs[i]} follows ${seqs[i - 1]}`);
      const listed = await bob.api.get(`/v1/messages?roomId=${encodeURIComponent(roomId)}`);
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(listed.body.items.map((m: { id: string }) => m.id), [marker.body.id]);
    } finally {
      aliceLive.close();
      bobLive.close();
    }
  });

  test('frames are limited per socket, and repeated typing reaches members at most once a second', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Hammer', 'Bob Patient');
    const roomId = await roomWith(alice, bob);
    const aliceLive = await connect(alice, 'near');
    const bobLive = await connect(bob, 'far');
    try {
      await typeUntilSeen(aliceLive, roomId, alice.id, bobLive);
      const started = Date.now();
      const sent = FRAME_BURST * 3;
      for (let i = 0; i < sent; i++) aliceLive.send({ type: 'typing', roomId });
      const refused = await aliceLive.waitFor((f) => f.type === 'error');
      assert.match(refused.message, /slow down/);
      assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 1000 / FRAMES_PER_SECOND, `retryAfterMs ${refused.retryAfterMs}`);
      // A stop goes out at once (after a start), and after every earlier signal of the socket:
      // sent, once the limit lets it through, it closes the count.
      let stopped = false;
      for (let attempt = 0; attempt < 50 && !stopped; attempt++) {
        await sleep(1000 / FRAMES_PER_SECOND);
        const errors = aliceLive.frames.filter((f) => f.type === 'error').length;
        aliceLive.send({ type: 'typing', roomId, typing: false });
        const answer = await Promise.race([
          bobLive.waitFor(isTyping(roomId, alice.id, false), 5000).then(() => 'stopped' as const, () => 'late' as const),
          aliceLive.waitFor(() => aliceLive.frames.filter((f) => f.type === 'error').length > errors, 5000).then(() => 'refused' as const, () => 'late' as const),
        ]);
        stopped = answer === 'stopped';
      }
      assert.ok(stopped, 'the stop got through the limit');
      const seconds = (Date.now() - started) / 1000;
      const starts = typingOf(bobLive, alice.id).filter((f) => f.typing).length;
      assert.ok(starts >= 1 && starts <= Math.ceil(seconds) + 2, `${starts} of ${sent} typing frames passed on in ${seconds.toFixed(1)} s`);
    } finally {
      aliceLive.close();
      bobLive.close();
    }
  });
});
