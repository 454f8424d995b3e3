import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createPeople } from '../harness/people.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
before(async () => {
  target = await startTarget();
});
after(() => target.stop());

test('a person creates a room, adds another, and both see the message', async () => {
  const [alice, bob] = await createPeople(target.admin, 'Alice Smoke', 'Bob Smoke');
  const room = await alice.api.post('/v1/rooms', { title: 'Smoke' });
  assert.equal(room.status, 200);
  assert.equal((await alice.api.post('/v1/memberships', { roomId: room.body.id, personId: bob.id })).status, 200);
  const posted = await alice.api.post('/v1/messages', { roomId: room.body.id, text: 'hello' });
  assert.equal(posted.status, 200);
  const seen = await bob.api.get(`/v1/messages?roomId=${room.body.id}`);
  assert.deepEqual(seen.body.items.map((m: { text: string }) => m.text), ['hello']);
});
