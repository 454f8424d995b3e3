// Avatars over real HTTPS: the generated default of a person without one (initials on a
// colour of their id, an SVG cached for good), on every people answer; uploads (an image
// body, a multipart file), the renditions checked as images (square, every size, WebP and
// PNG), year-long caching of a URL that changes with the picture, the old picture gone once
// replaced, who may change whose avatar, and bad images refused.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { randomUUID } from 'node:crypto';
import { createPeople, createPerson, type TestPerson } from '../harness/people.ts';
import { pngClaiming } from '../harness/documents.ts';
import { until } from '../harness/wait.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
let alice: TestPerson;
let bob: TestPerson;
before(async () => {
  target = await startTarget();
  [alice, bob] = await createPeople(target.admin, 'Alice Avatar', 'Bob Avatar');
});
after(() => target.stop());

const photo = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 40 } } }).jpeg().toBuffer();
const upload = (who: TestPerson, personId: string, body: Buffer, contentType = 'image/jpeg') =>
  who.api.put(`/v1/people/${personId}/avatar`, undefined, { raw: { body, contentType } });


function multipart(field: string, filename: string, type: string, bytes: Buffer): { body: Buffer; contentType: string } {
  const boundary = `----squared${randomUUID()}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`);
  return { body: Buffer.concat([head, bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]), contentType: `multipart/form-data; boundary=${boundary}` };
}

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

describe('uploading an avatar', () => {
  let firstUrl: string;

  test('PUT /v1/people/me/avatar with a JPEG body: cropped square at 40, 80, 160 and 640 px, WebP and PNG', async () => {
    const answer = await upload(alice, 'me', await photo(900, 600));
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.body.id, alice.id);
    firstUrl = answer.body.avatar;
    assert.match(firstUrl, /^https:\/\/.+\/v1\/avatars\/[0-9a-f]{64}\/640\.png$/);
    assert.equal((await alice.api.get('/v1/people/me')).body.avatar, firstUrl);
    assert.equal((await bob.api.get(`/v1/people/${alice.id}`)).body.avatar, firstUrl);
    for (const size of [40, 80, 160, 640]) {
      for (const format of ['webp', 'png']) {
        const rendition = await fetchPublic(firstUrl.replace(/640\.png$/, `${size}.${format}`));
        assert.equal(rendition.status, 200, `${size}.${format}`);
        assert.equal(rendition.headers['content-type'], `image/${format}`);
        assert.equal(rendition.headers['x-content-type-options'], 'nosniff');
        const meta = await sharp(rendition.bytes).metadata();
        assert.deepEqual([meta.format, meta.width, meta.height], [format, size, size]);
      }
    }
  });

  test('a rendition is cached for a year and revalidates with its ETag', async () => {
    const first = await fetchPublic(firstUrl);
    assert.match(String(first.headers['cache-control']), /public, max-age=31536000, immutable/);
    const etag = String(first.headers['etag']);
    assert.ok(etag.length > 2);
    const again = await fetchPublic(firstUrl, { 'if-none-match': etag });
    assert.equal(again.status, 304);
    assert.equal(again.bytes.length, 0);
  });

  test('a new avatar (a multipart file, as a browser sends it) changes the URL, and the old one is gone', async () => {
    const png = await sharp({ create: { width: 300, height: 500, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 1 } } }).png().toBuffer();
    const form = multipart('avatar', 'me.png', 'image/png', png);
    const answer = await alice.api.put('/v1/people/me/avatar', undefined, { raw: form });
    assert.equal(answer.status, 200, answer.text);
    assert.notEqual(answer.body.avatar, firstUrl);
    const { data, info } = await sharp((await fetchPublic(answer.body.avatar)).bytes).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [640, 640]);
    assert.deepEqual([...data.subarray(0, 3)], [0, 0, 255]);
    assert.equal((await fetchPublic(firstUrl)).status, 404);
  });

  test('an update of the person that sends back its avatar URL keeps the avatar', async () => {
    const me = (await alice.api.get('/v1/people/me')).body;
    const updated = await target.admin.put(`/v1/people/${alice.id}`, { ...me, displayName: 'Alice Avatar Renamed' });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.body.avatar, me.avatar);
    // Still the actor's own: a replacement releases it.
    assert.equal((await upload(alice, 'me', await photo(64, 64))).status, 200);
    assert.equal((await fetchPublic(me.avatar)).status, 404);
  });

  test('DELETE /v1/people/me/avatar goes back to the default', async () => {
    const current = (await alice.api.get('/v1/people/me')).body.avatar;
    assert.equal((await alice.api.delete('/v1/people/me/avatar')).status, 204);
    assert.match((await alice.api.get('/v1/people/me')).body.avatar, /\/v1\/avatars\/default\//);
    assert.equal((await fetchPublic(current)).status, 404);
  });
});

