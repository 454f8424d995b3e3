// actors/notifications/in-batches.ts: a list longer than an action takes (1000 ids) is asked
// in slices no longer than that, in order, every item once, the answers merged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IDS_PER_CALL, inBatches } from '../../actors/notifications/in-batches.ts';

test('5000 ids are asked 1000 at a time, each once, answers merged in order', async () => {
  const ids = Array.from({ length: 5 * IDS_PER_CALL + 1 }, (_, i) => `p${i}`);
  const slices: number[] = [];
  const answered = await inBatches(ids, async (slice) => {
    slices.push(slice.length);
    return slice.filter((id) => Number(id.slice(1)) % 1000 === 999);
  });
  assert.deepEqual(slices, [1000, 1000, 1000, 1000, 1000, 1]);
  assert.deepEqual(answered, ['p999', 'p1999', 'p2999', 'p3999', 'p4999']);
  assert.deepEqual(await inBatches([], async () => ['never']), [], 'nothing to ask: no call');
});
