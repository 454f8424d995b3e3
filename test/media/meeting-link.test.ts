// One meeting on two media nodes, linked by PipeTransports: here two worker pools and two
// Meetings with the same id in one process stand for the nodes 'node-a' and 'node-b', and
// the test makes the calls the conference control makes (the handshake, then pipeOut on the
// producer's node and pipeIn with its answer on the other). Opus from ffmpeg goes into a
// plain transport on A and comes out of a plain transport on B into a UDP socket here.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MediaError } from '../../media/media-error.ts';
import { Meeting, type PipedProducer } from '../../media/meeting.ts';
import { WorkerPool } from '../../media/worker-pool.ts';
import { OPUS_RTP_PARAMETERS, RtpSink, startOpusSource } from '../harness/rtp.ts';
import { until } from '../harness/wait.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const bounded = { timeout: 30_000 };

async function flowing(sink: RtpSink, ms = 1000): Promise<number> {
  const before = sink.bytes;
  await sleep(ms);
  return sink.bytes - before;
}

/** Waits (at most 5 s) for one event of `emitter` and answers its payload. */
async function next<T>(emitter: Meeting, event: string): Promise<T> {
  const [payload] = await once(emitter, event, { signal: AbortSignal.timeout(5000) });
  return payload as T;
}

const rejectsWith = (promise: Promise<unknown> | (() => unknown), code: string, message?: RegExp) =>
  assert.rejects(async () => (typeof promise === 'function' ? promise() : promise), (err: unknown) =>
    err instanceof MediaError && err.code === code && (message === undefined || message.test(err.message)));

const load = (pool: WorkerPool) => pool.workers().reduce((sum, w) => ({ producers: sum.producers + w.producers, consumers: sum.consumers + w.consumers }), { producers: 0, consumers: 0 });

