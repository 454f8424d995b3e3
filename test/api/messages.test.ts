// Messages: posting, markdown rendering and its safety, mentions, threads, edits, deletes,
// listing and paging, and direct (1:1) messages including the concurrent first message.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { ApiClient, ApiResponse } from '../../clients/api-client.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { startTarget, type Target } from './target.ts';
import { allPages, expectStatus, nextLink, roomWith, type Room } from '../harness/rooms.ts';

let target: Target;
before(async () => {
  target = await startTarget();
});
after(() => target.stop());

interface Message {
  id: string; roomId: string; roomType: string; parentId?: string; text?: string; markdown?: string; html?: string;
  personId: string; personEmail: string; toPersonId?: string; toPersonEmail?: string;
  mentionedPeople?: string[]; mentionedGroups?: string[]; created: string; updated?: string;
}

async function post(person: TestPerson, body: Record<string, unknown>): Promise<Message> {
  const response = await person.api.post('/v1/messages', body);
  expectStatus(response, 200, 'post message');
  return response.body;
}

const say = (person: TestPerson, roomId: string, text: string) => post(person, { roomId, text });

/** Posts messages one after the other, a few ms apart so their created times differ. */
async function postInOrder(person: TestPerson, roomId: string, count: number, prefix = 'm'): Promise<Message[]> {
  const messages: Message[] = [];
  for (let i = 0; i < count; i++) {
    messages.push(await say(person, roomId, `${prefix}${i}`));
    await sleep(3);
  }
  return messages;
}

async function list(person: TestPerson, query: string): Promise<Message[]> {
  const response = await person.api.get(`/v1/messages?${query}`);
  expectStatus(response, 200, `list messages ${query}`);
  return response.body.items;
}

const ids = (items: { id: string }[]) => items.map((item) => item.id);
const texts = (items: Message[]) => items.map((item) => item.text);
const newestFirst = (items: Message[]) => ids(items).reverse();

describe('posting and reading', () => {
  test('a member posts a text message and another member reads it', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Post', 'Bob Post');
    const room = await roomWith(alice, [bob]);
    const message = await say(alice, room.id, 'hello there');
    assert.equal(message.roomId, room.id);
    assert.equal(message.roomType, 'group');
    assert.equal(message.text, 'hello there');
    assert.equal(message.personId, alice.id);
    assert.equal(message.personEmail, alice.email);
    assert.ok(!Number.isNaN(Date.parse(message.created)));
    const read = await bob.api.get(`/v1/messages/${message.id}`);
    expectStatus(read, 200);
    assert.equal(read.body.text, 'hello there');
    assert.equal(read.body.personId, alice.id);
  });

  test('a message needs text, markdown, files or attachments (400 without)', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Empty');
    const room = await roomWith(alice, []);
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id }), 400);
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id, text: '' }), 400);
  });

  test('a non-member gets 404 for posting, listing, and reading a message of the room', async () => {
    const [alice, eve] = await createPeople(target.admin, 'Alice Secret', 'Eve Secret');
    const room = await roomWith(alice, []);
    const message = await say(alice, room.id, 'private');
    expectStatus(await eve.api.post('/v1/messages', { roomId: room.id, text: 'intrusion' }), 404);
    expectStatus(await eve.api.get(`/v1/messages?roomId=${room.id}`), 404);
    expectStatus(await eve.api.get(`/v1/messages/${message.id}`), 404);
    assert.deepEqual(texts(await list(alice, `roomId=${room.id}`)), ['private']);
  });

  test('posting to a room that does not exist is 404', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Nowhere');
    const room = await roomWith(alice, []);
    expectStatus(await alice.api.delete(`/v1/rooms/${room.id}`), 204);
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id, text: 'into the void' }), 404);
    expectStatus(await alice.api.get('/v1/messages/not-a-message-id'), 404);
  });

  test("posting a message moves the room's lastActivity forward", async () => {
    const [alice] = await createPeople(target.admin, 'Alice LastActivity');
    const room = (await alice.api.get(`/v1/rooms/${(await roomWith(alice, [])).id}`)).body;
    await sleep(10);
    const message = await say(alice, room.id, 'activity');
    const after = (await alice.api.get(`/v1/rooms/${room.id}`)).body;
    assert.ok(Date.parse(after.lastActivity) > Date.parse(room.lastActivity));
    assert.equal(after.lastActivity, message.created);
  });
});

