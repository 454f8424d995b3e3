// The embedded mode's attempt throttle against the AttemptThrottle conformance suite, and
// its memory bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryAttemptThrottle } from '../../storage/embedded/memory-attempt-throttle.ts';
import { attemptThrottleConformance } from '../storage/attempt-throttle.conformance.ts';

attemptThrottleConformance('memory', () => {
  const throttle = new MemoryAttemptThrottle();
  return { throttle, peer: throttle };
});

test('past maxKeys the least recently attempted keys are forgotten, the latest kept', async () => {
  const throttle = new MemoryAttemptThrottle({ maxKeys: 10 });
  const policy = { freeAttempts: 1, lockMs: 60_000, maxLockMs: 60_000, forgetMs: 60_000 };
  for (let i = 0; i < 30; i++) assert.equal((await throttle.attempt(`k${i}`, policy)).allowed, true);
  assert.equal((await throttle.attempt('k29', policy)).allowed, false, 'the latest lock is kept');
  assert.equal((await throttle.attempt('k0', policy)).allowed, true, 'the oldest was forgotten');
});
