// Accepted means durable: a kill -9 of every process right after the 2xx answers loses
// nothing, and the room's sequence continues where it was after the restart. Embedded:
// the SQLite commit; cluster: the Cassandra append (every node is killed, actors and
// gateways, and the cluster is started again on the same keyspace).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { LiveClient } from '../../clients/live-client.ts';
import { createPeople } from '../harness/people.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
after(() => target?.stop());

test('kill -9 right after the 2xx answers, restart: every accepted write is there', async () => {
  target = await startTarget();
  const [alice] = await createPeople(target.admin, 'Alice Durable');
  const room = await alice.api.post('/v1/rooms', { title: 'durable' });
  const accepted: string[] = [];
  // Concurrent writers, and the kill lands the moment the last answer arrives.
  await Promise.all(Array.from({ length: 8 }, async (_, writer) => {
    for (let i = 0; i < 25; i++) {
      const response = await alice.api.post('/v1/messages', { roomId: room.body.id, text: `w${writer} m${i}` });
      assert.equal(response.status, 200);
      accepted.push(response.body.id);
    }
  }));
  const renamed = await alice.api.put(`/v1/rooms/${room.body.id}`, { title: 'renamed just before the crash' });
  assert.equal(renamed.status, 200);
  alice.api.close();
  await target.crashAndRestart();

  const api = target.admin.as(alice.token);
  for (const id of accepted) assert.equal((await api.get(`/v1/messages/${id}`)).status, 200, `message ${id} survived`);
  assert.equal((await api.get(`/v1/rooms/${room.body.id}`)).body.title, 'renamed just before the crash');

  // The sequence goes on with no gap and no reuse: 2 (room, membership) + 200 messages + 1 update.
  const live = await LiveClient.connect(target.liveUrl, target.ca, alice.token);
  assert.equal(live.frames[0].positions[room.body.id], 203);
  await api.post('/v1/messages', { roomId: room.body.id, text: 'after the restart' });
  const next = await live.waitFor((f) => f.type === 'event' && f.roomId === room.body.id);
  assert.equal(next.seq, 204);
  live.close();
  api.close();
});