describe('markdown', () => {
  test('markdown is rendered to html', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Markdown');
    const room = await roomWith(alice, []);
    const message = await post(alice, { roomId: room.id, markdown: '**bold** and _it_ and [site](https://example.com/a)' });
    assert.equal(message.markdown, '**bold** and _it_ and [site](https://example.com/a)');
    assert.match(message.html!, /<strong>bold<\/strong>/);
    assert.match(message.html!, /<em>it<\/em>/);
    assert.match(message.html!, /<a href="https:\/\/example\.com\/a"[^>]*>site<\/a>/);
    assert.equal(typeof message.text, 'string', 'a plain-text rendering is provided');
  });

  test('raw HTML in markdown is escaped, never rendered as elements', async () => {
    const [alice] = await createPeople(target.admin, 'Alice RawHtml');
    const room = await roomWith(alice, []);
    const message = await post(alice, { roomId: room.id, markdown: 'look <img src=x onerror=alert(1)> and <script>alert(2)</script> <b onmouseover=alert(3)>b</b>' });
    const html = message.html!;
    assert.doesNotMatch(html, /<img/i);
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /<b[\s>]/i);
    assert.match(html, /&lt;img/);
    const stored = await alice.api.get(`/v1/messages/${message.id}`);
    assert.doesNotMatch(stored.body.html, /<img/i);
  });

  for (const source of [
    '[x](javascript:alert(1))',
    '[x](JaVaScRiPt:alert(1))',
    '[x](&#106;avascript:alert(1))',
    '[x](javascript&#58;alert(1))',
    '<javascript:alert(1)>',
    '[x][ref]\n\n[ref]: javascript:alert(1)',
    '![x](javascript:alert(1))',
    '[x](vbscript:msgbox(1))',
    '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  ]) {
    test(`a dangerous link is not rendered as a link: ${JSON.stringify(source)}`, async () => {
      const [alice] = await createPeople(target.admin, 'Alice Link');
      const room = await roomWith(alice, []);
      const message = await post(alice, { roomId: room.id, markdown: source });
      const html = message.html!;
      assert.doesNotMatch(html, /<a\s/i, `no anchor in ${html}`);
      assert.doesNotMatch(html, /<img/i, `no image in ${html}`);
      assert.doesNotMatch(html, /(href|src)\s*=\s*["']?\s*(javascript|vbscript|data):/i, `no dangerous URL attribute in ${html}`);
    });
  }

  test('the private-use characters the renderer uses internally are plain text in markdown', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice PrivateUse', 'Bob PrivateUse');
    const room = await roomWith(alice, [bob]);
    // \uE000 \uE000 0 \uE001 0 \uE001: removing the inner marker must not leave a marker behind.
    const crafted = 'a \uE000\uE0000\uE0010\uE001 b';
    const alone = await alice.api.post('/v1/messages', { roomId: room.id, markdown: crafted });
    expectStatus(alone, 200);
    assert.doesNotMatch(alone.body.html, /spark-mention|undefined/);
    assert.equal(alone.body.mentionedPeople, undefined);
    // With a real mention present, the crafted marker must not turn into a second mention.
    const withMention = await alice.api.post('/v1/messages', { roomId: room.id, markdown: `${crafted} <@personId:${bob.id}|Bob>` });
    expectStatus(withMention, 200);
    assert.equal(withMention.body.html.match(/<spark-mention/g)?.length, 1, withMention.body.html);
  });

  test('a mention name cannot smuggle markup into the html', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Smuggle', 'Bob Smuggle');
    const room = await roomWith(alice, [bob]);
    const message = await post(alice, { roomId: room.id, markdown: `hi <@personId:${bob.id}|<img src=x onerror=alert(1)>` });
    assert.doesNotMatch(message.html!, /<img/i);
    assert.deepEqual(message.mentionedPeople, [bob.id]);
  });
});

