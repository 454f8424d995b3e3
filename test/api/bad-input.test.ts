// Bad input over real HTTPS, one table row per rule: every malformed, unauthorized, unknown,
// oversized or unsupported request gets the status Webex would answer with and Webex's error
// shape (the API client checks the shape; each row checks the status and the trackingId), and
// none of them crashes or hangs the server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import type { ApiResponse } from '../../clients/api-client.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { startTarget, type Target } from './target.ts';

// Small enough that 10 KB is too large, large enough for a message of Webex's 7439-byte limit.
const MAX_BODY_BYTES = 9000;

let target: Target;
let alice: TestPerson;
let bob: TestPerson;
/** Values substituted for `{name}` in a row's path and body. */
const fixtures: Record<string, string> = {};

const unknownId = (kind: string) => Buffer.from(`ciscospark://us/${kind}/${randomUUID()}`).toString('base64url');

before(async () => {
  target = await startTarget({ SQUARED_MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
  [alice, bob] = await createPeople(target.admin, 'Alice BadInput', 'Bob BadInput');
  const room = await alice.api.post('/v1/rooms', { title: 'Bad input' });
  const membership = await alice.api.post('/v1/memberships', { roomId: room.body.id, personId: bob.id });
  const message = await alice.api.post('/v1/messages', { roomId: room.body.id, text: 'hello' });
  const team = await alice.api.post('/v1/teams', { name: 'Bad input team' });
  const teamMembership = await alice.api.post('/v1/team/memberships', { teamId: team.body.id, personId: bob.id });
  for (const created of [room, membership, message, team, teamMembership]) assert.equal(created.status, 200, created.text);
  Object.assign(fixtures, {
    room: room.body.id,
    membership: membership.body.id,
    message: message.body.id,
    team: team.body.id,
    teamMembership: teamMembership.body.id,
    alice: alice.id,
    bob: bob.id,
    unknownRoom: unknownId('ROOM'),
    unknownMessage: unknownId('MESSAGE'),
    unknownMembership: unknownId('MEMBERSHIP'),
    unknownPerson: unknownId('PEOPLE'),
    unknownTeam: unknownId('TEAM'),
    unknownTeamMembership: unknownId('TEAM_MEMBERSHIP'),
  });
});
after(() => target.stop());

const fill = (text: string) => text.replace(/\{(\w+)\}/g, (_, name: string) => {
  if (!(name in fixtures)) throw new Error(`no fixture ${name}`);
  return fixtures[name];
});
const fillDeep = (value: unknown): unknown => {
  if (typeof value === 'string') return fill(value);
  if (Array.isArray(value)) return value.map(fillDeep);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillDeep(v)]));
  return value;
};

interface Row {
  name: string;
  method: string;
  /** May contain `{fixture}` placeholders. */
  path: string;
  /** A JSON body (placeholders are filled in). */
  body?: unknown;
  /** Raw body bytes with their content type, sent as they are. */
  raw?: { body: string | Buffer; contentType?: string };
  headers?: Record<string, string>;
  /** Who asks: alice (default), the administrator, nobody (no Authorization header), or a literal token. */
  token?: 'alice' | 'admin' | 'none' | { literal: string };
  expect: number;
  /** Skip the client's response validation (the token endpoint's errors follow RFC 6749, not Webex, except for gateway errors). */
  unchecked?: boolean;
  /** Further checks of the response. */
  check?(response: ApiResponse): void;
}

const noItems = (response: ApiResponse) => assert.deepEqual(response.body.items, [], 'no unexpected results');
const allows = (methods: string) => (response: ApiResponse) => {
  const allow = String(response.headers.allow ?? '');
  assert.ok(allow, 'a 405 names the allowed methods in an Allow header');
  assert.deepEqual(allow.split(',').map((m) => m.trim()).sort(), methods.split(',').sort());
};
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const lacks = (...fields: string[]) => (response: ApiResponse) => {
  for (const field of fields) assert.ok(!(field in response.body), `no ${field} in ${response.text}`);
};

