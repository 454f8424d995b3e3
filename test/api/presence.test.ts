// Presence over real HTTPS and WSS (README, Presence; docs/live-protocol.md): a person's
// status on people in REST, aggregated over their devices (in cluster mode one device on each
// gateway): active while either is, inactive after the idle time, unknown once both closed;
// a manual status (DoNotDisturb, OutOfOffice) wins and expires; `meeting` while in a meeting;
// watchers get the current status at subscription and one frame per real change — none per
// heartbeat, a flap within the pace coalesced to nothing; people who did not subscribe, or
// who share no room with the person, get nothing.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { LiveClient, type Frame } from '../../clients/live-client.ts';
import { MeetingClient } from '../../clients/meeting-client.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { until } from '../harness/wait.ts';
import { startTarget, type Target } from './target.ts';

/** Short times, so that the suite sees leases lapse and people go idle. */
const LEASE_MS = 3000;
const IDLE_MS = 4000;
const MIN_INTERVAL_MS = 2000;

let target: Target;
before(async () => {
  target = await startTarget({
    SQUARED_PRESENCE_LEASE_MS: String(LEASE_MS), SQUARED_PRESENCE_IDLE_MS: String(IDLE_MS), SQUARED_PRESENCE_MIN_INTERVAL_MS: String(MIN_INTERVAL_MS),
    SQUARED_RATE_BURST: '100000', SQUARED_RATE_PER_SECOND: '100000',
  });
});
after(() => target.stop());

const sockets: LiveClient[] = [];
after(() => {
  for (const socket of sockets) socket.close();
});

/** `near`: the gateway REST goes to; `far`: the live gateway (another one in cluster mode). */
async function connect(person: TestPerson, where: 'near' | 'far' = 'far'): Promise<LiveClient> {
  const client = await LiveClient.connect(where === 'near' ? target.url : target.liveUrl, target.ca, person.token);
  sockets.push(client);
  return client;
}

async function roomWith(owner: TestPerson, ...members: TestPerson[]): Promise<string> {
  const room = await owner.api.post('/v1/rooms', { title: `presence ${Math.random()}` });
  assert.equal(room.status, 200, room.text);
  for (const member of members) {
    const added = await owner.api.post('/v1/memberships', { roomId: room.body.id, personId: member.id });
    assert.equal(added.status, 200, added.text);
  }
  return room.body.id;
}

/** The person's status as a colleague sees it on GET /v1/people/{id}. */
async function statusOf(viewer: TestPerson, person: TestPerson): Promise<{ status?: string; lastActivity?: string }> {
  const got = await viewer.api.get(`/v1/people/${person.id}`);
  assert.equal(got.status, 200, got.text);
  return { status: got.body.status, lastActivity: got.body.lastActivity };
}

const waitStatus = (viewer: TestPerson, person: TestPerson, status: string, timeoutMs = 10_000) =>
  until(async () => (await statusOf(viewer, person)).status === status, timeoutMs, `${person.displayName} to show ${status}`);

const presenceOf = (client: LiveClient, personId: string) => client.frames.filter((f) => f.type === 'presence' && f.personId === personId);
const isPresence = (personId: string, status: string) => (f: Frame) => f.type === 'presence' && f.personId === personId && f.status === status;

/** Keeps a device active (a client reporting its person's input) until the returned function is called. */
function keepActive(client: LiveClient): () => void {
  client.send({ type: 'activity' });
  const timer = setInterval(() => client.send({ type: 'activity' }), 500);
  return () => clearInterval(timer);
}