describe('mentions', () => {
  test('<@personId:ID|Name> mentions a person: mentionedPeople and a <spark-mention> in html', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Mention', 'Bob Mention');
    const room = await roomWith(alice, [bob]);
    const message = await post(alice, { roomId: room.id, markdown: `Hello <@personId:${bob.id}|Bob>, welcome` });
    assert.deepEqual(message.mentionedPeople, [bob.id]);
    assert.ok(message.html!.includes(`<spark-mention data-object-type="person" data-object-id="${bob.id}">Bob</spark-mention>`), message.html);
    assert.equal(message.mentionedGroups, undefined);
  });

  test('<@personEmail:EMAIL|Name> mentions the person with that email', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice MentionEmail', 'Bob MentionEmail');
    const room = await roomWith(alice, [bob]);
    const message = await post(alice, { roomId: room.id, markdown: `ping <@personEmail:${bob.email}|Bobby>` });
    assert.deepEqual(message.mentionedPeople, [bob.id]);
    assert.ok(message.html!.includes(`data-object-id="${bob.id}">Bobby</spark-mention>`), message.html);
  });

  test('<@all> mentions everyone: mentionedGroups ["all"]', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice All', 'Bob All');
    const room = await roomWith(alice, [bob]);
    const message = await post(alice, { roomId: room.id, markdown: 'Attention <@all> please' });
    assert.deepEqual(message.mentionedGroups, ['all']);
    assert.match(message.html!, /<spark-mention data-object-type="groupMention" data-group-type="all">[^<]*<\/spark-mention>/);
  });

  test('mentionedPeople=me lists only the messages that mention the caller', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice Me', 'Bob Me', 'Carol Me');
    const room = await roomWith(alice, [bob, carol]);
    const m1 = await post(alice, { roomId: room.id, markdown: `<@personId:${bob.id}|Bob> first` });
    await say(alice, room.id, 'nobody');
    await post(alice, { roomId: room.id, markdown: `<@personId:${carol.id}|Carol> only` });
    const m4 = await post(alice, { roomId: room.id, markdown: `<@personEmail:${bob.email}|Bob> and <@personId:${carol.id}|Carol>` });
    assert.deepEqual(ids(await list(bob, `roomId=${room.id}&mentionedPeople=me`)), [m4.id, m1.id]);
    assert.equal((await list(carol, `roomId=${room.id}&mentionedPeople=me`)).length, 2);
    assert.deepEqual(await list(alice, `roomId=${room.id}&mentionedPeople=me`), []);
  });
});

describe('threads', () => {
  test('a reply carries parentId, and ?parentId lists only that thread\'s replies', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Thread', 'Bob Thread');
    const room = await roomWith(alice, [bob]);
    const parent = await say(alice, room.id, 'topic');
    const other = await say(alice, room.id, 'other topic');
    const r1 = await post(bob, { roomId: room.id, parentId: parent.id, text: 'reply 1' });
    await sleep(3);
    await post(bob, { roomId: room.id, parentId: other.id, text: 'elsewhere' });
    const r2 = await post(alice, { roomId: room.id, parentId: parent.id, text: 'reply 2' });
    assert.equal(r1.parentId, parent.id);
    assert.deepEqual(ids(await list(bob, `roomId=${room.id}&parentId=${parent.id}`)), [r2.id, r1.id]);
    assert.equal((await bob.api.get(`/v1/messages/${r1.id}`)).body.parentId, parent.id);
  });

  test('a parent from another room is refused (400)', async () => {
    const [alice] = await createPeople(target.admin, 'Alice CrossThread');
    const here = await roomWith(alice, []);
    const there = await roomWith(alice, []);
    const foreign = await say(alice, there.id, 'over there');
    expectStatus(await alice.api.post('/v1/messages', { roomId: here.id, parentId: foreign.id, text: 'reply' }), 400);
    // The same parent in its own room is accepted.
    expectStatus(await alice.api.post('/v1/messages', { roomId: there.id, parentId: foreign.id, text: 'reply' }), 200);
  });

  test('a reply cannot itself be replied to (400)', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Nested');
    const room = await roomWith(alice, []);
    const parent = await say(alice, room.id, 'root');
    const reply = await post(alice, { roomId: room.id, parentId: parent.id, text: 'reply' });
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id, parentId: reply.id, text: 'nested' }), 400);
  });

  test('an unknown parent is refused (400)', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Orphan');
    const room = await roomWith(alice, []);
    const gone = await say(alice, room.id, 'soon gone');
    expectStatus(await alice.api.delete(`/v1/messages/${gone.id}`), 204);
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id, parentId: gone.id, text: 'reply' }), 400);
  });
});

