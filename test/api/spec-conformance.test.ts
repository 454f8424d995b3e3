// What the spec fuzzer (spec-fuzz.test.ts) found, kept as ordinary tests so that it does not
// depend on the fuzzer finding it again: requests the Webex schemas forbid that Squared
// accepted (malformed booleans and enums of parameters it does not act on, a PUT without
// its required field, a query string of a write nobody looked at), and requests they allow
// that Squared refused. One row per finding, with the fuzzer's own input.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ApiResponse } from '../../clients/api-client.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
let alice: TestPerson;
let bob: TestPerson;
const fixtures: Record<string, string> = {};

before(async () => {
  target = await startTarget();
  [alice, bob] = await createPeople(target.admin, 'Alice Conformance', 'Bob Conformance');
  const room = await alice.api.post('/v1/rooms', { title: 'Conformance' });
  const membership = await alice.api.post('/v1/memberships', { roomId: room.body.id, personId: bob.id });
  const team = await alice.api.post('/v1/teams', { name: 'Conformance team', description: 'The A team' });
  const meeting = await alice.api.post('/v1/meetings', { title: 'Conformance meeting', start: '2030-05-16T04:30:00Z', end: '2030-05-16T05:30:00Z' });
  for (const created of [room, membership, team, meeting]) assert.equal(created.status, 200, created.text);
  Object.assign(fixtures, { alice: alice.id, membership: membership.body.id, team: team.body.id, meeting: meeting.body.id });
});
after(() => target.stop());

const fill = (text: string) => text.replace(/\{(\w+)\}/g, (_, name: string) => fixtures[name]);

interface Row {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: Record<string, unknown>;
  /** The administrator asks (people writes); else alice. */
  admin?: boolean;
  expect: number;
  check?(response: ApiResponse): Promise<void> | void;
}

