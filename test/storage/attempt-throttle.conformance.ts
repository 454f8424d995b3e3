// The guarantees of AttemptThrottle as one suite that every implementation must pass: the
// memory throttle of the embedded mode and the Redis one of cluster mode. Time is real (the
// Redis throttle reads the Redis clock), so locks are a second or two and waits a little longer.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AttemptPolicy, AttemptThrottle } from '../../storage/interfaces.ts';

export interface AttemptThrottleSubject {
  throttle: AttemptThrottle;
  /** A second handle on the same keys, as a second actor node has (the same object for a one-process throttle). */
  peer: AttemptThrottle;
}

const key = () => `conformance-${randomUUID()}`;
const policy = (extra: Partial<AttemptPolicy> = {}): AttemptPolicy => ({ freeAttempts: 3, lockMs: 60_000, maxLockMs: 600_000, forgetMs: 60_000, ...extra });
const allowed = { allowed: true, retryAfterSeconds: 0 };

export function attemptThrottleConformance(name: string, subject: () => AttemptThrottleSubject): void {
  describe(`AttemptThrottle conformance: ${name}`, () => {
    test('a fresh key lets the free attempts through, then is locked with the seconds left', async () => {
      const { throttle } = subject();
      const k = key();
      const p = policy();
      for (let i = 0; i < 3; i++) assert.deepEqual(await throttle.attempt(k, p), allowed, `attempt ${i + 1}`);
      assert.deepEqual(await throttle.attempt(k, p), { allowed: false, retryAfterSeconds: 60 });
      assert.deepEqual(await throttle.attempt(k, p), { allowed: false, retryAfterSeconds: 60 }, 'a refusal is not counted and does not extend the lock');
    });

    test('each attempt after a lock doubles the next lock, up to the bound', async () => {
      const { throttle } = subject();
      const k = key();
      const p = policy({ freeAttempts: 2, lockMs: 1000, maxLockMs: 2500 });
      assert.deepEqual(await throttle.attempt(k, p), allowed);
      assert.deepEqual(await throttle.attempt(k, p), allowed, 'the second attempt starts the first lock');
      assert.deepEqual(await throttle.attempt(k, p), { allowed: false, retryAfterSeconds: 1 });
      await sleep(1100);
      assert.deepEqual(await throttle.attempt(k, p), allowed, 'the lock is over');
      assert.deepEqual(await throttle.attempt(k, p), { allowed: false, retryAfterSeconds: 2 }, 'doubled');
      await sleep(2100);
      assert.deepEqual(await throttle.attempt(k, p), allowed);
      assert.deepEqual(await throttle.attempt(k, p), { allowed: false, retryAfterSeconds: 3 }, '4 s, bounded to 2.5 s');
    });

    test('concurrent attempts from two nodes never pass more than the free attempts', async () => {
      const { throttle, peer } = subject();
      const k = key();
      const p = policy({ freeAttempts: 5 });
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? throttle : peer).attempt(k, p)));
      assert.equal(results.filter((r) => r.allowed).length, 5);
      assert.ok(results.filter((r) => !r.allowed).every((r) => r.retryAfterSeconds >= 59 && r.retryAfterSeconds <= 60));
      assert.equal((await peer.attempt(k, p)).allowed, false, 'the peer sees the lock the other set');
    });

    test('keys are independent', async () => {
      const { throttle } = subject();
      const [a, b] = [key(), key()];
      const p = policy({ freeAttempts: 1 });
      assert.equal((await throttle.attempt(a, p)).allowed, true);
      assert.equal((await throttle.attempt(a, p)).allowed, false);
      assert.equal((await throttle.attempt(b, p)).allowed, true);
    });

    test('clear forgets the count and lifts the lock, on every node', async () => {
      const { throttle, peer } = subject();
      const k = key();
      const p = policy();
      for (let i = 0; i < 3; i++) await throttle.attempt(k, p);
      assert.equal((await peer.attempt(k, p)).allowed, false);
      await peer.clear(k);
      for (let i = 0; i < 3; i++) assert.deepEqual(await throttle.attempt(k, p), allowed, `attempt ${i + 1} after the clear`);
      assert.equal((await throttle.attempt(k, p)).allowed, false);
      await throttle.clear(key()); // an unknown key is fine
    });

    test('refund takes one attempt back, and under the free attempts lifts the lock', async () => {
      const { throttle, peer } = subject();
      const k = key();
      const p = policy();
      await throttle.attempt(k, p);
      await throttle.attempt(k, p);
      await peer.refund(k, p);
      assert.deepEqual(await throttle.attempt(k, p), allowed, 'two counted');
      assert.deepEqual(await throttle.attempt(k, p), allowed, 'three counted: locked from here');
      assert.equal((await throttle.attempt(k, p)).allowed, false);
      await peer.refund(k, p);
      assert.deepEqual(await throttle.attempt(k, p), allowed, 'back to two: no lock');
      assert.equal((await throttle.attempt(k, p)).allowed, false, 'three again');
      const fresh = key();
      await throttle.refund(fresh, p);
      for (let i = 0; i < 3; i++) assert.deepEqual(await throttle.attempt(fresh, p), allowed, 'a refund of nothing leaves nothing to spend');
      assert.equal((await throttle.attempt(fresh, p)).allowed, false);
    });

    test('attempts are forgotten after forgetMs, but never before their lock ends', async () => {
      const { throttle } = subject();
      const k = key();
      const p = policy({ forgetMs: 300 });
      await throttle.attempt(k, p);
      await throttle.attempt(k, p);
      await sleep(450);
      for (let i = 0; i < 3; i++) assert.deepEqual(await throttle.attempt(k, p), allowed, `attempt ${i + 1} after forgetting`);
      assert.equal((await throttle.attempt(k, p)).allowed, false);
      const locked = key();
      const short = policy({ freeAttempts: 1, lockMs: 2000, forgetMs: 100 });
      await throttle.attempt(locked, short);
      await sleep(400);
      assert.deepEqual(await throttle.attempt(locked, short), { allowed: false, retryAfterSeconds: 2 }, 'the lock outlives forgetMs');
    });
  });
}
