// Sign-in and tokens over real HTTPS: the OAuth 2.0 token endpoint (RFC 6749 password and
// refresh_token grants), refresh-token rotation with reuse detection (RFC 9700 section
// 4.14), revocation (RFC 7009, password changes) seen by every gateway at once, and bots
// with their tokens. Password throttling is in password-throttle.test.ts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ApiClient } from '../../clients/api-client.ts';
import { createPeople, personWithPassword as createPersonWithPassword } from '../harness/people.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
/** REST through the other gateway (cluster mode; the same one in embedded mode). */
let elsewhere: ApiClient;
before(async () => {
  target = await startTarget();
  elsewhere = new ApiClient(target.liveUrl, target.ca);
});
after(async () => {
  elsewhere.close();
  await target.stop();
});

const unique = () => randomUUID().slice(0, 8);
const newEmail = (name = 'someone') => `${name}.${unique()}@example.com`;
const personWithPassword = (name?: string) => createPersonWithPassword(target.admin, name);
const tokenRequest = (form: Record<string, string>) => target.admin.post('/v1/access_token', undefined, { form, token: null });
const status = async (token: string, via = target.admin) => (await via.get('/v1/people/me', { token })).status;
const everywhere = async (token: string) => [await status(token), await status(token, elsewhere)];

async function signIn(): Promise<{ access_token: string; refresh_token: string }> {
  const pat = await personWithPassword();
  const issued = await tokenRequest({ grant_type: 'password', username: pat.email, password: pat.password });
  assert.equal(issued.status, 200, issued.text);
  return issued.body;
}

