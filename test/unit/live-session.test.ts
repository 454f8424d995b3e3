// A live session against a scripted gateway around it. Its hello: a token refused is a
// 4001, a token that could not be checked (an actor unreachable) a 1013, to come back; an
// address past its limit of failed attempts a 4029 with retryAfterMs, before any work.
// Its meeting seat: a delta goes to the client only when the client has the state it
// follows; after a gap (a fan-out message lost) the session asks for the full state once,
// sends it, and goes on with deltas; an update that carries the full state (a new owner)
// needs no asking. A notification is taken only by an open session whose client reads
// (else its person is unreached, and gets a push).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { Caller } from '../../contracts/caller.ts';
import { NO_METRICS } from '../../contracts/metrics.ts';
import type { MeetingUpdate } from '../../routing/fanout/fanout.ts';
import { LiveSession } from '../../gateway/live/live-session.ts';
import type { LiveSessionHost, LiveSocket } from '../../gateway/live/live-session-host.ts';

const MEETING = 'a'.repeat(32);
const PARTICIPANT = `${MEETING}_${'b'.repeat(32)}`;
const caller: Caller = { id: 'person-1', orgId: 'org', email: 'p@example.com', displayName: 'P', roles: [], type: 'person' };

function setUp(fullStateVersion: () => number, authenticate: () => Promise<Caller> = async () => caller, limit = { refusal: 0, failed: 0 }, buffered = () => 0) {
  const sent: any[] = [];
  const closes: number[] = [];
  const socket: LiveSocket = { send: (frame) => sent.push(JSON.parse(frame)), bufferedAmount: buffered, close: (code) => closes.push(code), remoteAddress: '192.0.2.1' };
  const asked: number[] = [];
  const host: LiveSessionHost = {
    authenticate,
    helloRefusal: () => limit.refusal,
    helloFailed: async () => limit.failed,
    liveRooms: async () => [],
    markRead: async () => undefined,
    replay: async () => ({}),
    subscribeRoom: () => undefined,
    unsubscribeRoom: () => undefined,
    watchPerson: () => undefined,
    publishTyping: () => undefined,
    forget: () => undefined,
    peopleSharingRooms: async () => [],
    presenceStatuses: async () => ({}),
    watchPresence: () => undefined,
    unwatchPresence: () => undefined,
    deviceOpened: () => undefined,
    deviceActive: () => undefined,
    deviceClosed: () => undefined,
    meetingRequest: async () => ({ participantId: PARTICIPANT, state: 'joined', meeting: { type: 'meeting.state', meetingId: MEETING, version: 10, participants: [] } }),
    meetingSessionClosed: () => undefined,
    subscribeMeeting: () => undefined,
    unsubscribeMeeting: () => undefined,
    meetingState: async () => {
      const version = fullStateVersion();
      asked.push(version);
      return { type: 'meeting.state', meetingId: MEETING, version, participants: [] } as never;
    },
    maxBufferedBytes: 1 << 20,
    frameBurst: 100,
    framesPerSecond: 100,
    helloTimeoutMs: 10_000,
    heartbeatSeconds: 25,
    checkSeconds: 0,
    logger: { warn: () => undefined, debug: () => undefined } as never,
    metrics: NO_METRICS,
  };
  return { session: new LiveSession(socket, host), sent, asked, closes };
}

const update = (after: number, version: number, full?: boolean): MeetingUpdate => ({
  meetingId: MEETING, version, after, participantIds: [PARTICIPANT],
  frame: JSON.stringify({ type: 'meeting.delta', meetingId: MEETING, version, after }),
  ...(full ? { full: JSON.stringify({ type: 'meeting.state', meetingId: MEETING, version }) } : {}),
});
const present = new Set([PARTICIPANT]);
const kinds = (sent: any[]) => sent.filter((f) => f.type.startsWith('meeting.')).map((f) => `${f.type === 'meeting.reply' ? 'reply' : f.type === 'meeting.state' ? 'state' : 'delta'}@${f.version ?? f.result?.meeting?.version}`);

async function joined(fullStateVersion: () => number) {
  const setup = setUp(fullStateVersion);
  setup.session.receive(JSON.stringify({ type: 'hello', token: 't' }));
  await sleep(10);
  setup.session.receive(JSON.stringify({ type: 'meeting', id: 'r1', meetingId: MEETING, action: 'join' }));
  await sleep(10);
  return setup;
}

