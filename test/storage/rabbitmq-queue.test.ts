// The RabbitMQ WorkQueue against the conformance suite, plus its topology and connection-loss
// behaviour. Runs only when SQUARED_RABBITMQ names a broker (e.g.
// amqp://guest:guest@127.0.0.1:5672, see cluster/engines); in CI a missing variable is a
// failure, never a silent skip. Every test uses fresh, randomly named queues and deletes them.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import amqp from 'amqplib';
import type { WorkQueue } from '../../storage/interfaces.ts';
import { RabbitWorkQueue, deadQueueName, delayQueueName } from '../../storage/rabbitmq/work-queue.ts';
import { sleep, waitFor, workQueueConformance } from './work-queue.conformance.ts';
import { engineAddress } from '../harness/engine.ts';

const brokerUrl = engineAddress('RabbitMQ work queue', 'SQUARED_RABBITMQ', 'amqp://guest:guest@127.0.0.1:5672', 'rabbitmq');
const freshName = () => `squared-test-${randomUUID()}`;

/** Cuts the TCP connection under the queue, as a network failure or broker restart would. */
function dropConnection(queue: RabbitWorkQueue): void {
  const model = queue.currentModel() as unknown as { connection: { stream: Socket } } | undefined;
  assert.ok(model, 'connected before the drop');
  model.connection.stream.destroy(new Error('simulated network failure (ECONNRESET)'));
}

