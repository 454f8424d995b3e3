// Administrators' audit events over real HTTPS (Webex's Admin Audit Events API, docs/admin.md):
// each administrative action yields exactly one event with the right fields, the filters and
// paging, who may read them (administrators of the org only), and that nothing edits them.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { ApiClient } from '../../clients/api-client.ts';
import { createPerson, type TestPerson } from '../harness/people.ts';
import { allPages, expectStatus, nextLink } from '../harness/rooms.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
let admin: { id: string; orgId: string; displayName: string; email: string };
const from = new Date(Date.now() - 60_000).toISOString();
const to = () => new Date(Date.now() + 60_000).toISOString();

/** Webex's id of the full administrator role. */
const ADMIN_ROLE = Buffer.from('ciscospark://us/ROLE/id_full_admin').toString('base64url');

before(async () => {
  target = await startTarget();
  const me = await target.admin.get('/v1/people/me');
  expectStatus(me, 200, 'the administrator');
  admin = { id: me.body.id, orgId: me.body.orgId, displayName: me.body.displayName, email: me.body.emails[0] };
});
after(() => target.stop());

interface AuditEvent {
  id: string; orgId: string; actorId: string; actorOrgId: string; created: string;
  data: Record<string, string | string[]> & { targetId: string; eventCategory: string; eventDescription: string; actionText: string };
}

const eventsUrl = (query: Record<string, string> = {}) => `/v1/adminAudit/events?${new URLSearchParams({ orgId: admin.orgId, from, to: to(), ...query })}`;

/** Every event of the org in the window, all pages. */
async function allEvents(api: ApiClient = target.admin, query: Record<string, string> = {}): Promise<AuditEvent[]> {
  return (await allPages<AuditEvent>(api, eventsUrl({ max: '1000', ...query }))).flat();
}

const about = async (targetId: string) => (await allEvents()).filter((e) => e.data.targetId === targetId);

const newEmail = () => `audited.${randomUUID().slice(0, 8)}@example.com`;

