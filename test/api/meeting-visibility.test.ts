// Who may see a meeting, over real HTTPS and WSS (issue 15, finding 2): its host, whoever is
// in it now, whoever sees its room; someone who knocked waits in the lobby and sees only
// what a lobby shows (the title and state, their own status), over the live socket as over
// REST, before admission and after leaving alike. And the dates a meeting takes
// (finding 6): ISO 8601 in the years 1970–9999, 23 hours 59 minutes at most, or a 400.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MeetingClient } from '../../clients/meeting-client.ts';
import type { Frame } from '../../clients/live-client.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
const sockets: MeetingClient[] = [];
before(async () => {
  target = await startTarget();
});
after(async () => {
  for (const socket of sockets) socket.close();
  await target.stop();
});

async function join(person: TestPerson, meetingId: string): Promise<{ client: MeetingClient; result: any }> {
  const client = await MeetingClient.connect(target.liveUrl, target.ca, person.token, meetingId);
  sockets.push(client);
  const reply = await client.request('join');
  assert.ok(reply.ok, JSON.stringify(reply.error));
  client.participantId = reply.result.participantId;
  return { client, result: reply.result };
}

/** Everything the socket received so far, once a ping sent now is answered (frames keep their order). */
async function framesSoFar(client: MeetingClient): Promise<Frame[]> {
  const seen = client.live.frames.length;
  client.live.send({ type: 'ping' });
  await client.live.waitFor((f) => f.type === 'pong' && client.live.frames.indexOf(f) >= seen);
  return [...client.live.frames];
}