const rows: Row[] = [
  // Bodies that are not a JSON object
  { name: 'malformed JSON', method: 'POST', path: '/v1/rooms', raw: { body: '{"title": "x"', contentType: 'application/json' }, expect: 400 },
  { name: 'JSON with a trailing comma', method: 'POST', path: '/v1/rooms', raw: { body: '{"title": "x",}', contentType: 'application/json' }, expect: 400 },
  { name: 'a JSON array body', method: 'POST', path: '/v1/rooms', raw: { body: '[{"title": "x"}]', contentType: 'application/json' }, expect: 400 },
  { name: 'a JSON string body', method: 'POST', path: '/v1/rooms', raw: { body: '"title"', contentType: 'application/json' }, expect: 400 },
  { name: 'a JSON null body', method: 'POST', path: '/v1/messages', raw: { body: 'null', contentType: 'application/json' }, expect: 400 },
  { name: 'a JSON number body', method: 'PUT', path: '/v1/rooms/{room}', raw: { body: '42', contentType: 'application/json' }, expect: 400 },
  { name: 'a deeply nested JSON value', method: 'POST', path: '/v1/rooms', raw: { body: `{"title": ${deepArray(4000)}}`, contentType: 'application/json' }, expect: 400 },
  { name: 'an empty JSON body for a create', method: 'POST', path: '/v1/rooms', raw: { body: '', contentType: 'application/json' }, expect: 400 },

  // Wrong types and out-of-range values
  { name: 'a number as title', method: 'POST', path: '/v1/rooms', body: { title: 5 }, expect: 400 },
  { name: 'an object as title', method: 'POST', path: '/v1/rooms', body: { title: { $ne: null } }, expect: 400 },
  { name: 'a number as message text', method: 'POST', path: '/v1/messages', body: { roomId: '{room}', text: 12 }, expect: 400 },
  { name: 'an array as roomId', method: 'POST', path: '/v1/messages', body: { roomId: ['{room}'], text: 'hi' }, expect: 400 },
  { name: 'a non-boolean isModerator', method: 'PUT', path: '/v1/memberships/{membership}', body: { isModerator: 'maybe' }, expect: 400 },
  { name: 'max=abc', method: 'GET', path: '/v1/rooms?max=abc', expect: 400 },
  { name: 'max=0', method: 'GET', path: '/v1/rooms?max=0', expect: 400 },
  { name: 'max=-1', method: 'GET', path: '/v1/messages?roomId={room}&max=-1', expect: 400 },
  { name: 'max=2.5', method: 'GET', path: '/v1/memberships?max=2.5', expect: 400 },
  { name: 'max=100000', method: 'GET', path: '/v1/rooms?max=100000', expect: 400 },
  { name: 'an unknown sortBy', method: 'GET', path: '/v1/rooms?sortBy=title', expect: 400 },
  { name: 'an unknown room type', method: 'GET', path: '/v1/rooms?type=secret', expect: 400 },
  { name: 'a before that is not a date', method: 'GET', path: '/v1/messages?roomId={room}&before=yesterday', expect: 400 },
  { name: 'an invalid email', method: 'POST', path: '/v1/memberships', body: { roomId: '{room}', personEmail: 'not-an-email' }, expect: 400 },

  // `null` for a field is as if it were absent (README, Webex conventions); no response carries `null`
  { name: 'null markdown on an edit', method: 'PUT', path: '/v1/messages/{message}', body: { roomId: '{room}', text: 'edited', markdown: null }, expect: 200, check: lacks('markdown', 'html') },
  { name: 'null optional fields of a message', method: 'POST', path: '/v1/messages', body: { roomId: '{room}', text: 'hi', markdown: null, parentId: null, files: null }, expect: 200, check: lacks('markdown', 'parentId', 'files') },
  { name: 'null optional fields of a room', method: 'POST', path: '/v1/rooms', body: { title: 'Nulls', description: null, teamId: null, classificationId: null, isLocked: null }, expect: 200, check: lacks('description', 'teamId', 'classificationId') },
  { name: 'null description of a team', method: 'POST', path: '/v1/teams', body: { name: 'Null team', description: null }, expect: 200, check: lacks('description') },

  // Unknown ids of every kind of resource
  { name: 'an unknown room', method: 'GET', path: '/v1/rooms/{unknownRoom}', expect: 404 },
  { name: 'an unknown room (update)', method: 'PUT', path: '/v1/rooms/{unknownRoom}', body: { title: 'x' }, expect: 404 },
  { name: 'an unknown room (delete)', method: 'DELETE', path: '/v1/rooms/{unknownRoom}', expect: 404 },
  { name: 'an unknown message', method: 'GET', path: '/v1/messages/{unknownMessage}', expect: 404 },
  { name: 'an unknown message (delete)', method: 'DELETE', path: '/v1/messages/{unknownMessage}', expect: 404 },
  { name: 'an unknown membership', method: 'GET', path: '/v1/memberships/{unknownMembership}', expect: 404 },
  { name: 'an unknown membership (update)', method: 'PUT', path: '/v1/memberships/{unknownMembership}', body: { isRoomHidden: true }, expect: 404 },
  { name: 'an unknown membership (delete)', method: 'DELETE', path: '/v1/memberships/{unknownMembership}', expect: 404 },
  { name: 'an unknown person', method: 'GET', path: '/v1/people/{unknownPerson}', expect: 404 },
  { name: 'an unknown team', method: 'GET', path: '/v1/teams/{unknownTeam}', expect: 404 },
  { name: 'an unknown team (delete)', method: 'DELETE', path: '/v1/teams/{unknownTeam}', expect: 404 },
  { name: 'an unknown team membership', method: 'GET', path: '/v1/team/memberships/{unknownTeamMembership}', expect: 404 },
  { name: 'an unknown team membership (delete)', method: 'DELETE', path: '/v1/team/memberships/{unknownTeamMembership}', expect: 404 },
  { name: 'messages of an unknown room', method: 'GET', path: '/v1/messages?roomId={unknownRoom}', expect: 404 },
  { name: 'memberships of an unknown team', method: 'GET', path: '/v1/team/memberships?teamId={unknownTeam}', expect: 404 },
  { name: 'a message to an unknown room', method: 'POST', path: '/v1/messages', body: { roomId: '{unknownRoom}', text: 'hi' }, expect: 404 },
  { name: 'a message to an unknown person', method: 'POST', path: '/v1/messages', body: { toPersonId: '{unknownPerson}', text: 'hi' }, expect: 404 },
  { name: 'adding an unknown person to a room', method: 'POST', path: '/v1/memberships', body: { roomId: '{room}', personId: '{unknownPerson}' }, expect: 404 },
  { name: 'a room in an unknown team', method: 'POST', path: '/v1/rooms', body: { title: 'x', teamId: '{unknownTeam}' }, expect: 404 },
  { name: 'a non-base64 room id', method: 'GET', path: '/v1/rooms/not*an*id!', expect: 404 },
  { name: 'a non-base64 message id', method: 'GET', path: '/v1/messages/%7B%7D', expect: 404 },
  { name: 'base64 of something that is not an id', method: 'GET', path: `/v1/rooms/${Buffer.from('hello world').toString('base64url')}`, expect: 404 },
  { name: 'a person id used as a room id', method: 'GET', path: '/v1/rooms/{alice}', expect: 404 },
  { name: 'a person id used as roomId of messages', method: 'GET', path: '/v1/messages?roomId={alice}', expect: 404 },
  { name: 'a person id used as roomId of a message', method: 'POST', path: '/v1/messages', body: { roomId: '{bob}', text: 'hi' }, expect: 404 },
  { name: 'a room id used as a message id', method: 'GET', path: '/v1/messages/{room}', expect: 404 },
  { name: 'a membership id used as a team membership id', method: 'GET', path: '/v1/team/memberships/{membership}', expect: 404 },
  { name: 'a team id used as a room id', method: 'GET', path: '/v1/rooms/{team}', expect: 404 },
  { name: 'a room id used as a person id', method: 'GET', path: '/v1/people/{room}', expect: 404 },

  // Missing required fields
  { name: 'a room without title', method: 'POST', path: '/v1/rooms', body: { description: 'no title' }, expect: 400 },
  { name: 'a room with an empty title', method: 'POST', path: '/v1/rooms', body: { title: '   ' }, expect: 400 },
  { name: 'a message without roomId or toPerson', method: 'POST', path: '/v1/messages', body: { text: 'where to?' }, expect: 400 },
  { name: 'a message with both roomId and toPersonId', method: 'POST', path: '/v1/messages', body: { roomId: '{room}', toPersonId: '{bob}', text: 'hi' }, expect: 400 },
  { name: 'a message without text', method: 'POST', path: '/v1/messages', body: { roomId: '{room}' }, expect: 400 },
  { name: 'a message with empty text', method: 'POST', path: '/v1/messages', body: { roomId: '{room}', text: '' }, expect: 400 },
  { name: 'a membership without a person', method: 'POST', path: '/v1/memberships', body: { roomId: '{room}' }, expect: 400 },
  { name: 'a membership without roomId', method: 'POST', path: '/v1/memberships', body: { personId: '{bob}' }, expect: 400 },
  { name: 'messages without roomId', method: 'GET', path: '/v1/messages', expect: 400 },
  { name: 'team memberships without teamId', method: 'GET', path: '/v1/team/memberships', expect: 400 },
  { name: 'a person without emails (admin)', method: 'POST', path: '/v1/people', body: { displayName: 'No Email' }, token: 'admin', expect: 400 },

  // Sizes
  { name: 'a 10 KB body', method: 'POST', path: '/v1/messages', body: { roomId: '{room}', text: 'x'.repeat(10 * 1024) }, expect: 413 },
  { name: 'a 10 KB body of a PUT', method: 'PUT', path: '/v1/rooms/{room}', body: { title: 'x', description: 'y'.repeat(10 * 1024) }, expect: 413 },
  { name: 'a 10 KB body on the public token endpoint', method: 'POST', path: '/v1/access_token', raw: { body: `grant_type=password&username=${'u'.repeat(10 * 1024)}`, contentType: 'application/x-www-form-urlencoded' }, token: 'none', unchecked: true, expect: 413 },
  { name: 'message text of 7440 bytes', method: 'POST', path: '/v1/messages', body: { roomId: '{room}', text: 'a'.repeat(7440) }, expect: 400 },
  { name: 'message text of 2500 three-byte characters (7500 bytes)', method: 'POST', path: '/v1/messages', body: { roomId: '{room}', text: '€'.repeat(2500) }, expect: 400 },
  { name: 'message markdown of 7440 bytes', method: 'POST', path: '/v1/messages', body: { roomId: '{room}', markdown: 'a'.repeat(7440) }, expect: 400 },
  { name: 'message text of exactly 7439 bytes is fine', method: 'POST', path: '/v1/messages', body: { roomId: '{room}', text: 'a'.repeat(7439) }, expect: 200 },
  { name: 'a title over 256 characters', method: 'POST', path: '/v1/rooms', body: { title: 't'.repeat(257) }, expect: 400 },

  // Content types
  { name: 'a text/plain body', method: 'POST', path: '/v1/rooms', raw: { body: 'title=x', contentType: 'text/plain' }, expect: 415 },
  { name: 'an application/xml body', method: 'POST', path: '/v1/messages', raw: { body: '<message><text>hi</text></message>', contentType: 'application/xml' }, expect: 415 },
  { name: 'an application/octet-stream body', method: 'PUT', path: '/v1/rooms/{room}', raw: { body: Buffer.from([0, 1, 2, 3]), contentType: 'application/octet-stream' }, expect: 415 },
  { name: 'a form body is accepted', method: 'POST', path: '/v1/rooms', raw: { body: 'title=From%20a%20form', contentType: 'application/x-www-form-urlencoded' }, expect: 200 },

  // Authentication
  { name: 'no Authorization header', method: 'GET', path: '/v1/rooms', token: 'none', expect: 401 },
  { name: 'no Authorization header on a create', method: 'POST', path: '/v1/rooms', body: { title: 'x' }, token: 'none', expect: 401 },
  { name: 'a forged token', method: 'GET', path: '/v1/people/me', token: { literal: 'forged-token-0123456789' }, expect: 401 },
  { name: 'a Basic Authorization scheme', method: 'GET', path: '/v1/rooms', token: 'none', headers: { authorization: `Basic ${Buffer.from('admin:password').toString('base64')}` }, expect: 401 },
  { name: 'a Bearer scheme without a token', method: 'GET', path: '/v1/rooms', token: 'none', headers: { authorization: 'Bearer ' }, expect: 401 },
  { name: 'two tokens in one Bearer header', method: 'GET', path: '/v1/rooms', token: 'none', headers: { authorization: 'Bearer abc def' }, expect: 401 },
  { name: 'an overlong bearer token', method: 'GET', path: '/v1/rooms', token: { literal: 'x'.repeat(2000) }, expect: 401 },

  // Methods and paths
  { name: 'PATCH on a collection', method: 'PATCH', path: '/v1/rooms', body: { title: 'x' }, expect: 405, check: allows('GET,POST') },
  { name: 'DELETE on a collection', method: 'DELETE', path: '/v1/rooms', expect: 405, check: allows('GET,POST') },
  { name: 'PATCH on an item', method: 'PATCH', path: '/v1/rooms/{room}', body: { title: 'x' }, expect: 405, check: allows('GET,PUT,DELETE') },
  { name: 'PUT on a collection', method: 'PUT', path: '/v1/messages', body: { text: 'x' }, expect: 405, check: allows('GET,POST') },
  { name: 'an unknown path', method: 'GET', path: '/v1/nope', expect: 404 },
  { name: 'an unknown nested path', method: 'GET', path: '/v1/rooms/{room}/nope', expect: 404 },
  { name: 'an unknown path without a token', method: 'POST', path: '/v1/nope', body: {}, token: 'none', expect: 404 },

  // Query injection attempts
  { name: 'displayName=% (a LIKE wildcard)', method: 'GET', path: '/v1/people?displayName=%25', expect: 200, check: noItems },
  { name: 'displayName=_ (a LIKE wildcard)', method: 'GET', path: '/v1/people?displayName=_', expect: 200, check: noItems },
  { name: "displayName=' OR 1=1", method: 'GET', path: `/v1/people?displayName=${encodeURIComponent("' OR 1=1 --")}`, expect: 200, check: noItems },
  { name: "email=' OR '1'='1", method: 'GET', path: `/v1/people?email=${encodeURIComponent("x' OR '1'='1")}`, expect: 200, check: noItems },
  { name: "id=' OR 1=1", method: 'GET', path: `/v1/people?id=${encodeURIComponent("') OR 1=1 --")}`, expect: 200, check: noItems },
  { name: "teamId=' OR 1=1", method: 'GET', path: `/v1/rooms?teamId=${encodeURIComponent("' OR 1=1 --")}`, expect: 200, check: noItems },
  { name: 'a forged cursor', method: 'GET', path: `/v1/people?displayName=Alice&cursor=${encodeURIComponent("' OR 1=1 --")}`, expect: 200 },
];