describe('each administrative action yields exactly one audit event', () => {
  test('creating a person: the actor, the target, the request\'s trackingId, address and user agent', async () => {
    const trackingId = `AUDIT_${randomUUID()}`;
    const email = newEmail();
    const created = await target.admin.post('/v1/people', { emails: [email], displayName: 'Audited Created' }, { headers: { trackingid: trackingId, 'user-agent': 'audit-test/1.0' } });
    expectStatus(created, 200, 'create');
    const events = await about(created.body.id);
    assert.equal(events.length, 1, JSON.stringify(events));
    const [e] = events;
    assert.equal(e.orgId, admin.orgId);
    assert.equal(e.actorId, admin.id);
    assert.equal(e.actorOrgId, admin.orgId);
    assert.ok(e.created >= from && e.created <= new Date().toISOString(), e.created);
    assert.equal(e.data.actorName, admin.displayName);
    assert.equal(e.data.actorEmail, admin.email);
    assert.deepEqual(e.data.adminRoles, ['Full_Admin']);
    assert.equal(e.data.eventCategory, 'USERS');
    assert.equal(e.data.eventDescription, 'User created');
    assert.equal(e.data.targetType, 'USER');
    assert.equal(e.data.targetName, 'Audited Created');
    assert.equal(e.data.targetOrgId, admin.orgId);
    assert.equal(e.data.trackingId, trackingId);
    assert.equal(e.data.actorUserAgent, 'audit-test/1.0');
    assert.match(String(e.data.actorIp), /^(127\.0\.0\.1|::1)$/);
    assert.ok(e.data.actionText.includes(email), e.data.actionText);
  });

  test('updating a person, granting and removing a role: one event each, saying what changed', async () => {
    const person = await createPerson(target.admin, 'Audited Updated');
    expectStatus(await target.admin.put(`/v1/people/${person.id}`, { displayName: 'Audited Renamed', emails: [person.email] }), 200, 'rename');
    expectStatus(await target.admin.put(`/v1/people/${person.id}`, { displayName: 'Audited Renamed', emails: [person.email], roles: [ADMIN_ROLE] }), 200, 'grant');
    expectStatus(await target.admin.put(`/v1/people/${person.id}`, { displayName: 'Audited Renamed', emails: [person.email], roles: [] }), 200, 'remove');
    const events = (await about(person.id)).reverse();
    assert.deepEqual(events.map((e) => e.data.eventDescription), ['User created', 'User updated', 'User roles changed', 'User roles changed']);
    assert.match(events[1].data.actionText, /changed displayName/);
    assert.match(events[2].data.actionText, /granted the roles Full_Admin/);
    assert.match(events[3].data.actionText, /removed the roles Full_Admin; ended every session/);
    assert.equal(new Set(events.map((e) => e.id)).size, 4);
  });

  test('deleting a person and creating a bot', async () => {
    const person = await createPerson(target.admin, 'Audited Deleted');
    expectStatus(await target.admin.delete(`/v1/people/${person.id}`), 204, 'delete');
    const deleted = (await about(person.id)).filter((e) => e.data.eventDescription === 'User deleted');
    assert.equal(deleted.length, 1);
    assert.equal(deleted[0].data.targetName, 'Audited Deleted');

    const bot = await target.admin.post('/v1/bots', { displayName: 'Audited Bot' });
    expectStatus(bot, 200, 'bot');
    const events = await about(bot.body.id);
    assert.equal(events.length, 1);
    assert.equal(events[0].data.eventCategory, 'BOTS');
    assert.equal(events[0].data.eventDescription, 'Bot created');
    assert.equal(events[0].data.targetType, 'BOT');
    assert.equal(JSON.stringify(events[0]).includes(bot.body.token), false, 'the bot\'s token is not in its event');
  });

  test('revoking every token of a person (DELETE /v1/people/{id}/tokens): their token stops working, one event', async () => {
    const person = await createPerson(target.admin, 'Audited Revoked');
    expectStatus(await person.api.get('/v1/people/me'), 200, 'before');
    expectStatus(await person.api.delete(`/v1/people/${admin.id}/tokens`), 403, 'not an administrator');
    expectStatus(await target.admin.delete(`/v1/people/${admin.id}/tokens`), 400, 'their own');
    expectStatus(await target.admin.delete(`/v1/people/${person.id}/tokens`), 204, 'revoke');
    expectStatus(await person.api.get('/v1/people/me'), 401, 'after');
    const events = (await about(person.id)).filter((e) => e.data.eventDescription === 'Sessions revoked');
    assert.equal(events.length, 1);
    assert.equal(events[0].data.eventCategory, 'USERS');
    assert.equal(events[0].actorId, admin.id);
  });

  test('a refused action writes no event', async () => {
    const person = await createPerson(target.admin, 'Audited Taken');
    const before = (await allEvents()).length;
    expectStatus(await target.admin.post('/v1/people', { emails: [person.email], displayName: 'Twin' }), 409, 'taken email');
    expectStatus(await person.api.post('/v1/people', { emails: [newEmail()], displayName: 'Not by them' }), 403, 'not an administrator');
    assert.equal((await allEvents()).length, before);
  });
});