describe('someone who knocks on a room meeting', () => {
  let host: TestPerson;
  let member: TestPerson;
  let knocker: TestPerson;
  let roomId: string;
  let meetingId: string;
  let hostSide: MeetingClient;
  let knockerSide: MeetingClient;
  /** What the knocker must never be shown while in the lobby or after leaving. */
  let secrets: string[];

  before(async () => {
    [host, member, knocker] = await createPeople(target.admin, 'Vera Visible', 'Max Member', 'Kit Knocker');
    roomId = (await host.api.post('/v1/rooms', { title: 'Private planning' })).body.id;
    await host.api.post('/v1/memberships', { roomId, personId: member.id });
    const created = await host.api.post('/v1/meetings', { title: 'Quarterly numbers', roomId, agenda: 'the secret agenda', password: 'pw-Secret-1' });
    assert.equal(created.status, 200, created.text);
    meetingId = created.body.id;
    hostSide = (await join(host, meetingId)).client;
    await join(member, meetingId);
    await hostSide.waitForState((s) => s.participants.length === 2);
    secrets = [roomId, host.id, host.email, 'Vera Visible', member.id, 'Max Member', 'the secret agenda', 'pw-Secret-1'];
  });

  const assertNothingOf = (what: string, frames: unknown) => {
    const text = JSON.stringify(frames);
    for (const secret of secrets) assert.ok(!text.includes(secret), `${what} shows ${secret}: ${text}`);
  };

  test('waits in the lobby and is shown only the title, the state and its own place', async () => {
    const { client, result } = await join(knocker, meetingId);
    knockerSide = client;
    assert.equal(result.state, 'lobby');
    assert.equal(result.meeting.meeting.title, 'Quarterly numbers');
    assert.equal(result.meeting.meeting.state, 'inProgress');
    assert.deepEqual(result.meeting.participants.map((p: { id: string; state: string }) => [p.id, p.state]), [[result.participantId, 'lobby']]);
    assertNothingOf('the join reply', result);
    await hostSide.waitForState((s) => s.participants.some((p: any) => p.id === knockerSide.participantId && p.state === 'lobby'));
  });

  test('is not shown the meeting over REST, even after a password change', async () => {
    const patched = await host.api.patch(`/v1/meetings/${meetingId}`, { password: 'pw-Secret-2' });
    assert.equal(patched.status, 200, patched.text);
    secrets.push('pw-Secret-2');
    for (const path of [`/v1/meetings/${meetingId}`, `/v1/meetingParticipants/${knockerSide.participantId}`, `/v1/meetingParticipants?meetingId=${meetingId}`]) {
      const response = await knocker.api.get(path);
      assert.equal(response.status, 404, `${path} → ${response.status} ${response.text}`);
    }
    assert.equal((await knocker.api.get(`/v1/meetings?roomId=${roomId}`)).status, 404);
    assert.ok(!(await knocker.api.get('/v1/meetings')).body.items.some((m: { id: string }) => m.id === meetingId));
  });

  test('gets no roster while the meeting changes, only its lobby view when that changes', async () => {
    await hostSide.ok('raiseHand');
    await hostSide.waitForState((s) => s.participants.some((p: any) => p.id === hostSide.participantId && p.handRaised));
    await hostSide.ok('lock');
    await hostSide.waitForState((s) => s.meeting.locked === true);
    const frames = await framesSoFar(knockerSide);
    assert.deepEqual(frames.filter((f) => f.type === 'meeting.delta'), [], 'no delta: they carry the roster');
    assertNothingOf('the lobby socket', frames);
    const lobby = await knockerSide.waitForState((s) => s.meeting.locked === true);
    assert.deepEqual(lobby.participants.map((p: { id: string }) => p.id), [knockerSide.participantId]);
    await hostSide.ok('unlock');
  });

  test('once admitted, sees the meeting, its roster and changes; after leaving, nothing again', async () => {
    assert.equal((await host.api.post('/v1/meetingParticipants/admit', { items: [{ participantId: knockerSide.participantId }] })).status, 204);
    const inside = await knockerSide.waitForState((s) => s.participants.length === 3 && s.participants.every((p: any) => p.state === 'joined'));
    assert.equal(inside.meeting.hostUserId, host.id);
    const got = await knocker.api.get(`/v1/meetings/${meetingId}`);
    assert.equal(got.status, 200, 'someone in the meeting sees it');
    assert.equal(got.body.password, 'pw-Secret-2');
    assert.equal((await knocker.api.get(`/v1/meetingParticipants/${knockerSide.participantId}`)).body.state, 'joined');
    await hostSide.ok('lowerHand');
    await knockerSide.waitForState((s) => s.participants.every((p: any) => !p.handRaised));

    await knockerSide.ok('leave');
    await hostSide.waitForState((s) => s.participants.length === 2);
    await host.api.patch(`/v1/meetings/${meetingId}`, { password: 'pw-Secret-3' });
    for (const path of [`/v1/meetings/${meetingId}`, `/v1/meetingParticipants/${knockerSide.participantId}`]) {
      assert.equal((await knocker.api.get(path)).status, 404, `${path} after leaving`);
    }
  });

  test('turned away from the lobby, it is told so, and shown nothing of the meeting', async () => {
    const { client } = await join(knocker, meetingId);
    await hostSide.waitForState((s) => s.participants.some((p: any) => p.id === client.participantId));
    await hostSide.ok('expel', { participantId: client.participantId });
    const out = await client.waitForState((s) => !s.participants.some((p: any) => p.id === client.participantId));
    assert.deepEqual(out.participants, []);
    assertNothingOf('the turned-away socket', await framesSoFar(client));
    assert.equal((await knocker.api.get(`/v1/meetings/${meetingId}`)).status, 404);
  });

  test('a room member waiting in a locked meeting sees the lobby too, and the meeting over REST', async () => {
    const [colleague] = await createPeople(target.admin, 'Cleo Colleague');
    await host.api.post('/v1/memberships', { roomId, personId: colleague.id });
    await hostSide.ok('lock');
    const { client, result } = await join(colleague, meetingId);
    assert.equal(result.state, 'lobby');
    assert.deepEqual(result.meeting.participants.map((p: { id: string }) => p.id), [client.participantId]);
    assert.equal((await colleague.api.get(`/v1/meetings/${meetingId}`)).status, 200, 'the room decides REST visibility');
    await hostSide.ok('unlock');
    await client.ok('leave');
  });

  test('when the meeting ends, a knocker in the lobby is told, and every delta followed its state', async () => {
    const { client } = await join(knocker, meetingId);
    await hostSide.waitForState((s) => s.participants.some((p: any) => p.id === client.participantId));
    await hostSide.ok('end');
    const ended = await client.waitForState((s) => s.meeting.state === 'ended');
    assert.deepEqual(ended.participants, []);
    assertNothingOf('the lobby socket', await framesSoFar(client));
    for (const socket of sockets) assert.deepEqual(socket.strayDeltas(), [], `a stray delta on ${socket.participantId}'s socket`);
  });
});

