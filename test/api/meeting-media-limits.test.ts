// The caps on what one meeting participant holds on its media node, over the live socket of
// a real Squared (both modes): with SQUARED_MEDIA_MAX_{TRANSPORTS,PRODUCERS,CONSUMERS}_
// PER_PARTICIPANT set low, one transport, producer or consumer past its cap is refused
// with 403 MEDIA_LIMIT_REACHED and a message saying why (the socket and the meeting go
// on), and a place is free again once its object closes: a producer closed, a consumer
// whose producer closed, everything on leaving and joining again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MeetingClient } from '../../clients/meeting-client.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { OPUS_RTP_PARAMETERS } from '../harness/rtp.ts';
import { until } from '../harness/wait.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
const sockets: MeetingClient[] = [];
before(async () => {
  target = await startTarget({
    SQUARED_MEDIA_MAX_TRANSPORTS_PER_PARTICIPANT: '2',
    SQUARED_MEDIA_MAX_PRODUCERS_PER_PARTICIPANT: '2',
    SQUARED_MEDIA_MAX_CONSUMERS_PER_PARTICIPANT: '1',
  });
});
after(async () => {
  for (const socket of sockets) socket.close();
  await target.stop();
});

/** Opus with its own SSRC: one transport cannot take two producers of one SSRC. */
const opus = (ssrc: number) => ({ ...OPUS_RTP_PARAMETERS, encodings: [{ ssrc }] });

async function refusedOverCap(client: MeetingClient, action: string, args: Record<string, unknown>, what: string): Promise<void> {
  const reply = await client.request(action, args);
  assert.equal(reply.ok, false, `${action} past the cap was accepted`);
  assert.equal(reply.error!.status, 403, JSON.stringify(reply.error));
  assert.equal(reply.error!.code, 'MEDIA_LIMIT_REACHED');
  assert.match(reply.error!.message, new RegExp(`at most \\d+ ${what}`));
}

describe('caps on a participant’s media', () => {
  let host: TestPerson;
  let guest: TestPerson;
  let meetingId: string;
  let hostSide: MeetingClient;
  let guestSide: MeetingClient;
  /** The host's receiving transport, made after joining again. */
  let hostRecv: string;

  before(async () => {
    [host, guest] = await createPeople(target.admin, 'Cara Cap', 'Gus Guest');
    const room = await host.api.post('/v1/rooms', { title: 'Capped' });
    await host.api.post('/v1/memberships', { roomId: room.body.id, personId: guest.id });
    meetingId = (await host.api.post('/v1/meetings', { title: 'Capped meeting', roomId: room.body.id })).body.id;
    hostSide = await MeetingClient.connect(target.liveUrl, target.ca, host.token, meetingId);
    guestSide = await MeetingClient.connect(target.liveUrl, target.ca, guest.token, meetingId);
    sockets.push(hostSide, guestSide);
  });

  test('one transport past the cap is refused with 403; after leaving and joining again there is room', async () => {
    const { routerRtpCapabilities } = await hostSide.ok('join');
    await hostSide.ok('createTransport', { direction: 'send' });
    await hostSide.ok('createTransport', { direction: 'recv' });
    await refusedOverCap(hostSide, 'createTransport', { direction: 'recv' }, 'transports');
    await hostSide.ok('raiseHand'); // the socket and the participant go on

    await hostSide.ok('leave');
    await hostSide.ok('join', { rtpCapabilities: routerRtpCapabilities });
    await hostSide.ok('createTransport', { direction: 'send' });
    hostRecv = (await hostSide.ok('createTransport', { direction: 'recv' })).id;
    await refusedOverCap(hostSide, 'createTransport', { direction: 'send' }, 'transports');
  });

  test('producers and consumers past their caps are refused; closing one frees its place', async () => {
    await guestSide.ok('join');
    const send = await guestSide.ok('createTransport', { direction: 'send' });
    const first = (await guestSide.ok('produce', { transportId: send.id, kind: 'audio', rtpParameters: opus(2001) })).producerId;
    const second = (await guestSide.ok('produce', { transportId: send.id, kind: 'audio', rtpParameters: opus(2002) })).producerId;
    await refusedOverCap(guestSide, 'produce', { transportId: send.id, kind: 'audio', rtpParameters: opus(2003) }, 'producers');

    await hostSide.ok('consume', { transportId: hostRecv, producerId: first });
    await refusedOverCap(hostSide, 'consume', { transportId: hostRecv, producerId: second }, 'consumers');

    // The consumed producer closes: its consumer at the host goes, and with it the host's place.
    await guestSide.ok('closeProducer', { producerId: first });
    let consumed = false;
    await until(async () => (consumed = (await hostSide.request('consume', { transportId: hostRecv, producerId: second })).ok), 10_000, 'a consumer once the first one closed');
    assert.ok(consumed);
    await guestSide.ok('produce', { transportId: send.id, kind: 'audio', rtpParameters: opus(2003) });
  });
});
