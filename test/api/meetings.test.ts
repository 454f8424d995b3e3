// Meetings over real HTTPS and WSS: the Webex meetings resources (who may see and change a
// meeting), signaling on the live socket with real mediasoup objects behind it (a
// participant's audio reaches another as a paused consumer), bad signaling frames that get
// clear errors and leave the meeting as it was, host controls (mute over REST, lock and
// the lobby, admit, end) and the roster pushed to every participant.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ApiResponse } from '../../clients/api-client.ts';
import { MeetingClient } from '../../clients/meeting-client.ts';
import { mediasoupWorkers, udpSockets } from '../harness/media-processes.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { OPUS_RTP_PARAMETERS } from '../harness/rtp.ts';
import { startTarget, TEST_RECONNECT_GRACE_MS, type Target } from './target.ts';

let target: Target;
const sockets: MeetingClient[] = [];
before(async () => {
  target = await startTarget();
});
after(async () => {
  for (const socket of sockets) socket.close();
  await target.stop();
});

const inHour = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();

async function join(person: TestPerson, meetingId: string): Promise<{ client: MeetingClient; result: any }> {
  return joinAs(person, meetingId, {});
}

/** A join on a new socket, with extra join arguments (a previous participant id). */
async function joinAs(person: TestPerson, meetingId: string, args: Record<string, unknown>): Promise<{ client: MeetingClient; result: any }> {
  const client = await MeetingClient.connect(target.liveUrl, target.ca, person.token, meetingId);
  sockets.push(client);
  const reply = await client.request('join', args);
  assert.ok(reply.ok, JSON.stringify(reply.error));
  client.participantId = reply.result.participantId;
  return { client, result: reply.result };
}