/** The `token` option of the API client for a row. */
function tokenOf(row: Row): string | null | undefined {
  const token = row.token ?? 'alice';
  if (token === 'none') return null;
  if (token === 'admin') return target.admin.token;
  if (token === 'alice') return alice.token;
  return token.literal;
}

describe('bad input is answered with the right status and a Webex error', () => {
  for (const row of rows) {
    test(`${row.method} ${row.path.slice(0, 80)}: ${row.name} → ${row.expect}`, async () => {
      const response = await target.admin.request(row.method, fill(row.path), {
        json: row.body === undefined ? undefined : fillDeep(row.body),
        raw: row.raw,
        headers: row.headers,
        token: tokenOf(row),
        unchecked: row.unchecked,
      });
      assert.equal(response.status, row.expect, response.text.slice(0, 500));
      if (row.expect >= 400) {
        assert.equal(typeof response.body, 'object', 'an error has a JSON body');
        assert.equal(response.body.trackingId, response.headers.trackingid, 'the body trackingId is the TrackingID header');
        assert.ok(response.body.message, 'an error has a message');
      }
      row.check?.(response);
    });
  }

  test('a chunked body (no Content-Length) over the limit is 413 too', async () => {
    const body = JSON.stringify({ roomId: fixtures.room, text: 'x'.repeat(10 * 1024) });
    const response = await new Promise<{ status: number; trackingId: unknown; body: any }>((resolve, reject) => {
      const req = https.request(new URL('/v1/messages', target.url), {
        method: 'POST', ca: target.ca, agent: false, timeout: 10_000,
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
      }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, trackingId: res.headers.trackingid, body: JSON.parse(text) }));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      // Written in pieces without a length, so Node sends Transfer-Encoding: chunked.
      for (let i = 0; i < body.length; i += 2048) req.write(body.slice(i, i + 2048));
      req.end();
    });
    assert.equal(response.status, 413);
    assert.equal(response.body.trackingId, response.trackingId);
    assert.ok(response.body.errors[0].description);
  });

  test('after all of the above the server is healthy and serves normal requests', async () => {
    const health = await target.admin.get('/health');
    assert.equal(health.status, 200);
    const room = await alice.api.post('/v1/rooms', { title: 'Still fine' });
    assert.equal(room.status, 200);
    const posted = await alice.api.post('/v1/messages', { roomId: room.body.id, text: 'still here' });
    assert.equal(posted.status, 200);
    const listed = await alice.api.get(`/v1/messages?roomId=${room.body.id}`);
    assert.deepEqual(listed.body.items.map((m: { text: string }) => m.text), ['still here']);
  });
});

