// The caps on what one meeting participant holds on a media node, on real mediasoup
// workers: past the cap on transports, producers or consumers the request is refused with
// `limit-reached` (nothing is made: no port bound), concurrent requests cannot pass a cap
// together, another participant is not affected, and a closed object (a producer closed, a
// consumer whose producer went, everything on leaving) frees its place.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_PARTICIPANT_MEDIA_LIMITS } from '../../contracts/config.ts';
import { MediaError } from '../../media/media-error.ts';
import { Meeting, type MeetingOptions } from '../../media/meeting.ts';
import { WorkerPool } from '../../media/worker-pool.ts';
import { OPUS_RTP_PARAMETERS } from '../harness/rtp.ts';
import { until } from '../harness/wait.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

const isLimit = (err: unknown) => err instanceof MediaError && err.code === 'limit-reached' && /at most \d+ \w+/.test(err.message);

/** Opus with its own SSRC: one transport cannot take two producers of one SSRC. */
const opus = (ssrc: number) => ({ ...OPUS_RTP_PARAMETERS, encodings: [{ ssrc }] });

describe('caps on what one participant holds', () => {
  let pool: WorkerPool;
  const meetings: Meeting[] = [];
  const open = async (options: MeetingOptions = {}) => {
    const meeting = await Meeting.create(`limits-${meetings.length}`, pool, { ip: '127.0.0.1' }, options);
    meetings.push(meeting);
    return meeting;
  };
  before(async () => {
    pool = await WorkerPool.start({ size: 1, logger: quiet });
  });
  after(async () => {
    for (const meeting of meetings) meeting.close();
    await pool?.close();
  });

  test('by default, a participant gets 4 transports and no more', async () => {
    assert.equal(DEFAULT_PARTICIPANT_MEDIA_LIMITS.transports, 4);
    const meeting = await open();
    await meeting.join('alice');
    for (let i = 0; i < 4; i++) await meeting.createTransport('alice', 'webrtc');
    await assert.rejects(meeting.createTransport('alice', 'webrtc'), isLimit);
    await meeting.join('bob');
    await meeting.createTransport('bob', 'webrtc');
  });

  test('concurrent transport requests cannot pass the cap together; leaving frees every place', async () => {
    const meeting = await open({ participantLimits: { transports: 2, producers: 2, consumers: 2 } });
    await meeting.join('alice');
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => meeting.createTransport('alice', 'plain', 'recv')));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 2, 'two made');
    assert.ok(results.every((r) => r.status === 'fulfilled' || isLimit(r.reason)), 'the rest refused as over the cap');
    meeting.leave('alice');
    await meeting.join('alice');
    await meeting.createTransport('alice', 'plain', 'recv');
    await meeting.createTransport('alice', 'plain', 'recv');
    await assert.rejects(meeting.createTransport('alice', 'plain', 'recv'), isLimit);
  });

  test('producers and consumers are capped; a closed producer frees its place and its consumers theirs', async () => {
    const meeting = await open({ participantLimits: { transports: 2, producers: 3, consumers: 2 } });
    await meeting.join('alice');
    await meeting.join('bob', meeting.rtpCapabilities);
    const send = await meeting.createTransport('alice', 'plain', 'send');
    const produced = [];
    for (const ssrc of [1001, 1002, 1003]) produced.push(await meeting.produce('alice', send.id, 'audio', opus(ssrc)));
    await assert.rejects(meeting.produce('alice', send.id, 'audio', opus(1004)), isLimit);

    const recv = await meeting.createTransport('bob', 'plain', 'recv');
    await meeting.connectTransport('bob', recv.id, { ip: '127.0.0.1', port: 9 });
    await meeting.consume('bob', recv.id, produced[0]);
    await meeting.consume('bob', recv.id, produced[1]);
    await assert.rejects(meeting.consume('bob', recv.id, produced[2]), isLimit);

    const closed: string[] = [];
    meeting.on('consumerClosed', ({ consumerId }) => closed.push(consumerId));
    meeting.closeProducer('alice', produced[0]);
    await until(() => closed.length === 1, 5000, "bob's consumer of the closed producer closes");
    await meeting.consume('bob', recv.id, produced[2]);
    produced.push(await meeting.produce('alice', send.id, 'audio', opus(1004)));
    assert.equal(meeting.othersProducers('bob').length, 3);
  });
});
