// Avatars over real HTTPS: the generated default of a person without one (initials on a
// colour of their id, an SVG cached for good), on every people answer, and an update that
// sends the person back unchanged leaving it alone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
let alice: TestPerson;
let bob: TestPerson;
before(async () => {
  target = await startTarget();
  [alice, bob] = await createPeople(target.admin, 'Alice Avatar', 'Bob Avatar');
});
after(() => target.stop());

/** Anyone may fetch an avatar: an <img> sends no token. */
const fetchPublic = (url: string, headers: Record<string, string> = {}) => target.admin.get(new URL(url).pathname, { token: null, headers });

describe('a person without an avatar', () => {
  test('has a generated default: their initials on a colour of their id, cached for good', async () => {
    const me = await alice.api.get('/v1/people/me');
    assert.match(me.body.avatar, /^https:\/\/.+\/v1\/avatars\/default\/AA\.[0-9a-f]{6}\.svg$/);
    assert.equal((await bob.api.get(`/v1/people/${alice.id}`)).body.avatar, me.body.avatar);
    const listed = await bob.api.get(`/v1/people?email=${encodeURIComponent(alice.email)}`);
    assert.equal(listed.body.items[0].avatar, me.body.avatar);
    const svg = await fetchPublic(me.body.avatar);
    assert.equal(svg.status, 200);
    assert.equal(svg.headers['content-type'], 'image/svg+xml');
    assert.match(String(svg.headers['cache-control']), /max-age=31536000.*immutable/);
    assert.match(String(svg.headers['content-security-policy']), /default-src 'none'/);
    assert.equal(svg.headers['x-content-type-options'], 'nosniff');
    assert.match(svg.text, />AA<\/text>/);
    const image = await sharp(svg.bytes).metadata();
    assert.deepEqual([image.format, image.width, image.height], ['svg', 640, 640]);
    const again = await fetchPublic(me.body.avatar, { 'if-none-match': String(svg.headers['etag']) });
    assert.equal(again.status, 304);
  });

  test('the colour is the id\'s, the initials follow the name', async () => {
    const colour = (url: string) => /\.([0-9a-f]{6})\.svg$/.exec(url)?.[1];
    const before = (await alice.api.get('/v1/people/me')).body;
    const renamed = await target.admin.put(`/v1/people/${alice.id}`, { ...before, displayName: 'Zoe Quinn' });
    assert.equal(renamed.status, 200, renamed.text);
    // The avatar URL sent back with the person is not stored as a picture of their own.
    assert.match(renamed.body.avatar, /\/v1\/avatars\/default\/ZQ\.[0-9a-f]{6}\.svg$/);
    assert.equal(colour(renamed.body.avatar), colour(before.avatar));
    const bobs = (await bob.api.get('/v1/people/me')).body.avatar;
    assert.match(bobs, /\/BA\.[0-9a-f]{6}\.svg$/);
  });

  test('an avatar URL an administrator sets is answered as set', async () => {
    const set = await target.admin.put(`/v1/people/${bob.id}`, { ...(await bob.api.get('/v1/people/me')).body, avatar: 'https://images.example.com/bob.png' });
    assert.equal(set.status, 200, set.text);
    assert.equal((await alice.api.get(`/v1/people/${bob.id}`)).body.avatar, 'https://images.example.com/bob.png');
  });

  test('a default avatar name that is not one is a 404', async () => {
    assert.equal((await fetchPublic(`${target.url}/v1/avatars/default/${encodeURIComponent('<script>.000000.svg')}`)).status, 404);
    assert.equal((await fetchPublic(`${target.url}/v1/avatars/default/AB.12345.svg`)).status, 404);
  });
});