describe('presence', () => {
  test('two devices: active while either is, inactive after the idle time, unknown once both closed; lastActivity follows', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Devices', 'Bob Colleague');
    assert.equal((await statusOf(bob, alice)).status, 'unknown', 'nobody connected yet');
    const here = await connect(alice, 'near');
    const there = await connect(alice, 'far');
    await waitStatus(bob, alice, 'active');
    const me = await alice.api.get('/v1/people/me');
    assert.equal(me.body.status, 'active', 'on /people/me too');
    const listed = await bob.api.get(`/v1/people?id=${alice.id}`);
    assert.equal(listed.body.items[0].status, 'active', 'and in people lists');
    assert.ok(listed.body.items[0].lastActivity);
    const excluded = await bob.api.get(`/v1/people?id=${alice.id}&excludeStatus=true`);
    assert.equal(excluded.body.items[0].status, undefined, 'excludeStatus leaves it out');

    // Only the far device reports activity: the person stays active past the idle time.
    const stop = keepActive(there);
    here.close();
    await sleep(IDLE_MS + 1500);
    assert.equal((await statusOf(bob, alice)).status, 'active', 'the other device keeps the person active');
    const activeSince = (await statusOf(bob, alice)).lastActivity!;
    assert.ok(Date.now() - Date.parse(activeSince) < 3000, `lastActivity ${activeSince} is recent`);
    stop();
    await waitStatus(bob, alice, 'inactive', IDLE_MS + 8000);
    there.send({ type: 'activity' });
    await waitStatus(bob, alice, 'active', 5000);
    there.close();
    await waitStatus(bob, alice, 'unknown', 5000);
    assert.ok((await statusOf(bob, alice)).lastActivity, 'an offline person still shows when they were last active');
  });

  test('a watcher gets the status at subscription, then one frame per real change and none per heartbeat; others get nothing', async () => {
    const [alice, watcher, member, outsider] = await createPeople(target.admin, 'Alice Watched', 'Wanda Watcher', 'Mo Member', 'Olga Outsider');
    await roomWith(alice, watcher, member);
    const aliceSocket = await connect(alice, 'near');
    const stop = keepActive(aliceSocket);
    try {
      await waitStatus(watcher, alice, 'active');
      const watching = await connect(watcher, 'far');
      const notWatching = await connect(member, 'far');
      const stranger = await connect(outsider, 'near');
      watching.send({ type: 'presence.subscribe', personIds: [alice.id] });
      const first = await watching.waitFor(isPresence(alice.id, 'active'));
      assert.deepEqual(Object.keys(first).sort(), ['lastActivity', 'personId', 'status', 'type']);
      stranger.send({ type: 'presence.subscribe', personIds: [alice.id] });
      const refused = await stranger.waitFor((f) => f.type === 'error');
      assert.match(refused.message, /share a room/);

      // Heartbeats (every lease/3) and activity go on: nothing changes, nothing is sent.
      await sleep(LEASE_MS * 2);
      assert.equal(presenceOf(watching, alice.id).length, 1, 'no frame per heartbeat');

      const set = await alice.api.put('/v1/people/me/status', { status: 'DoNotDisturb' });
      assert.equal(set.status, 200, set.text);
      assert.deepEqual(set.body, { status: 'DoNotDisturb' });
      await watching.waitFor(isPresence(alice.id, 'DoNotDisturb'));
      const cleared = await alice.api.delete('/v1/people/me/status');
      assert.equal(cleared.status, 204);
      // Paced: at most one frame per person per MIN_INTERVAL_MS.
      await until(() => presenceOf(watching, alice.id).length >= 3, MIN_INTERVAL_MS + 5000, 'the status cleared to reach the watcher');
      await sleep(500);
      assert.deepEqual(presenceOf(watching, alice.id).map((f) => f.status), ['active', 'DoNotDisturb', 'active']);
      assert.deepEqual(presenceOf(notWatching, alice.id), [], 'a member who did not subscribe gets nothing');
      assert.deepEqual(presenceOf(stranger, alice.id), [], 'someone sharing no room gets nothing');
    } finally {
      stop();
    }
  });

  test('a watch ends when the last shared room does: the watcher removed, or the watched person leaving', async () => {
    const [alice, removed, abandoned, control] = await createPeople(target.admin, 'Alice Left', 'Rex Removed', 'Abe Abandoned', 'Cora Control');
    const aliceRoom = await roomWith(alice, removed, control);
    const abesRoom = await roomWith(abandoned, alice);
    const aliceSocket = await connect(alice, 'near');
    const stop = keepActive(aliceSocket);
    try {
      await waitStatus(control, alice, 'active');
      const watchers = await Promise.all([removed, abandoned, control].map((person) => connect(person, 'far')));
      for (const socket of watchers) {
        socket.send({ type: 'presence.subscribe', personIds: [alice.id] });
        await socket.waitFor(isPresence(alice.id, 'active'));
      }
      const membershipOf = async (roomId: string, person: TestPerson) => (await alice.api.get(`/v1/memberships?roomId=${roomId}&personId=${person.id}`)).body.items[0].id as string;
      // Rex is removed from the one room he shared with Alice; Alice leaves Abe's room.
      assert.equal((await alice.api.delete(`/v1/memberships/${await membershipOf(aliceRoom, removed)}`)).status, 204);
      assert.equal((await alice.api.delete(`/v1/memberships/${await membershipOf(abesRoom, alice)}`)).status, 204);
      await sleep(1500);
      assert.equal((await alice.api.put('/v1/people/me/status', { status: 'DoNotDisturb' })).status, 200);
      await watchers[2].waitFor(isPresence(alice.id, 'DoNotDisturb'), MIN_INTERVAL_MS + 5000);
      await sleep(1000);
      assert.deepEqual(presenceOf(watchers[0], alice.id).map((f) => f.status), ['active'], 'the removed watcher hears no more');
      assert.deepEqual(presenceOf(watchers[1], alice.id).map((f) => f.status), ['active'], 'nor the one whose room she left');
      assert.equal((await alice.api.delete('/v1/people/me/status')).status, 204);
    } finally {
      stop();
    }
  });

  test('a flap within the pace costs the watchers nothing', async () => {
    const [alice, watcher] = await createPeople(target.admin, 'Alice Flapper', 'Walt Watcher');
    await roomWith(alice, watcher);
    const aliceSocket = await connect(alice, 'near');
    const stop = keepActive(aliceSocket);
    try {
      await waitStatus(watcher, alice, 'active');
      const watching = await connect(watcher, 'far');
      watching.send({ type: 'presence.subscribe', personIds: [alice.id] });
      await watching.waitFor(isPresence(alice.id, 'active'));
      // The first change goes at once; the two after it, inside the pace, come back to it.
      assert.equal((await alice.api.put('/v1/people/me/status', { status: 'OutOfOffice' })).status, 200);
      await watching.waitFor(isPresence(alice.id, 'OutOfOffice'));
      assert.equal((await alice.api.delete('/v1/people/me/status')).status, 204);
      assert.equal((await alice.api.put('/v1/people/me/status', { status: 'OutOfOffice' })).status, 200);
      await sleep(MIN_INTERVAL_MS + 1500);
      assert.deepEqual(presenceOf(watching, alice.id).map((f) => f.status), ['active', 'OutOfOffice']);
      assert.equal((await statusOf(watcher, alice)).status, 'OutOfOffice');
      assert.equal((await alice.api.delete('/v1/people/me/status')).status, 204);
    } finally {
      stop();
    }
  });

  test('a manual status wins over the devices and expires on its own; bad input is a 400', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Busy', 'Bob Asking');
    await roomWith(alice, bob);
    const aliceSocket = await connect(alice, 'far');
    const stop = keepActive(aliceSocket);
    try {
      await waitStatus(bob, alice, 'active');
      const expires = new Date(Date.now() + 4000).toISOString();
      const set = await alice.api.put('/v1/people/me/status', { status: 'DoNotDisturb', expires });
      assert.equal(set.status, 200, set.text);
      assert.deepEqual(set.body, { status: 'DoNotDisturb', expires });
      assert.equal((await statusOf(bob, alice)).status, 'DoNotDisturb');
      const watching = await connect(bob, 'near');
      watching.send({ type: 'presence.subscribe', personIds: [alice.id] });
      await watching.waitFor(isPresence(alice.id, 'DoNotDisturb'));
      await watching.waitFor(isPresence(alice.id, 'active'), 10_000);
      assert.equal((await statusOf(bob, alice)).status, 'active', 'expired');

      for (const body of [{ status: 'active' }, { status: 'DoNotDisturb', expires: 'tomorrow' }, { status: 'DoNotDisturb', expires: new Date(Date.now() - 1000).toISOString() }, {}]) {
        const bad = await alice.api.put('/v1/people/me/status', body);
        assert.equal(bad.status, 400, `${JSON.stringify(body)}: ${bad.text}`);
      }
      assert.equal((await statusOf(bob, alice)).status, 'active', 'a refused change changes nothing');
    } finally {
      stop();
    }
  });

  test('meeting while in a meeting, back to active after leaving', async () => {
    const [host, colleague] = await createPeople(target.admin, 'Hana Meeting', 'Carl Colleague');
    const device = await connect(host, 'near');
    const stop = keepActive(device);
    try {
      await waitStatus(colleague, host, 'active');
      const start = new Date(Date.now() + 60_000).toISOString();
      const meeting = await host.api.post('/v1/meetings', { title: 'Presence', start, end: new Date(Date.now() + 3_600_000).toISOString() });
      assert.equal(meeting.status, 200, meeting.text);
      const client = await MeetingClient.connect(target.liveUrl, target.ca, host.token, meeting.body.id);
      sockets.push(client.live);
      await client.ok('join');
      await waitStatus(colleague, host, 'meeting');
      await client.ok('leave');
      await waitStatus(colleague, host, 'active');
    } finally {
      stop();
    }
  });
});
