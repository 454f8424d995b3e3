// The `media` service as the conference control will use it: over a real Moleculer broker
// with Squared's broker options (strict parameter validation, API errors), on real
// mediasoup workers. A meeting is opened, two participants exchange opus RTP through it,
// the node reports its load for placement, and every bad call is a 4xx that leaves the
// meeting as it was. Then two media nodes (two brokers on Moleculer's in-process transporter)
// carry one meeting: linked and piped by the actions, kept in step by each other's events.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { ServiceBroker } from 'moleculer';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readConfig } from '../../contracts/config.ts';
import { createMediaService } from '../../media/media.service.ts';
import { brokerOptions } from '../../moleculer.config.ts';
import { OPUS_RTP_PARAMETERS, RtpSink, startOpusSource } from '../harness/rtp.ts';
import { until } from '../harness/wait.ts';

describe('the media service', () => {
  let broker: ServiceBroker;
  let sink: RtpSink;
  let source: ChildProcess | undefined;
  const events: { name: string; payload: unknown }[] = [];
  const call = <T = any>(action: string, params: object) => broker.call(`media.${action}`, params) as Promise<T>;

  before(async () => {
    const config = readConfig({ SQUARED_LOG_LEVEL: 'warn', SQUARED_ROLES: 'media' });
    broker = new ServiceBroker({ ...brokerOptions(config, undefined), logger: false });
    broker.createService(createMediaService({ pool: { size: 2 }, listen: { ip: '127.0.0.1' } }));
    broker.createService({
      name: 'listener',
      events: { 'media.*': { handler(ctx) { events.push({ name: ctx.eventName ?? '', payload: ctx.params }); } } },
    });
    await broker.start();
    sink = await RtpSink.open();
  });
  after(async () => {
    source?.kill('SIGKILL');
    sink?.close();
    await broker?.stop();
  });

  test('a meeting carries one participant’s audio to another, and the node reports the load', async () => {
    const opened = await call('open', { meetingId: 'm1' });
    assert.ok(opened.rtpCapabilities.codecs.length >= 4);
    assert.deepEqual((await call('open', { meetingId: 'm1' })).rtpCapabilities, opened.rtpCapabilities, 'opening again is harmless');
    await call('join', { meetingId: 'm1', participantId: 'alice' });
    await call('join', { meetingId: 'm1', participantId: 'bob', rtpCapabilities: opened.rtpCapabilities });
    const send = await call('createTransport', { meetingId: 'm1', participantId: 'alice', kind: 'plain', direction: 'send' });
    const { producerId } = await call('produce', { meetingId: 'm1', participantId: 'alice', transportId: send.id, kind: 'audio', rtpParameters: OPUS_RTP_PARAMETERS });
    assert.deepEqual(await call('producers', { meetingId: 'm1', participantId: 'bob' }), [{ participantId: 'alice', producerId, kind: 'audio' }]);
    const recv = await call('createTransport', { meetingId: 'm1', participantId: 'bob', kind: 'plain', direction: 'recv' });
    await call('connectTransport', { meetingId: 'm1', participantId: 'bob', transportId: recv.id, ip: '127.0.0.1', port: sink.port });
    const consumer = await call('consume', { meetingId: 'm1', participantId: 'bob', transportId: recv.id, producerId });
    assert.equal(consumer.paused, true);
    source = startOpusSource(send.port, send.rtcpPort);
    await call('setConsumerPaused', { meetingId: 'm1', participantId: 'bob', consumerId: consumer.id, paused: false });
    const deadline = Date.now() + 5000;
    while (sink.bytes === 0 && Date.now() < deadline) await sleep(50);
    assert.ok(sink.bytes > 0, 'media arrives');

    const load = await call('load', {});
    assert.equal(load.meetings, 1);
    assert.equal(load.load, 2, 'one producer and one consumer');
    assert.equal(load.workers.length, 2);

    await call('muteAudio', { meetingId: 'm1', participantId: 'alice' });
    await sleep(200);
    assert.ok(events.some((e) => e.name === 'media.producerPaused'), 'the mute is announced');
  });

  test('bad calls are 4xx with a media error type, and change nothing', async () => {
    const rejects = (action: string, params: object, status: number, type?: string) =>
      assert.rejects(call(action, params), (err: any) => err.code === status && (type === undefined || err.type === type), `${action} ${JSON.stringify(params)}`);
    await rejects('join', { meetingId: 'no-such-meeting', participantId: 'x' }, 404, 'MEDIA_NOT_FOUND');
    await rejects('join', { meetingId: 'm1', participantId: 'bob' }, 409, 'MEDIA_ALREADY_JOINED');
    await rejects('createTransport', { meetingId: 'm1', participantId: 'mallory', kind: 'plain' }, 404, 'MEDIA_NOT_JOINED');
    await rejects('createTransport', { meetingId: 'm1', participantId: 'bob', kind: 'carrier-pigeon' }, 422);
    await rejects('produce', { meetingId: 'm1', participantId: 'bob', transportId: 'not-his', kind: 'audio', rtpParameters: {} }, 404, 'MEDIA_NOT_FOUND');
    await rejects('produce', { meetingId: 'm1', participantId: 'bob', kind: 'audio' }, 422);
    await rejects('setConsumerPaused', { meetingId: 'm1', participantId: 'alice', consumerId: 'x', paused: 'perhaps' }, 422);
    const before = sink.bytes;
    await call('setProducerPaused', { meetingId: 'm1', participantId: 'alice', producerId: (await call('producers', { meetingId: 'm1', participantId: 'bob' }))[0].producerId, paused: false });
    await sleep(1000);
    assert.ok(sink.bytes - before > 4000, 'the meeting still carries media');
  });

  test('closing the meeting frees what it held', async () => {
    await call('close', { meetingId: 'm1' });
    const load = await call('load', {});
    assert.equal(load.meetings, 0);
    assert.equal(load.load, 0);
  });
});

