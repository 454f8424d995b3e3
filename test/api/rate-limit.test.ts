// Rate limiting over real HTTPS, on a server allowing a burst of 5 requests and 1 more per
// second: beyond the burst a person gets 429 with Retry-After and a Webex error; the limit is
// per person, not per token, and other people are unaffected; it lifts after Retry-After.
// A live socket's frames are limited too (a burst of 10, 5 more per second): refused frames
// are answered with retryAfterMs, and the socket stays open. Failed attempts (no token, a
// forged or malformed one, a refused live hello) are limited per address (a burst of 5, 1
// more per second), and what a signed-in person does never counts there: past the limit the
// address gets 429 (a hello: an error frame and close 4029) before any token is looked up.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import type { ApiClient, ApiResponse } from '../../clients/api-client.ts';
import { LiveClient, type Frame } from '../../clients/live-client.ts';
import { startTarget, type Target } from './target.ts';

const BURST = 5;
const PER_SECOND = 1;
const FRAME_BURST = 10;
const FRAMES_PER_SECOND = 5;
const ANON_BURST = 5;
const ANON_PER_SECOND = 1;

let target: Target;
before(async () => {
  target = await startTarget({
    SQUARED_RATE_BURST: String(BURST), SQUARED_RATE_PER_SECOND: String(PER_SECOND),
    SQUARED_LIVE_FRAME_BURST: String(FRAME_BURST), SQUARED_LIVE_FRAMES_PER_SECOND: String(FRAMES_PER_SECOND),
    SQUARED_ANON_RATE_BURST: String(ANON_BURST), SQUARED_ANON_RATE_PER_SECOND: String(ANON_PER_SECOND),
  });
});
after(() => target.stop());

interface Person { id: string; email: string; password: string; token: string; api: ApiClient }

const retryAfterOf = (response: ApiResponse): number => {
  const header = response.headers['retry-after'];
  assert.equal(typeof header, 'string', 'a 429 carries a Retry-After header');
  assert.match(header as string, /^\d+$/, 'Retry-After is a whole number of seconds');
  const seconds = Number(header);
  assert.ok(seconds >= 1, 'Retry-After is at least 1 second');
  return seconds;
};

/** Sends `send` until it is answered 429, waiting out earlier 429s of the setup's own requests. */
async function patiently(send: () => Promise<ApiResponse>): Promise<ApiResponse> {
  for (;;) {
    const response = await send();
    if (response.status !== 429) return response;
    await sleep(retryAfterOf(response) * 1000);
  }
}

/** The setup itself is rate limited (the administrator and the sign-ins too), so it paces itself. */
async function signIn(email: string, password: string): Promise<string> {
  const issued = await patiently(() =>
    target.admin.post('/v1/access_token', undefined, { form: { grant_type: 'password', username: email, password }, token: null, unchecked: true }));
  assert.equal(issued.status, 200, issued.text);
  return issued.body.access_token;
}

async function newPerson(name: string): Promise<Person> {
  const email = `${name.toLowerCase()}.${randomUUID().slice(0, 8)}@example.com`;
  const password = `pw-${randomUUID()}`;
  const created = await patiently(() => target.admin.post('/v1/people', { emails: [email], displayName: name, password }));
  assert.equal(created.status, 200, created.text);
  const token = await signIn(email, password);
  return { id: created.body.id, email, password, token, api: target.admin.as(token) };
}

/** Rapid requests until the first 429: how many were allowed, the 429, and how long it took. */
async function exhaust(api: ApiClient): Promise<{ allowed: number; limited: ApiResponse; seconds: number }> {
  const started = Date.now();
  for (let allowed = 0; allowed < 50; allowed++) {
    const response = await api.get('/v1/people/me');
    if (response.status === 429) return { allowed, limited: response, seconds: (Date.now() - started) / 1000 };
    assert.equal(response.status, 200, response.text);
  }
  assert.fail('50 rapid requests were never limited');
}

test('the 6th rapid request of a person gets 429 with Retry-After and a Webex error', async () => {
  const alice = await newPerson('Alice');
  const { allowed, limited, seconds } = await exhaust(alice.api);
  // A burst of 5; a slow machine may have earned one more request per elapsed second.
  assert.ok(allowed >= BURST && allowed <= BURST + Math.floor(seconds * PER_SECOND), `${allowed} requests were allowed in ${seconds}s`);
  assert.equal(limited.status, 429);
  retryAfterOf(limited);
  assert.ok(limited.body.message);
  assert.ok(limited.body.errors.length >= 1);
  assert.equal(limited.body.trackingId, limited.headers.trackingid);
  // Further rapid requests stay limited.
  const again = await alice.api.get('/v1/rooms');
  assert.equal(again.status, 429);
  retryAfterOf(again);
});

