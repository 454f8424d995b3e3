// People over real HTTPS: look-ups, the administrator's CRUD and what a non-administrator
// may not do, and `max` paging. Sign-in, tokens and bots are in tokens.test.ts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { ApiResponse } from '../../clients/api-client.ts';
import { createPeople, createPerson, personWithPassword as createPersonWithPassword, type TestPerson } from '../harness/people.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
before(async () => {
  target = await startTarget();
});
after(() => target.stop());

const unique = () => randomUUID().slice(0, 8);
const newEmail = (name = 'someone') => `${name}.${unique()}@example.com`;
const newPersonId = () => Buffer.from(`ciscospark://us/PEOPLE/${randomUUID()}`).toString('base64url');
const ids = (response: ApiResponse) => (response.body.items as { id: string }[]).map((p) => p.id);

const personWithPassword = (name?: string) => createPersonWithPassword(target.admin, name);

/** Webex's id of the full administrator role. */
const ADMIN_ROLE = Buffer.from('ciscospark://us/ROLE/id_full_admin').toString('base64url');

const tokenRequest = (form: Record<string, string>) => target.admin.post('/v1/access_token', undefined, { form, token: null });

describe('looking people up', () => {
  let alice: TestPerson;
  let bob: TestPerson;
  before(async () => {
    [alice, bob] = await createPeople(target.admin, 'Alice People', 'Bob People');
  });

  test('GET /v1/people/me returns the caller', async () => {
    const me = await alice.api.get('/v1/people/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.id, alice.id);
    assert.deepEqual(me.body.emails, [alice.email]);
    assert.equal(me.body.displayName, 'Alice People');
    assert.equal(me.body.type, 'person');
  });

  test('GET /v1/people/{id} returns another person of the organization', async () => {
    const seen = await bob.api.get(`/v1/people/${alice.id}`);
    assert.equal(seen.status, 200);
    assert.equal(seen.body.id, alice.id);
    assert.deepEqual(seen.body.emails, [alice.email]);
  });

  test('GET /v1/people?email= finds exactly that person', async () => {
    const found = await bob.api.get(`/v1/people?email=${encodeURIComponent(alice.email)}`);
    assert.equal(found.status, 200);
    assert.deepEqual(ids(found), [alice.id]);
  });

  test('GET /v1/people?email= matches the email case-insensitively', async () => {
    const found = await bob.api.get(`/v1/people?email=${encodeURIComponent(alice.email.toUpperCase())}`);
    assert.equal(found.status, 200);
    assert.deepEqual(ids(found), [alice.id]);
  });

  test('GET /v1/people?email= for an unknown email is an empty list', async () => {
    const found = await bob.api.get(`/v1/people?email=${encodeURIComponent(newEmail('nobody'))}`);
    assert.equal(found.status, 200);
    assert.deepEqual(found.body.items, []);
  });

  test('GET /v1/people?displayName= matches a prefix, case-insensitively', async () => {
    const prefix = `Zq${unique()}`;
    const [first, second] = await Promise.all([createPerson(target.admin, `${prefix} First`), createPerson(target.admin, `${prefix} Second`)]);
    await createPerson(target.admin, `Not ${prefix}`); // contains the prefix, but not at the start
    const found = await bob.api.get(`/v1/people?displayName=${encodeURIComponent(prefix.toLowerCase())}`);
    assert.equal(found.status, 200);
    assert.deepEqual(ids(found).sort(), [first.id, second.id].sort());
    const upper = await bob.api.get(`/v1/people?displayName=${encodeURIComponent(`${prefix} FIR`.toUpperCase())}`);
    assert.deepEqual(ids(upper), [first.id]);
  });

  test('GET /v1/people?id= takes a comma-separated id list', async () => {
    const found = await bob.api.get(`/v1/people?id=${alice.id},${bob.id}`);
    assert.equal(found.status, 200);
    assert.deepEqual(ids(found).sort(), [alice.id, bob.id].sort());
    const withUnknown = await bob.api.get(`/v1/people?id=${alice.id},${newPersonId()}`);
    assert.deepEqual(ids(withUnknown), [alice.id]);
  });

  test('a non-administrator listing people without a filter gets 400', async () => {
    const listed = await alice.api.get('/v1/people');
    assert.equal(listed.status, 400);
  });

  test('the administrator listing people without a filter gets everyone', async () => {
    const listed = await target.admin.get('/v1/people?max=1000');
    assert.equal(listed.status, 200);
    const me = await target.admin.get('/v1/people/me');
    for (const id of [me.body.id, alice.id, bob.id]) assert.ok(ids(listed).includes(id), `${id} is listed`);
  });

  test('an unknown person id is 404', async () => {
    const missing = await alice.api.get(`/v1/people/${newPersonId()}`);
    assert.equal(missing.status, 404);
  });

  test('a garbage person id is 404', async () => {
    for (const id of ['nope', 'Y2lzY29zcGFyazovL3VzL1BFT1BMRS9ub3Bl', '!!!', '12345']) {
      const missing = await alice.api.get(`/v1/people/${id}`);
      assert.equal(missing.status, 404, `GET /v1/people/${id}`);
    }
  });

  test('a room id used as a person id is 404', async () => {
    const room = await alice.api.post('/v1/rooms', { title: 'not a person' });
    const missing = await alice.api.get(`/v1/people/${room.body.id}`);
    assert.equal(missing.status, 404);
  });
});

describe('the administrator manages people', () => {
  test('create is 200 and returns the person', async () => {
    const email = newEmail('created');
    const created = await target.admin.post('/v1/people', { emails: [email], displayName: 'Created Person', firstName: 'Created', lastName: 'Person' });
    assert.equal(created.status, 200);
    assert.deepEqual(created.body.emails, [email]);
    assert.equal(created.body.displayName, 'Created Person');
    assert.equal(created.body.firstName, 'Created');
    const fetched = await target.admin.get(`/v1/people/${created.body.id}`);
    assert.equal(fetched.status, 200);
    assert.equal(fetched.body.displayName, 'Created Person');
  });

  test('update is 200, changes the person and moves lastModified', async () => {
    const email = newEmail('updated');
    const created = await target.admin.post('/v1/people', { emails: [email], displayName: 'Before Update' });
    await sleep(10);
    const updated = await target.admin.put(`/v1/people/${created.body.id}`, { emails: [email], displayName: 'After Update' });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.displayName, 'After Update');
    assert.notEqual(updated.body.lastModified, created.body.lastModified);
    assert.ok(Date.parse(updated.body.lastModified) > Date.parse(created.body.lastModified));
    assert.equal(updated.body.created, created.body.created);
    const fetched = await target.admin.get(`/v1/people/${created.body.id}`);
    assert.equal(fetched.body.displayName, 'After Update');
    assert.equal(fetched.body.lastModified, updated.body.lastModified);
  });

  test('delete is 204 and the person is then 404', async () => {
    const created = await target.admin.post('/v1/people', { emails: [newEmail('deleted')], displayName: 'To Delete' });
    const deleted = await target.admin.delete(`/v1/people/${created.body.id}`);
    assert.equal(deleted.status, 204);
    assert.equal(deleted.text, '');
    assert.equal((await target.admin.get(`/v1/people/${created.body.id}`)).status, 404);
    assert.equal((await target.admin.delete(`/v1/people/${created.body.id}`)).status, 404);
  });

  test('a deleted person can no longer sign in or use their token', async () => {
    const pat = await personWithPassword('Pat Deleted');
    const signedIn = await tokenRequest({ grant_type: 'password', username: pat.email, password: pat.password });
    assert.equal(signedIn.status, 200);
    // Used first, so that the token is resolved (and cached) before the deletion.
    assert.equal((await target.admin.get('/v1/people/me', { token: signedIn.body.access_token })).status, 200);
    assert.equal((await target.admin.delete(`/v1/people/${pat.id}`)).status, 204);
    assert.equal((await target.admin.get('/v1/people/me', { token: signedIn.body.access_token })).status, 401);
    const again = await tokenRequest({ grant_type: 'password', username: pat.email, password: pat.password });
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');
  });

  test('a change of roles applies from the very next request of that person; losing the administrator role ends their sessions', async () => {
    const sam = await personWithPassword('Sam Promoted');
    const signIn = async () => (await tokenRequest({ grant_type: 'password', username: sam.email, password: sam.password })).body;
    const first = await signIn();
    const asSam = target.admin.as(first.access_token);
    assert.equal((await asSam.get('/v1/people', { unchecked: true })).status, 400, 'a non-administrator must filter');
    assert.equal((await target.admin.put(`/v1/people/${sam.id}`, { roles: [ADMIN_ROLE] })).status, 200);
    assert.equal((await asSam.get('/v1/people')).status, 200, 'promoted: may list everyone');
    assert.equal((await target.admin.put(`/v1/people/${sam.id}`, { displayName: 'Sam Renamed' })).status, 200);
    assert.equal((await asSam.get('/v1/people/me')).body.displayName, 'Sam Renamed', 'a change that takes nothing away keeps the session');
    assert.equal((await target.admin.put(`/v1/people/${sam.id}`, { roles: [] })).status, 200);
    assert.equal((await asSam.get('/v1/people/me')).status, 401, 'demoted: the access token is revoked at once');
    assert.equal((await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token })).status, 400, 'and so is the refresh token');
    const again = target.admin.as((await signIn()).access_token);
    assert.equal((await again.get('/v1/people', { unchecked: true })).status, 400, 'signed in again: a non-administrator');
  });


  test('a duplicate email is 409', async () => {
    const email = newEmail('dup');
    assert.equal((await target.admin.post('/v1/people', { emails: [email], displayName: 'First' })).status, 200);
    const duplicate = await target.admin.post('/v1/people', { emails: [email], displayName: 'Second' });
    assert.equal(duplicate.status, 409);
  });

  test('a duplicate email differing only in case is 409', async () => {
    const email = newEmail('dupcase');
    assert.equal((await target.admin.post('/v1/people', { emails: [email], displayName: 'First' })).status, 200);
    const duplicate = await target.admin.post('/v1/people', { emails: [email.toUpperCase()], displayName: 'Second' });
    assert.equal(duplicate.status, 409);
  });

  test("updating a person to another person's email is 409", async () => {
    const [one, two] = await createPeople(target.admin, 'Email One', 'Email Two');
    const clash = await target.admin.put(`/v1/people/${two.id}`, { emails: [one.email], displayName: 'Email Two' });
    assert.equal(clash.status, 409);
  });

  test('read-only fields in an update body (id, orgId, type, created) are ignored', async () => {
    const readOnly: Record<string, unknown> = {
      id: newPersonId(),
      orgId: Buffer.from(`ciscospark://us/ORGANIZATION/${randomUUID()}`).toString('base64url'),
      type: 'bot',
      created: '2000-01-01T00:00:00.000Z',
    };
    const problems: string[] = [];
    for (const [field, value] of Object.entries(readOnly)) {
      const pat = await personWithPassword('Pat ReadOnly');
      const before = await target.admin.get(`/v1/people/${pat.id}`);
      const updated = await target.admin.put(`/v1/people/${pat.id}`, { emails: [pat.email], displayName: 'Pat Renamed', [field]: value });
      if (updated.status !== 200) {
        problems.push(`${field}: PUT answered ${updated.status}`);
        continue;
      }
      const after = await target.admin.get(`/v1/people/${pat.id}`);
      if (after.status !== 200) {
        problems.push(`${field}: the person is ${after.status} afterwards`);
        continue;
      }
      if (after.body.displayName !== 'Pat Renamed') problems.push(`${field}: displayName was not updated`);
      for (const kept of ['id', 'orgId', 'type', 'created']) {
        if (after.body[kept] !== before.body[kept]) problems.push(`${field}: ${kept} changed from ${before.body[kept]} to ${after.body[kept]}`);
      }
      const signedIn = await tokenRequest({ grant_type: 'password', username: pat.email, password: pat.password });
      if (signedIn.status !== 200) problems.push(`${field}: the person can no longer sign in (${signedIn.status})`);
    }
    assert.deepEqual(problems, []);
  });

  test("changing a person's email moves the look-up and the sign-in to the new email", async () => {
    const pat = await personWithPassword('Pat Moves');
    const newAddress = newEmail('moved');
    const updated = await target.admin.put(`/v1/people/${pat.id}`, { emails: [newAddress], displayName: 'Pat Moves' });
    assert.equal(updated.status, 200);
    assert.deepEqual(updated.body.emails, [newAddress]);
    assert.deepEqual(ids(await target.admin.get(`/v1/people?email=${encodeURIComponent(newAddress)}`)), [pat.id]);
    assert.deepEqual((await target.admin.get(`/v1/people?email=${encodeURIComponent(pat.email)}`)).body.items, []);
    assert.equal((await tokenRequest({ grant_type: 'password', username: newAddress, password: pat.password })).status, 200);
    assert.equal((await tokenRequest({ grant_type: 'password', username: pat.email, password: pat.password })).status, 400);
  });

  test("a deleted person's email can be given to a new person", async () => {
    const email = newEmail('reused');
    const first = await target.admin.post('/v1/people', { emails: [email], displayName: 'First Owner' });
    assert.equal((await target.admin.delete(`/v1/people/${first.body.id}`)).status, 204);
    const second = await target.admin.post('/v1/people', { emails: [email], displayName: 'Second Owner' });
    assert.equal(second.status, 200);
    assert.notEqual(second.body.id, first.body.id);
  });

  test('the administrator cannot delete themselves (400)', async () => {
    const me = await target.admin.get('/v1/people/me');
    assert.equal((await target.admin.delete(`/v1/people/${me.body.id}`)).status, 400);
    assert.equal((await target.admin.get('/v1/people/me')).status, 200);
  });

  test('updating or deleting an unknown person is 404', async () => {
    const id = newPersonId();
    assert.equal((await target.admin.put(`/v1/people/${id}`, { displayName: 'Ghost' })).status, 404);
    assert.equal((await target.admin.delete(`/v1/people/${id}`)).status, 404);
  });
});