describe('a meeting on two media nodes', bounded, () => {
  let poolA: WorkerPool;
  let poolB: WorkerPool;
  /** On A, Alice is on the home router and Erin on another; on B, Carol is home and Bob elsewhere. */
  let a: Meeting;
  let b: Meeting;
  let sink: RtpSink;
  let sinkErin: RtpSink;
  const sources = new Map<string, ChildProcess>();
  let epA: { ip: string; port: number };
  let epB: { ip: string; port: number };
  let alice: { producerId: string; piped: PipedProducer; consumerId: string; recvId: string };
  let erinProducerId: string;

  /** The handshake as the conference control does it. */
  async function handshake(): Promise<void> {
    epB = await b.linkEndpoint('node-a');
    epA = await a.linkEndpoint('node-b');
    await a.connectLink('node-b', epB.ip, epB.port);
    await b.connectLink('node-a', epA.ip, epA.port);
  }

  async function pipeAcross(producerId: string): Promise<PipedProducer> {
    const piped = await a.pipeOut('node-b', producerId);
    await b.pipeIn('node-a', piped);
    return piped;
  }

  /** A participant on A sends opus from ffmpeg (a new stream replaces theirs). */
  async function send(participantId: string): Promise<string> {
    const transport = await a.createTransport(participantId, 'plain', 'send');
    const producerId = await a.produce(participantId, transport.id, 'audio', OPUS_RTP_PARAMETERS);
    sources.get(participantId)?.kill('SIGKILL');
    sources.set(participantId, startOpusSource(transport.port!, transport.rtcpPort!));
    return producerId;
  }

  /** Bob on B receives `producerId` on `to`. */
  async function bobReceives(producerId: string, to: RtpSink): Promise<{ consumerId: string; recvId: string; producerParticipantId: string }> {
    const recv = await b.createTransport('bob', 'plain', 'recv');
    await b.connectTransport('bob', recv.id, { ip: '127.0.0.1', port: to.port });
    const consumer = await b.consume('bob', recv.id, producerId);
    await b.resumeConsumer('bob', consumer.id);
    return { consumerId: consumer.id, recvId: recv.id, producerParticipantId: consumer.producerParticipantId };
  }

  async function wireAlice(): Promise<void> {
    const producerId = await send('alice');
    const piped = await pipeAcross(producerId);
    const { consumerId, recvId } = await bobReceives(producerId, sink);
    alice = { producerId, piped, consumerId, recvId };
  }

  before(async () => {
    [poolA, poolB] = await Promise.all([WorkerPool.start({ size: 2, logger: quiet }), WorkerPool.start({ size: 2, logger: quiet })]);
    // Plain RTP participants here take a new transport for each stream they send or
    // receive (one sink address each), more than the caps a browser is held to.
    const options = { participantsPerRouter: 1, participantLimits: { transports: 16, producers: 16, consumers: 16 } };
    a = await Meeting.create('meeting-x', poolA, { ip: '127.0.0.1' }, options);
    b = await Meeting.create('meeting-x', poolB, { ip: '127.0.0.1' }, options);
    [sink, sinkErin] = await Promise.all([RtpSink.open(), RtpSink.open()]);
    await a.join('alice');
    await a.join('erin');
    await b.join('carol', b.rtpCapabilities);
    await b.join('bob', b.rtpCapabilities);
    assert.notEqual(a.workerPidOf('erin'), a.workerPid, "Erin's producer has to be piped to A's home router");
    assert.notEqual(b.workerPidOf('bob'), b.workerPid, 'remote producers have to be piped from B’s home router to Bob’s');
  });
  after(async () => {
    for (const source of sources.values()) source.kill('SIGKILL');
    sink?.close();
    sinkErin?.close();
    a?.close();
    b?.close();
    await Promise.all([poolA?.close(), poolB?.close()]);
  });

  test("a participant on B receives the audio of one on A across the link", bounded, async () => {
    const first = await b.linkEndpoint('node-a');
    assert.equal(first.connectedTo, undefined, 'not connected before connectLink');
    await handshake();
    assert.equal(epB.port, first.port);
    const producerId = await send('alice');
    const piped = await pipeAcross(producerId);
    assert.deepEqual({ ...piped, rtpParameters: undefined }, { producerId, participantId: 'alice', kind: 'audio', rtpParameters: undefined, paused: false });
    const { consumerId, recvId, producerParticipantId } = await bobReceives(producerId, sink);
    assert.equal(producerParticipantId, 'alice', 'the remote producer keeps its owner');
    alice = { producerId, piped, consumerId, recvId };
    await until(() => sink.bytes > 0, 5000, 'media from node A');
    assert.ok((await flowing(sink)) > 4000, 'about 8 kB/s of opus');
    assert.deepEqual(b.othersProducers('carol'), [], "a remote producer is no local participant's");
  });

  test('every step can be repeated without making anything twice', bounded, async () => {
    const [loadA, loadB] = [load(poolA), load(poolB)];
    assert.deepEqual(await b.linkEndpoint('node-a'), { ...epB, connectedTo: { ip: epA.ip, port: epA.port } });
    assert.deepEqual(await a.linkEndpoint('node-b'), { ...epA, connectedTo: { ip: epB.ip, port: epB.port } });
    await a.connectLink('node-b', epB.ip, epB.port);
    await b.connectLink('node-a', epA.ip, epA.port);
    const [again, concurrently] = await Promise.all([a.pipeOut('node-b', alice.producerId), a.pipeOut('node-b', alice.producerId)]);
    assert.deepEqual(again, alice.piped);
    assert.deepEqual(concurrently, alice.piped);
    await Promise.all([b.pipeIn('node-a', alice.piped), b.pipeIn('node-a', alice.piped)]);
    const [x, y] = await Promise.all([a.linkEndpoint('node-z'), a.linkEndpoint('node-z')]);
    assert.equal(x.port, y.port, 'one link per peer, even when asked twice at once');
    a.closeLink('node-z');
    assert.deepEqual(a.linkedPeers(), ['node-b']);
    assert.deepEqual(load(poolA), loadA, 'no second pipe consumer on A');
    assert.deepEqual(load(poolB), loadB, 'no second remote producer on B');
    assert.ok((await flowing(sink)) > 4000);
  });

  test('bad calls are media errors that change nothing', bounded, async () => {
    const [loadA, loadB] = [load(poolA), load(poolB)];
    await rejectsWith(a.pipeOut('node-b', 'no-such-producer'), 'not-found', /no-such-producer/);
    await rejectsWith(a.pipeOut('node-c', alice.producerId), 'not-found', /node-c/);
    await rejectsWith(b.pipeOut('node-a', alice.producerId), 'not-found', /no producer/); // only local producers go out
    await rejectsWith(a.connectLink('node-b', epB.ip, epB.port + 1), 'bad-request', /is connected to/);
    await rejectsWith(a.connectLink('node-c', epB.ip, epB.port), 'bad-request', /no link to node-c/);
    await rejectsWith(b.pipeIn('node-c', alice.piped), 'not-found', /node-c/);
    await rejectsWith(b.pipeIn('node-a', { ...alice.piped, producerId: randomUUID(), rtpParameters: { codecs: [], encodings: [] } }), 'bad-request', /cannot pipe in/);
    await rejectsWith(a.pipeIn('node-b', { ...alice.piped }), 'bad-request', /produced here/);
    // A remote producer is nobody's here: local participants cannot pause or close it.
    await rejectsWith(b.setProducerPaused('carol', alice.producerId, true), 'not-found');
    await rejectsWith(() => b.closeProducer('bob', alice.producerId), 'not-found');
    assert.deepEqual((await a.linkEndpoint('node-b')).connectedTo, { ip: epB.ip, port: epB.port });
    assert.deepEqual(load(poolA), loadA);
    assert.deepEqual(load(poolB), loadB);
    assert.ok((await flowing(sink)) > 4000, 'the stream still flows');
  });

  test('pausing: the remote copy follows its producer; resumed, media flows again', bounded, async () => {
    await b.setRemotePaused(alice.producerId, true);
    await sleep(300);
    assert.ok((await flowing(sink)) < 500, 'the paused remote producer forwards nothing on B');
    await b.setRemotePaused(alice.producerId, false);
    assert.ok((await flowing(sink)) > 4000);

    const paused = next(a, 'producerPaused');
    await a.setProducerPaused('alice', alice.producerId, true);
    assert.deepEqual(await paused, { participantId: 'alice', producerId: alice.producerId, paused: true });
    await b.setRemotePaused(alice.producerId, true);
    assert.equal((await a.pipeOut('node-b', alice.producerId)).paused, true, 'pipeOut reports the pause');
    await sleep(300);
    assert.ok((await flowing(sink)) < 500);
    await a.setProducerPaused('alice', alice.producerId, false);
    await b.setRemotePaused(alice.producerId, false);
    assert.ok((await flowing(sink)) > 4000);
  });

  test("a producer on another of A's routers goes out through the home router", bounded, async () => {
    erinProducerId = await send('erin');
    await pipeAcross(erinProducerId);
    const { producerParticipantId } = await bobReceives(erinProducerId, sinkErin);
    assert.equal(producerParticipantId, 'erin');
    await until(() => sinkErin.bytes > 0, 5000, "Erin's media");
    assert.ok((await flowing(sinkErin)) > 4000);
  });

  test('a producer closed on A: producerGone there, and dropRemote on B closes its consumers', bounded, async () => {
    const gone = next(a, 'producerGone');
    const closed: { participantId: string; consumerId: string }[] = [];
    const onClosed = (event: { participantId: string; consumerId: string }) => closed.push(event);
    b.on('consumerClosed', onClosed);
    try {
      const consumersA = load(poolA).consumers;
      a.closeProducer('alice', alice.producerId);
      assert.deepEqual(await gone, { producerId: alice.producerId });
      await until(() => load(poolA).consumers === consumersA - 1, 5000, 'the pipe consumer into the link to close');
      await sleep(300);
      assert.deepEqual(closed, [], 'the copy on B lives until B is told');
      b.dropRemote(alice.producerId);
      await until(() => closed.length === 1, 5000, "Bob's consumer to close");
      assert.deepEqual(closed, [{ participantId: 'bob', consumerId: alice.consumerId }]);
      await rejectsWith(b.consume('bob', alice.recvId, alice.producerId), 'not-found');
      b.dropRemote(alice.producerId);
      await b.setRemotePaused(alice.producerId, true);
      await sleep(300);
      assert.equal(closed.length, 1, 'dropping again changes nothing');
      assert.ok((await flowing(sinkErin)) > 4000, "Erin's stream is not disturbed");
    } finally {
      b.off('consumerClosed', onClosed);
    }
  });

  test("A's home worker SIGKILLed: linksLost; after closeLink on B and a fresh handshake, media flows again", bounded, async () => {
    await wireAlice();
    await until(() => sink.bytes > 0, 5000, 'media');
    const gone: string[] = [];
    const onGone = ({ producerId }: { producerId: string }) => gone.push(producerId);
    a.on('producerGone', onGone);
    const closed: string[] = [];
    const onClosed = ({ consumerId }: { consumerId: string }) => closed.push(consumerId);
    b.on('consumerClosed', onClosed);
    try {
      const lost = next<{ peers: string[] }>(a, 'linksLost');
      const moved = next<{ participantIds: string[] }>(a, 'moved');
      process.kill(a.workerPid, 'SIGKILL');
      assert.deepEqual(await lost, { peers: ['node-b'] });
      assert.deepEqual((await moved).participantIds, ['alice'], 'Erin is on the other worker');
      assert.deepEqual(gone, [alice.producerId], "Alice's producer died with the worker, Erin's did not");
      assert.deepEqual(a.linkedPeers(), [], 'A forgot the dead link');
      await rejectsWith(a.pipeOut('node-b', erinProducerId), 'not-found', /no link/);

      // What the conference control does when it hears linksLost from A.
      b.closeLink('node-a');
      await until(() => closed.length === 2, 5000, "Bob's consumers of Alice and Erin to close");
      assert.deepEqual(b.linkedPeers(), []);
      await rejectsWith(b.consume('bob', alice.recvId, erinProducerId), 'not-found');

      await handshake();
      await wireAlice();
      const before = sink.bytes;
      await until(() => sink.bytes > before, 5000, 'media over the new link');
      assert.ok((await flowing(sink)) > 4000);
      await pipeAcross(erinProducerId);
      await bobReceives(erinProducerId, sinkErin);
      assert.ok((await flowing(sinkErin)) > 4000, "Erin's producer survived and goes across again");
    } finally {
      a.off('producerGone', onGone);
      b.off('consumerClosed', onClosed);
    }
  });

  test('closeLink closes what was sent into the link and what came out of it', bounded, async () => {
    const consumersA = load(poolA).consumers;
    a.closeLink('node-b');
    await until(() => load(poolA).consumers === consumersA - 2, 5000, "A's two pipe consumers into the link to close");
    const closed: string[] = [];
    const onClosed = ({ participantId }: { participantId: string }) => closed.push(participantId);
    b.on('consumerClosed', onClosed);
    try {
      b.closeLink('node-a');
      await until(() => closed.length === 2, 5000, "Bob's two consumers to close");
      await until(() => load(poolB).producers === 0 && load(poolB).consumers === 0, 5000, 'B to hold nothing');
      b.closeLink('node-a');
      a.closeLink('node-b');
      await rejectsWith(a.pipeOut('node-b', erinProducerId), 'not-found');
    } finally {
      b.off('consumerClosed', onClosed);
    }
  });

  test('producerGone also when a participant leaves and when the meeting closes', bounded, async () => {
    const gone: string[] = [];
    a.on('producerGone', ({ producerId }) => gone.push(producerId));
    a.leave('erin');
    await until(() => gone.length === 1, 5000, "Erin's producer");
    assert.deepEqual(gone, [erinProducerId]);
    a.close();
    await until(() => gone.length === 2, 5000, "Alice's producer");
    assert.deepEqual(gone, [erinProducerId, alice.producerId]);
  });
});