test('a limited request does nothing', async () => {
  const alice = await newPerson('Alicia');
  await exhaust(alice.api);
  const refused = await alice.api.post('/v1/rooms', { title: 'Should not exist' });
  assert.equal(refused.status, 429);
  await sleep(retryAfterOf(refused) * 1000);
  const rooms = await alice.api.get('/v1/rooms');
  assert.equal(rooms.status, 200);
  assert.deepEqual(rooms.body.items, []);
});

test('another person is unaffected by a limited person', async () => {
  const bob = await newPerson('Bob');
  const carol = await newPerson('Carol');
  await exhaust(bob.api);
  for (let i = 0; i < BURST; i++) assert.equal((await carol.api.get('/v1/people/me')).status, 200, `carol's request ${i + 1}`);
});

test('the limit is per person: a second token of the same person shares it', async () => {
  const dave = await newPerson('Dave');
  const secondToken = await signIn(dave.email, dave.password);
  await exhaust(dave.api);
  const other = await target.admin.get('/v1/people/me', { token: secondToken });
  assert.equal(other.status, 429);
  retryAfterOf(other);
});

test('after waiting Retry-After seconds the person may make a request again', async () => {
  const erin = await newPerson('Erin');
  const { limited } = await exhaust(erin.api);
  await sleep(retryAfterOf(limited) * 1000 + 50);
  const allowed = await erin.api.get('/v1/people/me');
  assert.equal(allowed.status, 200);
  assert.equal(allowed.body.id, erin.id);
  // One second earned one request; the next rapid one is limited again.
  const next = await erin.api.get('/v1/people/me');
  assert.equal(next.status, 429);
});

test('unauthenticated token requests are limited too, so passwords cannot be guessed at speed', async () => {
  const frank = await newPerson('Frank');
  const guess = () => target.admin.post('/v1/access_token', undefined, {
    form: { grant_type: 'password', username: frank.email, password: `guess-${randomUUID()}` }, token: null, unchecked: true,
  });
  let limited: ApiResponse | undefined;
  for (let i = 0; i < 20 && !limited; i++) {
    const response = await guess();
    if (response.status === 429) limited = response;
    else assert.equal(response.status, 400, response.text);
  }
  assert.ok(limited, 'rapid password guesses are limited');
  retryAfterOf(limited);
  assert.equal(limited.body.trackingId, limited.headers.trackingid);
  // The people already signed in are not affected by the limit on guessing.
  assert.equal((await frank.api.get('/v1/people/me')).status, 200);
});

test('a live socket that sends frames too fast is answered with retryAfterMs, stays open, and may go on after the wait', async () => {
  const gina = await newPerson('Gina');
  const live = await LiveClient.connect(target.liveUrl, target.ca, gina.token);
  try {
    const answers = () => live.frames.filter((f) => f.type === 'pong' || f.type === 'error');
    for (let i = 0; i < FRAME_BURST * 3; i++) live.send({ type: 'ping' });
    await live.waitFor(() => answers().length === FRAME_BURST * 3);
    const pongs = answers().filter((f) => f.type === 'pong').length;
    const refused = answers().filter((f) => f.type === 'error');
    assert.ok(pongs >= FRAME_BURST && pongs < FRAME_BURST * 2, `${pongs} of ${FRAME_BURST * 3} rapid pings answered`);
    for (const frame of refused) {
      assert.match(frame.message, /slow down/);
      assert.ok(frame.retryAfterMs > 0 && frame.retryAfterMs <= 1000 / FRAMES_PER_SECOND, `retryAfterMs ${frame.retryAfterMs}`);
    }

    // A meeting request while the budget is spent: a 429 reply to that request.
    const meetingId = '0'.repeat(32);
    live.send({ type: 'meeting', id: 'too-soon', meetingId, action: 'join' });
    const tooSoon: Frame = await live.waitFor((f) => f.type === 'meeting.reply' && f.id === 'too-soon');
    assert.equal(tooSoon.ok, false);
    assert.equal(tooSoon.error.status, 429);
    assert.equal(tooSoon.error.code, 'RATE_LIMITED');
    assert.ok(tooSoon.error.retryAfterMs > 0);

    // After the wait it is carried out (an unknown meeting: 404), and the socket is still open.
    await sleep(tooSoon.error.retryAfterMs + 20);
    live.send({ type: 'meeting', id: 'later', meetingId, action: 'join' });
    const later: Frame = await live.waitFor((f) => f.type === 'meeting.reply' && f.id === 'later');
    assert.equal(later.error?.status, 404, JSON.stringify(later));
    await sleep(1000 / FRAMES_PER_SECOND + 20);
    const pongsBefore = live.frames.filter((f) => f.type === 'pong').length;
    live.send({ type: 'ping' });
    await live.waitFor(() => live.frames.filter((f) => f.type === 'pong').length > pongsBefore, 5_000);
  } finally {
    live.close();
  }
});