describe('a non-administrator cannot manage people', () => {
  let carol: TestPerson;
  let dave: TestPerson;
  before(async () => {
    [carol, dave] = await createPeople(target.admin, 'Carol NonAdmin', 'Dave NonAdmin');
  });

  test('create is 403', async () => {
    const created = await carol.api.post('/v1/people', { emails: [newEmail('sneaky')], displayName: 'Sneaky' });
    assert.equal(created.status, 403);
  });

  test("update of someone else is 403 and changes nothing", async () => {
    const updated = await carol.api.put(`/v1/people/${dave.id}`, { displayName: 'Hijacked' });
    assert.equal(updated.status, 403);
    assert.equal((await carol.api.get(`/v1/people/${dave.id}`)).body.displayName, 'Dave NonAdmin');
  });

  test('update of oneself (e.g. granting roles) is 403', async () => {
    const me = await target.admin.get('/v1/people/me');
    const updated = await carol.api.put(`/v1/people/${carol.id}`, { displayName: 'Carol', roles: me.body.roles });
    assert.equal(updated.status, 403);
  });

  test('delete is 403 and the person remains', async () => {
    const deleted = await carol.api.delete(`/v1/people/${dave.id}`);
    assert.equal(deleted.status, 403);
    assert.equal((await carol.api.get(`/v1/people/${dave.id}`)).status, 200);
  });
});

