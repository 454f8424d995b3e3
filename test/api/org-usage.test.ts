// The organization's usage figures over real HTTPS (a Squared extension, docs/admin.md): what
// the test created is what GET /v1/organizations/{orgId}/usage counts — people and bots, active
// people, rooms, messages per day, live sockets, meetings — and only administrators read it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LiveClient } from '../../clients/live-client.ts';
import { MeetingClient } from '../../clients/meeting-client.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { expectStatus } from '../harness/rooms.ts';
import { until } from '../harness/wait.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
let orgId: string;
let alice: TestPerson;
let bob: TestPerson;
const sockets: LiveClient[] = [];

before(async () => {
  target = await startTarget();
  orgId = (await target.admin.get('/v1/people/me')).body.orgId;
  [alice, bob] = await createPeople(target.admin, 'Alice Usage', 'Bob Usage');
  expectStatus(await target.admin.post('/v1/bots', { displayName: 'Usage Bot' }), 200, 'bot');
  const room = await alice.api.post('/v1/rooms', { title: 'Usage room' });
  expectStatus(room, 200, 'room');
  expectStatus(await alice.api.post('/v1/memberships', { roomId: room.body.id, personId: bob.id }), 200, 'member');
  for (let i = 0; i < 3; i++) expectStatus(await alice.api.post('/v1/messages', { roomId: room.body.id, text: `message ${i}` }), 200, 'message');
  expectStatus(await alice.api.post('/v1/messages', { toPersonId: bob.id, text: 'direct' }), 200, 'direct message');
  const meeting = await alice.api.post('/v1/meetings', { title: 'Usage meeting', start: new Date(Date.now() + 60_000).toISOString(), end: new Date(Date.now() + 3_600_000).toISOString() });
  expectStatus(meeting, 200, 'meeting');
  const client = await MeetingClient.connect(target.liveUrl, target.ca, alice.token, meeting.body.id);
  await client.ok('join');
  await client.ok('leave');
  client.close();
  sockets.push(await LiveClient.connect(target.liveUrl, target.ca, alice.token));
});
after(async () => {
  for (const socket of sockets) socket.close();
  await target.stop();
});

const usage = (query = '') => target.admin.get(`/v1/organizations/${orgId}/usage${query}`);

describe('org usage', () => {
  test('the figures are those of what the organization did', async () => {
    // The live socket reaches presence with the gateway's next heartbeat; the meeting's socket has gone.
    await until(async () => {
      await sleep(200);
      const live = (await usage()).body.live;
      return live.sockets === 1 && live.people === 1;
    }, 20_000, 'the one live socket counted');
    const response = await usage();
    expectStatus(response, 200, 'usage');
    const figures = response.body;
    assert.equal(figures.orgId, orgId);
    assert.equal(figures.days, 7);
    assert.deepEqual(figures.people, { total: 4, persons: 3, bots: 1 });
    assert.deepEqual(figures.activePeople, { lastDay: 1, last7Days: 1, last30Days: 1 }, 'only Alice was ever connected');
    assert.deepEqual(figures.rooms, { total: 2, group: 1, direct: 1 });
    assert.equal(figures.messagesPerDay.length, 7);
    const today = new Date().toISOString().slice(0, 10);
    assert.deepEqual(figures.messagesPerDay.at(-1), { date: today, messages: 4 });
    assert.ok(figures.messagesPerDay.slice(0, -1).every((day: { messages: number }) => day.messages === 0));
    assert.deepEqual(figures.live, { sockets: 1, people: 1 });
    assert.equal(figures.meetings.held, 1);
    assert.ok(figures.meetings.minutes >= 0 && figures.meetings.participantMinutes >= figures.meetings.minutes);
    assert.equal(figures.complete, true);
  });

  test('days sets how many days of messages are counted', async () => {
    const response = await usage('?days=2');
    expectStatus(response, 200, 'usage');
    assert.equal(response.body.messagesPerDay.length, 2);
    assert.equal(response.body.messagesPerDay[1].messages, 4);
  });

  test('administrators of the organization only; bad days are a 400', async () => {
    expectStatus(await alice.api.get(`/v1/organizations/${orgId}/usage`), 403, 'not an administrator');
    const other = Buffer.from(`ciscospark://us/ORGANIZATION/${randomUUID()}`).toString('base64url');
    expectStatus(await target.admin.get(`/v1/organizations/${other}/usage`), 403, 'another organization');
    for (const days of ['0', '31', 'many', '1.5']) expectStatus(await usage(`?days=${days}`), 400, `days=${days}`);
  });
});