describe('filters and paging', () => {
  let second: TestPerson;
  let secondsTarget: TestPerson;
  before(async () => {
    second = await createPerson(target.admin, 'Second Admin', { roles: [ADMIN_ROLE] });
    secondsTarget = await createPerson(second.api, 'Made By Second');
    for (let i = 0; i < 4; i++) expectStatus(await target.admin.post('/v1/bots', { displayName: `Paged Bot ${i}` }), 200, 'bot');
  });

  test('actorId keeps one administrator\'s events', async () => {
    const events = await allEvents(target.admin, { actorId: second.id });
    assert.deepEqual(events.map((e) => e.data.targetId), [secondsTarget.id]);
    assert.equal(events[0].data.actorName, 'Second Admin');
    assert.equal((await allEvents(target.admin, { actorId: admin.id })).some((e) => e.actorId !== admin.id), false);
  });

  test('eventCategories keeps those categories; GET /v1/adminAudit/eventCategories lists them', async () => {
    const categories = await target.admin.get('/v1/adminAudit/eventCategories');
    expectStatus(categories, 200, 'categories');
    assert.deepEqual(categories.body.eventCategories, ['BOTS', 'COMPLIANCE', 'ORG_SETTINGS', 'USERS']);
    const bots = await allEvents(target.admin, { eventCategories: 'BOTS' });
    assert.ok(bots.length >= 4);
    assert.ok(bots.every((e) => e.data.eventCategory === 'BOTS'));
    const both = await allEvents(target.admin, { eventCategories: 'BOTS,USERS' });
    assert.equal(both.length, (await allEvents()).length);
  });

  test('pages follow Link with no gap and no overlap, newest first; offset skips as Webex\'s does', async () => {
    const all = await allEvents();
    const pages = await allPages<AuditEvent>(target.admin, eventsUrl({ max: '2' }));
    assert.ok(pages.length >= 3);
    assert.ok(pages.every((page) => page.length <= 2));
    assert.deepEqual(pages.flat().map((e) => e.id), all.map((e) => e.id));
    const created = all.map((e) => e.created);
    assert.deepEqual(created, [...created].sort().reverse());
    const offset = await target.admin.get(eventsUrl({ max: '2', offset: '3' }));
    expectStatus(offset, 200, 'offset');
    assert.deepEqual(offset.body.items.map((e: AuditEvent) => e.id), all.slice(3, 5).map((e) => e.id));
    const next = nextLink(offset, target.url);
    assert.ok(next);
    const after = await target.admin.get(next);
    assert.deepEqual(after.body.items.map((e: AuditEvent) => e.id), all.slice(5, 7).map((e) => e.id));
  });

  test('from and to bound the events', async () => {
    const all = await allEvents();
    const middle = all[Math.floor(all.length / 2)];
    const older = await allEvents(target.admin, { to: middle.created });
    assert.ok(older.every((e) => e.created < middle.created));
    const newer = await allEvents(target.admin, { from: middle.created });
    assert.ok(newer.every((e) => e.created >= middle.created));
    assert.equal(older.length + newer.length, all.length);
  });
});

describe('who may read them, and that nothing edits them', () => {
  let member: TestPerson;
  before(async () => {
    member = await createPerson(target.admin, 'Not An Admin');
  });

  test('someone who is not an administrator is refused (403)', async () => {
    expectStatus(await member.api.get(eventsUrl()), 403, 'events');
    expectStatus(await member.api.get('/v1/adminAudit/eventCategories'), 403, 'categories');
  });

  test('another organization\'s orgId is refused (403)', async () => {
    const other = Buffer.from(`ciscospark://us/ORGANIZATION/${randomUUID()}`).toString('base64url');
    expectStatus(await target.admin.get(eventsUrl({ orgId: other })), 403, 'another org');
  });

  test('bad parameters are a 400 in Webex\'s error shape', async () => {
    for (const [what, url] of [
      ['no from', `/v1/adminAudit/events?orgId=${admin.orgId}&to=${to()}`],
      ['no orgId', `/v1/adminAudit/events?from=${from}&to=${to()}`],
      ['a from that is no date', eventsUrl({ from: 'yesterday' })],
      ['from after to', eventsUrl({ from: to(), to: from })],
      ['more than a year', eventsUrl({ from: '2020-01-01T00:00:00Z' })],
      ['an unknown category', eventsUrl({ eventCategories: 'USERS,NOPE' })],
      ['max 0', eventsUrl({ max: '0' })],
      ['a negative offset', eventsUrl({ offset: '-1' })],
    ] as const) {
      const response = await target.admin.get(url);
      expectStatus(response, 400, what);
      assert.ok(response.body.errors[0].description, what);
    }
  });

  test('no method edits or deletes an event', async () => {
    const [event] = await allEvents();
    assert.ok(event);
    for (const method of ['post', 'put', 'delete'] as const) {
      const response = method === 'delete' ? await target.admin.delete(eventsUrl()) : await target.admin[method](eventsUrl(), { items: [] });
      expectStatus(response, 405, `${method} on the events`);
    }
    for (const method of ['put', 'delete'] as const) {
      const path = `/v1/adminAudit/events/${event.id}`;
      const response = method === 'delete' ? await target.admin.delete(path) : await target.admin.put(path, { data: {} });
      expectStatus(response, 404, `${method} on one event`);
    }
    assert.deepEqual((await allEvents()).find((e) => e.id === event.id), event);
  });
});
