// The media plane on real mediasoup workers (the ones media/worker-build made): a meeting
// forwards one participant's opus stream to another (plain RTP in from ffmpeg, plain RTP
// out to a UDP socket here); consumers start paused; a host's mute pauses the producer on
// the server; a participant's requests can only touch their own objects and bad ones leave
// the meeting undisturbed; leaving closes what depends on it; and a worker killed with
// SIGKILL moves the meeting to another worker, where media flows again once the
// participants set up their transports anew.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MediaError } from '../../media/media-error.ts';
import { Meeting } from '../../media/meeting.ts';
import { WorkerPool } from '../../media/worker-pool.ts';
import { OPUS_RTP_PARAMETERS, RtpSink, startOpusSource } from '../harness/rtp.ts';
import { until } from '../harness/wait.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };


/** Bytes arriving at `sink` over `ms`. */
async function flowing(sink: RtpSink, ms = 1000): Promise<number> {
  const before = sink.bytes;
  await sleep(ms);
  return sink.bytes - before;
}

const rejectsWith = (promise: Promise<unknown> | (() => unknown), code: string) =>
  assert.rejects(async () => (typeof promise === 'function' ? promise() : promise), (err: unknown) => err instanceof MediaError && err.code === code);

describe('a meeting on the media plane', () => {
  let pool: WorkerPool;
  let meeting: Meeting;
  let sink: RtpSink;
  let source: ChildProcess | undefined;
  /** Alice's producer and Bob's consumer of it, set up by `wire`. */
  let wired: { producerId: string; consumerId: string; sendTransportId: string };

  /** Alice sends opus through a plain transport; Bob receives it on `sink`. */
  async function wire(): Promise<void> {
    source?.kill('SIGKILL');
    const send = await meeting.createTransport('alice', 'plain', 'send');
    const producerId = await meeting.produce('alice', send.id, 'audio', OPUS_RTP_PARAMETERS);
    const recv = await meeting.createTransport('bob', 'plain', 'recv');
    await meeting.connectTransport('bob', recv.id, { ip: '127.0.0.1', port: sink.port });
    const consumer = await meeting.consume('bob', recv.id, producerId);
    assert.equal(consumer.paused, true, 'consumers start paused on the server');
    assert.equal(consumer.producerParticipantId, 'alice');
    source = startOpusSource(send.port!, send.rtcpPort!);
    wired = { producerId, consumerId: consumer.id, sendTransportId: send.id };
  }

  before(async () => {
    pool = await WorkerPool.start({ size: 2, logger: quiet });
    meeting = await Meeting.create('meeting-1', pool, { ip: '127.0.0.1' });
    sink = await RtpSink.open();
    await meeting.join('alice');
    await meeting.join('bob', meeting.rtpCapabilities);
    await wire();
  });
  after(async () => {
    source?.kill('SIGKILL');
    sink?.close();
    meeting?.close();
    await pool?.close();
  });

  test('the router offers opus, VP8, VP9 and H264', () => {
    const codecs = meeting.rtpCapabilities.codecs!.map((c) => c.mimeType);
    for (const mime of ['audio/opus', 'video/VP8', 'video/VP9', 'video/H264']) assert.ok(codecs.includes(mime), mime);
  });

  test('a paused consumer forwards nothing; resumed, the stream arrives and keeps coming', async () => {
    await sleep(1000);
    assert.equal(sink.bytes, 0, 'nothing before the client resumes');
    await meeting.resumeConsumer('bob', wired.consumerId);
    await until(() => sink.bytes > 0, 5000, 'the first RTP bytes');
    assert.ok((await flowing(sink)) > 4000, 'about 8 kB/s of opus at 64 kb/s');
  });

  test("a participant's requests touch only their own objects; bad ones change nothing", async () => {
    await rejectsWith(meeting.produce('bob', wired.sendTransportId, 'audio', OPUS_RTP_PARAMETERS), 'not-found');
    await rejectsWith(meeting.setProducerPaused('bob', wired.producerId, true), 'not-found');
    await rejectsWith(meeting.resumeConsumer('alice', wired.consumerId), 'not-found');
    await rejectsWith(meeting.stats('alice', wired.consumerId), 'not-found');
    await rejectsWith(meeting.consume('bob', 'no-such-transport', wired.producerId), 'not-found');
    await rejectsWith(meeting.createTransport('mallory', 'plain'), 'not-joined');
    await rejectsWith(meeting.join('bob'), 'already-joined');
    await rejectsWith(meeting.connectTransport('alice', wired.sendTransportId, { ip: '127.0.0.1', port: 9 }), 'bad-request');
    const recv = await meeting.createTransport('bob', 'plain', 'recv');
    await rejectsWith(meeting.consume('bob', recv.id, 'no-such-producer'), 'not-found');
    await rejectsWith(meeting.produce('alice', wired.sendTransportId, 'audio', { codecs: [{ mimeType: 'audio/nonsense', payloadType: 100, clockRate: 1 }], encodings: [{ ssrc: 1 }] }), 'bad-request');
    assert.ok((await flowing(sink)) > 4000, 'the stream still flows');
  });

  test("a host's mute pauses the audio producer on the server; resuming it restores the stream", async () => {
    const paused: unknown[] = [];
    meeting.on('producerPaused', (event) => paused.push(event));
    assert.deepEqual(await meeting.muteAudio('alice'), [wired.producerId]);
    assert.deepEqual(paused, [{ participantId: 'alice', producerId: wired.producerId, paused: true }]);
    await sleep(300); // what was in flight
    assert.ok((await flowing(sink)) < 500, 'no media while muted (at most RTCP-size leftovers)');
    await meeting.setProducerPaused('alice', wired.producerId, false);
    assert.ok((await flowing(sink)) > 4000, 'flowing again');
  });

  test('a worker killed with SIGKILL: the meeting moves to another worker and media flows again', async () => {
    const oldPid = meeting.workerPid;
    const moved = new Promise<{ fromPid: number; toPid: number; participantIds: string[] }>((resolve) => meeting.once('moved', resolve));
    const replaced = new Promise((resolve) => pool.once('workerReplaced', resolve));
    process.kill(oldPid, 'SIGKILL');
    const { fromPid, toPid } = await moved;
    assert.equal(fromPid, oldPid);
    assert.notEqual(toPid, oldPid);
    assert.deepEqual(meeting.participantIds().sort(), ['alice', 'bob'], 'participants stay');
    assert.deepEqual((await moved).participantIds.sort(), ['alice', 'bob'], 'both were on that router');
    await rejectsWith(meeting.resumeConsumer('bob', wired.consumerId), 'not-found'); // the old objects are gone
    await replaced;
    assert.equal(pool.workers().length, 2, 'the pool replaced the dead worker');

    // The participants renegotiate, as the signaling layer will tell them to.
    await wire();
    await meeting.resumeConsumer('bob', wired.consumerId);
    const before = sink.bytes;
    await until(() => sink.bytes > before, 5000, 'media on the new worker');
    assert.ok((await flowing(sink)) > 4000);
  });

  test('leaving closes what the participant owns and the consumers of their media', async () => {
    const closed = new Promise((resolve) => meeting.once('consumerClosed', resolve));
    meeting.leave('alice');
    assert.deepEqual(await closed, { participantId: 'bob', consumerId: wired.consumerId });
    assert.deepEqual(meeting.othersProducers('bob'), []);
    await sleep(300);
    assert.ok((await flowing(sink)) < 500, 'nothing forwarded after she left');
  });
});