describe('meetings over REST', () => {
  let host: TestPerson;
  let member: TestPerson;
  let stranger: TestPerson;
  let roomId: string;
  before(async () => {
    [host, member, stranger] = await createPeople(target.admin, 'Hana Host', 'Milo Member', 'Sam Stranger');
    const room = await host.api.post('/v1/rooms', { title: 'Standup' });
    roomId = room.body.id;
    await host.api.post('/v1/memberships', { roomId, personId: member.id });
  });

  test('create, get, list, patch, put and delete a meeting as its host', async () => {
    const created = await host.api.post('/v1/meetings', { title: 'Planning', start: inHour(1), end: inHour(2), timezone: 'Europe/Paris' });
    assert.equal(created.status, 200, created.text);
    assert.match(created.body.id, /^[0-9a-f]{32}$/);
    assert.equal(created.body.hostUserId, host.id);
    assert.equal(created.body.state, 'active');
    assert.equal(created.body.timezone, 'Europe/Paris');
    assert.ok(created.body.password, 'a password is made when none is given');
    assert.match(created.body.webLink, /\/meet\?meetingId=[0-9a-f]{32}$/);

    const got = await host.api.get(`/v1/meetings/${created.body.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.title, 'Planning');
    const listed = await host.api.get('/v1/meetings');
    assert.ok(listed.body.items.some((m: { id: string }) => m.id === created.body.id));

    const patched = await host.api.patch(`/v1/meetings/${created.body.id}`, { title: 'Planning (moved)', end: inHour(3) });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.title, 'Planning (moved)');
    assert.equal(patched.body.start, created.body.start, 'PATCH leaves what it does not name');
    const put = await host.api.put(`/v1/meetings/${created.body.id}`, { title: 'Planning II', start: inHour(4), end: inHour(5) });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.title, 'Planning II');

    assert.equal((await host.api.delete(`/v1/meetings/${created.body.id}`)).status, 204);
    assert.equal((await host.api.get(`/v1/meetings/${created.body.id}`)).status, 404);
  });

  test('bad meeting input is a 400', async () => {
    for (const body of [
      {},
      { title: '' },
      { title: 'x', start: 'tomorrow', end: inHour(2) },
      { title: 'x', start: inHour(2), end: inHour(1) },
      { title: 'x', timezone: 'Mars/Olympus' },
      { title: 42 },
    ]) {
      const response = await host.api.post('/v1/meetings', body);
      assert.equal(response.status, 400, `${JSON.stringify(body)} → ${response.status} ${response.text}`);
    }
    const created = await host.api.post('/v1/meetings', { title: 'Bad PUT' });
    const put = await host.api.put(`/v1/meetings/${created.body.id}`, { title: 'no times' });
    assert.equal(put.status, 400, 'PUT needs title, start and end');
    assert.equal((await host.api.get('/v1/meetings/not-a-meeting')).status, 404);
  });

  test('only the host changes a meeting; a room meeting is visible to the room, others get 404', async () => {
    const personal = await host.api.post('/v1/meetings', { title: 'Private' });
    assert.equal((await stranger.api.get(`/v1/meetings/${personal.body.id}`)).status, 404);
    assert.equal((await stranger.api.delete(`/v1/meetings/${personal.body.id}`)).status, 404);

    const roomMeeting = await host.api.post('/v1/meetings', { title: 'Room sync', roomId });
    assert.equal(roomMeeting.status, 200, roomMeeting.text);
    assert.equal(roomMeeting.body.roomId, roomId);
    assert.equal((await member.api.get(`/v1/meetings/${roomMeeting.body.id}`)).status, 200);
    const ofRoom = await member.api.get(`/v1/meetings?roomId=${roomId}`);
    assert.deepEqual(ofRoom.body.items.map((m: { id: string }) => m.id), [roomMeeting.body.id]);
    assert.equal((await member.api.patch(`/v1/meetings/${roomMeeting.body.id}`, { title: 'mine now' })).status, 403);
    assert.equal((await stranger.api.get(`/v1/meetings/${roomMeeting.body.id}`)).status, 404);
    assert.equal((await stranger.api.get(`/v1/meetings?roomId=${roomId}`)).status, 404);
    assert.equal((await stranger.api.post('/v1/meetings', { title: 'In their room', roomId })).status, 404);
  });

  test('meetings are listed a page at a time with a Link to the next', async () => {
    const [lister] = await createPeople(target.admin, 'Lea Lister');
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await lister.api.post('/v1/meetings', { title: `M${i}`, start: inHour(i + 1), end: inHour(i + 2) })).body.id);
    const seen: string[] = [];
    let url: string | undefined = '/v1/meetings?max=2';
    while (url) {
      const page: ApiResponse = await lister.api.get(url);
      assert.equal(page.status, 200);
      assert.ok(page.body.items.length <= 2);
      seen.push(...page.body.items.map((m: { id: string }) => m.id));
      url = String(page.headers.link ?? "").match(/<([^>]+)>; rel="next"/)?.[1];
    }
    assert.deepEqual(seen, made, 'every meeting once, ordered by start');
  });
});

describe('a meeting on the live socket', () => {
  let host: TestPerson;
  let guest: TestPerson;
  let late: TestPerson;
  let outsider: TestPerson;
  let meetingId: string;
  let hostSide: MeetingClient;
  let guestSide: MeetingClient;
  let lateSide: MeetingClient;
  let routerCaps: object;
  let guestProducer: string;
  let hostConsumer: string;
  let hostRecv: string;

  before(async () => {
    [host, guest, late, outsider] = await createPeople(target.admin, 'Hugo Host', 'Gina Guest', 'Lars Late', 'Olga Outsider');
    const room = await host.api.post('/v1/rooms', { title: 'Meeting room' });
    for (const p of [guest, late]) await host.api.post('/v1/memberships', { roomId: room.body.id, personId: p.id });
    meetingId = (await host.api.post('/v1/meetings', { title: 'Weekly', roomId: room.body.id })).body.id;
  });

  test('the host and a room member join; each sees the other in the pushed roster', async () => {
    const hostJoin = await join(host, meetingId);
    hostSide = hostJoin.client;
    assert.equal(hostJoin.result.state, 'joined');
    routerCaps = hostJoin.result.routerRtpCapabilities;
    assert.ok((routerCaps as { codecs: { mimeType: string }[] }).codecs.some((c) => c.mimeType === 'video/VP8'));
    const guestJoin = await join(guest, meetingId);
    guestSide = guestJoin.client;
    assert.equal(guestJoin.result.state, 'joined');
    await hostSide.ok('setRtpCapabilities', { rtpCapabilities: routerCaps });
    const state = await hostSide.waitForState((s) => s.participants.length === 2);
    assert.deepEqual(state.participants.map((p: { displayName: string }) => p.displayName).sort(), ['Gina Guest', 'Hugo Host']);
    assert.equal(state.meeting.state, 'inProgress');
    assert.equal((await host.api.get(`/v1/meetings/${meetingId}`)).body.state, 'inProgress');
  });

  test('a producer of one participant is consumed by another, paused until resumed', async () => {
    const send = await guestSide.ok('createTransport', { direction: 'send' });
    assert.ok(send.id && send.iceParameters && send.dtlsParameters && send.iceCandidates.length > 0);
    guestProducer = (await guestSide.ok('produce', { transportId: send.id, kind: 'audio', rtpParameters: OPUS_RTP_PARAMETERS })).producerId;
    const state = await hostSide.waitForState((s) => s.participants.some((p: any) => p.producers.some((pr: any) => pr.id === guestProducer)));
    assert.equal(state.participants.find((p: any) => p.id === guestSide.participantId).muted, false);

    hostRecv = (await hostSide.ok('createTransport', { direction: 'recv' })).id;
    const consumer = await hostSide.ok('consume', { transportId: hostRecv, producerId: guestProducer });
    assert.equal(consumer.kind, 'audio');
    assert.equal(consumer.paused, true, 'consumers start paused on the server');
    hostConsumer = consumer.id;
    await hostSide.ok('resumeConsumer', { consumerId: hostConsumer });
  });

  test('a change reaches the others as a delta carrying only what changed', async () => {
    const seen = guestSide.live.frames.length;
    await hostSide.ok('raiseHand');
    const delta = await guestSide.live.waitFor((f) => f.type === 'meeting.delta' && guestSide.live.frames.indexOf(f) >= seen && f.participants?.some((p: any) => p.id === hostSide.participantId && p.handRaised));
    assert.deepEqual(delta.participants.map((p: any) => p.id), [hostSide.participantId], 'only the host changed');
    assert.ok(!('meeting' in delta) && !('left' in delta), `nothing else in it: ${JSON.stringify(delta)}`);
    assert.ok(delta.version > delta.after);
    await hostSide.ok('lowerHand');
    const state = await guestSide.waitForState((s) => s.participants.every((p: any) => !p.handRaised));
    assert.equal(state.participants.length, 2);
  });

  test('bad signaling frames get clear errors and leave the meeting as it was', async () => {
    const before = hostSide.latestState()!;
    const expect = async (client: MeetingClient, action: string, args: Record<string, unknown>, status: number, code?: string) => {
      const reply = await client.request(action, args);
      assert.equal(reply.ok, false, `${action} ${JSON.stringify(args)} was accepted`);
      assert.equal(reply.error!.status, status, `${action}: ${JSON.stringify(reply.error)}`);
      if (code) assert.equal(reply.error!.code, code);
      assert.ok(reply.error!.message.length > 0 && !/\n\s+at /.test(reply.error!.message), 'a message, never a stack');
    };
    await expect(hostSide, 'teleport', {}, 400, 'BAD_FRAME');
    await expect(hostSide, 'consume', { transportId: 42, producerId: guestProducer }, 400, 'BAD_FRAME');
    await expect(hostSide, 'consume', { transportId: hostRecv }, 400, 'BAD_FRAME');
    await expect(hostSide, 'resumeConsumer', { consumerId: hostConsumer, extra: true }, 400, 'BAD_FRAME');
    await expect(hostSide, 'consume', { transportId: 'no-such-transport', producerId: guestProducer }, 404, 'MEDIA_NOT_FOUND');
    await expect(hostSide, 'consume', { transportId: hostRecv, producerId: 'no-such-producer' }, 404);
    // Another participant's objects are as unknown as ids that do not exist.
    await expect(guestSide, 'pauseConsumer', { consumerId: hostConsumer }, 404, 'MEDIA_NOT_FOUND');
    await expect(guestSide, 'consume', { transportId: hostRecv, producerId: guestProducer }, 404, 'MEDIA_NOT_FOUND');
    await expect(hostSide, 'closeProducer', { producerId: guestProducer }, 404, 'MEDIA_NOT_FOUND');
    await expect(guestSide, 'muteAll', {}, 403);
    await expect(guestSide, 'expel', { participantId: hostSide.participantId }, 403);
    await expect(hostSide, 'join', {}, 409);
    const elsewhere = await hostSide.request('createTransport', { direction: 'send' }, '0'.repeat(32));
    assert.equal(elsewhere.error?.status, 404, 'a meeting that does not exist');
    // Frames that are not requests at all: an error frame, and the socket stays open.
    hostSide.live.send('{not json');
    hostSide.live.send({ type: 'meeting' });
    await hostSide.live.waitFor((f) => f.type === 'error');

    // Undisturbed: the consumer still answers, and the roster and meeting are as they were
    // (the active speaker may change meanwhile: the media plane reports it on its own).
    await hostSide.ok('pauseConsumer', { consumerId: hostConsumer });
    await hostSide.ok('resumeConsumer', { consumerId: hostConsumer });
    const after = hostSide.latestState()!;
    assert.deepEqual(after.participants, before.participants, 'no roster change from refused requests');
    assert.deepEqual(after.meeting, before.meeting, 'no meeting change from refused requests');
  });

  test('the host mutes a participant over REST: its audio producer is paused on the server', async () => {
    const guestParticipant = guestSide.participantId!;
    const listed = await guest.api.get(`/v1/meetingParticipants?meetingId=${meetingId}`);
    assert.equal(listed.status, 403, 'participants are listed to hosts');
    const muted = await host.api.put(`/v1/meetingParticipants/${guestParticipant}`, { muted: true });
    assert.equal(muted.status, 200, muted.text);
    assert.equal(muted.body.muted, true);
    const state = await guestSide.waitForState((s) => s.participants.find((p: any) => p.id === guestParticipant)?.producers[0]?.paused === true);
    assert.equal(state.participants.find((p: any) => p.id === guestParticipant).muted, true);
    const participants = await host.api.get(`/v1/meetingParticipants?meetingId=${meetingId}`);
    assert.equal(participants.status, 200);
    assert.equal(participants.body.items.find((p: any) => p.id === guestParticipant).muted, true);
    // The participant may unmute themselves.
    await guestSide.ok('resumeProducer', { producerId: guestProducer });
    await hostSide.waitForState((s) => s.participants.find((p: any) => p.id === guestParticipant)?.muted === false);
  });

  test('a locked meeting sends newcomers to the lobby until a host admits them', async () => {
    await hostSide.ok('lock');
    const { client, result } = await join(late, meetingId);
    lateSide = client;
    assert.equal(result.state, 'lobby');
    const inLobby = await lateSide.request('createTransport', { direction: 'send' });
    assert.equal(inLobby.error?.status, 403);
    assert.equal(inLobby.error?.code, 'MEETING_IN_LOBBY');
    await hostSide.waitForState((s) => s.participants.some((p: any) => p.id === lateSide.participantId && p.state === 'lobby'));
    const admitted = await host.api.post('/v1/meetingParticipants/admit', { items: [{ participantId: lateSide.participantId }] });
    assert.equal(admitted.status, 204, admitted.text);
    await lateSide.waitForState((s) => s.participants.some((p: any) => p.id === lateSide.participantId && p.state === 'joined'));
    await lateSide.ok('createTransport', { direction: 'send' });

    // Someone who cannot see the room knocks: lobby too, and the host may expel them.
    await hostSide.ok('unlock');
    const { client: outsiderSide, result: knocked } = await join(outsider, meetingId);
    assert.equal(knocked.state, 'lobby');
    await hostSide.ok('expel', { participantId: outsiderSide.participantId });
    await outsiderSide.waitForState((s) => !s.participants.some((p: any) => p.id === outsiderSide.participantId));
    const gone = await host.api.get(`/v1/meetingParticipants/${outsiderSide.participantId}`);
    assert.equal(gone.body.state, 'end');
  });

  test('a participant whose socket drops keeps its place for a grace; a new socket of the same person takes it back, media and all', async () => {
    const guestId = guestSide.participantId!;
    guestSide.close();
    const away = await hostSide.waitForState((s) => s.participants.find((p: any) => p.id === guestId)?.connected === false);
    assert.ok(away.participants.find((p: any) => p.id === guestId).producers.some((pr: any) => pr.id === guestProducer), 'its producer stays');
    assert.equal((await host.api.get(`/v1/meetingParticipants/${guestId}`)).body.state, 'joined');

    // Someone else naming the guest's participant id does not get its place: a fresh join.
    const { client: otherSide, result: otherJoin } = await joinAs(outsider, meetingId, { participantId: guestId });
    assert.equal(otherJoin.resumed, false);
    assert.notEqual(otherJoin.participantId, guestId);
    await otherSide.ok('leave');

    const { client: back, result } = await joinAs(guest, meetingId, { participantId: guestId });
    assert.equal(result.resumed, true);
    assert.equal(result.participantId, guestId);
    assert.equal(result.state, 'joined');
    guestSide = back;
    const again = await hostSide.waitForState((s) => s.participants.find((p: any) => p.id === guestId)?.connected === true);
    assert.equal(again.participants.find((p: any) => p.id === guestId).mediaEpoch, away.participants.find((p: any) => p.id === guestId).mediaEpoch, 'no media set-up again');
    // The media objects went on: the host's consumer of the guest's producer still answers,
    // and the new socket acts for the participant (its producer is its own).
    await hostSide.ok('pauseConsumer', { consumerId: hostConsumer });
    await hostSide.ok('resumeConsumer', { consumerId: hostConsumer });
    await guestSide.ok('pauseProducer', { producerId: guestProducer });
    await hostSide.waitForState((s) => s.participants.find((p: any) => p.id === guestId)?.muted === true);
    await guestSide.ok('resumeProducer', { producerId: guestProducer });
    // Joining twice on one socket is still refused.
    assert.equal((await guestSide.request('join', { participantId: guestId })).error?.status, 409);
  });

  test('a participant who leaves, or whose socket closes for longer than the grace, drops out of everyone’s roster', async () => {
    await guestSide.ok('leave');
    await hostSide.waitForState((s) => !s.participants.some((p: any) => p.id === guestSide.participantId));
    const left = await host.api.get(`/v1/meetingParticipants/${guestSide.participantId}`);
    assert.equal(left.body.state, 'end');
    assert.ok(left.body.leftTime);
    lateSide.close();
    await hostSide.waitForState((s) => s.participants.some((p: any) => p.personId === late.id && p.connected === false));
    const gone = await hostSide.waitForState((s) => !s.participants.some((p: any) => p.personId === late.id), TEST_RECONNECT_GRACE_MS + 10_000);
    assert.ok(gone.participants.every((p: any) => p.connected === true));
  });

  test('the host ends the meeting for everyone', async () => {
    const { client: again } = await join(guest, meetingId);
    await hostSide.waitForState((s) => s.participants.length === 2);
    await hostSide.ok('end');
    const ended = await again.waitForState((s) => s.meeting.state === 'ended');
    assert.deepEqual(ended.participants, []);
    assert.equal((await host.api.get(`/v1/meetings/${meetingId}`)).body.state, 'ended');
    const refused = await again.request('join');
    assert.equal(refused.error?.status, 409);
  });

  test('every delta each socket received followed the state it had', () => {
    for (const socket of sockets) assert.deepEqual(socket.strayDeltas(), [], `a stray delta on ${socket.participantId}'s socket`);
  });
});

describe('a mediasoup worker killed during a meeting', () => {
  /** The mediasoup workers of the process that runs the media service. */
  const workerPids = (): number[] => {
    const mediaPid = target.process?.child.pid ?? target.cluster?.media()[0].child.pid;
    assert.ok(mediaPid, 'the media process is known');
    return mediasoupWorkers(mediaPid);
  };

  test('the participants are told to set their media up again, and can, on another worker', async () => {
    const [host, guest] = await createPeople(target.admin, 'Kim Killtest', 'Kai Killtest');
    const meetingId = (await host.api.post('/v1/meetings', { title: 'Worker death', enabledJoinBeforeHost: true })).body.id;
    const { client: hostSide, result } = await join(host, meetingId);
    const { client: guestSide } = await join(guest, meetingId);
    await hostSide.ok('setRtpCapabilities', { rtpCapabilities: result.routerRtpCapabilities });
    const produce = async () => {
      const send = await guestSide.ok('createTransport', { direction: 'send' });
      return (await guestSide.ok('produce', { transportId: send.id, kind: 'audio', rtpParameters: OPUS_RTP_PARAMETERS })).producerId as string;
    };
    const consume = async (producerId: string) => {
      const recv = await hostSide.ok('createTransport', { direction: 'recv' });
      const consumer = await hostSide.ok('consume', { transportId: recv.id, producerId });
      await hostSide.ok('resumeConsumer', { consumerId: consumer.id });
      return consumer.id as string;
    };
    const oldConsumer = await consume(await produce());
    const epochs = () => hostSide.latestState()!.participants.map((p: { mediaEpoch: number }) => p.mediaEpoch);
    assert.deepEqual(epochs(), [0, 0]);

    // The worker carrying the meeting is the one holding its transports' UDP sockets.
    const carrying = workerPids().filter((pid) => udpSockets(pid) > 0);
    assert.equal(carrying.length, 1, `one worker carries the meeting: ${JSON.stringify(workerPids().map((pid) => [pid, udpSockets(pid)]))}`);
    process.kill(carrying[0], 'SIGKILL');
    const moved = await hostSide.waitForState((s) => s.participants.every((p: { mediaEpoch: number }) => p.mediaEpoch > 0), 10_000);
    assert.ok(moved.participants.every((p: { producers: unknown[] }) => p.producers.length === 0), 'the old producers are gone');
    assert.equal((await hostSide.request('pauseConsumer', { consumerId: oldConsumer })).error?.status, 404, 'so are the old consumers');

    // Renegotiation, as a client does on a grown mediaEpoch.
    const producerId = await produce();
    await hostSide.waitForState((s) => s.participants.some((p: any) => p.producers.some((pr: any) => pr.id === producerId)));
    await consume(producerId);
    assert.ok(workerPids().length >= 1, 'the media node is still up');
  });
});