describe('POST /v1/access_token (OAuth2, RFC 6749)', () => {
  test('the password grant returns access_token, token_type Bearer, expires_in and refresh_token', async () => {
    const pat = await personWithPassword();
    const issued = await tokenRequest({ grant_type: 'password', username: pat.email, password: pat.password });
    assert.equal(issued.status, 200);
    assert.equal(typeof issued.body.access_token, 'string');
    assert.ok(issued.body.access_token.length >= 20);
    assert.equal(issued.body.token_type, 'Bearer');
    assert.ok(Number.isInteger(issued.body.expires_in) && issued.body.expires_in > 0);
    assert.equal(typeof issued.body.refresh_token, 'string');
    assert.notEqual(issued.body.refresh_token, issued.body.access_token);
    const me = await target.admin.get('/v1/people/me', { token: issued.body.access_token });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, pat.id);
  });

  test('a response carrying tokens is not cacheable (Cache-Control: no-store)', async () => {
    const pat = await personWithPassword();
    const issued = await tokenRequest({ grant_type: 'password', username: pat.email, password: pat.password });
    assert.equal(issued.status, 200);
    assert.match(String(issued.headers['cache-control']), /no-store/);
  });

  test('a JSON body is accepted as well as a form', async () => {
    const pat = await personWithPassword();
    const issued = await target.admin.post('/v1/access_token', { grant_type: 'password', username: pat.email, password: pat.password }, { token: null });
    assert.equal(issued.status, 200);
    assert.equal(issued.body.token_type, 'Bearer');
    assert.equal((await target.admin.get('/v1/people/me', { token: issued.body.access_token })).body.id, pat.id);
  });

  test('the username is matched case-insensitively', async () => {
    const pat = await personWithPassword();
    const issued = await tokenRequest({ grant_type: 'password', username: pat.email.toUpperCase(), password: pat.password });
    assert.equal(issued.status, 200);
  });

  test('a wrong password is 400 invalid_grant', async () => {
    const pat = await personWithPassword();
    const refused = await tokenRequest({ grant_type: 'password', username: pat.email, password: 'not-the-password' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_grant');
    assert.equal(refused.body.access_token, undefined);
  });

  test('an unknown username is 400 invalid_grant, indistinguishable from a wrong password', async () => {
    const refused = await tokenRequest({ grant_type: 'password', username: newEmail('ghost'), password: 'whatever-password' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_grant');
  });

  test('a missing username or password is 400 invalid_request', async () => {
    const pat = await personWithPassword();
    const forms: Record<string, string>[] = [{ grant_type: 'password', username: pat.email }, { grant_type: 'password', password: pat.password }, { grant_type: 'password' }];
    for (const form of forms) {
      const refused = await tokenRequest(form);
      assert.equal(refused.status, 400, JSON.stringify(form));
      assert.equal(refused.body.error, 'invalid_request', JSON.stringify(form));
    }
  });

  test('a missing grant_type is 400 invalid_request', async () => {
    const pat = await personWithPassword();
    const refused = await tokenRequest({ username: pat.email, password: pat.password });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_request');
  });

  test('an unsupported grant type is 400 unsupported_grant_type', async () => {
    for (const grant of ['client_credentials', 'authorization_code', 'nonsense']) {
      const refused = await tokenRequest({ grant_type: grant });
      assert.equal(refused.status, 400, grant);
      assert.equal(refused.body.error, 'unsupported_grant_type', grant);
    }
  });

  test('the refresh_token grant returns a new access token that works', async () => {
    const pat = await personWithPassword();
    const first = await tokenRequest({ grant_type: 'password', username: pat.email, password: pat.password });
    const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.body.token_type, 'Bearer');
    assert.ok(refreshed.body.expires_in > 0);
    assert.notEqual(refreshed.body.access_token, first.body.access_token);
    const me = await target.admin.get('/v1/people/me', { token: refreshed.body.access_token });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, pat.id);
  });

  test('a missing refresh_token is 400 invalid_request', async () => {
    const refused = await tokenRequest({ grant_type: 'refresh_token' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_request');
  });

  test('an access token used as a refresh token is 400 invalid_grant', async () => {
    const pat = await personWithPassword();
    const first = await tokenRequest({ grant_type: 'password', username: pat.email, password: pat.password });
    const refused = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.body.access_token });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_grant');
  });

  test('a forged refresh token is 400 invalid_grant', async () => {
    const refused = await tokenRequest({ grant_type: 'refresh_token', refresh_token: 'forged-refresh-token' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_grant');
  });

  test('a refresh token cannot be used as an access token', async () => {
    const pat = await personWithPassword();
    const first = await tokenRequest({ grant_type: 'password', username: pat.email, password: pat.password });
    const me = await target.admin.get('/v1/people/me', { token: first.body.refresh_token });
    assert.equal(me.status, 401);
  });
});

describe('refresh-token rotation (RFC 9700 section 4.14)', () => {
  test('each refresh returns a new refresh token; the one it replaced is refused from then on', async () => {
    const first = await signIn();
    const second = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    assert.equal(second.status, 200);
    assert.equal(typeof second.body.refresh_token, 'string');
    assert.notEqual(second.body.refresh_token, first.refresh_token, 'rotated');
    assert.ok(second.body.refresh_token_expires_in > 0);
    const reused = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    assert.equal(reused.status, 400);
    assert.equal(reused.body.error, 'invalid_grant');
    assert.equal(reused.body.access_token, undefined, 'no token for a used refresh token');
  });

  test('a used refresh token presented again revokes its whole sign-in, access tokens included', async () => {
    const first = await signIn();
    assert.equal(await status(first.access_token), 200, 'used, so that it is cached');
    const second = (await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token })).body;
    const third = (await tokenRequest({ grant_type: 'refresh_token', refresh_token: second.refresh_token })).body;
    assert.equal(await status(second.access_token), 200);
    assert.equal(await status(first.access_token), 200, 'a refresh leaves the earlier access tokens until they expire');
    const other = await signIn();

    assert.equal((await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token })).body.error, 'invalid_grant');
    for (const token of [first.access_token, second.access_token, third.access_token]) assert.equal(await status(token), 401, 'every access token of the sign-in');
    const latest = await tokenRequest({ grant_type: 'refresh_token', refresh_token: third.refresh_token });
    assert.equal(latest.status, 400, 'and its newest refresh token');
    assert.equal(latest.body.error, 'invalid_grant');
    assert.equal(await status(other.access_token), 200, 'another sign-in is untouched');
    assert.equal((await tokenRequest({ grant_type: 'refresh_token', refresh_token: other.refresh_token })).status, 200);
  });

  test('one refresh token sent twice at once: at most one answer carries tokens, and the sign-in ends', async () => {
    const first = await signIn();
    const answers = await Promise.all([1, 2, 3].map(() => tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token })));
    const issued = answers.filter((a) => a.status === 200);
    assert.ok(issued.length <= 1, `${issued.length} refreshes succeeded`);
    assert.ok(answers.every((a) => a.status === 200 || a.body.error === 'invalid_grant'));
    for (const a of issued) {
      assert.equal(await status(a.body.access_token), 401, 'the winner belongs to the revoked sign-in too');
      assert.equal((await tokenRequest({ grant_type: 'refresh_token', refresh_token: a.body.refresh_token })).status, 400);
    }
    assert.equal(await status(first.access_token), 401);
  });
});

