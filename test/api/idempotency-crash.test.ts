// A crash between commit and answer: the rooms actor's process is SIGKILLed right after a
// keyed message committed and before its answer left (the test-only fault hook of
// cluster/fault-injection.ts), and the retry with the same key returns the committed
// message instead of posting it again. Embedded: the one process dies, the client retries
// after a restart. Cluster: the owner actor node dies; the gateway retries the keyed call
// on the next owner by itself, or the client retries; then every node is killed and
// restarted, and a retry still answers the same.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { ApiResponse } from '../../clients/api-client.ts';
import { createPeople } from '../harness/people.ts';
import { list } from '../harness/messages.ts';
import { createRoom, expectStatus } from '../harness/rooms.ts';
import { restartCrashedEmbedded, startTarget, type Target } from './target.ts';

const CRASH_KEY = 'crash-between-commit-and-answer';

let target: Target;
after(() => target?.stop());

/** Embedded: the process starts again on its data directory. Cluster: every node is killed and restarted, as in durability.test.ts. */
async function restartAfterCrash(): Promise<void> {
  if (!target.process) return target.crashAndRestart();
  await restartCrashedEmbedded(target, { SQUARED_TEST_FAULT_KILL_AFTER_COMMIT: CRASH_KEY });
}

test('kill -9 between commit and answer: the retry returns the committed message, posted once', async (t) => {
  target = await startTarget({ SQUARED_TEST_FAULT_KILL_AFTER_COMMIT: CRASH_KEY });
  const [alice] = await createPeople(target.admin, 'Alice Crash');
  const room = await createRoom(alice, { title: 'crash' });
  const body = { roomId: room.id, text: 'committed, then the process died' };
  const headers = { 'idempotency-key': CRASH_KEY };

  // The answer is lost with the process (embedded), or comes from the gateway's retry or
  // as a 503 (cluster).
  const first: ApiResponse | Error = await alice.api.post('/v1/messages', body, { headers }).catch((err: Error) => err);
  if (target.mode === 'embedded') assert.ok(first instanceof Error, 'the process died before answering');
  t.diagnostic(`first answer: ${first instanceof Error ? first.message : first.status}`);
  // The owner's death rejected the gateway's call; the key made it safe to retry it on the next owner.
  if (target.mode === 'cluster') assert.ok(!(first instanceof Error) && first.status === 200, 'the gateway retried the keyed call');
  alice.api.close();

  await restartAfterCrash();
  const api = target.admin.as(alice.token);
  const retried = await api.post('/v1/messages', body, { headers });
  expectStatus(retried, 200);
  assert.equal(retried.body.text, body.text);
  if (!(first instanceof Error) && first.status === 200) assert.deepEqual(retried.body, first.body, 'the gateway\'s retry answered the committed message');

  const messages = await list({ ...alice, api }, `roomId=${room.id}`);
  assert.deepEqual(messages.map((m) => m.id), [retried.body.id], 'the message was written once');
  // And again: the answer is the stored one, not a new write.
  assert.deepEqual((await api.post('/v1/messages', body, { headers })).body, retried.body);
  assert.equal((await list({ ...alice, api }, `roomId=${room.id}`)).length, 1);
  api.close();
});
