// storage/defer-backoff.ts: a deferred job's wait doubles per deferral from the base, stops
// at 64×, and its jitter adds 0, 25 or 50% (few distinct waits: one RabbitMQ delay queue each).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_DEFER_DOUBLINGS, deferDelayMs } from '../../storage/defer-backoff.ts';

test('doubling per deferral, capped at 64x, jitter in three steps up to +50%', () => {
  const low = () => 0;
  const high = () => 0.999;
  assert.deepEqual([1, 2, 3, 4].map((n) => deferDelayMs(100, n, low)), [100, 200, 400, 800]);
  assert.equal(deferDelayMs(100, 0, low), 100, 'a count below one is the first deferral');
  assert.equal(deferDelayMs(100, MAX_DEFER_DOUBLINGS + 1, low), 6400);
  assert.equal(deferDelayMs(100, 1000, high), 9600, 'capped, whatever the count');
  const waits = new Set(Array.from({ length: 300 }, () => deferDelayMs(100, 3)));
  assert.deepEqual([...waits].sort((a, b) => a - b), [400, 500, 600]);
});
