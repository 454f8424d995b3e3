// The guarantees written on WorkQueue, as one suite every adapter must pass: the embedded
// SQLite queue and the RabbitMQ queue. Backoffs are small so the suite runs in seconds.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { DeadLetterJobError, DeferJobError, type QueueOptions, type WorkQueue } from '../../storage/interfaces.ts';

export interface WorkQueueHarness {
  /** A connected queue; may be the same one for every test (queue names are fresh per test). */
  open(): Promise<WorkQueue>;
  /** Called after each test with the queue names it used (default: close). */
  dispose?(queue: WorkQueue, names: string[]): Promise<void>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

const options = (extra: Partial<QueueOptions> = {}): QueueOptions => ({ maxAttempts: 3, backoffMs: 20, concurrency: 1, ...extra });

export function workQueueConformance(name: string, harness: WorkQueueHarness): void {
  const withQueue = async (body: (queue: WorkQueue, name: () => string) => Promise<void>) => {
    const queue = await harness.open();
    const names: string[] = [];
    const fresh = () => {
      const n = `conformance-${randomUUID()}`;
      names.push(n);
      return n;
    };
    try {
      await body(queue, fresh);
    } finally {
      await (harness.dispose ? harness.dispose(queue, names) : queue.close());
    }
  };

  describe(`WorkQueue conformance: ${name}`, () => {
    test('a published job is delivered once, to the consumer of its queue', () => withQueue(async (queue, fresh) => {
      const q = fresh();
      const other = fresh();
      const seen: { job: unknown; attempt: number }[] = [];
      const seenOther: unknown[] = [];
      const stop = await queue.consume(q, async (job, attempt) => { seen.push({ job, attempt }); }, options());
      const stopOther = await queue.consume(other, async (job) => { seenOther.push(job); }, options());
      try {
        const job = { kind: 'webhook', n: 1, nested: { list: [1, 'two', null], unicode: 'é🙂' } };
        await queue.publish(q, job);
        await waitFor(() => seen.length === 1, 5000, 'the delivery');
        await sleep(300);
        assert.deepEqual(seen, [{ job, attempt: 1 }]);
        assert.deepEqual(seenOther, []);
        assert.deepEqual(await queue.deadLetters(q, 10), []);
      } finally {
        await stop();
        await stopOther();
      }
    }));

    test('a handler that throws twice is retried with growing delays and then succeeds', () => withQueue(async (queue, fresh) => {
      const q = fresh();
      const backoffMs = 150;
      const deliveries: { attempt: number; at: number }[] = [];
      const stop = await queue.consume(q, async (_job, attempt) => {
        deliveries.push({ attempt, at: performance.now() });
        if (deliveries.length <= 2) throw new Error(`transient failure ${attempt}`);
      }, options({ maxAttempts: 5, backoffMs }));
      try {
        await queue.publish(q, { n: 2 });
        await waitFor(() => deliveries.length === 3, 10_000, 'three deliveries');
        await sleep(400);
        assert.deepEqual(deliveries.map((d) => d.attempt), [1, 2, 3]);
        const first = deliveries[1].at - deliveries[0].at;
        const second = deliveries[2].at - deliveries[1].at;
        assert.ok(first >= backoffMs * 0.9, `first retry after ${first.toFixed(0)} ms, expected >= ${backoffMs}`);
        assert.ok(second >= 2 * backoffMs * 0.9, `second retry after ${second.toFixed(0)} ms, expected >= ${2 * backoffMs}`);
        assert.ok(second > first, `delays grow (${first.toFixed(0)} ms, then ${second.toFixed(0)} ms)`);
        assert.deepEqual(await queue.deadLetters(q, 10), []);
      } finally {
        await stop();
      }
    }));

    test('a handler that always throws is dead-lettered after maxAttempts, with the error', () => withQueue(async (queue, fresh) => {
      const q = fresh();
      const attempts: number[] = [];
      const stop = await queue.consume(q, async (_job, attempt) => {
        attempts.push(attempt);
        throw new Error(`endpoint answered 503 on attempt ${attempt}`);
      }, options({ maxAttempts: 3, backoffMs: 20 }));
      try {
        await queue.publish(q, { n: 3 });
        await queue.publish(q, { n: 4 });
        await waitFor(async () => (await queue.deadLetters(q, 10)).length === 2, 10_000, 'two dead letters');
        await sleep(200);
        assert.deepEqual(attempts.sort(), [1, 1, 2, 2, 3, 3]);
        const dead = await queue.deadLetters(q, 10);
        assert.deepEqual(dead.map((d) => d.job).sort((a, b) => (a as { n: number }).n - (b as { n: number }).n), [{ n: 3 }, { n: 4 }]);
        for (const d of dead) {
          assert.equal(d.attempts, 3);
          assert.match(d.error, /endpoint answered 503 on attempt 3/);
        }
        assert.equal((await queue.deadLetters(q, 1)).length, 1, 'max is respected');
        assert.equal((await queue.deadLetters(q, 10)).length, 2, 'reading dead letters does not remove them');
      } finally {
        await stop();
      }
    }));

    test('a deferred job comes back later with its attempt unspent: deferrals never dead-letter it', () => withQueue(async (queue, fresh) => {
      const q = fresh();
      const backoffMs = 60;
      const deliveries: { attempt: number; at: number }[] = [];
      // Deferred four times — twice maxAttempts — then a failure and a success: attempts 1, 1, 1, 1, 1, 2.
      const stop = await queue.consume(q, async (_job, attempt) => {
        deliveries.push({ attempt, at: performance.now() });
        if (deliveries.length <= 4) throw new DeferJobError('the target is busy');
        if (deliveries.length === 5) throw new Error('a real failure');
      }, options({ maxAttempts: 2, backoffMs }));
      try {
        await queue.publish(q, { n: 'busy' });
        await waitFor(() => deliveries.length === 6, 10_000, 'six deliveries');
        await sleep(300);
        assert.deepEqual(deliveries.map((d) => d.attempt), [1, 1, 1, 1, 1, 2]);
        for (let i = 1; i < 5; i++) {
          const waited = deliveries[i].at - deliveries[i - 1].at;
          assert.ok(waited >= backoffMs * 0.9, `deferral ${i} came back after ${waited.toFixed(0)} ms, expected >= ${backoffMs}`);
        }
        assert.deepEqual(await queue.deadLetters(q, 10), []);
        assert.deepEqual(await queue.stats(q), { ready: 0, dead: 0 });
      } finally {
        await stop();
      }
    }));

    test('a job deferred again and again waits longer each time (not a fixed wait)', () => withQueue(async (queue, fresh) => {
      const q = fresh();
      const backoffMs = 20;
      const at: number[] = [];
      const stop = await queue.consume(q, async () => {
        at.push(performance.now());
        throw new DeferJobError('the target is slow');
      }, options({ backoffMs }));
      try {
        await queue.publish(q, { n: 'slow target' });
        await waitFor(() => at.length >= 5, 10_000, 'five deliveries');
        const gaps = at.slice(1, 5).map((t, i) => t - at[i]);
        // Waits of 20, 40, 80, 160 ms (each up to +50%): a fixed wait would come back every ~20 ms.
        gaps.forEach((gap, i) => assert.ok(gap >= backoffMs * 2 ** i * 0.9, `deferral ${i + 1} came back after ${gap.toFixed(0)} ms, expected >= ${backoffMs * 2 ** i}`));
        await sleep(250);
        assert.equal(at.length, 5, 'the fifth deferral waits 320 ms or more');
      } finally {
        await stop();
      }
    }));

    test('a DeadLetterJobError dead-letters the job at its first attempt, with the error', () => withQueue(async (queue, fresh) => {
      const q = fresh();
      const attempts: number[] = [];
      const stop = await queue.consume(q, async (_job, attempt) => {
        attempts.push(attempt);
        throw new DeadLetterJobError('the webhook is inactive');
      }, options({ maxAttempts: 5 }));
      try {
        await queue.publish(q, { n: 'hopeless' });
        await waitFor(async () => (await queue.deadLetters(q, 10)).length === 1, 5000, 'the dead letter');
        await sleep(200);
        assert.deepEqual(attempts, [1]);
        const [dead] = await queue.deadLetters(q, 10);
        assert.deepEqual(dead.job, { n: 'hopeless' });
        assert.equal(dead.attempts, 1);
        assert.match(dead.error, /the webhook is inactive/);
      } finally {
        await stop();
      }
    }));

    test('concurrency is respected', () => withQueue(async (queue, fresh) => {
      const q = fresh();
      const concurrency = 3;
      let running = 0;
      let peak = 0;
      const done = new Set<number>();
      for (let n = 0; n < 12; n++) await queue.publish(q, { n });
      const stop = await queue.consume(q, async (job) => {
        running++;
        peak = Math.max(peak, running);
        await sleep(60);
        running--;
        done.add((job as { n: number }).n);
      }, options({ concurrency }));
      try {
        await waitFor(() => done.size === 12, 10_000, 'all twelve jobs');
        assert.equal(peak, concurrency, `at most ${concurrency} at once, and that many when there is work`);
      } finally {
        await stop();
      }
    }));

    test('stop waits for in-flight jobs and takes no new ones; the rest stay queued', () => withQueue(async (queue, fresh) => {
      const q = fresh();
      let started = 0;
      let finished = 0;
      const stop = await queue.consume(q, async () => {
        started++;
        await sleep(300);
        finished++;
      }, options());
      await queue.publish(q, { n: 'in-flight' });
      await waitFor(() => started === 1, 5000, 'the job to start');
      await stop();
      assert.equal(finished, 1, 'stop resolved only after the in-flight job finished');
      await stop(); // idempotent
      await queue.publish(q, { n: 'later' });
      await sleep(300);
      assert.equal(started, 1, 'a stopped consumer takes nothing');
      const later: unknown[] = [];
      const stopAgain = await queue.consume(q, async (job) => { later.push(job); }, options());
      try {
        await waitFor(() => later.length === 1, 5000, 'the queued job');
        await sleep(200);
        assert.deepEqual(later, [{ n: 'later' }], 'the finished job is not delivered again');
      } finally {
        await stopAgain();
      }
    }));

    test('jobs published before any consumer starts are delivered', () => withQueue(async (queue, fresh) => {
      const q = fresh();
      for (let n = 0; n < 5; n++) await queue.publish(q, { n });
      const seen: number[] = [];
      const stop = await queue.consume(q, async (job) => { seen.push((job as { n: number }).n); }, options({ concurrency: 2 }));
      try {
        await waitFor(() => seen.length === 5, 5000, 'five jobs');
        await sleep(200);
        assert.deepEqual(seen.sort(), [0, 1, 2, 3, 4]);
      } finally {
        await stop();
      }
    }));

    test('stats count the ready jobs and the dead letters; requeued dead letters are delivered again, from attempt 1', () => withQueue(async (queue, fresh) => {
      const q = fresh();
      assert.deepEqual(await queue.stats(q), { ready: 0, dead: 0 });
      for (let n = 0; n < 3; n++) await queue.publish(q, { n });
      await waitFor(async () => (await queue.stats(q)).ready === 3, 5000, 'three ready jobs');
      // The target is down: every job dies.
      let down = true;
      const delivered: { n: number; attempt: number }[] = [];
      const stop = await queue.consume(q, async (job, attempt) => {
        if (down) throw new Error('target down');
        delivered.push({ n: (job as { n: number }).n, attempt });
      }, options({ maxAttempts: 2, backoffMs: 20 }));
      try {
        await waitFor(async () => (await queue.stats(q)).dead === 3, 10_000, 'three dead letters');
        assert.deepEqual(await queue.stats(q), { ready: 0, dead: 3 });
        // The target is back: the operator requeues two, then the rest.
        down = false;
        assert.equal(await queue.requeueDeadLetters(q, 2), 2);
        await waitFor(() => delivered.length === 2, 5000, 'two redeliveries');
        assert.equal((await queue.stats(q)).dead, 1);
        assert.equal(await queue.requeueDeadLetters(q, 10), 1);
        await waitFor(() => delivered.length === 3, 5000, 'the third redelivery');
        await sleep(200);
        assert.deepEqual(delivered.map((d) => d.n).sort(), [0, 1, 2]);
        assert.ok(delivered.every((d) => d.attempt === 1), 'attempts start again');
        assert.deepEqual(await queue.stats(q), { ready: 0, dead: 0 });
        assert.equal(await queue.requeueDeadLetters(q, 10), 0, 'nothing left to requeue');
      } finally {
        await stop();
      }
    }));

    test('a job that is not JSON-serializable is refused by publish', () => withQueue(async (queue, fresh) => {
      await assert.rejects(queue.publish(fresh(), undefined), TypeError);
    }));
  });
}
