// Notifications for people (docs/notifications.md), in both modes: a mention (by id or with
// `@all`) and a direct message give each member concerned a `notification` frame on their
// live sockets (in cluster mode on another gateway than the one posting), never the author
// nor a non-member; a person without a live socket gets a real Web Push at an HTTPS push
// service the test runs (opened through the allow-list), which the test decrypts (RFC 8291)
// and whose VAPID signature it verifies; a push service's 5xx is retried and its 410 drops
// the subscription; the subscriptions API refuses bad keys and endpoints the outbound policy
// refuses; a person in do not disturb (presence's manual status) gets silent frames and no push.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { LiveClient, type Frame } from '../../clients/live-client.ts';
import { createPeople, personWithPassword, type TestPerson } from '../harness/people.ts';
import { startHttpsReceiver, type HttpsReceiver } from '../harness/https-receiver.ts';
import { post } from '../harness/messages.ts';
import { expectStatus, roomWith } from '../harness/rooms.ts';
import { until } from '../harness/wait.ts';
import { browserKeys, verifiedVapidClaims, type BrowserKeys } from '../harness/web-push-keys.ts';
import { startTarget, type Target } from './target.ts';

const MAX_SUBSCRIPTIONS = 3;
let target: Target;
let receiver: HttpsReceiver;
let alice: TestPerson;
let bob: TestPerson;
let carol: TestPerson;
let dave: TestPerson;

before(async () => {
  receiver = await startHttpsReceiver();
  target = await startTarget({
    SQUARED_WEBHOOK_ALLOW_HOSTS: 'localhost', NODE_EXTRA_CA_CERTS: receiver.caFile, SQUARED_WEBHOOK_BACKOFF_MS: '100', SQUARED_PUSH_MAX_SUBSCRIPTIONS: String(MAX_SUBSCRIPTIONS),
  });
  [alice, bob, carol, dave] = await createPeople(target.admin, 'Alice Notified', 'Bob Notified', 'Carol Notified', 'Dave Notified');
});
after(async () => {
  await target.stop();
  await receiver.close();
});

const FRAME_FIELDS = ['type', 'kind', 'roomId', 'messageId', 'actorId', 'created', 'preview', 'silent'];
const notificationsOn = (client: LiveClient) => client.frames.filter((f) => f.type === 'notification');
const notificationOf = (client: LiveClient, messageId: string) => client.waitFor((f) => f.type === 'notification' && f.messageId === messageId, 15_000);
const mention = (person: TestPerson) => `<@personId:${person.id}|${person.displayName}>`;

async function subscribe(person: TestPerson, path: string, keys: BrowserKeys, expirationTime: number | null = null): Promise<{ id: string; [key: string]: unknown }> {
  const created = await person.api.post('/v1/people/me/pushSubscriptions', { endpoint: `${receiver.url}${path}`, expirationTime, keys: keys.keys });
  expectStatus(created, 200, 'create push subscription');
  return created.body;
}

describe('notification frames', () => {
  test('a mention, @all and a direct message reach the members concerned live; never the author nor a non-member', async () => {
    const room = await roomWith(alice, [bob, carol]);
    const [aliceLive, bobLive, carolLive, daveLive] = await Promise.all([
      LiveClient.connect(target.url, target.ca, alice.token), LiveClient.connect(target.liveUrl, target.ca, bob.token),
      LiveClient.connect(target.url, target.ca, carol.token), LiveClient.connect(target.liveUrl, target.ca, dave.token),
    ]);
    try {
      const named = await post(alice, { roomId: room.id, markdown: `Lunch, ${mention(bob)} and ${mention(dave)}?` });
      const toBob = await notificationOf(bobLive, named.id);
      assert.deepEqual(Object.keys(toBob).filter((k) => !FRAME_FIELDS.includes(k)), [], 'only the notification\'s fields');
      assert.equal(toBob.kind, 'mention');
      assert.equal(toBob.roomId, room.id);
      assert.equal(toBob.actorId, alice.id);
      assert.equal(toBob.preview, named.text);
      assert.equal(toBob.silent, undefined);

      const everyone = await post(alice, { roomId: room.id, markdown: '<@all> standup in five' });
      const [allToBob, allToCarol] = await Promise.all([notificationOf(bobLive, everyone.id), notificationOf(carolLive, everyone.id)]);
      assert.equal(allToBob.kind, 'mention');
      assert.equal(allToCarol.kind, 'mention');

      const direct = await post(bob, { toPersonId: alice.id, text: 'a word in private' });
      const toAlice = await notificationOf(aliceLive, direct.id);
      assert.equal(toAlice.kind, 'direct');
      assert.equal(toAlice.roomId, direct.roomId);
      assert.equal(toAlice.actorId, bob.id);
      // Dave, mentioned in a room he is not in, hears of nothing until someone writes to him.
      const toDave = await post(carol, { toPersonId: dave.id, text: 'hello dave' });
      await notificationOf(daveLive, toDave.id);
      await sleep(500);

      const ids = (client: LiveClient) => notificationsOn(client).map((f: Frame) => f.messageId);
      assert.deepEqual(ids(aliceLive), [direct.id], 'the author hears nothing of her own messages');
      assert.deepEqual(ids(bobLive).sort(), [named.id, everyone.id].sort(), 'nothing of his own direct message');
      assert.deepEqual(ids(carolLive), [everyone.id], 'not mentioned by name: only @all');
      assert.deepEqual(ids(daveLive), [toDave.id], 'a non-member mentioned gets nothing');
    } finally {
      for (const client of [aliceLive, bobLive, carolLive, daveLive]) client.close();
    }
  });
});

