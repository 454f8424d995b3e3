// The compliance officer (Webex's id_compliance_officer role, granted by an administrator):
// through the ordinary endpoints they read every room, membership and message of rooms their
// org owns without being a member — never another org's, and never to post — and they alone
// read the org's events (GET /v1/events, /v1/events/{id}) with Webex's filters and paging,
// served from the rooms' activity logs. Every answer is checked against the spec by the client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ApiClient } from '../../clients/api-client.ts';
import { COMPLIANCE_OFFICER_ROLE } from '../../contracts/caller.ts';
import { anotherOrgAdministrator } from '../harness/another-org.ts';
import { createPeople, createPerson, type TestPerson } from '../harness/people.ts';
import { post } from '../harness/messages.ts';
import { addMember, allPages, expectStatus, nextLink, roomWith } from '../harness/rooms.ts';
import { startTarget, type Target } from './target.ts';
import { setTimeout as sleep } from 'node:timers/promises';

interface Event { id: string; resource: string; type: string; actorId: string; orgId: string; created: string; data: { id: string; roomId?: string; text?: string } }

let target: Target;
let officer: TestPerson;
/** The other org: its administrator, and one of its people with a room of theirs. */
let otherAdmin: ApiClient;
let outsider: TestPerson;
let outsidersRoom: { id: string };
let outsidersMessage: { id: string };

before(async () => {
  target = await startTarget();
  const other = await anotherOrgAdministrator(target);
  otherAdmin = other.api;
  officer = await createPerson(target.admin, 'Cora Compliance', { roles: [COMPLIANCE_OFFICER_ROLE] });
  outsider = await createPerson(otherAdmin, 'Otto Otherorg');
  outsidersRoom = await roomWith(outsider, []);
  outsidersMessage = await post(outsider, { roomId: outsidersRoom.id, text: 'not for your eyes' });
});
after(() => target.stop());

const q = (params: Record<string, string | number | undefined>) => new URLSearchParams(Object.entries(params).flatMap(([k, v]): [string, string][] => (v === undefined ? [] : [[k, String(v)]]))).toString();

async function events(person: TestPerson, params: Record<string, string | number>): Promise<Event[]> {
  const answer = await person.api.get(`/v1/events?${q(params)}`);
  expectStatus(answer, 200, 'events');
  return answer.body.items;
}