describe('a meeting larger than one router', () => {
  let pool: WorkerPool;
  let meeting: Meeting;
  let sink: RtpSink;
  let source: ChildProcess | undefined;

  /** Alice (on her router) sends; Bob (on his) receives through a pipe between the workers. */
  async function wire(): Promise<string> {
    source?.kill('SIGKILL');
    const send = await meeting.createTransport('alice', 'plain', 'send');
    const producerId = await meeting.produce('alice', send.id, 'audio', OPUS_RTP_PARAMETERS);
    source = startOpusSource(send.port!, send.rtcpPort!);
    return producerId;
  }
  async function receive(producerId: string): Promise<string> {
    const recv = await meeting.createTransport('bob', 'plain', 'recv');
    await meeting.connectTransport('bob', recv.id, { ip: '127.0.0.1', port: sink.port });
    const consumer = await meeting.consume('bob', recv.id, producerId);
    await meeting.resumeConsumer('bob', consumer.id);
    return consumer.id;
  }

  before(async () => {
    pool = await WorkerPool.start({ size: 3, logger: quiet });
    meeting = await Meeting.create('meeting-2', pool, { ip: '127.0.0.1' }, { participantsPerRouter: 1 });
    sink = await RtpSink.open();
    await meeting.join('alice');
    await meeting.join('bob', meeting.rtpCapabilities);
  });
  after(async () => {
    source?.kill('SIGKILL');
    sink?.close();
    meeting?.close();
    await pool?.close();
  });

  test('participants past the per-router limit are on another worker, and media is piped across', async () => {
    assert.notEqual(meeting.workerPidOf('alice'), meeting.workerPidOf('bob'));
    assert.equal(meeting.workerPids().length, 2);
    const producerId = await wire();
    await receive(producerId);
    await until(() => sink.bytes > 0, 5000, 'piped media');
    assert.ok((await flowing(sink)) > 4000);
    // A second consumer of the same producer on Bob's router reuses the pipe.
    await receive(producerId);
    assert.ok((await flowing(sink)) > 8000, 'two consumers, twice the bytes');
  });

  test("the sender's worker dies: only the sender renegotiates; the receiver's consumers close and it consumes anew", async () => {
    const alicePid = meeting.workerPidOf('alice');
    const bobPid = meeting.workerPidOf('bob');
    const closed: string[] = [];
    meeting.on('consumerClosed', ({ participantId }) => closed.push(participantId));
    const moved = new Promise<{ participantIds: string[]; toPid: number }>((resolve) => meeting.once('moved', resolve));
    process.kill(alicePid, 'SIGKILL');
    const { participantIds, toPid } = await moved;
    assert.deepEqual(participantIds, ['alice']);
    assert.notEqual(toPid, alicePid);
    assert.equal(meeting.workerPidOf('bob'), bobPid, 'Bob stays where he was');
    await until(() => closed.length === 2, 5000, "Bob's two consumers to close");
    assert.deepEqual(closed, ['bob', 'bob']);
    const producerId = await wire();
    await receive(producerId);
    const before = sink.bytes;
    await until(() => sink.bytes > before, 5000, 'media again');
    assert.ok((await flowing(sink)) > 4000);
  });
});

describe('a meeting on a pool of one worker', () => {
  test('its worker killed with SIGKILL: the meeting waits for the replacement and moves there', async () => {
    const pool = await WorkerPool.start({ size: 1, logger: quiet });
    const meeting = await Meeting.create('meeting-3', pool, { ip: '127.0.0.1' });
    // The pool's replacement timer does not hold a process open; a server's sockets do.
    const alive = setInterval(() => undefined, 1000);
    try {
      await meeting.join('alice');
      const oldPid = meeting.workerPid;
      const moved = new Promise<{ fromPid: number; toPid: number }>((resolve) => meeting.once('moved', resolve));
      const failed = new Promise<never>((_, reject) => meeting.once('moveFailed', ({ error }) => reject(error)));
      process.kill(oldPid, 'SIGKILL');
      const { fromPid, toPid } = await Promise.race([moved, failed]);
      assert.equal(fromPid, oldPid);
      assert.equal(toPid, pool.workers()[0].pid, 'on the replacement worker');
      assert.notEqual(toPid, oldPid);
      const transport = await meeting.createTransport('alice', 'plain', 'send');
      assert.ok(transport.port, 'the meeting works again');
    } finally {
      clearInterval(alive);
      meeting.close();
      await pool.close();
    }
  });
});