describe('push subscriptions', () => {
  test('the VAPID key, create (the same endpoint again replaces, by another person changes hands), list, get, delete; only the owner sees one', async () => {
    const key = await bob.api.get('/v1/push/vapidPublicKey');
    expectStatus(key, 200, 'vapid key');
    assert.equal(Buffer.from(key.body.publicKey, 'base64url').length, 65);
    const keys = browserKeys();
    const path = `/push/${randomUUID()}`;
    const created = await subscribe(bob, path, keys);
    assert.equal(created.personId, bob.id);
    assert.equal(created.endpoint, `${receiver.url}${path}`);
    assert.equal(created.keys, undefined, 'the secrets are not answered back');
    const again = await subscribe(bob, path, browserKeys());
    assert.equal(again.id, created.id);
    const listed = await bob.api.get('/v1/people/me/pushSubscriptions');
    expectStatus(listed, 200, 'list');
    assert.deepEqual(listed.body.items.map((s: { id: string }) => s.id), [created.id]);
    expectStatus(await bob.api.get(`/v1/people/me/pushSubscriptions/${created.id}`), 200, 'get');
    expectStatus(await carol.api.get(`/v1/people/me/pushSubscriptions/${created.id}`), 404, 'another person\'s');
    expectStatus(await carol.api.delete(`/v1/people/me/pushSubscriptions/${created.id}`), 404, 'another person\'s delete');
    expectStatus(await bob.api.delete(`/v1/people/me/pushSubscriptions/${created.id}`), 204, 'delete');
    expectStatus(await bob.api.get(`/v1/people/me/pushSubscriptions/${created.id}`), 404, 'deleted');
    expectStatus(await bob.api.get('/v1/people/me/pushSubscriptions/not-an-id'), 404, 'no such id');

    // Another person subscribing the same browser (endpoint) takes it over.
    const shared = `/push/${randomUUID()}`;
    const bobs = await subscribe(bob, shared, browserKeys());
    const carols = await subscribe(carol, shared, browserKeys());
    assert.equal(carols.personId, carol.id);
    const bobsNow = await bob.api.get('/v1/people/me/pushSubscriptions');
    assert.ok(!bobsNow.body.items.some((s: { endpoint: string }) => s.endpoint === `${receiver.url}${shared}`), 'no longer bob\'s');
    expectStatus(await bob.api.get(`/v1/people/me/pushSubscriptions/${bobs.id}`), 404, 'bob\'s is gone');
    expectStatus(await carol.api.delete(`/v1/people/me/pushSubscriptions/${carols.id}`), 204, 'carol\'s now');
  });

  test(`a person keeps ${MAX_SUBSCRIPTIONS} subscriptions: one more drops the oldest`, async () => {
    const [gina] = await createPeople(target.admin, 'Gina Many');
    const made: string[] = [];
    for (let i = 0; i <= MAX_SUBSCRIPTIONS; i++) {
      made.push((await subscribe(gina, `/push/${randomUUID()}`, browserKeys())).id);
      await sleep(5);
    }
    const listed = await gina.api.get('/v1/people/me/pushSubscriptions');
    assert.deepEqual(listed.body.items.map((s: { id: string }) => s.id).sort(), made.slice(1).sort());
  });

  test('signed out everywhere (an administrator sets a new password): the person\'s push subscriptions go', async () => {
    const erin = await personWithPassword(target.admin, 'Erin Revoked');
    const signIn = async (password: string) => {
      const token = await target.admin.post('/v1/access_token', undefined, { form: { grant_type: 'password', username: erin.email, password }, token: null });
      expectStatus(token, 200, 'sign in');
      return target.admin.as(token.body.access_token);
    };
    const api = await signIn(erin.password);
    expectStatus(await api.post('/v1/people/me/pushSubscriptions', { endpoint: `${receiver.url}/push/${randomUUID()}`, keys: browserKeys().keys }), 200, 'subscribe');
    const password = `pw-${randomUUID()}`;
    expectStatus(await target.admin.put(`/v1/people/${erin.id}`, { emails: [erin.email], displayName: 'Erin Revoked', password }), 200, 'new password');
    const again = await signIn(password);
    await until(async () => (await again.get('/v1/people/me/pushSubscriptions')).body.items.length === 0, 10_000, 'the subscription removed');
  });

  test('bad keys and endpoints the outbound policy refuses are 400', async () => {
    const good = browserKeys().keys;
    const refused = [
      { endpoint: 'https://127.0.0.1/push', keys: good },
      { endpoint: 'https://[::ffff:10.0.0.1]/push', keys: good },
      { endpoint: `http://localhost:${receiver.port}/push`, keys: good },
      { endpoint: 'not a url', keys: good },
      { endpoint: `${receiver.url}/push`, keys: { ...good, p256dh: Buffer.alloc(65, 1).toString('base64url') } },
      { endpoint: `${receiver.url}/push`, keys: { ...good, auth: Buffer.alloc(8).toString('base64url') } },
      { endpoint: `${receiver.url}/push`, keys: { p256dh: 'not base64!' } },
      { endpoint: `${receiver.url}/push` },
    ];
    for (const body of refused) {
      const answer = await bob.api.post('/v1/people/me/pushSubscriptions', body);
      expectStatus(answer, 400, JSON.stringify(body));
    }
  });
});