describe('editing', () => {
  test('the author edits a message: new text, and `updated` is set', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Edit', 'Bob Edit');
    const room = await roomWith(alice, [bob]);
    const message = await say(alice, room.id, 'frist');
    assert.equal(message.updated, undefined);
    await sleep(5);
    const edited = await alice.api.put(`/v1/messages/${message.id}`, { roomId: room.id, text: 'first' });
    expectStatus(edited, 200);
    assert.equal(edited.body.id, message.id);
    assert.equal(edited.body.text, 'first');
    assert.ok(edited.body.updated, 'updated is set');
    assert.ok(Date.parse(edited.body.updated) > Date.parse(message.created));
    assert.equal(edited.body.created, message.created);
    const read = await bob.api.get(`/v1/messages/${message.id}`);
    assert.equal(read.body.text, 'first');
    assert.equal(read.body.updated, edited.body.updated);
  });

  test('an edit with markdown re-renders html and mentions', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice EditMd', 'Bob EditMd');
    const room = await roomWith(alice, [bob]);
    const message = await say(alice, room.id, 'plain');
    const edited = await alice.api.put(`/v1/messages/${message.id}`, { roomId: room.id, markdown: `**now** bold, <@personId:${bob.id}|Bob>` });
    expectStatus(edited, 200);
    assert.match(edited.body.html, /<strong>now<\/strong>/);
    assert.deepEqual(edited.body.mentionedPeople, [bob.id]);
    assert.deepEqual(ids(await list(bob, `roomId=${room.id}&mentionedPeople=me`)), [message.id]);
  });

  test('only the author may edit a message (403 for another member)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice EditOwn', 'Bob EditOwn');
    const room = await roomWith(alice, [bob]);
    const message = await say(alice, room.id, 'mine');
    expectStatus(await bob.api.put(`/v1/messages/${message.id}`, { roomId: room.id, text: 'hijacked' }), 403);
    assert.equal((await alice.api.get(`/v1/messages/${message.id}`)).body.text, 'mine');
  });

  test('a moderator of a locked room still cannot edit another\'s message (403)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice EditMod', 'Bob EditMod');
    const room = await roomWith(alice, [bob], { isLocked: true });
    const message = await say(bob, room.id, 'bob says');
    expectStatus(await alice.api.put(`/v1/messages/${message.id}`, { roomId: room.id, text: 'moderated' }), 403);
  });

  test('a non-member editing a message gets 404', async () => {
    const [alice, eve] = await createPeople(target.admin, 'Alice EditOutside', 'Eve EditOutside');
    const room = await roomWith(alice, []);
    const message = await say(alice, room.id, 'mine');
    expectStatus(await eve.api.put(`/v1/messages/${message.id}`, { roomId: room.id, text: 'hijacked' }), 404);
  });

  test('a non-member editing a message gets 404 even when naming a room of their own', async () => {
    const [alice, eve] = await createPeople(target.admin, 'Alice EditProbe', 'Eve EditProbe');
    const room = await roomWith(alice, []);
    const evesRoom = await roomWith(eve, []);
    const message = await say(alice, room.id, 'mine');
    // Whether a message id exists is as private as the message itself.
    expectStatus(await eve.api.put(`/v1/messages/${message.id}`, { roomId: evesRoom.id, text: 'probe' }), 404);
  });

  test('an edit needs text or markdown (400)', async () => {
    const [alice] = await createPeople(target.admin, 'Alice EditEmpty');
    const room = await roomWith(alice, []);
    const message = await say(alice, room.id, 'mine');
    expectStatus(await alice.api.put(`/v1/messages/${message.id}`, { roomId: room.id }), 400);
  });
});

