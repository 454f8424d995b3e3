// The per-target limit of webhook deliveries (actors/notifications/target-limiter.ts): a
// target that never answers holds only its own slots and its short line; deliveries to other
// targets start at once; past the line a delivery is handed back (TargetBusyError, a DeferJobError).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TargetBusyError, TargetLimiter } from '../../actors/notifications/target-limiter.ts';
import { DeferJobError } from '../../storage/interfaces.ts';

test('a stuck target holds its own slots only; others run at once; past the line: busy', async () => {
  const limiter = new TargetLimiter(2, 1);
  const releases: (() => void)[] = [];
  const stuck = () => new Promise<void>((resolve) => releases.push(resolve));
  const running = [limiter.run('https://dead.example', stuck), limiter.run('https://dead.example', stuck)];
  let waiterStarted = false;
  const waiting = limiter.run('https://dead.example', async () => {
    waiterStarted = true;
  });
  // A deferral to the work queue: the job comes back later without spending an attempt.
  await assert.rejects(limiter.run('https://dead.example', async () => undefined), (err) => err instanceof TargetBusyError && err instanceof DeferJobError);
  // Another target is not behind the stuck one.
  assert.equal(await limiter.run('https://alive.example', async () => 'done'), 'done');
  assert.equal(waiterStarted, false);
  releases.shift()!();
  await waiting;
  assert.equal(waiterStarted, true, 'a freed slot goes to the one waiting');
  for (const release of releases) release();
  await Promise.all(running);
  // Nothing left behind: the target's line is free again.
  assert.equal(await limiter.run('https://dead.example', async () => 'free'), 'free');
});