describe('the media service on two media nodes', { timeout: 60_000 }, () => {
  const brokers: Record<'node-a' | 'node-b', ServiceBroker> = {} as never;
  let sink: RtpSink;
  let source: ChildProcess | undefined;
  /** What node B heard, with the sender. */
  const heard: { name: string; from: string; payload: any }[] = [];
  const on = <T = any>(node: 'node-a' | 'node-b', action: string, params: object) => brokers[node].call(`media.${action}`, params, { nodeID: node }) as Promise<T>;
  const meetingId = 'm2';
  /** B's link to A was closed: asking for its endpoint makes a new, unconnected one. */
  const linkOnBClosed = async () => (await on('node-b', 'linkEndpoint', { meetingId, peerNodeId: 'node-a' })).connectedTo === undefined;
  const producersOnB = async () => (await on('node-b', 'load', {})).workers.reduce((sum: number, w: { producers: number }) => sum + w.producers, 0);

  async function handshake(): Promise<void> {
    const epB = await on('node-b', 'linkEndpoint', { meetingId, peerNodeId: 'node-a' });
    const epA = await on('node-a', 'linkEndpoint', { meetingId, peerNodeId: 'node-b' });
    await on('node-a', 'connectLink', { meetingId, peerNodeId: 'node-b', ip: epB.ip, port: epB.port });
    await on('node-b', 'connectLink', { meetingId, peerNodeId: 'node-a', ip: epA.ip, port: epA.port });
  }

  /** Alice on A produces; the producer goes across; Bob on B consumes it into the sink. */
  async function aliceToBob(): Promise<{ producerId: string; sendPort: number; sendRtcpPort: number }> {
    const send = await on('node-a', 'createTransport', { meetingId, participantId: 'alice', kind: 'plain', direction: 'send' });
    const { producerId } = await on('node-a', 'produce', { meetingId, participantId: 'alice', transportId: send.id, kind: 'audio', rtpParameters: OPUS_RTP_PARAMETERS });
    const piped = await on('node-a', 'pipeOut', { meetingId, peerNodeId: 'node-b', producerId });
    await on('node-b', 'pipeIn', { meetingId, peerNodeId: 'node-a', ...piped });
    const recv = await on('node-b', 'createTransport', { meetingId, participantId: 'bob', kind: 'plain', direction: 'recv' });
    await on('node-b', 'connectTransport', { meetingId, participantId: 'bob', transportId: recv.id, ip: '127.0.0.1', port: sink.port });
    const consumer = await on('node-b', 'consume', { meetingId, participantId: 'bob', transportId: recv.id, producerId });
    assert.equal(consumer.producerParticipantId, 'alice');
    await on('node-b', 'setConsumerPaused', { meetingId, participantId: 'bob', consumerId: consumer.id, paused: false });
    return { producerId, sendPort: send.port, sendRtcpPort: send.rtcpPort };
  }

  before(async () => {
    for (const nodeID of ['node-a', 'node-b'] as const) {
      const config = readConfig({ SQUARED_LOG_LEVEL: 'warn', SQUARED_ROLES: 'media' });
      const broker = new ServiceBroker({ ...brokerOptions(config, undefined), nodeID, transporter: 'Fake', logger: false });
      broker.createService(createMediaService({ pool: { size: 2 }, listen: { ip: '127.0.0.1' } }));
      brokers[nodeID] = broker;
    }
    brokers['node-b'].createService({
      name: 'listener',
      events: { 'media.*': { handler(ctx) { heard.push({ name: ctx.eventName ?? '', from: ctx.nodeID ?? '', payload: ctx.params }); } } },
    });
    await Promise.all(Object.values(brokers).map((b) => b.start()));
    await until(() => brokers['node-a'].registry.getNodeList({ onlyAvailable: true, withServices: false }).some((n: { id: string }) => n.id === 'node-b')
      && brokers['node-b'].registry.getNodeList({ onlyAvailable: true, withServices: false }).some((n: { id: string }) => n.id === 'node-a'), 5000, 'the nodes to see each other');
    sink = await RtpSink.open();
    const { rtpCapabilities } = await on('node-a', 'open', { meetingId });
    await on('node-b', 'open', { meetingId });
    await on('node-a', 'join', { meetingId, participantId: 'alice' });
    await on('node-b', 'join', { meetingId, participantId: 'bob', rtpCapabilities });
  });
  after(async () => {
    source?.kill('SIGKILL');
    sink?.close();
    await Promise.all(Object.values(brokers).map((b) => b.stop()));
  });

  test("linked by the actions, a participant on B receives one on A's audio", async () => {
    await handshake();
    const { sendPort, sendRtcpPort } = await aliceToBob();
    source = startOpusSource(sendPort, sendRtcpPort);
    await until(() => sink.bytes > 4000, 5000, 'media across the nodes');
  });

  test('the link actions validate their parameters; media errors are 4xx', async () => {
    const rejects = (node: 'node-a' | 'node-b', action: string, params: object, status: number, type?: string) =>
      assert.rejects(on(node, action, params), (err: any) => err.code === status && (type === undefined || err.type === type), `${action} ${JSON.stringify(params)}`);
    await rejects('node-a', 'linkEndpoint', { meetingId }, 422);
    await rejects('node-a', 'connectLink', { meetingId, peerNodeId: 'node-b', ip: '127.0.0.1', port: 0 }, 422);
    await rejects('node-a', 'pipeOut', { meetingId, peerNodeId: 'node-b' }, 422);
    await rejects('node-b', 'pipeIn', { meetingId, peerNodeId: 'node-a', producerId: 'p', participantId: 'alice', kind: 'audio', paused: false }, 422);
    await rejects('node-b', 'pipeIn', { meetingId, peerNodeId: 'node-a', producerId: 'p', participantId: 'alice', kind: 'smell', rtpParameters: {}, paused: false }, 422);
    await rejects('node-a', 'pipeOut', { meetingId, peerNodeId: 'node-b', producerId: 'no-such-producer' }, 404, 'MEDIA_NOT_FOUND');
    await rejects('node-a', 'connectLink', { meetingId, peerNodeId: 'node-c', ip: '127.0.0.1', port: 9 }, 400, 'MEDIA_BAD_REQUEST');
    await rejects('node-a', 'linkEndpoint', { meetingId: 'no-such-meeting', peerNodeId: 'node-b' }, 404, 'MEDIA_NOT_FOUND');
    const before = sink.bytes;
    await sleep(1000);
    assert.ok(sink.bytes - before > 4000, 'the meeting still carries media');
  });

  test("a producer closed on A: B hears producerGone and closes its copy and Bob's consumer", async () => {
    const { producerId } = (await on('node-a', 'producers', { meetingId, participantId: 'bob' }))[0] ?? {};
    assert.ok(producerId);
    await on('node-a', 'closeProducer', { meetingId, participantId: 'alice', producerId });
    await until(() => heard.some((e) => e.name === 'media.consumerClosed' && e.from === 'node-b' && e.payload.participantId === 'bob'), 5000, "B to close Bob's consumer");
    assert.ok(heard.some((e) => e.name === 'media.producerGone' && e.from === 'node-a' && e.payload.producerId === producerId));
    assert.equal(await producersOnB(), 0, 'the copy on B is gone');
  });

  test("A's home worker dies: B hears linksLost and closes its link; then node A leaves: B closes the new link", async () => {
    await aliceToBob();
    assert.equal(await producersOnB(), 1);
    const home = (await on('node-a', 'load', {})).workers.find((w: { routers: number }) => w.routers > 0);
    process.kill(home.pid, 'SIGKILL');
    await until(() => heard.some((e) => e.name === 'media.linksLost' && e.from === 'node-a'), 5000, 'linksLost from A');
    assert.deepEqual(heard.find((e) => e.name === 'media.linksLost')!.payload, { meetingId, peers: ['node-b'] });
    // (Alice's producer died with the worker too: producerGone alone empties B, not the link.)
    await until(linkOnBClosed, 5000, 'B to close the link to A');

    await handshake(); // Alice was moved: she sets up her media again
    await aliceToBob();
    assert.equal(await producersOnB(), 1);
    assert.equal(await linkOnBClosed(), false);
    await brokers['node-a'].stop();
    await until(linkOnBClosed, 5000, 'B to close the link to the node that left');
    assert.equal(await producersOnB(), 0);
  });
});