describe('deleting', () => {
  test('the author deletes a message (204); it then reads as 404 and leaves the list', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Delete', 'Bob Delete');
    const room = await roomWith(alice, [bob]);
    const keep = await say(alice, room.id, 'keep');
    const message = await say(alice, room.id, 'oops');
    expectStatus(await alice.api.delete(`/v1/messages/${message.id}`), 204);
    expectStatus(await alice.api.get(`/v1/messages/${message.id}`), 404);
    expectStatus(await bob.api.get(`/v1/messages/${message.id}`), 404);
    assert.deepEqual(ids(await list(bob, `roomId=${room.id}`)), [keep.id]);
    expectStatus(await alice.api.delete(`/v1/messages/${message.id}`), 404, 'deleting twice');
  });

  test('another member of an unlocked room cannot delete a message (403)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice DeleteOther', 'Bob DeleteOther');
    const room = await roomWith(alice, [bob]);
    const message = await say(alice, room.id, 'mine');
    expectStatus(await bob.api.delete(`/v1/messages/${message.id}`), 403);
    expectStatus(await bob.api.get(`/v1/messages/${message.id}`), 200);
  });

  test('a moderator of a locked room may delete another\'s message; a non-moderator may not (403)', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice DeleteMod', 'Bob DeleteMod', 'Carol DeleteMod');
    const room = await roomWith(alice, [bob, carol], { isLocked: true });
    const message = await say(bob, room.id, 'spam');
    expectStatus(await carol.api.delete(`/v1/messages/${message.id}`), 403);
    expectStatus(await carol.api.get(`/v1/messages/${message.id}`), 200);
    expectStatus(await alice.api.delete(`/v1/messages/${message.id}`), 204);
    expectStatus(await carol.api.get(`/v1/messages/${message.id}`), 404);
  });

  test('a non-member deleting a message gets 404', async () => {
    const [alice, eve] = await createPeople(target.admin, 'Alice DeleteOutside', 'Eve DeleteOutside');
    const room = await roomWith(alice, []);
    const message = await say(alice, room.id, 'mine');
    expectStatus(await eve.api.delete(`/v1/messages/${message.id}`), 404);
    expectStatus(await alice.api.get(`/v1/messages/${message.id}`), 200);
  });

  test('an edit of a deleted message is 404', async () => {
    const [alice] = await createPeople(target.admin, 'Alice EditDeleted');
    const room = await roomWith(alice, []);
    const message = await say(alice, room.id, 'gone');
    expectStatus(await alice.api.delete(`/v1/messages/${message.id}`), 204);
    expectStatus(await alice.api.put(`/v1/messages/${message.id}`, { roomId: room.id, text: 'back' }), 404);
  });
});

describe('listing and paging', () => {
  test('messages are listed newest first, limited by max', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Order');
    const room = await roomWith(alice, []);
    const messages = await postInOrder(alice, room.id, 4);
    assert.deepEqual(ids(await list(alice, `roomId=${room.id}`)), newestFirst(messages));
    assert.deepEqual(ids(await list(alice, `roomId=${room.id}&max=2`)), newestFirst(messages).slice(0, 2));
  });

  test('before (an ISO date) lists only messages created before it', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Before');
    const room = await roomWith(alice, []);
    const messages = await postInOrder(alice, room.id, 4);
    const before = encodeURIComponent(messages[2].created);
    assert.deepEqual(ids(await list(alice, `roomId=${room.id}&before=${before}`)), [messages[1].id, messages[0].id]);
    expectStatus(await alice.api.get(`/v1/messages?roomId=${room.id}&before=yesterday`), 400);
  });

  test('beforeMessage (an id) lists only messages older than that message', async () => {
    const [alice] = await createPeople(target.admin, 'Alice BeforeMessage');
    const room = await roomWith(alice, []);
    const messages = await postInOrder(alice, room.id, 4);
    assert.deepEqual(ids(await list(alice, `roomId=${room.id}&beforeMessage=${messages[2].id}`)), [messages[1].id, messages[0].id]);
    assert.deepEqual(ids(await list(alice, `roomId=${room.id}&beforeMessage=${messages[2].id}&max=1`)), [messages[1].id]);
  });

  test('paging follows one Link rel="next" per page with no overlap and no gap; the last page has no Link', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Paging');
    const room = await roomWith(alice, []);
    const messages = await postInOrder(alice, room.id, 5);
    const pages = await allPages<Message>(alice.api, `/v1/messages?roomId=${room.id}&max=2`);
    assert.deepEqual(pages.map((page) => page.length), [2, 2, 1]);
    assert.deepEqual(pages.flat().map((m) => m.id), newestFirst(messages));
  });

  test('when the messages fill the last page exactly, that page has no Link', async () => {
    const [alice] = await createPeople(target.admin, 'Alice PagingExact');
    const room = await roomWith(alice, []);
    const messages = await postInOrder(alice, room.id, 4);
    const pages = await allPages<Message>(alice.api, `/v1/messages?roomId=${room.id}&max=2`);
    assert.deepEqual(pages.map((page) => page.length), [2, 2]);
    assert.deepEqual(pages.flat().map((m) => m.id), newestFirst(messages));
  });

  test('a list that fits in one page has no Link', async () => {
    const [alice] = await createPeople(target.admin, 'Alice OnePage');
    const room = await roomWith(alice, []);
    await postInOrder(alice, room.id, 2);
    const response = await alice.api.get(`/v1/messages?roomId=${room.id}&max=10`);
    assert.equal(response.body.items.length, 2);
    assert.equal(nextLink(response, target.url), undefined);
  });

  test('paging with beforeMessage continues from the anchor without overlap', async () => {
    const [alice] = await createPeople(target.admin, 'Alice PagingAnchor');
    const room = await roomWith(alice, []);
    const messages = await postInOrder(alice, room.id, 6);
    const pages = await allPages<Message>(alice.api, `/v1/messages?roomId=${room.id}&beforeMessage=${messages[5].id}&max=2`);
    assert.deepEqual(pages.flat().map((m) => m.id), newestFirst(messages.slice(0, 5)));
  });

  test('messages posted while paging do not shift the pages', async () => {
    const [alice] = await createPeople(target.admin, 'Alice PagingLive');
    const room = await roomWith(alice, []);
    const messages = await postInOrder(alice, room.id, 4);
    const first = await alice.api.get(`/v1/messages?roomId=${room.id}&max=2`);
    await say(alice, room.id, 'late');
    const second = await alice.api.get(nextLink(first, target.url)!);
    assert.deepEqual([...ids(first.body.items), ...ids(second.body.items)], newestFirst(messages));
  });
});