describe('web push', () => {
  test('a person with no live socket gets an encrypted, VAPID-signed push; one with a socket gets the frame instead', async () => {
    const room = await roomWith(alice, [bob, carol]);
    const bobKeys = browserKeys();
    const bobPath = `/push/${randomUUID()}`;
    await subscribe(bob, bobPath, bobKeys);
    const message = await post(alice, { roomId: room.id, markdown: `Secret plans for ${mention(bob)}` });
    await until(() => receiver.received(bobPath).length >= 1, 20_000, 'the push to bob');
    const [request] = receiver.received(bobPath);
    assert.equal(request.method, 'POST');
    assert.equal(request.headers['content-encoding'], 'aes128gcm');
    assert.ok(Number(request.headers.ttl) > 0);
    const { claims, publicKey } = verifiedVapidClaims(String(request.headers.authorization));
    assert.equal(publicKey, (await bob.api.get('/v1/push/vapidPublicKey')).body.publicKey);
    assert.equal(claims.aud, new URL(receiver.url).origin);
    assert.ok(claims.exp * 1000 > Date.now());
    assert.match(claims.sub, /^(mailto:|https:)/);
    assert.ok(!request.raw.includes(Buffer.from('Secret')), 'the body is encrypted');
    const payload = JSON.parse(bobKeys.decrypt(request.raw).toString());
    assert.deepEqual(payload, { type: 'notification', kind: 'mention', roomId: room.id, messageId: message.id, actorId: alice.id, created: payload.created });
    assert.ok(!Number.isNaN(Date.parse(payload.created)));

    const carolPath = `/push/${randomUUID()}`;
    const carolKeys = browserKeys();
    await subscribe(carol, carolPath, carolKeys);
    const carolLive = await LiveClient.connect(target.liveUrl, target.ca, carol.token);
    const whileOnline = await post(alice, { roomId: room.id, markdown: `${mention(carol)} are you there?` });
    await notificationOf(carolLive, whileOnline.id);
    carolLive.close();
    await carolLive.closed;
    await sleep(1000);
    assert.equal(receiver.received(carolPath).length, 0, 'no push while a live socket took it');
    const whileAway = await post(alice, { roomId: room.id, markdown: `${mention(carol)} now?` });
    await until(() => receiver.received(carolPath).length >= 1, 20_000, 'the push to carol once away');
    await sleep(500);
    assert.equal(receiver.received(carolPath).length, 1);
    assert.equal(JSON.parse(carolKeys.decrypt(receiver.received(carolPath)[0].raw).toString()).messageId, whileAway.id);
  });

  test('a push service\'s 500 is retried; its 410 drops the subscription, as does its expirationTime passing', async () => {
    const flakyPath = `/flaky/${randomUUID()}`;
    receiver.on(flakyPath, (_request, count) => (count === 1 ? { status: 500 } : { status: 201 }));
    const flakyKeys = browserKeys();
    await subscribe(dave, flakyPath, flakyKeys);
    const gonePath = `/gone/${randomUUID()}`;
    receiver.on(gonePath, () => ({ status: 410 }));
    const gone = await subscribe(dave, gonePath, browserKeys());
    const expiredPath = `/expired/${randomUUID()}`;
    const expired = await subscribe(dave, expiredPath, browserKeys(), Date.now() - 1000);
    const direct = await post(alice, { toPersonId: dave.id, text: 'are you still subscribed?' });
    await until(() => receiver.received(flakyPath).length >= 2, 20_000, 'the retried push');
    assert.equal(JSON.parse(flakyKeys.decrypt(receiver.received(flakyPath)[1].raw).toString()).messageId, direct.id);
    assert.equal(JSON.parse(flakyKeys.decrypt(receiver.received(flakyPath)[1].raw).toString()).kind, 'direct');
    await until(async () => {
      const listed = await dave.api.get('/v1/people/me/pushSubscriptions');
      return !listed.body.items.some((s: { id: string }) => s.id === gone.id || s.id === expired.id);
    }, 20_000, 'the 410 and the expired subscriptions dropped');
    assert.equal(receiver.received(gonePath).length, 1, 'a gone subscription is not retried');
    assert.equal(receiver.received(expiredPath).length, 0, 'nothing sent to an expired subscription');
    await sleep(500);
    assert.equal(receiver.received(flakyPath).length, 2, 'delivered once the retry got through');
  });
});