describe('paging GET /v1/people', () => {
  const nextLink = (response: ApiResponse): string | undefined => {
    const header = response.headers.link;
    if (header === undefined) return undefined;
    const value = Array.isArray(header) ? header.join(', ') : header;
    const links = [...value.matchAll(/<([^>]*)>\s*;\s*rel="next"/g)];
    assert.equal(links.length, 1, `exactly one rel="next" link in ${value}`);
    assert.match(value, /^<[^>]+>; rel="next"$/, `the Link header is exactly one link: ${value}`);
    return links[0][1];
  };

  test('max=2 as administrator: one absolute https Link rel="next" per page, no overlap, the last page has none', async () => {
    await createPeople(target.admin, 'Page One', 'Page Two', 'Page Three', 'Page Four', 'Page Five');
    const everyone = await target.admin.get('/v1/people?max=1000');
    assert.equal(everyone.status, 200);
    assert.equal(nextLink(everyone), undefined, 'one page of everyone has no next link');
    assert.ok(everyone.body.items.length >= 6);

    const seen: string[] = [];
    let page = await target.admin.get('/v1/people?max=2');
    let pages = 1;
    for (;;) {
      assert.equal(page.status, 200);
      const pageIds = ids(page);
      assert.ok(pageIds.length >= 1 && pageIds.length <= 2, `page ${pages} has 1 or 2 items`);
      for (const id of pageIds) assert.ok(!seen.includes(id), `${id} appears on one page only`);
      seen.push(...pageIds);
      const next = nextLink(page);
      if (!next) break;
      assert.equal(pageIds.length, 2, 'every page before the last is full');
      const url = new URL(next);
      assert.equal(url.protocol, 'https:');
      assert.equal(url.origin, new URL(target.url).origin);
      assert.equal(url.pathname, '/v1/people');
      assert.equal(url.searchParams.get('max'), '2', 'the next link keeps max');
      page = await target.admin.get(next);
      pages += 1;
      assert.ok(pages < 100, 'paging terminates');
    }
    assert.deepEqual([...seen].sort(), ids(everyone).sort(), 'the pages together are everyone');
    assert.equal(pages, Math.ceil(seen.length / 2));
  });

  test('the next link keeps the filter it was made for', async () => {
    const prefix = `Pg${unique()}`;
    const made = await Promise.all([1, 2, 3].map((n) => createPerson(target.admin, `${prefix} ${n}`)));
    const first = await target.admin.get(`/v1/people?displayName=${prefix}&max=2`);
    assert.equal(first.body.items.length, 2);
    const next = nextLink(first);
    assert.ok(next);
    assert.equal(new URL(next).searchParams.get('displayName'), prefix);
    const second = await target.admin.get(next);
    assert.equal(second.body.items.length, 1);
    assert.equal(nextLink(second), undefined);
    assert.deepEqual([...ids(first), ...ids(second)].sort(), made.map((p) => p.id).sort());
  });
});