describe('the compliance officer through the ordinary endpoints', () => {
  test('reads the rooms, memberships and messages of their org without being a member, and cannot post', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Watched', 'Bob Watched');
    const room = await roomWith(alice, [bob]);
    const message = await post(bob, { roomId: room.id, text: 'quarterly numbers' });

    expectStatus(await officer.api.get(`/v1/rooms/${room.id}`), 200, 'the room');
    const members = await officer.api.get(`/v1/memberships?roomId=${room.id}`);
    expectStatus(members, 200, 'its memberships');
    assert.deepEqual(members.body.items.map((m: { personId: string }) => m.personId).sort(), [alice.id, bob.id].sort());
    expectStatus(await officer.api.get(`/v1/memberships/${members.body.items[0].id}`), 200, 'one membership');
    const messages = await officer.api.get(`/v1/messages?roomId=${room.id}`);
    expectStatus(messages, 200, 'its messages');
    assert.deepEqual(messages.body.items.map((m: { id: string }) => m.id), [message.id]);
    const one = await officer.api.get(`/v1/messages/${message.id}`);
    expectStatus(one, 200, 'one message');
    assert.equal(one.body.text, 'quarterly numbers');

    // Reading is all: no posting, editing or deleting in a room they are not in.
    expectStatus(await officer.api.post('/v1/messages', { roomId: room.id, text: 'hello' }), 403, 'post');
    expectStatus(await officer.api.put(`/v1/messages/${message.id}`, { roomId: room.id, text: 'edited' }), 404, 'edit');
    expectStatus(await officer.api.post('/v1/memberships', { roomId: room.id, personId: officer.id }), 403, 'join');
    // GET /v1/rooms stays "rooms to which the user belongs" (the spec's description).
    const own = await officer.api.get('/v1/rooms');
    assert.ok(!own.body.items.some((r: { id: string }) => r.id === room.id));
    // Someone without the role is refused as before.
    const [eve] = await createPeople(target.admin, 'Eve Nosy');
    expectStatus(await eve.api.get(`/v1/messages?roomId=${room.id}`), 404, 'a non-member');
    expectStatus(await eve.api.get(`/v1/memberships?personId=${alice.id}`), 400, 'a person filter without roomId');
  });

  test('lists a person\'s memberships without a roomId, only of rooms their org owns', async () => {
    const [dana] = await createPeople(target.admin, 'Dana Member');
    const ours = await roomWith(dana, []);
    // Dana in the other org's room: not the officer's to see.
    const outsidersOther = await roomWith(outsider, []);
    await addMember(outsider, outsidersOther.id, dana);
    const listed = (await allPages<{ roomId: string; personId: string }>(officer.api, `/v1/memberships?personId=${dana.id}&max=1`)).flat();
    assert.deepEqual(listed.map((m) => m.roomId), [ours.id]);
    const byEmail = await officer.api.get(`/v1/memberships?personEmail=${encodeURIComponent(dana.email)}`);
    expectStatus(byEmail, 200);
    assert.deepEqual(byEmail.body.items.map((m: { roomId: string }) => m.roomId), [ours.id]);
  });

  test('never another org\'s rooms, memberships or messages', async () => {
    expectStatus(await officer.api.get(`/v1/rooms/${outsidersRoom.id}`), 404, 'room');
    expectStatus(await officer.api.get(`/v1/memberships?roomId=${outsidersRoom.id}`), 404, 'memberships');
    expectStatus(await officer.api.get(`/v1/messages?roomId=${outsidersRoom.id}`), 404, 'messages');
    expectStatus(await officer.api.get(`/v1/messages/${outsidersMessage.id}`), 404, 'message');
    expectStatus(await officer.api.post('/v1/messages', { roomId: outsidersRoom.id, text: 'hi' }), 404, 'post');
  });

  test('each compliance read is an admin audit event of the COMPLIANCE category; a member\'s own read is none', async () => {
    const from = new Date().toISOString();
    const [mia] = await createPeople(target.admin, 'Mia Audited');
    const room = await roomWith(mia, [], { title: 'Audited room' });
    expectStatus(await officer.api.get(`/v1/messages?roomId=${room.id}`), 200);
    expectStatus(await mia.api.get(`/v1/messages?roomId=${room.id}`), 200);
    expectStatus(await officer.api.get(`/v1/events?from=${from}`), 200);
    const orgId = (await officer.api.get('/v1/people/me')).body.orgId;
    // Recorded after the answer: waited for.
    let found: { actorId: string; data: { eventCategory: string; targetId: string; eventDescription: string; targetName: string } }[] = [];
    for (let tries = 0; tries < 50; tries++) {
      const answer = await target.admin.get(`/v1/adminAudit/events?${q({ orgId, from, to: new Date().toISOString(), eventCategories: 'COMPLIANCE', max: 1000 })}`);
      expectStatus(answer, 200, 'audit events');
      found = answer.body.items;
      if (found.length >= 2) break;
      await sleep(100);
    }
    assert.deepEqual(found.map((e) => [e.actorId, e.data.eventCategory, e.data.eventDescription, e.data.targetId]).sort(), [
      [officer.id, 'COMPLIANCE', 'Compliance officer read events', orgId],
      [officer.id, 'COMPLIANCE', 'Compliance officer read messages', room.id],
    ].sort());
    assert.equal(found.find((e) => e.data.targetId === room.id)!.data.targetName, 'Audited room');
  });

  test('searches every room of their org without being a member, never another org\'s; each room answered from is audited', async () => {
    const from = new Date().toISOString();
    const [nia, oli] = await createPeople(target.admin, 'Nia Searched', 'Oli Searched');
    const room = await roomWith(nia, [oli], { title: 'Searched room' });
    const theirs = await post(oli, { roomId: room.id, text: 'zeppelin budget draft' });
    const others = await post(outsider, { roomId: outsidersRoom.id, text: 'zeppelin budget secret' });
    const search = async (query: string) => {
      const answer = await officer.api.get(`/v1/messages/search?${query}`);
      expectStatus(answer, 200, query);
      return (answer.body.items as { id: string }[]).map((m) => m.id);
    };
    let found: string[] = [];
    for (let tries = 0; tries < 100 && found.length === 0; tries++, await sleep(200)) found = await search('q=zeppelin');
    assert.deepEqual(found, [theirs.id], 'their org\'s room, not the other org\'s');
    assert.deepEqual(await search(`q=zeppelin&roomId=${room.id}`), [theirs.id], 'one room of their org');
    expectStatus(await officer.api.get(`/v1/messages/search?q=zeppelin&roomId=${outsidersRoom.id}`), 404, 'another org\'s room');
    // The other org's people find their own, and not ours.
    let theirsFound: string[] = [];
    for (let tries = 0; tries < 100 && theirsFound.length === 0; tries++, await sleep(200)) theirsFound = (await outsider.api.get('/v1/messages/search?q=zeppelin')).body.items.map((m: { id: string }) => m.id);
    assert.deepEqual(theirsFound, [others.id]);
    // A plain member of the org finds nothing of a room they are not in.
    const [pia] = await createPeople(target.admin, 'Pia Plain');
    assert.deepEqual((await pia.api.get('/v1/messages/search?q=zeppelin')).body.items, []);
    const orgId = (await officer.api.get('/v1/people/me')).body.orgId;
    let audited: { data: { eventDescription: string; targetId: string } }[] = [];
    for (let tries = 0; tries < 50 && audited.length < 2; tries++, await sleep(100)) {
      const answer = await target.admin.get(`/v1/adminAudit/events?${q({ orgId, from, to: new Date().toISOString(), eventCategories: 'COMPLIANCE', max: 1000 })}`);
      audited = answer.body.items.filter((e: { data: { targetId: string } }) => e.data.targetId === room.id);
    }
    assert.ok(audited.length >= 2, 'each search answered from the room is a compliance read of it');
    assert.ok(audited.every((e) => e.data.eventDescription === 'Compliance officer read messages'));
  });

  test('an administrator grants the role; another org\'s administrator cannot touch our people', async () => {
    const [fay] = await createPeople(target.admin, 'Fay Promoted');
    expectStatus(await fay.api.get('/v1/events'), 403, 'before the grant');
    const person = (await target.admin.get(`/v1/people/${fay.id}`)).body;
    expectStatus(await otherAdmin.put(`/v1/people/${fay.id}`, { emails: person.emails, displayName: person.displayName, roles: [COMPLIANCE_OFFICER_ROLE] }), 404, 'another org\'s administrator');
    expectStatus(await target.admin.put(`/v1/people/${fay.id}`, { emails: person.emails, displayName: person.displayName, roles: [COMPLIANCE_OFFICER_ROLE] }), 200, 'grant');
    expectStatus(await fay.api.get('/v1/events'), 200, 'the same token, after the grant');
  });
});