describe('TrackingID', () => {
  test('a client-supplied TrackingID header is echoed back', async () => {
    const trackingId = `CLIENT_${randomUUID()}`;
    const response = await alice.api.get('/v1/people/me', { headers: { TrackingID: trackingId } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.trackingid, trackingId);
  });

  test('a client-supplied TrackingID is echoed in an error body too', async () => {
    const trackingId = `CLIENT_${randomUUID()}`;
    const response = await alice.api.get(`/v1/rooms/${unknownId('ROOM')}`, { headers: { TrackingID: trackingId } });
    assert.equal(response.status, 404);
    assert.equal(response.headers.trackingid, trackingId);
    assert.equal(response.body.trackingId, trackingId);
  });

  test('a client-supplied TrackingID is echoed on 404 and 405 for unknown paths and methods', async () => {
    for (const [method, path, status] of [['GET', '/v1/nope', 404], ['PATCH', '/v1/rooms', 405]] as const) {
      const trackingId = `CLIENT_${randomUUID()}`;
      const response = await alice.api.request(method, path, { headers: { TrackingID: trackingId } });
      assert.equal(response.status, status);
      assert.equal(response.headers.trackingid, trackingId);
      assert.equal(response.body.trackingId, trackingId);
    }
  });

  test('every response without a client TrackingID gets a fresh one', async () => {
    const [a, b] = await Promise.all([alice.api.get('/v1/people/me'), alice.api.get('/v1/people/me')]);
    assert.ok(a.headers.trackingid);
    assert.notEqual(a.headers.trackingid, b.headers.trackingid);
  });

  test('an unusable client TrackingID (too long or with odd characters) is replaced, not echoed', async () => {
    for (const offered of ['x'.repeat(500), 'has spaces and <tags>']) {
      const response = await alice.api.get('/v1/people/me', { headers: { TrackingID: offered } });
      assert.equal(response.status, 200);
      assert.ok(response.headers.trackingid);
      assert.notEqual(response.headers.trackingid, offered);
    }
  });
});
