// What the operators' console (`queues`, `requeue <queue>`, cluster/repl-commands/) does with
// the notifications actor's work queue: counts of ready jobs and dead letters, and moving the
// dead letters back once their cause (a target down, a bad certificate) is fixed. Internal
// (visibility 'public'): no client route names them.
import type { Context, ServiceSchema } from 'moleculer';
import { notFound } from '../../contracts/errors.ts';
import type { WorkQueue } from '../../storage/interfaces.ts';

/** Dead letters moved per queue call: each batch stays well inside one broker round trip's bound. */
const REQUEUE_BATCH = 200;

export function operatorActions(queue: WorkQueue, queueName: string): NonNullable<ServiceSchema['actions']> {
  return {
    operatorQueues: {
      visibility: 'public',
      async handler() {
        return [{ queue: queueName, purpose: 'webhook deliveries', ...(await queue.stats(queueName)) }];
      },
    },
    operatorRequeue: {
      visibility: 'public',
      params: { queue: { type: 'string', min: 1, max: 200 } },
      async handler(ctx: Context<{ queue: string }>) {
        if (ctx.params.queue !== queueName) throw notFound(`No queue named ${ctx.params.queue}.`);
        let moved = 0;
        for (let batch = REQUEUE_BATCH; batch === REQUEUE_BATCH;) {
          batch = await queue.requeueDeadLetters(queueName, REQUEUE_BATCH);
          moved += batch;
        }
        return { queue: queueName, requeued: moved };
      },
    },
  };
}