describe('GET /v1/events', () => {
  test('a caller without the role is refused, administrators too', async () => {
    const [gus] = await createPeople(target.admin, 'Gus Plain');
    expectStatus(await gus.api.get('/v1/events'), 403);
    expectStatus(await target.admin.get('/v1/events'), 403);
    expectStatus(await gus.api.get(`/v1/events/${Buffer.from('ciscospark://us/EVENT/x').toString('base64url')}`), 403);
  });

  test('the org\'s events from its rooms\' logs, each readable by its id; never another org\'s', async () => {
    const since = new Date().toISOString();
    const [hana, ivan] = await createPeople(target.admin, 'Hana Events', 'Ivan Events');
    const room = await roomWith(hana, [ivan]);
    const message = await post(ivan, { roomId: room.id, text: 'an event to see' });
    expectStatus(await ivan.api.put(`/v1/messages/${message.id}`, { roomId: room.id, text: 'an event, edited' }), 200);
    expectStatus(await ivan.api.delete(`/v1/messages/${message.id}`), 204);
    await post(outsider, { roomId: outsidersRoom.id, text: 'the other org, at the same time' });

    const all = await events(officer, { from: since, max: 1000 });
    const ours = all.filter((e) => e.data.roomId === room.id || e.data.id === room.id);
    assert.deepEqual(ours.map((e) => `${e.resource}.${e.type}`), [
      'messages.deleted', 'messages.updated', 'messages.created', 'memberships.created', 'memberships.created', 'rooms.created',
    ], 'newest first');
    assert.ok(all.every((e) => e.data.roomId !== outsidersRoom.id && e.data.id !== outsidersRoom.id), 'nothing of the other org');
    const orgId = (await officer.api.get('/v1/people/me')).body.orgId;
    assert.ok(all.every((e) => e.orgId === orgId));
    const created = ours.find((e) => e.resource === 'messages' && e.type === 'created')!;
    assert.equal(created.actorId, ivan.id);
    assert.equal(created.data.text, 'an event to see', 'the message as it was posted');

    const byId = await officer.api.get(`/v1/events/${created.id}`);
    expectStatus(byId, 200, 'by id');
    assert.deepEqual(byId.body, created);
    // The other org's officer does not find ours.
    const theirOfficer = await createPerson(otherAdmin, 'Theo Theirs', { roles: [COMPLIANCE_OFFICER_ROLE] });
    expectStatus(await theirOfficer.api.get(`/v1/events/${created.id}`), 404, 'another org\'s event');
    assert.ok((await events(theirOfficer, { from: since })).every((e) => e.data.roomId !== room.id));
    expectStatus(await officer.api.get('/v1/events/not-an-event'), 404, 'no such event');
  });

  test('filters: resource, type, actorId, from and to', async () => {
    const since = new Date().toISOString();
    const [jo, kim] = await createPeople(target.admin, 'Jo Filter', 'Kim Filter');
    const room = await roomWith(jo, [kim]);
    const first = await post(jo, { roomId: room.id, text: 'one' });
    await post(kim, { roomId: room.id, text: 'two' });
    const third = await post(jo, { roomId: room.id, text: 'three' });
    const inRoom = (list: Event[]) => list.filter((e) => e.data.roomId === room.id || e.data.id === room.id);

    const messages = inRoom(await events(officer, { resource: 'messages', from: since }));
    assert.deepEqual(messages.map((e) => e.data.text), ['three', 'two', 'one']);
    assert.deepEqual(inRoom(await events(officer, { resource: 'messages', actorId: jo.id, from: since })).map((e) => e.data.text), ['three', 'one']);
    assert.deepEqual(inRoom(await events(officer, { resource: 'memberships', type: 'created', from: since })).length, 2);
    assert.deepEqual(inRoom(await events(officer, { type: 'deleted', from: since })), []);
    assert.deepEqual(inRoom(await events(officer, { resource: 'meetings', from: since })), [], 'a resource without events here');
    const window = inRoom(await events(officer, { resource: 'messages', from: first.created, to: third.created }));
    assert.deepEqual(window.map((e) => e.data.text), ['three', 'two', 'one'], 'from and to are inclusive');
    assert.deepEqual(inRoom(await events(officer, { resource: 'messages', from: new Date(Date.parse(third.created) + 1).toISOString() })), []);
    assert.ok(inRoom(await events(officer, { resource: 'messages', to: new Date(Date.now() + 3600_000).toISOString(), from: since })).length === 3, 'a future to reads up to now');

    for (const bad of [{ from: 'yesterday' }, { to: 'soon' }, { max: 0 }, { max: 1001 }, { type: 'exploded' }, { resource: 'nothing' }, { cursor: 'garbage' }]) {
      expectStatus(await officer.api.get(`/v1/events?${q(bad)}`), 400, JSON.stringify(bad));
    }
    expectStatus(await officer.api.get(`/v1/events?${q({ from: third.created, to: first.created })}`), 400, 'from after to');
  });

  test('Link paging walks every event once, newest first', async () => {
    const since = new Date().toISOString();
    const [lee] = await createPeople(target.admin, 'Lee Pages');
    const rooms = [await roomWith(lee, []), await roomWith(lee, [])];
    const posted = [];
    for (let i = 0; i < 7; i++) posted.push(await post(lee, { roomId: rooms[i % 2].id, text: `page ${i}` }));
    const first = await officer.api.get(`/v1/events?${q({ resource: 'messages', actorId: lee.id, from: since, max: 3 })}`);
    expectStatus(first, 200);
    assert.equal(first.body.items.length, 3);
    assert.ok(nextLink(first, target.url));
    const pages = await allPages<Event>(officer.api, `/v1/events?${q({ resource: 'messages', actorId: lee.id, from: since, max: 3 })}`);
    assert.deepEqual(pages.map((page) => page.length), [3, 3, 1]);
    assert.deepEqual(pages.flat().map((e) => e.data.id), posted.map((m) => m.id).reverse());
  });
});