/** Each kind of failed attempt REST sees, in turn: no token, a forged one, a malformed header, a bad body without a token. */
const failedAttempts = [
  () => target.admin.get('/v1/rooms', { token: null }),
  () => target.admin.get('/v1/people/me', { token: `forged-${randomUUID()}` }),
  () => target.admin.get('/v1/rooms', { token: null, headers: { authorization: 'Basic YTpi' } }),
  () => target.admin.post('/v1/rooms', undefined, { raw: { body: '{"title":', contentType: 'application/json' }, token: null }),
];

test('failed attempts are limited per address, signed-in requests never count, and past the limit nothing is looked up or read', async () => {
  const [hana, ivan] = [await newPerson('Hana'), await newPerson('Ivan')];
  // More successful requests than the failure burst: none of them may spend from it.
  for (let i = 0; i < ANON_BURST - 1; i++) {
    for (const person of [hana, ivan]) assert.equal((await person.api.get('/v1/people/me')).status, 200);
  }
  const started = Date.now();
  let limited: ApiResponse | undefined;
  let failed = 0;
  for (; failed < 30 && !limited; failed++) {
    const response = await failedAttempts[failed % failedAttempts.length]();
    if (response.status === 429) limited = response;
    else assert.equal(response.status, 401, response.text);
  }
  assert.ok(limited, '30 rapid failed attempts were never limited');
  const seconds = (Date.now() - started) / 1000;
  const allowed = failed - 1;
  assert.ok(allowed >= ANON_BURST && allowed <= ANON_BURST + Math.ceil(seconds * ANON_PER_SECOND), `${allowed} failed attempts were answered 401 in ${seconds}s`);
  const wait = retryAfterOf(limited);
  assert.ok(limited.body.message && limited.body.errors.length >= 1);
  assert.equal(limited.body.trackingId, limited.headers.trackingid);
  // Refused before any work: a valid token is not even looked up, a large body not read.
  assert.equal((await hana.api.get('/v1/people/me')).status, 429);
  const junk = await target.admin.post('/v1/rooms', undefined, { raw: { body: 'a&'.repeat(100_000), contentType: 'application/x-www-form-urlencoded' }, token: null });
  assert.equal(junk.status, 429);
  // After the wait, the address may try again.
  await sleep(wait * 1000 + 50);
  assert.equal((await ivan.api.get('/v1/people/me')).status, 200);
});

/** Opens a live socket, says hello with `token`, and answers how the socket ended and what it was told. */
async function hello(token: string): Promise<{ code: number; frames: Frame[] }> {
  const live = await LiveClient.open(target.liveUrl, target.ca);
  live.send({ type: 'hello', token });
  const ended = await Promise.race([live.closed, sleep(10_000).then(() => undefined)]);
  if (!ended) {
    live.close();
    assert.fail(`the hello of ${token.slice(0, 12)} was neither refused nor closed`);
  }
  return { code: ended.code, frames: live.frames };
}

test('refused live hellos are limited per address: past the limit an error frame with retryAfterMs and close 4029, a valid token included', async () => {
  const judy = await newPerson('Judy');
  // The address's budget for failures refills from the test before.
  await sleep((ANON_BURST / ANON_PER_SECOND) * 1000 + 200);
  const started = Date.now();
  let refused = 0;
  let limited: { code: number; frames: Frame[] } | undefined;
  while (refused < 30 && !limited) {
    const ended = await hello(`forged-${randomUUID()}`);
    if (ended.code === 4029) limited = ended;
    else {
      assert.equal(ended.code, 4001);
      refused++;
    }
  }
  assert.ok(limited, '30 refused hellos were never limited');
  const seconds = (Date.now() - started) / 1000;
  assert.ok(refused >= ANON_BURST && refused <= ANON_BURST + Math.ceil(seconds * ANON_PER_SECOND), `${refused} hellos were refused with 4001 in ${seconds}s`);
  const error = limited.frames.find((f) => f.type === 'error');
  assert.ok(error && error.retryAfterMs >= 1000, `an error frame with retryAfterMs: ${JSON.stringify(limited.frames)}`);
  // Before any token check: a valid token is turned away too, until the wait is over.
  assert.equal((await hello(judy.token)).code, 4029);
  await sleep(error.retryAfterMs + 50);
  const live = await LiveClient.connect(target.liveUrl, target.ca, judy.token);
  live.close();
});