describe('direct messages', () => {
  test('the first message to toPersonId creates a direct room titled, for each side, with the other\'s name', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Direct', 'Bob Direct');
    const message = await post(alice, { toPersonId: bob.id, text: 'hi bob' });
    assert.equal(message.roomType, 'direct');
    assert.equal(message.toPersonId, bob.id);
    assert.equal(message.toPersonEmail, bob.email);
    const seenByAlice = await alice.api.get(`/v1/rooms/${message.roomId}`);
    const seenByBob = await bob.api.get(`/v1/rooms/${message.roomId}`);
    expectStatus(seenByAlice, 200);
    expectStatus(seenByBob, 200);
    assert.equal(seenByAlice.body.type, 'direct');
    assert.equal(seenByAlice.body.title, bob.displayName);
    assert.equal(seenByBob.body.title, alice.displayName);
    const members = await bob.api.get(`/v1/memberships?roomId=${message.roomId}`);
    assert.deepEqual(members.body.items.map((m: { personId: string }) => m.personId).sort(), [alice.id, bob.id].sort());
  });

  test('later direct messages reuse the room, by id or email, in both directions', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Reuse', 'Bob Reuse');
    const first = await post(alice, { toPersonId: bob.id, text: '1' });
    const second = await post(alice, { toPersonEmail: bob.email, text: '2' });
    const reply = await post(bob, { toPersonId: alice.id, text: '3' });
    const replyByEmail = await post(bob, { toPersonEmail: alice.email, text: '4' });
    const byRoom = await post(bob, { roomId: first.roomId, text: '5' });
    for (const m of [second, reply, replyByEmail, byRoom]) assert.equal(m.roomId, first.roomId);
    const alicesDirect = (await alice.api.get('/v1/rooms?type=direct')).body.items;
    const bobsDirect = (await bob.api.get('/v1/rooms?type=direct')).body.items;
    assert.deepEqual(ids(alicesDirect), [first.roomId]);
    assert.deepEqual(ids(bobsDirect), [first.roomId]);
    assert.equal(alicesDirect[0].type, 'direct');
    assert.equal(alicesDirect[0].title, bob.displayName, "Alice's list titles the room with Bob's name");
    assert.equal(bobsDirect[0].title, alice.displayName, "Bob's list titles the room with Alice's name");
  });

  test('GET /v1/messages/direct lists the 1:1 conversation by personId or personEmail, newest first', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice DirectList', 'Bob DirectList', 'Carol DirectList');
    const m1 = await post(alice, { toPersonId: bob.id, text: 'one' });
    await sleep(3);
    const m2 = await post(bob, { toPersonId: alice.id, text: 'two' });
    await sleep(3);
    const m3 = await post(alice, { toPersonEmail: bob.email, text: 'three' });
    await post(alice, { toPersonId: carol.id, text: 'to carol' });
    const expected = [m3.id, m2.id, m1.id];
    const byId = await alice.api.get(`/v1/messages/direct?personId=${bob.id}`);
    expectStatus(byId, 200);
    assert.deepEqual(ids(byId.body.items), expected);
    const byEmail = await alice.api.get(`/v1/messages/direct?personEmail=${encodeURIComponent(bob.email)}`);
    expectStatus(byEmail, 200);
    assert.deepEqual(ids(byEmail.body.items), expected);
    const bobsView = await bob.api.get(`/v1/messages/direct?personId=${alice.id}`);
    assert.deepEqual(ids(bobsView.body.items), expected);
  });

  test('GET /v1/messages/direct pages with Link like any list', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice DirectPaging', 'Bob DirectPaging');
    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) sent.push(await post(i % 2 ? bob : alice, { toPersonId: i % 2 ? alice.id : bob.id, text: `d${i}` }));
    const pages = await allPages<Message>(alice.api, `/v1/messages/direct?personId=${bob.id}&max=2`);
    assert.deepEqual(pages.map((page) => page.length), [2, 2, 1]);
    assert.deepEqual(pages.flat().map((m) => m.id), newestFirst(sent));
  });

  test('messaging yourself is refused (400)', async () => {
    const [alice] = await createPeople(target.admin, 'Alice Self');
    expectStatus(await alice.api.post('/v1/messages', { toPersonId: alice.id, text: 'me' }), 400);
    expectStatus(await alice.api.post('/v1/messages', { toPersonEmail: alice.email, text: 'me' }), 400);
    assert.deepEqual((await alice.api.get('/v1/rooms?type=direct')).body.items, []);
  });

  test('exactly one of roomId, toPersonId, toPersonEmail is required (400 for none or two)', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice OneOf', 'Bob OneOf');
    const room = await roomWith(alice, [bob]);
    expectStatus(await alice.api.post('/v1/messages', { text: 'nowhere' }), 400);
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id, toPersonId: bob.id, text: 'two' }), 400);
    expectStatus(await alice.api.post('/v1/messages', { toPersonId: bob.id, toPersonEmail: bob.email, text: 'two' }), 400);
    expectStatus(await alice.api.post('/v1/messages', { roomId: room.id, toPersonEmail: bob.email, text: 'two' }), 400);
    assert.deepEqual((await alice.api.get(`/v1/messages?roomId=${room.id}`)).body.items, []);
  });

  test('a direct message to an unknown person is 404', async () => {
    const [alice, gone] = await createPeople(target.admin, 'Alice Ghost', 'Gone Ghost');
    expectStatus(await target.admin.delete(`/v1/people/${gone.id}`), 204);
    expectStatus(await alice.api.post('/v1/messages', { toPersonId: gone.id, text: 'hello?' }), 404);
  });

  test('concurrent first messages from both sides end in one direct room', async () => {
    const pairs = await Promise.all([0, 1, 2, 3].map((i) => createPeople(target.admin, `Alice Race${i}`, `Bob Race${i}`)));
    await Promise.all(pairs.map(async ([alice, bob]) => {
      const [a, b] = await Promise.all([
        alice.api.post('/v1/messages', { toPersonId: bob.id, text: 'hi from alice' }),
        bob.api.post('/v1/messages', { toPersonEmail: alice.email, text: 'hi from bob' }),
      ]);
      expectStatus(a, 200);
      expectStatus(b, 200);
      assert.equal(a.body.roomId, b.body.roomId, 'both messages land in the same room');
      for (const person of [alice, bob]) {
        const direct = (await person.api.get('/v1/rooms?type=direct')).body.items;
        assert.deepEqual(ids(direct), [a.body.roomId], `${person.displayName} has one direct room`);
      }
      const both = await alice.api.get(`/v1/messages/direct?personId=${bob.id}`);
      assert.deepEqual(texts(both.body.items).sort(), ['hi from alice', 'hi from bob']);
    }));
  });
});
