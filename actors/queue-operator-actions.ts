// What the operators' console (`queues`, `requeue <queue>`, cluster/repl-commands/) does with
// an actor's work queues (the notifications actor's webhook deliveries and Web Push, the files
// actor's previews): counts of ready jobs and dead letters, and moving the dead letters back
// once their cause (a target down, an engine that failed) is fixed. Internal (visibility
// 'public'): no client route names them.
import type { Context, ServiceSchema } from 'moleculer';
import { notFound } from '../contracts/errors.ts';
import type { WorkQueue } from '../storage/interfaces.ts';

/** Dead letters moved per queue call: each batch stays well inside one broker round trip's bound. */
const REQUEUE_BATCH = 200;

export function queueOperatorActions(queue: WorkQueue, queues: { name: string; purpose: string }[]): NonNullable<ServiceSchema['actions']> {
  return {
    operatorQueues: {
      visibility: 'public',
      async handler() {
        return Promise.all(queues.map(async ({ name, purpose }) => ({ queue: name, purpose, ...(await queue.stats(name)) })));
      },
    },
    operatorRequeue: {
      visibility: 'public',
      params: { queue: { type: 'string', min: 1, max: 200 } },
      async handler(ctx: Context<{ queue: string }>) {
        const queueName = ctx.params.queue;
        if (!queues.some((q) => q.name === queueName)) throw notFound(`No queue named ${queueName}.`);
        // As many as there are now: a requeued job that dies again meanwhile waits for the next requeue.
        // A batch may move fewer than asked (a letter it could not read is left in place), so go on until one moves none.
        const { dead } = await queue.stats(queueName);
        let moved = 0;
        while (moved < dead) {
          const batch = await queue.requeueDeadLetters(queueName, Math.min(REQUEUE_BATCH, dead - moved));
          if (batch === 0) break;
          moved += batch;
        }
        return { queue: queueName, requeued: moved };
      },
    },
  };
}
