// The room log as the webhooks' outbox, in both modes: a message committed by a process
// that then dies before the commit is announced (the test-only fault hook of
// cluster/fault-injection.ts kills it right after the commit) still reaches the webhook —
// replayed from the log by the start-up sweep (embedded, after a restart) or by the sweep
// of the node that takes the dead node's rooms (cluster). The replay hands a webhook only
// what was created after it: messages of a room written before the webhook existed never
// arrive. And a replayed delivery carries the delivery id the live path would have given it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ApiResponse } from '../../clients/api-client.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { startHttpsReceiver, type HttpsReceiver } from '../harness/https-receiver.ts';
import { createRoom, expectStatus } from '../harness/rooms.ts';
import { until } from '../harness/wait.ts';
import { restartCrashedEmbedded, startTarget, type Target } from './target.ts';

const CRASH_KEY = 'outbox-crash-after-commit';

let target: Target;
let receiver: HttpsReceiver;
let alice: TestPerson;
let env: Record<string, string>;

before(async () => {
  receiver = await startHttpsReceiver();
  env = { SQUARED_WEBHOOK_ALLOW_HOSTS: 'localhost', NODE_EXTRA_CA_CERTS: receiver.caFile, SQUARED_TEST_FAULT_KILL_AFTER_COMMIT: CRASH_KEY };
  target = await startTarget(env);
  [alice] = await createPeople(target.admin, 'Alice Outbox');
});
after(async () => {
  await target?.stop();
  await receiver?.close();
});

/** The message ids the receiver got on a path, each with the delivery ids it came with. */
function deliveries(path: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const request of receiver.received(path)) {
    const body = JSON.parse(request.raw.toString()) as { data: { id: string } };
    const ids = out.get(body.data.id) ?? new Set<string>();
    ids.add(String(request.headers['x-squared-delivery']));
    out.set(body.data.id, ids);
  }
  return out;
}

test('a commit whose announcement died with its process is delivered from the log, and the past of a room is not', async (t) => {
  // A room written before any webhook exists: none of this may ever reach the webhook.
  const before = await createRoom(alice, { title: 'before the webhook' });
  const old: string[] = [];
  for (let i = 0; i < 5; i++) {
    const posted = await alice.api.post('/v1/messages', { roomId: before.id, text: `old ${i}` });
    expectStatus(posted, 200);
    old.push(posted.body.id);
  }
  const room = await createRoom(alice, { title: 'outbox' });
  const path = '/outbox/messages';
  const hook = await alice.api.post('/v1/webhooks', { name: 'outbox', targetUrl: `${receiver.url}${path}`, resource: 'messages', event: 'created' });
  expectStatus(hook, 200, 'create webhook');

  const live = await alice.api.post('/v1/messages', { roomId: room.id, text: 'announced as usual' });
  expectStatus(live, 200);
  await until(() => deliveries(path).has(live.body.id), 20_000, 'the announced message is delivered');

  // The process (embedded) or the room's owner node (cluster) dies right after this commit.
  const body = { roomId: room.id, text: 'committed, never announced' };
  const headers = { 'idempotency-key': CRASH_KEY };
  const crashedAt = Date.now();
  const first: ApiResponse | Error = await alice.api.post('/v1/messages', body, { headers }).catch((err: Error) => err);
  t.diagnostic(`first answer: ${first instanceof Error ? first.message : first.status}`);
  alice.api.close();
  // Embedded: started again on its data. Cluster: the owner actor node stays gone; the other one serves.
  if (target.process) await restartCrashedEmbedded(target, env);
  const api = target.admin.as(alice.token);
  // The retry is answered from the store: the write is not made (nor announced) again.
  const committed = await api.post('/v1/messages', body, { headers });
  expectStatus(committed, 200);
  await until(() => deliveries(path).has(committed.body.id), 30_000, 'the message committed before the crash is delivered from the log');
  t.diagnostic(`delivered ${Date.now() - crashedAt} ms after the crash`);

  // After the recovery, the webhook hears new messages of both rooms, and none of the old ones.
  const later = await api.post('/v1/messages', { roomId: before.id, text: 'new in the old room' });
  expectStatus(later, 200);
  await until(() => deliveries(path).has(later.body.id), 20_000, 'a new message of the old room is delivered');
  const got = deliveries(path);
  assert.deepEqual(old.filter((id) => got.has(id)), [], 'no message from before the webhook was created');
  assert.deepEqual([...got.keys()].sort(), [live.body.id, committed.body.id, later.body.id].sort(), 'exactly the messages posted since the webhook');
  // A repeat of one delivery (allowed: at least once) comes under the same delivery id.
  for (const [id, deliveryIds] of got) assert.equal(deliveryIds.size, 1, `one delivery id for ${id}: ${[...deliveryIds]}`);
  api.close();
});
