// Cards and their submissions from the outside, in both modes: a message's Adaptive Card is
// validated and kept (GET and list answer it as the create did, an edit keeps it), and
// `POST /v1/attachment/actions` / `GET /v1/attachment/actions/{id}` work as in Webex — only
// members of the card's room submit, only the submitter and the card's author read, and the
// `attachmentActions created` webhook reaches the card author's webhooks (and the
// organization's), never the submitter's or another member's, without the inputs. Every
// answer is checked against the spec by the API client.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { startHttpsReceiver, type HttpsReceiver } from '../harness/https-receiver.ts';
import { expectStatus, roomWith } from '../harness/rooms.ts';
import { until } from '../harness/wait.ts';
import { startTarget, type Target } from './target.ts';

const CARD_TYPE = 'application/vnd.microsoft.card.adaptive';
const card = (title = 'Your name?') => ({
  type: 'AdaptiveCard', version: '1.3',
  body: [{ type: 'TextBlock', text: title }, { type: 'Input.Text', id: 'Name', label: 'Name' }],
  actions: [{ type: 'Action.Submit', title: 'Send' }],
});

let target: Target;
let receiver: HttpsReceiver;
let author: TestPerson;
let bob: TestPerson;
let carol: TestPerson;
let dave: TestPerson;
let roomId: string;
let cardMessageId: string;

before(async () => {
  receiver = await startHttpsReceiver();
  target = await startTarget({ SQUARED_WEBHOOK_ALLOW_HOSTS: 'localhost', NODE_EXTRA_CA_CERTS: receiver.caFile, SQUARED_WEBHOOK_BACKOFF_MS: '100' });
  [author, bob, carol, dave] = await createPeople(target.admin, 'Card Author', 'Bob Submitter', 'Carol Member', 'Dave Outsider');
  roomId = (await roomWith(author, [bob, carol])).id;
  const posted = await author.api.post('/v1/messages', { roomId, text: 'Fill this in', attachments: [{ contentType: CARD_TYPE, content: card() }] });
  expectStatus(posted, 200, 'post a card');
  cardMessageId = posted.body.id;
});
after(async () => {
  await target.stop();
  await receiver.close();
});

const submit = (person: TestPerson, body: Record<string, unknown>) => person.api.post('/v1/attachment/actions', body);

describe('message attachments (cards)', () => {
  test('are kept with the message: the create, GET, the listing and an edit answer the same card', async () => {
    const attachments = [{ contentType: CARD_TYPE, content: card('Kept?') }];
    const posted = await author.api.post('/v1/messages', { roomId, text: 'card', attachments });
    expectStatus(posted, 200, 'post');
    assert.deepEqual(posted.body.attachments, attachments);
    const got = await bob.api.get(`/v1/messages/${posted.body.id}`);
    expectStatus(got, 200, 'get');
    assert.deepEqual(got.body.attachments, attachments);
    const listed = await carol.api.get(`/v1/messages?roomId=${roomId}&max=5`);
    expectStatus(listed, 200, 'list');
    assert.deepEqual(listed.body.items.find((m: { id: string }) => m.id === posted.body.id)?.attachments, attachments);
    const edited = await author.api.put(`/v1/messages/${posted.body.id}`, { roomId, text: 'card, edited' });
    expectStatus(edited, 200, 'edit');
    assert.deepEqual(edited.body.attachments, attachments);
    assert.deepEqual((await bob.api.get(`/v1/messages/${posted.body.id}`)).body.attachments, attachments);
  });

  test('a card alone is a message; a message without one has no attachments', async () => {
    const alone = await author.api.post('/v1/messages', { roomId, attachments: [{ contentType: CARD_TYPE, content: card() }] });
    expectStatus(alone, 200, 'card alone');
    const plain = await author.api.post('/v1/messages', { roomId, text: 'plain' });
    assert.equal((await bob.api.get(`/v1/messages/${plain.body.id}`)).body.attachments, undefined);
  });

  test('refuses what is not one Adaptive Card object within the size limit (400)', async () => {
    const refused = [
      [{ contentType: 'application/json', content: card() }],
      [{ contentType: CARD_TYPE }],
      [{ contentType: CARD_TYPE, content: 'a card' }],
      [{ contentType: CARD_TYPE, content: [card()] }],
      [{ contentType: CARD_TYPE, content: card() }, { contentType: CARD_TYPE, content: card() }],
      [{ contentType: CARD_TYPE, content: { ...card(), body: [{ type: 'TextBlock', text: 'x'.repeat(17 * 1024) }] } }],
      ['a card'],
    ];
    for (const attachments of refused) {
      const answer = await author.api.post('/v1/messages', { roomId, text: 'bad card', attachments });
      expectStatus(answer, 400, `attachments ${JSON.stringify(attachments).slice(0, 80)}`);
    }
  });
});

