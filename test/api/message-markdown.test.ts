// Message markdown: rendering to html and its safety (raw HTML, dangerous links, mention
// names and mentions inside link titles), and mentions of people and of everyone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPeople } from '../harness/people.ts';
import { ids, list, post, say } from '../harness/messages.ts';
import { expectStatus, roomWith } from '../harness/rooms.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
before(async () => {
  target = await startTarget();
});
after(() => target.stop());

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

  test('private-use characters (the markers an earlier renderer used) are plain text in markdown', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice PrivateUse', 'Bob PrivateUse');
    const room = await roomWith(alice, [bob]);
    // \uE000 \uE000 0 \uE001 0 \uE001: nested markers, which once could turn into a mention.
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

  test('a mention inside a link title stays the title\'s literal text: well-formed html, no injected attribute', async () => {
    const [alice, bob] = await createPeople(target.admin, 'Alice Title', 'Bob Title');
    const room = await roomWith(alice, [bob]);
    for (const mention of ['<@all>', `<@personId:${bob.id}|Bob>`]) {
      const message = await post(alice, { roomId: room.id, markdown: `[x](http://a.com "${mention} onmouseover=alert(1) x=")` });
      const title = mention.replaceAll('<', '&lt;').replaceAll('>', '&gt;');
      assert.equal(message.html, `<p><a href="http://a.com" title="${title} onmouseover=alert(1) x=">x</a></p>`);
      assert.doesNotMatch(message.html!, /spark-mention/);
      assert.equal(message.mentionedGroups, undefined, 'a title mentions nobody');
      assert.equal(message.mentionedPeople, undefined, 'a title mentions nobody');
    }
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

  test('mentions work where markdown has text (lists, emphasis, link text), not in code or after a backslash', async () => {
    const [alice, bob, carol] = await createPeople(target.admin, 'Alice Where', 'Bob Where', 'Carol Where');
    const room = await roomWith(alice, [bob, carol]);
    const markdown = [
      `- first <@personId:${bob.id}|Bob>`,
      `- **<@all>** and _<@personEmail:${carol.email}|Carol>_`,
      '',
      `[<@personId:${bob.id}|Bob again>](https://example.com/b) and \`<@all>\` and \\<@personId:${carol.id}|Not Carol>`,
    ].join('\n');
    const message = await post(alice, { roomId: room.id, markdown });
    const person = (id: string, name: string) => `<spark-mention data-object-type="person" data-object-id="${id}">${name}</spark-mention>`;
    const everyone = '<spark-mention data-object-type="groupMention" data-group-type="all">All</spark-mention>';
    assert.ok(message.html!.includes(`<li>first ${person(bob.id, 'Bob')}</li>`), message.html);
    assert.ok(message.html!.includes(`<li><strong>${everyone}</strong> and <em>${person(carol.id, 'Carol')}</em></li>`), message.html);
    assert.ok(message.html!.includes(`<a href="https://example.com/b">${person(bob.id, 'Bob again')}</a>`), message.html);
    assert.ok(message.html!.includes('<code>&lt;@all&gt;</code>'), `a code span keeps its text: ${message.html}`);
    assert.ok(message.html!.includes(`&lt;@personId:${carol.id}|Not Carol&gt;`), `an escaped mention is text: ${message.html}`);
    assert.equal(message.html!.match(/<spark-mention/g)?.length, 4, message.html);
    assert.deepEqual(message.mentionedPeople, [bob.id, carol.id]);
    assert.deepEqual(message.mentionedGroups, ['all']);
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
