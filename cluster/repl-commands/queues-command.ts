// `queues` and `requeue <queue>`: the durable work queues (webhook deliveries) as the
// notifications actor sees them — jobs ready now and dead letters — and moving a queue's
// dead letters back once their cause is fixed. Every notifications node shares the queue
// engine (RabbitMQ in a cluster; one process's SQLite file embedded), so one node answers.
import type { ServiceBroker } from 'moleculer';
import { CommandError, callAction, nodesOffering, type OperatorCommand } from './command.ts';
import { table } from './table.ts';

function oneNode(broker: ServiceBroker, action: string): string {
  const [nodeID] = nodesOffering(broker, action);
  if (!nodeID) throw new CommandError('no node runs the notifications actor.');
  return nodeID;
}

export const queuesCommand: OperatorCommand = {
  name: 'queues',
  args: [],
  description: 'Work queues: jobs ready now and dead letters, per queue',
  async run(broker: ServiceBroker) {
    const action = 'notifications.operatorQueues';
    const queues = await callAction<{ queue: string; purpose: string; ready: number; dead: number }[]>(broker, action, {}, oneNode(broker, action));
    return table(['queue', 'purpose', 'ready', 'dead letters'], queues.map((q) => [q.queue, q.purpose, q.ready, q.dead]));
  },
};

export const requeueCommand: OperatorCommand = {
  name: 'requeue',
  args: ['queue'],
  description: 'requeue <queue>: move the dead letters of a queue back into it (after fixing their cause)',
  async run(broker: ServiceBroker, { queue }) {
    const action = 'notifications.operatorRequeue';
    try {
      const result = await callAction<{ queue: string; requeued: number }>(broker, action, { queue }, oneNode(broker, action));
      return `${result.requeued} dead letters of ${result.queue} requeued`;
    } catch (err) {
      if ((err as { code?: number }).code === 404) throw new CommandError(`no queue named ${queue}; \`queues\` lists them.`);
      throw err;
    }
  },
};
