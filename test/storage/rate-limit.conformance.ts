// The guarantees of RateLimitStore as one suite that every implementation must pass: the
// memory store of the embedded mode and the Redis store of cluster mode. Time is real (the
// Redis store reads the Redis clock), so refill is tested with rates high enough to stay fast
// and burst tests with rates low enough that no token comes back while they run.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RateLimitStore } from '../../storage/interfaces.ts';

export interface RateLimitSubject {
  store: RateLimitStore;
  /** A second handle on the same buckets, as a second gateway has (the same object for a one-process store). */
  peer: RateLimitStore;
}

const key = () => `conformance-${randomUUID()}`;

async function allowedOf(takes: Promise<{ allowed: boolean }>[]): Promise<number> {
  return (await Promise.all(takes)).filter((r) => r.allowed).length;
}

export function rateLimitConformance(name: string, subject: () => RateLimitSubject): void {
  describe(`RateLimitStore conformance: ${name}`, () => {
    test('a fresh key allows a burst, then refuses with the seconds until the next token', async () => {
      const { store } = subject();
      const k = key();
      for (let i = 0; i < 5; i++) assert.deepEqual(await store.take(k, 5, 0.01), { allowed: true, retryAfterSeconds: 0 }, `take ${i + 1}`);
      assert.deepEqual(await store.take(k, 5, 0.01), { allowed: false, retryAfterSeconds: 100 });
      assert.deepEqual(await store.take(k, 5, 0.01), { allowed: false, retryAfterSeconds: 100 }, 'a refusal takes nothing');
    });

    test('retryAfterSeconds is rounded up and at least 1', async () => {
      const { store } = subject();
      const fast = key();
      assert.equal((await store.take(fast, 1, 3)).allowed, true);
      assert.deepEqual(await store.take(fast, 1, 3), { allowed: false, retryAfterSeconds: 1 }, 'a third of a second is 1');
      const slow = key();
      assert.equal((await store.take(slow, 1, 0.4)).allowed, true);
      assert.deepEqual(await store.take(slow, 1, 0.4), { allowed: false, retryAfterSeconds: 3 }, '2.5 s is 3');
    });

    test('keys are independent', async () => {
      const { store } = subject();
      const a = key();
      const b = key();
      assert.equal((await store.take(a, 2, 0.01)).allowed, true);
      assert.equal((await store.take(a, 2, 0.01)).allowed, true);
      assert.equal((await store.take(a, 2, 0.01)).allowed, false);
      assert.equal((await store.take(b, 2, 0.01)).allowed, true);
      assert.equal((await store.take(b, 2, 0.01)).allowed, true);
      assert.equal((await store.take(b, 2, 0.01)).allowed, false);
    });

    test('tokens refill at the rate and never beyond the burst', async () => {
      const { store } = subject();
      const k = key();
      // 20 per second: one token per 50 ms; five takes at once stay far inside that.
      assert.equal(await allowedOf(Array.from({ length: 5 }, () => store.take(k, 2, 20))), 2);
      await sleep(80);
      assert.equal((await store.take(k, 2, 20)).allowed, true, 'a token is back after 50 ms');
      await sleep(400);
      assert.equal(await allowedOf(Array.from({ length: 5 }, () => store.take(k, 2, 20))), 2, '8 tokens worth of time still gives only the burst');
    });

    test('waiting retryAfterSeconds is enough', async () => {
      const { store } = subject();
      const k = key();
      assert.equal((await store.take(k, 1, 1)).allowed, true);
      const refused = await store.take(k, 1, 1);
      assert.deepEqual(refused, { allowed: false, retryAfterSeconds: 1 });
      await sleep(refused.retryAfterSeconds * 1000);
      assert.equal((await store.take(k, 1, 1)).allowed, true);
    });

    test('concurrent takes from two gateways never admit more than the burst', async () => {
      const { store, peer } = subject();
      const k = key();
      const takes = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? store : peer).take(k, 20, 0.001));
      assert.equal(await allowedOf(takes), 20);
      assert.equal((await peer.take(k, 20, 0.001)).allowed, false, 'the peer sees the bucket the other emptied');
    });
  });
}