describe('meeting dates', () => {
  let host: TestPerson;
  before(async () => {
    [host] = await createPeople(target.admin, 'Dora Dates');
  });

  test('a date out of range, or a schedule longer than 23:59, is a 400, never a 500', async () => {
    for (const body of [
      { title: 'x', start: '+275760-09-13T00:00:00.000Z' },
      { title: 'x', end: '+275760-09-13T00:00:00.000Z' },
      { title: 'x', start: '-000001-01-01T00:00:00.000Z' },
      { title: 'x', start: '0001-01-01T00:00:00Z', end: '0001-01-01T01:00:00Z' },
      { title: 'x', start: '1969-12-31T23:00:00Z', end: '1970-01-01T00:30:00Z' },
      { title: 'x', start: '9999-12-31T23:30:00Z' },
      { title: 'x', start: '2030-01-01T00:00:00Z', end: '2030-01-01T23:59:01Z' },
      { title: 'x', start: '2030-02-31T10:00:00Z', end: '2030-02-31T11:00:00Z' },
      { title: 'x', start: '2030-01-01T10:00:00Z', end: 'soon' },
    ]) {
      const response = await host.api.post('/v1/meetings', body);
      assert.equal(response.status, 400, `${JSON.stringify(body)} → ${response.status} ${response.text}`);
      assert.ok(response.body.message, 'in the Webex error shape');
    }
    const fine = await host.api.post('/v1/meetings', { title: 'A full day', start: '2030-01-01T00:00:00+01:00', end: '2030-01-01 23:59:00+01:00' });
    assert.equal(fine.status, 200, fine.text);
    assert.equal(fine.body.start, '2029-12-31T23:00:00.000Z');
    assert.equal(fine.body.end, '2030-01-01T22:59:00.000Z');
    for (const change of [{ end: '+275760-09-13T00:00:00.000Z' }, { start: '2029-12-30T00:00:00Z' }, { start: '12345-01-01T00:00:00Z' }]) {
      const response = await host.api.patch(`/v1/meetings/${fine.body.id}`, change);
      assert.equal(response.status, 400, `${JSON.stringify(change)} → ${response.status} ${response.text}`);
    }
    assert.equal((await host.api.get(`/v1/meetings/${fine.body.id}`)).body.end, '2030-01-01T22:59:00.000Z', 'refused changes change nothing');
  });

  test('a listing takes a from/to window of start times, checked the same way', async () => {
    const made: Record<string, string> = {};
    for (const day of ['2031-03-01', '2031-03-02', '2031-03-03', '2031-03-04']) {
      made[day] = (await host.api.post('/v1/meetings', { title: day, start: `${day}T10:00:00Z`, end: `${day}T11:00:00Z` })).body.id;
    }
    const listed = await host.api.get('/v1/meetings?from=2031-03-02T00:00:00Z&to=2031-03-04T00:00:00Z');
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.body.items.map((m: { id: string }) => m.id), [made['2031-03-02'], made['2031-03-03']]);
    assert.equal(listed.headers.link, undefined, 'nothing past `to`');
    for (const query of ['from=2031-03-04T00:00:00Z&to=2031-03-02T00:00:00Z', 'from=%2B275760-09-13T00:00:00.000Z', 'to=yesterday', 'from=1900-01-01']) {
      const response = await host.api.get(`/v1/meetings?${query}`);
      assert.equal(response.status, 400, `${query} → ${response.status} ${response.text}`);
    }
  });
});
