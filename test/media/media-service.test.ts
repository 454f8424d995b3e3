// The `media` service as the conference control will use it: over a real Moleculer broker
// with Squared's broker options (strict parameter validation, API errors), on real
// mediasoup workers. A meeting is opened, two participants exchange opus RTP through it,
// the node reports its load for placement, and every bad call is a 4xx that leaves the
// meeting as it was.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { ServiceBroker } from 'moleculer';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readConfig } from '../../cluster/config.ts';
import { createMediaService } from '../../media/media.service.ts';
import { brokerOptions } from '../../moleculer.config.ts';
import { OPUS_RTP_PARAMETERS, RtpSink, startOpusSource } from '../harness/rtp.ts';

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