if (brokerUrl) {
  const url = brokerUrl;
  const cleanUp = async (queue: WorkQueue, names: string[]) => {
    const rabbit = queue as RabbitWorkQueue;
    for (const name of names) await rabbit.deleteQueues(name);
    await rabbit.close();
  };

  workQueueConformance('RabbitMQ', { open: () => RabbitWorkQueue.create({ url }), dispose: cleanUp });

  describe('RabbitMQ work queue specifics', () => {
    test('topology: durable work, delay and dead queues; delay queues dead-letter back to the work queue', async () => {
      const queue = await RabbitWorkQueue.create({ url });
      const q = freshName();
      const connection = await amqp.connect(url);
      try {
        let attempts = 0;
        const stop = await queue.consume(q, async () => {
          attempts++;
          throw new Error('no');
        }, { maxAttempts: 4, backoffMs: 25, concurrency: 1 });
        await queue.publish(q, { n: 1 });
        await waitFor(async () => (await queue.deadLetters(q, 5)).length === 1, 5000, 'the dead letter');
        await stop();
        assert.equal(attempts, 4);
        // passive declarations succeed only for existing queues
        const ch = await connection.createChannel();
        for (const name of [q, deadQueueName(q), delayQueueName(q, 25), delayQueueName(q, 50), delayQueueName(q, 100)]) {
          const { messageCount } = await ch.checkQueue(name);
          assert.equal(messageCount, name === deadQueueName(q) ? 1 : 0, name);
        }
        // redeclaring with the same arguments is idempotent; a delay queue carries its TTL and route back
        await ch.assertQueue(delayQueueName(q, 50), { durable: true, arguments: { 'x-message-ttl': 50, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': q } });
        await ch.close();
        // a consumer started again with other backoffs declares other delay queues, without clashing
        const stop2 = await queue.consume(q, async () => {}, { maxAttempts: 2, backoffMs: 30, concurrency: 1 });
        await stop2();
      } finally {
        await connection.close();
        await queue.deleteQueues(q);
        await queue.close();
      }
    });

    test('a queue declared elsewhere with other arguments fails publish clearly, and the queue keeps working', async () => {
      const queue = await RabbitWorkQueue.create({ url });
      const clash = freshName();
      const fine = freshName();
      const connection = await amqp.connect(url);
      try {
        const ch = await connection.createChannel();
        await ch.assertQueue(clash, { durable: false });
        await ch.close();
        await assert.rejects(queue.publish(clash, { n: 1 }), /RabbitMQ: cannot publish to squared-test-.*PRECONDITION_FAILED/);
        await queue.publish(fine, { n: 2 });
        assert.equal(queue.connected, true);
      } finally {
        const ch = await connection.createChannel();
        await ch.deleteQueue(clash);
        await connection.close();
        await queue.deleteQueues(fine);
        await queue.close();
      }
    });

    test('connection loss: publish rejects at once while down; reconnection restores publishing and consuming; in-flight jobs are redelivered', async () => {
      const queue = await RabbitWorkQueue.create({ url, reconnectMinMs: 100, reconnectMaxMs: 500 });
      const q = freshName();
      let release: () => void = () => {};
      const blocked = new Promise<void>((resolve) => { release = resolve; });
      try {
        const seen: { n: number; attempt: number }[] = [];
        const stop = await queue.consume(q, async (job, attempt) => {
          const { n } = job as { n: number };
          seen.push({ n, attempt });
          if (n === 1 && seen.length === 1) await blocked; // in flight when the connection drops
        }, { maxAttempts: 3, backoffMs: 20, concurrency: 2 });
        await queue.publish(q, { n: 1 });
        await waitFor(() => seen.length === 1, 5000, 'the first delivery');

        dropConnection(queue);
        await waitFor(() => !queue.connected, 5000, 'the loss to be noticed');
        const t0 = performance.now();
        await assert.rejects(queue.publish(q, { n: 2 }), /RabbitMQ at amqp:\/\/guest:\*\*\*@.* is not connected \(reconnecting\); cannot publish to squared-test-/);
        assert.ok(performance.now() - t0 < 100, 'rejected at once');
        await assert.rejects(queue.deadLetters(q, 1), /not connected/);
        release(); // its ack goes nowhere: the broker requeued the job

        await waitFor(() => queue.connected, 10_000, 'the reconnection');
        await queue.publish(q, { n: 3 });
        await waitFor(() => seen.some((s) => s.n === 3) && seen.filter((s) => s.n === 1).length === 2, 10_000, 'the redelivery and the new job');
        assert.deepEqual(seen.filter((s) => s.n === 1).map((s) => s.attempt), [1, 1], 'redelivered after the loss (at least once)');
        await stop();
      } finally {
        release();
        await queue.deleteQueues(q).catch(() => {});
        await queue.close();
      }
    });

    test('requeue skips a dead letter that is not JSON (left in place, counted) and moves the ones behind it', async () => {
      const warnings: string[] = [];
      const queue = await RabbitWorkQueue.create({ url, logger: { info() {}, warn: (m: unknown) => void warnings.push(String(m)), error() {} } });
      const q = freshName();
      const connection = await amqp.connect(url);
      try {
        const ch = await connection.createChannel();
        await ch.assertQueue(deadQueueName(q), { durable: true });
        ch.sendToQueue(deadQueueName(q), Buffer.from('{not json'), { persistent: true });
        ch.sendToQueue(deadQueueName(q), Buffer.from(JSON.stringify({ n: 1 })), { persistent: true });
        ch.sendToQueue(deadQueueName(q), Buffer.from(JSON.stringify({ n: 2 })), { persistent: true });
        await ch.close();
        await waitFor(async () => (await queue.stats(q)).dead === 3, 5000, 'three dead letters');
        assert.equal(await queue.requeueDeadLetters(q, 10), 2);
        assert.deepEqual(await queue.stats(q), { ready: 2, dead: 1 });
        assert.ok(warnings.some((w) => /1 dead letters of .* are not JSON/.test(w)), warnings.join('\n'));
        assert.deepEqual((await queue.deadLetters(q, 10)).map((d) => d.job), ['{not json']);
      } finally {
        await connection.close();
        await queue.deleteQueues(q);
        await queue.close();
      }
    });

    test('a job whose channel closes while its handler runs is redelivered by the broker only: the failing handler republishes no second copy', async () => {
      // The broker closes a channel whose ack is late (consumer_timeout) and gives its jobs to another consumer.
      const first = await RabbitWorkQueue.create({ url });
      const second = await RabbitWorkQueue.create({ url });
      const q = freshName();
      let release: () => void = () => {};
      const blocked = new Promise<void>((resolve) => { release = resolve; });
      const seen: { by: string; attempt: number }[] = [];
      try {
        const options = { maxAttempts: 3, backoffMs: 20, concurrency: 1 };
        const stopFirst = await first.consume(q, async (_job, attempt) => {
          seen.push({ by: 'first', attempt });
          await blocked;
          throw new Error('failed after its channel closed');
        }, options);
        await first.publish(q, { n: 1 });
        await waitFor(() => seen.length === 1, 5000, 'the first delivery');
        const stopSecond = await second.consume(q, async (_job, attempt) => { seen.push({ by: 'second', attempt }); }, options);
        const consumer = [...(first as unknown as { consumers: Set<{ active: { ch: { close(): Promise<void> } } }> }).consumers][0];
        await consumer.active.ch.close();
        await waitFor(() => seen.some((s) => s.by === 'second'), 5000, 'the redelivery to the other consumer');
        release();
        await sleep(500);
        assert.deepEqual(seen, [{ by: 'first', attempt: 1 }, { by: 'second', attempt: 1 }], 'delivered once more, not forked into a retry too');
        await stopFirst();
        await stopSecond();
      } finally {
        release();
        await first.deleteQueues(q).catch(() => {});
        await first.close();
        await second.close();
      }
    });

    test('an unreachable broker fails create promptly with a clear error', async () => {
      const t0 = Date.now();
      await assert.rejects(RabbitWorkQueue.create({ url: 'amqp://guest:secret@127.0.0.1:1', operationTimeoutMs: 2000 }),
        /RabbitMQ at amqp:\/\/guest:\*\*\*@127.0.0.1:1\/?\?heartbeat=10: cannot connect: .*ECONNREFUSED/);
      assert.ok(Date.now() - t0 < 3000);
    });

    test('a closed queue refuses work', async () => {
      const queue = await RabbitWorkQueue.create({ url });
      await queue.close();
      await assert.rejects(queue.publish(freshName(), {}), /work queue is closed/);
    });
  });
}