test('deltas that follow what the client has are sent as they are; older ones are dropped', async () => {
  const { session, sent, asked } = await joined(() => 99);
  session.offerMeeting(update(10, 11), present);
  session.offerMeeting(update(11, 12), present);
  session.offerMeeting(update(10, 11), present); // a late duplicate
  assert.deepEqual(kinds(sent), ['reply@10', 'delta@11', 'delta@12']);
  assert.deepEqual(asked, [], 'no full state was needed');
  session.closed();
});

test('after a lost delta the full state is asked for once, then deltas go on from it', async () => {
  let current = 13;
  const { session, sent, asked } = await joined(() => current);
  session.offerMeeting(update(10, 11), present);
  // 11 -> 12 is lost; 12 -> 13 cannot be applied by the client.
  session.offerMeeting(update(12, 13), present);
  session.offerMeeting(update(12, 13), present);
  await sleep(10);
  assert.deepEqual(asked, [13], 'asked once');
  session.offerMeeting(update(13, 14), present);
  assert.deepEqual(kinds(sent), ['reply@10', 'delta@11', 'state@13', 'delta@14']);

  // A delta announced while the full state was on its way is not lost: the session asks again.
  current = 15;
  session.offerMeeting(update(20, 21), present); // a gap: asks, and the state says 15
  session.offerMeeting(update(21, 22), present); // dropped while asking
  current = 22;
  await sleep(400);
  assert.deepEqual(kinds(sent).slice(4), ['state@15', 'state@22']);
  session.closed();
});

test('an update with the full state in it (a new owner) needs no asking', async () => {
  const { session, sent, asked } = await joined(() => 99);
  session.offerMeeting(update(0, 50, true), present);
  session.offerMeeting(update(50, 51), present);
  assert.deepEqual(kinds(sent), ['reply@10', 'state@50', 'delta@51']);
  assert.deepEqual(asked, []);
  session.closed();
});

test('a hello whose token is refused ends with 4001; one whose token cannot be checked is told to come back (1013)', async () => {
  const refused = setUp(() => 0, async () => { throw Object.assign(new Error('no'), { code: 401 }); });
  refused.session.receive(JSON.stringify({ type: 'hello', token: 't' }));
  await sleep(10);
  assert.deepEqual(refused.closes, [4001]);
  assert.match(refused.sent[0].message, /not valid/);

  const unreachable = setUp(() => 0, async () => { throw Object.assign(new Error('timed out'), { name: 'RequestTimeoutError', code: 504 }); });
  unreachable.session.receive(JSON.stringify({ type: 'hello', token: 't' }));
  await sleep(10);
  assert.deepEqual(unreachable.closes, [1013]);
  assert.match(unreachable.sent[0].message, /reconnect shortly/);
});


test('an address over its limit of failed attempts is told to wait (4029, retryAfterMs), before its token is checked or its frame read', async () => {
  let checked = 0;
  const refused = setUp(() => 0, async () => { checked++; return caller; }, { refusal: 3, failed: 0 });
  refused.session.receive('not even JSON');
  await sleep(10);
  assert.deepEqual(refused.closes, [4029]);
  assert.equal(refused.sent[0].retryAfterMs, 3000);
  assert.equal(checked, 0, 'the token was never checked');

  // The refused hello that goes one past the limit is answered the same way, not with 4001.
  const lastStraw = setUp(() => 0, async () => { throw Object.assign(new Error('no'), { code: 401 }); }, { refusal: 0, failed: 2 });
  lastStraw.session.receive(JSON.stringify({ type: 'hello', token: 't' }));
  await sleep(10);
  assert.deepEqual(lastStraw.closes, [4029]);
  assert.equal(lastStraw.sent[0].retryAfterMs, 2000);
});

test('a notification is taken by an open session, not before the hello nor by a client whose buffer is full', async () => {
  let buffered = 0;
  const { session, sent } = setUp(() => 1, undefined, undefined, () => buffered);
  const frame = JSON.stringify({ type: 'notification', kind: 'direct', roomId: 'r', messageId: 'm', actorId: 'a', created: '2026-01-01T00:00:00.000Z' });
  assert.equal(session.offerNotification(frame), false, 'before the hello');
  session.receive(JSON.stringify({ type: 'hello', token: 't' }));
  await sleep(10);
  assert.equal(session.offerNotification(frame), true);
  assert.equal(sent.filter((f) => f.type === 'notification').length, 1);
  buffered = 2 << 20;
  assert.equal(session.offerNotification(frame), false, 'a client that does not read');
  assert.equal(sent.filter((f) => f.type === 'notification').length, 1);
});
