// A room's meeting details from the outside, in both modes (Webex GET /v1/rooms/{roomId}/
// meetingInfo): members only (others 404), a room without a meeting gets its standing one at
// the first ask (one, however many ask at once), the meeting someone is in before the earliest
// one not started, the link the meeting's own webLink is.
// Every answer is checked against the spec by the API client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MeetingClient } from '../../clients/meeting-client.ts';
import { COMPLIANCE_OFFICER_ROLE } from '../../contracts/caller.ts';
import { createPeople, createPerson, type TestPerson } from '../harness/people.ts';
import { expectStatus, roomWith } from '../harness/rooms.ts';
import { until } from '../harness/wait.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
let host: TestPerson;
let member: TestPerson;
let outsider: TestPerson;
const sockets: MeetingClient[] = [];

before(async () => {
  target = await startTarget();
  [host, member, outsider] = await createPeople(target.admin, 'Hana Host', 'Mo Member', 'Olga Outsider');
});
after(async () => {
  for (const socket of sockets) socket.close();
  await target.stop();
});

const inHours = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();

async function roomMeeting(roomId: string, startInHours: number): Promise<{ id: string; meetingNumber: string; webLink: string }> {
  const created = await host.api.post('/v1/meetings', { title: `room meeting +${startInHours}h`, roomId, start: inHours(startInHours), end: inHours(startInHours + 1) });
  expectStatus(created, 200, 'create meeting');
  return created.body;
}

const infoOf = (person: TestPerson, roomId: string) => person.api.get(`/v1/rooms/${roomId}/meetingInfo`);

describe('room meeting details', () => {
  test('members only; the earliest meeting not started, with its link', async () => {
    const room = await roomWith(host, [member]);
    const later = await roomMeeting(room.id, 3);
    const sooner = await roomMeeting(room.id, 1);
    for (const person of [host, member]) {
      const info = await infoOf(person, room.id);
      expectStatus(info, 200, 'info');
      assert.deepEqual(info.body, { roomId: room.id, meetingId: sooner.id, meetingNumber: sooner.meetingNumber, meetingLink: sooner.webLink });
    }
    expectStatus(await infoOf(outsider, room.id), 404, 'outsider');
    expectStatus(await infoOf(outsider, 'not-a-room'), 404, 'no such room');
    expectStatus(await host.api.delete(`/v1/meetings/${sooner.id}`), 204, 'cancel the sooner one');
    assert.equal((await infoOf(member, room.id)).body.meetingId, later.id);
  });

  test('a room without a meeting gets its standing one at the first ask, one however many ask at once', async () => {
    const room = await roomWith(host, [member], { title: 'Standing meeting room' });
    const answers = await Promise.all([host, member, host, member].map((person) => infoOf(person, room.id)));
    for (const answer of answers) expectStatus(answer, 200, 'info');
    const ids = new Set(answers.map((answer) => answer.body.meetingId));
    assert.equal(ids.size, 1, `every ask answers the same meeting: ${[...ids].join(', ')}`);
    const [meetingId] = ids;
    const listed = await member.api.get(`/v1/meetings?roomId=${room.id}`);
    expectStatus(listed, 200, 'the room meetings');
    assert.deepEqual(listed.body.items.map((m: { id: string }) => m.id), [meetingId], 'the room keeps one standing meeting');
    const meeting = listed.body.items[0];
    assert.equal(meeting.title, 'Standing meeting room');
    assert.equal(meeting.enabledJoinBeforeHost, true, 'any member may start it, as a Webex space meeting');
    assert.equal(answers[0].body.meetingLink, meeting.webLink);
    assert.equal((await infoOf(member, room.id)).body.meetingId, meetingId, 'asked again: the same');
    expectStatus(await infoOf(outsider, room.id), 404, 'outsider');

    // Started by whoever did not make it (any member may, before the host), then ended by its
    // host: the next ask makes the next one.
    const madeBy = [host, member].find((person) => person.id === meeting.hostUserId);
    assert.ok(madeBy, `hosted by one of the members who asked: ${meeting.hostUserId}`);
    const other = madeBy === host ? member : host;
    const client = await MeetingClient.connect(target.liveUrl, target.ca, other.token, meetingId);
    sockets.push(client);
    const joined = await client.request('join');
    assert.ok(joined.ok, JSON.stringify(joined.error));
    assert.equal((await infoOf(madeBy, room.id)).body.meetingId, meetingId, 'in progress: still the same');
    const hostClient = await MeetingClient.connect(target.liveUrl, target.ca, madeBy.token, meetingId);
    sockets.push(hostClient);
    assert.ok((await hostClient.request('join')).ok);
    const end = await hostClient.request('end');
    assert.ok(end.ok, JSON.stringify(end.error));
    await until(async () => (await host.api.get(`/v1/meetings/${meetingId}`)).body.state === 'ended', 10_000, 'the standing meeting ended');
    const next = await infoOf(member, room.id);
    expectStatus(next, 200, 'the next standing meeting');
    assert.notEqual(next.body.meetingId, meetingId);
    assert.equal((await infoOf(host, room.id)).body.meetingId, next.body.meetingId);
  });

  test('one who sees the room without being in it (a compliance officer) does not make its meeting', async () => {
    const officer = await createPerson(target.admin, 'Ola Officer', { roles: [COMPLIANCE_OFFICER_ROLE] });
    const room = await roomWith(host, [member]);
    expectStatus(await infoOf(officer, room.id), 404, 'no meeting yet, and the officer makes none');
    const made = await infoOf(member, room.id);
    expectStatus(made, 200, 'a member makes it');
    const seen = await infoOf(officer, room.id);
    expectStatus(seen, 200, 'then the officer reads it');
    assert.equal(seen.body.meetingId, made.body.meetingId);
  });

  test('a meeting someone is in comes before one not started', async () => {
    const room = await roomWith(host, [member]);
    const sooner = await roomMeeting(room.id, 1);
    const running = await roomMeeting(room.id, 5);
    const client = await MeetingClient.connect(target.liveUrl, target.ca, host.token, running.id);
    sockets.push(client);
    const reply = await client.request('join');
    assert.ok(reply.ok, JSON.stringify(reply.error));
    await until(async () => (await host.api.get(`/v1/meetings/${running.id}`)).body.state === 'inProgress', 10_000, 'the meeting in progress');
    assert.equal((await infoOf(member, room.id)).body.meetingId, running.id);
    assert.notEqual(running.id, sooner.id);
  });
});