describe('whose avatar', () => {
  test('an administrator changes anyone\'s; nobody else may change another\'s', async () => {
    const carol = await createPerson(target.admin, 'Carol Avatar');
    const refused = await upload(bob, carol.id, await photo(100, 100));
    assert.equal(refused.status, 403);
    const done = await upload({ ...alice, api: target.admin }, carol.id, await photo(100, 100));
    assert.equal(done.status, 200, done.text);
    assert.equal((await bob.api.get(`/v1/people/${carol.id}`)).body.avatar, done.body.avatar);
    const nobody = Buffer.from(`ciscospark://us/PEOPLE/${randomUUID()}`).toString('base64url');
    assert.equal((await target.admin.put(`/v1/people/${nobody}/avatar`, undefined, { raw: { body: await photo(10, 10), contentType: 'image/jpeg' } })).status, 404);
    assert.equal((await bob.api.put('/v1/people/me/avatar', undefined, { raw: { body: await photo(10, 10), contentType: 'image/jpeg' }, token: null })).status, 401);
    // Deleting the person releases their picture.
    assert.equal((await target.admin.delete(`/v1/people/${carol.id}`)).status, 204);
    await until(async () => (await fetchPublic(done.body.avatar)).status === 404, 10_000, 'the deleted person\'s avatar to be gone');
  });

  test('an unknown version or rendition is a 404', async () => {
    assert.equal((await fetchPublic(`${target.url}/v1/avatars/${'0'.repeat(64)}/640.png`)).status, 404);
  });
});

describe('bad images', () => {
  test('text, a corrupt image, a decompression bomb and a PDF are 400; other content types 415; too large 413', async () => {
    const before = (await bob.api.get('/v1/people/me')).body.avatar;
    assert.equal((await upload(bob, 'me', Buffer.from('not an image at all'), 'image/png')).status, 400);
    const jpeg = await photo(200, 200);
    assert.equal((await upload(bob, 'me', jpeg.subarray(0, jpeg.length / 2))).status, 400);
    const bomb = await upload(bob, 'me', pngClaiming(100_000, 100_000), 'image/png');
    assert.equal(bomb.status, 400);
    assert.match(bomb.body.message, /pixels/);
    assert.equal((await upload(bob, 'me', Buffer.from('%PDF-1.4\n%%EOF\n'), 'image/png')).status, 400);
    assert.equal((await upload(bob, 'me', Buffer.alloc(0))).status, 400);
    assert.equal((await bob.api.put('/v1/people/me/avatar', { image: 'x' })).status, 415);
    assert.equal((await bob.api.put('/v1/people/me/avatar', undefined, { raw: multipart('note', 'x.txt', 'text/plain', Buffer.alloc(0)) })).status, 400);
    const huge = await upload(bob, 'me', Buffer.alloc(8 * 1024 * 1024 + 1));
    assert.equal(huge.status, 413);
    assert.equal((await bob.api.get('/v1/people/me')).body.avatar, before);
  });
});
