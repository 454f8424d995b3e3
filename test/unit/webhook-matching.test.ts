// Webhook matching (actors/notifications/webhook-dispatch.ts createMatcher): a webhook whose
// stored filter no longer parses (kept from before a rule refused it, such as
// mentionedPeople=<email>) matches nothing and is reported once; the event still reaches the
// other webhooks; a changed filter is parsed again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResourceEvent } from '../../contracts/resource-events.ts';
import { createMatcher } from '../../actors/notifications/webhook-dispatch.ts';
import type { WebhookRecord } from '../../storage/webhook-store.ts';

const webhook = (id: string, filter: string | undefined): WebhookRecord => ({
  id, name: id, targetUrl: 'https://receiver.example/hook', resource: 'messages', event: 'created', filter,
  status: 'active', createdBy: 'person-a', orgId: 'org-1', ownedBy: 'creator', created: '2026-01-01T00:00:00.000Z',
} as WebhookRecord);

const event = {
  resource: 'messages', event: 'created', roomId: 'room-1', actorId: 'person-b', created: '2026-02-01T00:00:00.000Z',
  data: { id: 'm1', roomId: 'room-1', personId: 'person-b', mentionedPeople: ['person-a'] },
} as unknown as ResourceEvent;

test('a stored filter that no longer parses matches nothing, is reported once, and spares the others', () => {
  const refused: string[] = [];
  const { matches, retain } = createMatcher(() => (_err, w) => refused.push(w.id));
  const stale = webhook('stale', 'mentionedPeople=someone@example.com');
  const good = webhook('good', 'mentionedPeople=me');
  const plain = webhook('plain', undefined);
  for (let i = 0; i < 3; i += 1) {
    assert.deepEqual([stale, good, plain].filter((w) => matches(w, event)).map((w) => w.id), ['good', 'plain']);
  }
  assert.deepEqual(refused, ['stale'], 'reported once per webhook, not per event');
  // Its creator fixes the filter: parsed again, and it matches.
  assert.equal(matches({ ...stale, filter: 'hasFiles=false' }, event), true);
  assert.equal(matches({ ...stale, filter: 'hasFiles=true' }, event), false);
  // Once the webhook is gone from the active list, its broken filter is forgotten; a new one is reported again.
  retain([good]);
  assert.equal(matches(stale, event), false);
  assert.deepEqual(refused, ['stale', 'stale']);
});