describe('do not disturb', () => {
  test('a person in DoNotDisturb gets a silent frame on a live socket, and no push without one, until the status is cleared', async () => {
    const [erin, frank] = await createPeople(target.admin, 'Erin Quiet', 'Frank Loud');
    const room = await roomWith(alice, [erin, frank]);
    const erinPath = `/push/${randomUUID()}`;
    const frankPath = `/push/${randomUUID()}`;
    const erinKeys = browserKeys();
    await subscribe(erin, erinPath, erinKeys);
    await subscribe(frank, frankPath, browserKeys());
    expectStatus(await erin.api.put('/v1/people/me/status', { status: 'DoNotDisturb' }), 200, 'set do not disturb');

    const erinLive = await LiveClient.connect(target.liveUrl, target.ca, erin.token);
    const online = await post(alice, { roomId: room.id, markdown: `${mention(erin)} quietly` });
    const silent = await notificationOf(erinLive, online.id);
    assert.equal(silent.silent, true);
    erinLive.close();
    await erinLive.closed;
    await sleep(1000);

    await post(alice, { roomId: room.id, markdown: `${mention(erin)} and ${mention(frank)}, while away` });
    await until(() => receiver.received(frankPath).length >= 1, 20_000, 'the push to frank');
    await sleep(1000);
    assert.equal(receiver.received(erinPath).length, 0, 'no push in do not disturb');

    expectStatus(await erin.api.delete('/v1/people/me/status'), 204, 'clear the status');
    const back = await post(alice, { roomId: room.id, markdown: `${mention(erin)}, back?` });
    await until(() => receiver.received(erinPath).length >= 1, 20_000, 'the push to erin once the status is cleared');
    assert.equal(receiver.received(erinPath).length, 1);
    assert.equal(JSON.parse(erinKeys.decrypt(receiver.received(erinPath)[0].raw).toString()).messageId, back.id);
  });
});
