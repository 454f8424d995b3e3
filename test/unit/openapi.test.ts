// Proves the OpenAPI response validator can both pass and fail, so API tests that rely on it mean something.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HTTP_METHODS, assertValidResponse, extensions, matchTemplate, responseValidator, spec, specPath, validateResponse,
} from '../../clients/openapi-check.ts';

const ROOM_ID = 'Y2lzY29zcGFyazovL3VzL1JPT00vYmJjZWIxYWQtNDNmMS0zYjU4LTkxNDctZjE0YmIwYzRkMTU0';
const room = {
  id: ROOM_ID,
  title: 'Project Unicorn - Sprint 0',
  type: 'group',
  isLocked: true,
  lastActivity: '2016-04-21T19:12:48.920Z',
  creatorId: 'Y2lzY29zcGFyazovL3VzL1BFT1BMRS9mNWIzNjE4Ny1jOGRkLTQ3MjctOGIyZi1mOWM0NDdmMjkwNDY',
  created: '2016-04-21T19:01:55.966Z',
  ownerId: 'Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi85NmFiYzJhYS0zZGNjLTExZTUtYTE1Mi1mZTM0ODE5Y2RjOWE',
  isPublic: false,
};
const notFound = { message: 'The requested resource could not be found.', errors: [{ description: 'The requested resource could not be found.' }], trackingId: 'SQUARED_1234' };

test('a valid room passes GET /v1/rooms/{id}', () => {
  assert.deepEqual(validateResponse('GET', `/v1/rooms/${ROOM_ID}`, 200, room), []);
  assert.doesNotThrow(() => assertValidResponse('GET', `/v1/rooms/${ROOM_ID}`, 200, room));
});

test('a room with a non-boolean isLocked fails', () => {
  const problems = validateResponse('GET', `/v1/rooms/${ROOM_ID}`, 200, { ...room, isLocked: 'yes' });
  assert.equal(problems.length, 1);
  assert.match(problems[0], /isLocked must be boolean/);
  assert.throws(() => assertValidResponse('GET', `/v1/rooms/${ROOM_ID}`, 200, { ...room, isLocked: 'yes' }), /isLocked/);
});

test('a room collection passes, items as an object fails', () => {
  assert.deepEqual(validateResponse('GET', '/v1/rooms?max=2', 200, { items: [room, { ...room, type: 'direct' }] }), []);
  const problems = validateResponse('GET', '/v1/rooms?max=2', 200, { items: { 0: room } });
  assert.equal(problems.length, 1);
  assert.match(problems[0], /items must be array/);
});

test('errors are held to Squared\'s error shape', () => {
  assert.deepEqual(validateResponse('GET', `/v1/rooms/${ROOM_ID}`, 404, notFound), []);
  const { trackingId: _, ...withoutTrackingId } = notFound;
  assert.match(validateResponse('GET', `/v1/rooms/${ROOM_ID}`, 404, withoutTrackingId).join('\n'), /trackingId/);
  assert.notDeepEqual(validateResponse('GET', `/v1/rooms/${ROOM_ID}`, 404, { ...notFound, errors: [] }), []);
});

test('a 204 must have no body', () => {
  assert.deepEqual(validateResponse('DELETE', `/v1/rooms/${ROOM_ID}`, 204, undefined), []);
  assert.deepEqual(validateResponse('DELETE', `/v1/rooms/${ROOM_ID}`, 204, ''), []);
  assert.match(validateResponse('DELETE', `/v1/rooms/${ROOM_ID}`, 204, {}).join('\n'), /must have no body/);
});

test('unknown paths, methods and statuses fail', () => {
  assert.match(validateResponse('GET', '/v1/spaces', 200, {}).join('\n'), /not in the spec/);
  assert.match(validateResponse('PATCH', `/v1/rooms/${ROOM_ID}`, 200, room).join('\n'), /not in the spec/);
  assert.match(validateResponse('POST', '/v1/rooms', 201, room).join('\n'), /201 is not documented/);
});

test('/v1/people/me resolves to the /people/me template, not /people/{personId}', () => {
  assert.equal(specPath('/v1/people/me?callingData=true'), '/people/me');
  assert.equal(matchTemplate(Object.keys(spec.paths), '/people/me'), '/people/me');
  assert.equal(matchTemplate(Object.keys(spec.paths), '/people/abc'), '/people/{personId}');
  assert.equal(matchTemplate(Object.keys(spec.paths), '/messages/direct'), '/messages/direct');
  assert.match(validateResponse('GET', '/v1/people/me', 200, { emails: 'x' })[0], /^GET \/people\/me 200:/);
});

test('POST /v1/access_token is an extension with the RFC 6749 shape', () => {
  assert.ok(extensions.has('/access_token'));
  const token = { access_token: 'a', token_type: 'Bearer', expires_in: 1209600, refresh_token: 'r' };
  assert.deepEqual(validateResponse('POST', '/v1/access_token', 200, token), []);
  assert.match(validateResponse('POST', '/v1/access_token', 200, { ...token, expires_in: '1209600' }).join(), /expires_in/);
  assert.deepEqual(validateResponse('POST', '/v1/access_token', 400, { error: 'invalid_grant' }), []);
  assert.match(validateResponse('POST', '/v1/access_token', 400, notFound).join(), /error/);
});

test('callers can add extensions', () => {
  assert.notDeepEqual(validateResponse('GET', '/v1/health/live', 200, { ok: true }), []);
  extensions.add('/health/{probe}');
  try {
    assert.deepEqual(validateResponse('GET', '/v1/health/live', 200, { ok: true }), []);
  } finally {
    extensions.delete('/health/{probe}');
  }
});

test('every response schema of the reduced spec compiles', () => {
  let operations = 0;
  let schemas = 0;
  for (const [template, item] of Object.entries(spec.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!operation) continue;
      operations++;
      for (const status of Object.keys(operation.responses ?? {})) {
        if (responseValidator(method, template, status)) schemas++;
      }
    }
  }
  assert.equal(operations, 47);
  assert.equal(schemas, 39, 'every non-204 success response has a JSON schema; error statuses have none');
});