describe('revocation', () => {
  const revoke = (body: Record<string, string>, via = target.admin) => via.post('/v1/access_token/revoke', undefined, { form: body, token: null });
  const refresh = (token: string) => tokenRequest({ grant_type: 'refresh_token', refresh_token: token });

  test('revoking an access token (RFC 7009): 200, then refused by every gateway at once; its sign-in may still refresh', async () => {
    const session = await signIn();
    assert.deepEqual(await everywhere(session.access_token), [200, 200], 'used on both gateways, so cached');
    const revoked = await revoke({ token: session.access_token, token_type_hint: 'access_token' });
    assert.equal(revoked.status, 200);
    assert.match(String(revoked.headers['cache-control']), /no-store/);
    assert.deepEqual(await everywhere(session.access_token), [401, 401]);
    const renewed = await refresh(session.refresh_token);
    assert.equal(renewed.status, 200);
    assert.equal(await status(renewed.body.access_token), 200);
  });

  test('revoking a refresh token revokes its whole sign-in, also through the other gateway and as JSON', async () => {
    const first = await signIn();
    const second = (await refresh(first.refresh_token)).body;
    assert.deepEqual(await everywhere(second.access_token), [200, 200]);
    const revoked = await elsewhere.post('/v1/access_token/revoke', { token: second.refresh_token }, { token: null });
    assert.equal(revoked.status, 200);
    for (const token of [first.access_token, second.access_token]) assert.deepEqual(await everywhere(token), [401, 401]);
    assert.equal((await refresh(second.refresh_token)).body.error, 'invalid_grant');
  });

  test('an unknown or already revoked token is 200 (RFC 7009 section 2.2); a missing one is 400 invalid_request', async () => {
    const session = await signIn();
    assert.equal((await revoke({ token: session.access_token })).status, 200);
    assert.equal((await revoke({ token: session.access_token })).status, 200, 'twice');
    assert.equal((await revoke({ token: 'never-issued', token_type_hint: 'refresh_token' })).status, 200);
    assert.equal((await revoke({ token: session.refresh_token, token_type_hint: 'nonsense' })).status, 200, 'an unknown hint is ignored');
    assert.equal((await refresh(session.refresh_token)).status, 400, 'and the token was found anyway');
    const missing = await revoke({ token_type_hint: 'access_token' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error, 'invalid_request');
    const wrongType = await target.admin.post('/v1/access_token/revoke', { token: 42 }, { token: null });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body.error, 'invalid_request');
  });

  test("a password set by the administrator replaces the old one and ends every one of the person's sessions", async () => {
    const pat = await personWithPassword();
    const signInAsPat = async (password: string) => tokenRequest({ grant_type: 'password', username: pat.email, password });
    const sessions = [(await signInAsPat(pat.password)).body, (await signInAsPat(pat.password)).body];
    for (const session of sessions) assert.deepEqual(await everywhere(session.access_token), [200, 200]);
    assert.equal((await target.admin.put(`/v1/people/${pat.id}`, { emails: [pat.email], displayName: 'Pat Renamed' })).status, 200);
    assert.deepEqual(await everywhere(sessions[0].access_token), [200, 200], 'a change that is no new password keeps the sessions');
    const newPassword = `pw-${randomUUID()}`;
    const updated = await target.admin.put(`/v1/people/${pat.id}`, { emails: [pat.email], displayName: 'Pat Renamed', password: newPassword });
    assert.equal(updated.status, 200);
    for (const session of sessions) {
      assert.deepEqual(await everywhere(session.access_token), [401, 401], 'the old access tokens stop working');
      assert.equal((await refresh(session.refresh_token)).body.error, 'invalid_grant', 'and the old refresh tokens');
    }
    assert.equal((await signInAsPat(pat.password)).body.error, 'invalid_grant');
    const fresh = await signInAsPat(newPassword);
    assert.equal(fresh.status, 200);
    assert.equal(await status(fresh.body.access_token), 200);
  });

});


describe('bots', () => {
  test('the administrator creates a bot whose token works on /v1/people/me with type bot', async () => {
    const created = await target.admin.post('/v1/bots', { displayName: `Helper Bot ${unique()}` });
    assert.equal(created.status, 200);
    assert.equal(typeof created.body.token, 'string');
    assert.equal(created.body.type, 'bot');
    const me = await target.admin.get('/v1/people/me', { token: created.body.token });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, created.body.id);
    assert.equal(me.body.type, 'bot');
    assert.equal(me.body.displayName, created.body.displayName);
  });

  test('a bot is visible to people of its organization as type bot', async () => {
    const [erin] = await createPeople(target.admin, 'Erin BotWatcher');
    const bot = await target.admin.post('/v1/bots', { displayName: `Visible Bot ${unique()}` });
    const seen = await erin.api.get(`/v1/people/${bot.body.id}`);
    assert.equal(seen.status, 200);
    assert.equal(seen.body.type, 'bot');
  });

  test('a non-administrator creating a bot gets 403', async () => {
    const [frank] = await createPeople(target.admin, 'Frank NoBots');
    const refused = await frank.api.post('/v1/bots', { displayName: 'Rogue Bot' });
    assert.equal(refused.status, 403);
  });

  test('a bot cannot create bots', async () => {
    const bot = await target.admin.post('/v1/bots', { displayName: `Parent Bot ${unique()}` });
    const refused = await target.admin.post('/v1/bots', { displayName: 'Child Bot' }, { token: bot.body.token });
    assert.equal(refused.status, 403);
  });

  test('a bot cannot use the password grant, even with a password set by the administrator', async () => {
    const email = newEmail('bot');
    const bot = await target.admin.post('/v1/bots', { displayName: 'Password Bot', email });
    assert.equal(bot.status, 200);
    const password = `pw-${randomUUID()}`;
    const withoutPassword = await tokenRequest({ grant_type: 'password', username: email, password });
    assert.equal(withoutPassword.status, 400);
    assert.equal(withoutPassword.body.error, 'invalid_grant');
    assert.equal((await target.admin.put(`/v1/people/${bot.body.id}`, { displayName: 'Password Bot', password })).status, 200);
    const withPassword = await tokenRequest({ grant_type: 'password', username: email, password });
    assert.equal(withPassword.status, 400);
    assert.equal(withPassword.body.error, 'invalid_grant');
  });
});