describe('attachment actions', () => {
  test('a member submits a card (202, the AttachmentActivity); the submitter and the card author read it, nobody else', async () => {
    const inputs = { Name: 'Bob', Email: 'bob@example.com' };
    const created = await submit(bob, { type: 'submit', messageId: cardMessageId, inputs });
    expectStatus(created, 202, 'submit');
    assert.equal(created.body.type, 'submit');
    assert.equal(created.body.messageId, cardMessageId);
    assert.equal(created.body.personId, bob.id);
    assert.equal(created.body.roomId, roomId);
    assert.deepEqual(created.body.inputs, inputs);
    assert.ok(!Number.isNaN(Date.parse(created.body.created)));
    for (const reader of [bob, author]) {
      const got = await reader.api.get(`/v1/attachment/actions/${created.body.id}`);
      expectStatus(got, 200, 'read');
      assert.deepEqual(got.body, created.body);
    }
    for (const other of [carol, dave]) expectStatus(await other.api.get(`/v1/attachment/actions/${created.body.id}`), 404, 'not theirs');
  });

  test('a non-member gets 404 for the card\'s message; so does a message that does not exist', async () => {
    expectStatus(await submit(dave, { type: 'submit', messageId: cardMessageId, inputs: {} }), 404, 'outsider');
    const gone = await author.api.post('/v1/messages', { roomId, attachments: [{ contentType: CARD_TYPE, content: card() }] });
    expectStatus(await author.api.delete(`/v1/messages/${gone.body.id}`), 204, 'delete card');
    expectStatus(await submit(bob, { type: 'submit', messageId: gone.body.id, inputs: {} }), 404, 'deleted card');
    expectStatus(await bob.api.get(`/v1/attachment/actions/${encodeURIComponent(cardMessageId)}`), 404, 'a message id is no action id');
    expectStatus(await bob.api.get('/v1/attachment/actions/nothing-here'), 404, 'unknown id');
  });

  test('refuses a message without a card, another type, missing or oversized inputs (400)', async () => {
    const plain = await author.api.post('/v1/messages', { roomId, text: 'no card here' });
    expectStatus(await submit(bob, { type: 'submit', messageId: plain.body.id, inputs: {} }), 400, 'no card');
    expectStatus(await submit(bob, { type: 'click', messageId: cardMessageId, inputs: {} }), 400, 'type');
    expectStatus(await submit(bob, { type: 'submit', messageId: cardMessageId }), 400, 'no inputs');
    expectStatus(await submit(bob, { type: 'submit', messageId: cardMessageId, inputs: 'Bob' }), 400, 'inputs not an object');
    expectStatus(await submit(bob, { type: 'submit', inputs: {} }), 400, 'no messageId');
    expectStatus(await submit(bob, { type: 'submit', messageId: cardMessageId, inputs: { Name: 'x'.repeat(17 * 1024) } }), 400, 'inputs too large');
  });

  test('the created webhook reaches the card author\'s and the organization\'s webhooks only, with ids and no inputs', async () => {
    const hook = async (owner: TestPerson) => {
      const path = `/cards/${randomUUID()}`;
      const created = await owner.api.post('/v1/webhooks', { name: 'cards', targetUrl: `${receiver.url}${path}`, resource: 'attachmentActions', event: 'created' });
      expectStatus(created, 200, 'webhook');
      return { id: created.body.id as string, path };
    };
    const [authorHook, bobHook, carolHook] = [await hook(author), await hook(bob), await hook(carol)];
    // An administrator's organization-wide webhook hears its organization's submissions.
    const orgPath = `/cards/${randomUUID()}`;
    const orgHook = await target.admin.post('/v1/webhooks', { name: 'org cards', targetUrl: `${receiver.url}${orgPath}`, resource: 'attachmentActions', event: 'created', ownedBy: 'org' });
    expectStatus(orgHook, 200, 'org webhook');
    const first = await submit(bob, { type: 'submit', messageId: cardMessageId, inputs: { Name: 'secret answer' } });
    const second = await submit(carol, { type: 'submit', messageId: cardMessageId, inputs: { Name: 'another' } });
    expectStatus(first, 202, 'first');
    expectStatus(second, 202, 'second');
    await until(() => receiver.received(authorHook.path).length >= 2, 20_000, 'both actions at the author\'s webhook');
    await until(() => receiver.received(orgPath).length >= 2, 20_000, 'both actions at the organization\'s webhook');
    const orgBodies = receiver.received(orgPath).map((r) => JSON.parse(r.raw.toString()));
    assert.deepEqual(orgBodies.map((b) => b.data.id).sort(), [first.body.id, second.body.id].sort());
    assert.equal(JSON.stringify(orgBodies).includes('secret answer'), false, 'no inputs in the org webhook');
    const bodies = receiver.received(authorHook.path).map((r) => JSON.parse(r.raw.toString()));
    const byAction = new Map(bodies.map((b) => [b.data.id, b]));
    for (const [action, submitter] of [[first.body, bob], [second.body, carol]] as const) {
      const body = byAction.get(action.id);
      assert.ok(body, `the author's webhook got ${action.id}`);
      assert.equal(body.id, authorHook.id);
      assert.equal(body.resource, 'attachmentActions');
      assert.equal(body.event, 'created');
      assert.equal(body.actorId, submitter.id);
      assert.deepEqual(body.data, { id: action.id, type: 'submit', messageId: cardMessageId, personId: submitter.id, roomId, created: action.created });
      assert.equal(JSON.stringify(body).includes('secret answer'), false, 'no inputs in the webhook');
    }
    // Queued with the author's, had they been allowed: give them the time the author's took, and more.
    await sleep(1000);
    assert.equal(receiver.received(bobHook.path).length, 0, 'the submitter\'s own webhook hears nothing');
    assert.equal(receiver.received(carolHook.path).length, 0, 'another member\'s webhook hears nothing');
  });
});