const rows: Row[] = [
  // Boolean query parameters: `true` or `false`, even where Squared does not act on them.
  { name: 'excludeStatus=null on GET /people', method: 'GET', path: '/v1/people?excludeStatus=null&excludeStatus=null', admin: true, expect: 400 },
  {
    name: 'callingData=351 on GET /people/me', method: 'GET', path: '/v1/people/me?callingData=351', expect: 400,
    async check() {
      assert.equal((await alice.api.get('/v1/people/me?callingData=true')).status, 200, 'a well-formed one is accepted');
    },
  },
  { name: 'callingData=5e-324 on GET /people/me', method: 'GET', path: '/v1/people/me?callingData=5e-324', expect: 400 },
  { name: 'callingData=a on GET /people/{id}', method: 'GET', path: '/v1/people/{alice}?callingData=a', expect: 400 },
  { name: 'orgPublicSpaces=null on GET /rooms', method: 'GET', path: '/v1/rooms?orgPublicSpaces=null&orgPublicSpaces=null', expect: 400 },
  {
    name: 'current=null on GET /meetings/{id}', method: 'GET', path: '/v1/meetings/{meeting}?current=null&current=null', expect: 400,
    async check() {
      assert.equal((await alice.api.get(`/v1/meetings/${fixtures.meeting}?current=false`)).status, 200, 'a well-formed one is accepted');
    },
  },
  { name: 'hasChat=1 on GET /meetings', method: 'GET', path: '/v1/meetings?hasChat=1', expect: 400 },
  {
    name: 'sendEmail=257 on DELETE /meetings/{id}', method: 'DELETE', path: '/v1/meetings/{meeting}?sendEmail=257', expect: 400,
    async check() {
      assert.equal((await alice.api.get(`/v1/meetings/${fixtures.meeting}`)).status, 200, 'the refused delete deleted nothing');
    },
  },

  // The query string of a write is read too (it used to be dropped unseen).
  {
    name: 'showAllTypes and minResponse not booleans on PUT /people/{id}', method: 'PUT', path: '/v1/people/{alice}?showAllTypes=27067447437532387368192211681280&minResponse=%C3%B8M', admin: true, body: { displayName: 'Alice Renamed' }, expect: 400,
    async check() {
      assert.equal((await target.admin.get(`/v1/people/${alice.id}`)).body.displayName, 'Alice Conformance', 'the refused update changed nothing');
      assert.equal((await target.admin.put(`/v1/people/${alice.id}?minResponse=true`, { displayName: 'Alice Conformance' })).status, 200, 'well-formed options are accepted');
    },
  },
  { name: 'callingData=351 on POST /people', method: 'POST', path: '/v1/people?callingData=351', admin: true, body: { emails: ['nobody-conformance@example.com'] }, expect: 400 },

  // Enums of the meetings listing, Webex's whole set.
  { name: 'scheduledType=AAA on GET /meetings', method: 'GET', path: '/v1/meetings?scheduledType=AAA', expect: 400 },
  { name: 'meetingType=AAA on GET /meetings', method: 'GET', path: '/v1/meetings?meetingType=AAA', expect: 400 },
  { name: 'state=scheduled on GET /meetings (a Webex state Squared meetings never have)', method: 'GET', path: '/v1/meetings?state=scheduled', expect: 200, check: (r) => assert.deepEqual(r.body.items, []) },

  // A boolean in a JSON body is a boolean, not 0 or 1.
  { name: 'enabledJoinBeforeHost: 0 on POST /meetings', method: 'POST', path: '/v1/meetings', body: { title: 'Zero', start: '2030-05-16T04:30:00Z', end: '2030-05-16T05:30:00Z', enabledJoinBeforeHost: 0 }, expect: 400 },
  { name: 'enabledJoinBeforeHost: 0 on PATCH /meetings/{id}', method: 'PATCH', path: '/v1/meetings/{meeting}', body: { enabledJoinBeforeHost: 0 }, expect: 400 },
  {
    name: 'isModerator: 1 on PUT /memberships/{id}', method: 'PUT', path: '/v1/memberships/{membership}', body: { isModerator: 1 }, expect: 400,
    async check() {
      const form = await alice.api.put(`/v1/memberships/${fixtures.membership}`, undefined, { form: { isModerator: 'false' } });
      assert.equal(form.status, 200, `a form body's "false" is a boolean: ${form.text}`);
      assert.equal(form.body.isModerator, false);
    },
  },

  // A team membership names its person, as a room's does (it was a 404 "Person not found").
  { name: 'POST /team/memberships without personId or personEmail', method: 'POST', path: '/v1/team/memberships', body: { teamId: '{team}' }, expect: 400 },

  // A path id of only white space names nothing (it was a 400 from the trimmed id rule).
  { name: 'DELETE /messages/%0D', method: 'DELETE', path: '/v1/messages/%0D', expect: 404 },
  { name: 'GET /rooms/%20%09', method: 'GET', path: '/v1/rooms/%20%09', expect: 404 },

  // PUT /teams/{id} requires `name`, as in Webex; a `null` one is absent.
  {
    name: 'PUT /teams/{id} with name: null', method: 'PUT', path: '/v1/teams/{team}', body: { name: null, description: 'The A team' }, expect: 400,
    async check() {
      assert.equal((await alice.api.get(`/v1/teams/${fixtures.team}`)).body.name, 'Conformance team', 'the team kept its name');
    },
  },
  { name: 'PUT /teams/{id} without a body', method: 'PUT', path: '/v1/teams/{team}', expect: 400 },
];

describe('what the spec fuzzer found', () => {
  for (const row of rows) {
    test(`${row.name} → ${row.expect}`, async () => {
      const client = row.admin ? target.admin : alice.api;
      const response = await client.request(row.method, fill(row.path), row.body === undefined ? {} : { json: row.body });
      assert.equal(response.status, row.expect, response.text);
      await row.check?.(response);
    });
  }
});
