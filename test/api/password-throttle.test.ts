// Password guessing over real HTTPS: the password grant is throttled per account (5 failures,
// then a lock that doubles with each further failure, up to a bound; a success starts
// afresh) and per client address (across accounts), shared by every gateway and actor node.
// Locks are short here (2 s, at most 4 s) so that the waits stay short; the address allows
// 60 failures, more than the tests before the last one make.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { ApiClient, type ApiResponse } from '../../clients/api-client.ts';
import { personWithPassword } from '../harness/people.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
let elsewhere: ApiClient;
before(async () => {
  target = await startTarget({
    SQUARED_PASSWORD_ACCOUNT_FAILURES: '5', SQUARED_PASSWORD_ADDRESS_FAILURES: '60', SQUARED_PASSWORD_LOCK_SECONDS: '2', SQUARED_PASSWORD_MAX_LOCK_SECONDS: '4',
  });
  elsewhere = new ApiClient(target.liveUrl, target.ca);
});
after(async () => {
  elsewhere.close();
  await target.stop();
});

const signIn = (username: string, password: string, via = target.admin) =>
  via.post('/v1/access_token', undefined, { form: { grant_type: 'password', username, password }, token: null });
const wrong = (username: string) => signIn(username, `wrong-${randomUUID()}`);
const retryAfter = (response: ApiResponse) => Number(response.headers['retry-after']);

/** A 429 in RFC 6749's shape, with the Webex fields and a Retry-After of whole seconds. */
function assertThrottled(response: ApiResponse, seconds?: number): void {
  assert.equal(response.status, 429, response.text);
  assert.equal(response.body.error, 'temporarily_unavailable');
  assert.equal(typeof response.body.error_description, 'string');
  assert.equal(typeof response.body.message, 'string');
  assert.equal(typeof response.body.trackingId, 'string');
  assert.ok(Number.isInteger(retryAfter(response)) && retryAfter(response) >= 1 && retryAfter(response) <= 4, `Retry-After ${response.headers['retry-after']}`);
  if (seconds !== undefined) assert.equal(retryAfter(response), seconds);
}

describe('password attempts per account', () => {
  test('100 wrong passwords for one account, 8 at a time through both gateways: after 5 failures, 429 with Retry-After', async () => {
    const pat = await personWithPassword(target.admin);
    const answers: ApiResponse[] = [];
    for (let batch = 0; batch < 100 / 8; batch++) {
      answers.push(...(await Promise.all(Array.from({ length: Math.min(8, 100 - batch * 8) }, (_, i) =>
        signIn(pat.email, `wrong-${randomUUID()}`, i % 2 === 0 ? target.admin : elsewhere)))));
    }
    const refused = answers.filter((a) => a.status === 400);
    const throttled = answers.filter((a) => a.status === 429);
    assert.equal(refused.length + throttled.length, 100);
    // Five, and one more for each 2 s lock that ran out while the batches were answered.
    assert.ok(refused.length >= 5 && refused.length <= 7, `${refused.length} passwords were checked`);
    for (const a of refused) assert.equal(a.body.error, 'invalid_grant');
    for (const a of throttled) assertThrottled(a);
    assertThrottled(await signIn(pat.email, pat.password), undefined);
  });

  test('each failure after the lock doubles it, up to the bound; a success starts afresh', async () => {
    const pat = await personWithPassword(target.admin);
    for (let i = 0; i < 5; i++) assert.equal((await wrong(pat.email)).status, 400, `failure ${i + 1}`);
    const first = await wrong(pat.email);
    assertThrottled(first, 2);
    assertThrottled(await signIn(pat.email, pat.password), undefined); // even the right password waits
    await sleep(retryAfter(first) * 1000 + 100);
    assert.equal((await wrong(pat.email)).status, 400, 'one more guess after the lock');
    const doubled = await wrong(pat.email);
    assertThrottled(doubled, 4);
    await sleep(retryAfter(doubled) * 1000 + 100);
    assert.equal((await wrong(pat.email)).status, 400);
    const bounded = await wrong(pat.email);
    assertThrottled(bounded, 4);
    await sleep(retryAfter(bounded) * 1000 + 100);
    assert.equal((await signIn(pat.email, pat.password)).status, 200, 'the right password after the lock');
    for (let i = 0; i < 5; i++) assert.equal((await wrong(pat.email)).status, 400, `failure ${i + 1} after the success`);
    assertThrottled(await wrong(pat.email), 2);
  });

  test('one locked account locks no other; the username is matched as the sign-in matches it', async () => {
    const [locked, other] = [await personWithPassword(target.admin), await personWithPassword(target.admin)];
    for (let i = 0; i < 5; i++) await wrong(i % 2 === 0 ? locked.email : ` ${locked.email.toUpperCase()} `);
    assertThrottled(await wrong(locked.email));
    assert.equal((await signIn(other.email, other.password)).status, 200);
  });

  test('an unknown username is throttled like a real one, so the throttle tells nothing', async () => {
    const ghost = `ghost.${randomUUID().slice(0, 8)}@example.com`;
    for (let i = 0; i < 5; i++) assert.equal((await wrong(ghost)).body.error, 'invalid_grant');
    assertThrottled(await wrong(ghost), 2);
  });

  test("an administrator's password reset lifts the lock", async () => {
    const pat = await personWithPassword(target.admin);
    for (let i = 0; i < 5; i++) await wrong(pat.email);
    assertThrottled(await wrong(pat.email));
    const password = `pw-${randomUUID()}`;
    assert.equal((await target.admin.put(`/v1/people/${pat.id}`, { emails: [pat.email], displayName: 'Pat Password', password })).status, 200);
    assert.equal((await signIn(pat.email, password)).status, 200);
  });
});

describe('password attempts per address (last: it locks this test client out)', () => {
  test('failures spread over many accounts from one address: past its limit every account is refused, whatever the body says', async () => {
    const pat = await personWithPassword(target.admin);
    let failures = 0;
    let throttled: ApiResponse | undefined;
    while (!throttled && failures <= 60) {
      const answer = await wrong(`spray.${randomUUID().slice(0, 8)}@example.com`);
      if (answer.status === 429) throttled = answer;
      else failures += 1;
    }
    assert.ok(throttled, `no 429 after ${failures} failures from one address`);
    assertThrottled(throttled);
    assertThrottled(await signIn(pat.email, pat.password), undefined);
    const spoofed = await target.admin.post('/v1/access_token', { grant_type: 'password', username: pat.email, password: pat.password, clientAddress: '198.51.100.7' }, { token: null });
    assertThrottled(spoofed);
  });
});
