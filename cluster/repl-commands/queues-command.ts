// `queues` and `requeue <queue>`: the durable work queues as the actors that own them see
// them (the notifications actor's webhook deliveries and Web Push, the files actor's
// previews) — jobs ready now and dead letters — and moving a queue's dead letters back once
// their cause is fixed. Every node of an actor shares the queue engine (RabbitMQ in a
// cluster; one process's SQLite file embedded), so one node of each answers.
import type { ServiceBroker } from 'moleculer';
import { CommandError, callAction, nodesOffering, type OperatorCommand } from './command.ts';
import { table } from './table.ts';

/** The actors whose queues the console shows. */
const QUEUE_OWNERS = ['notifications', 'files'];

function oneNode(broker: ServiceBroker, action: string): string {
  const [nodeID] = nodesOffering(broker, action);
  if (!nodeID) throw new CommandError(`no node runs the ${action.split('.')[0]} actor.`);
  return nodeID;
}

export const queuesCommand: OperatorCommand = {
  name: 'queues',
  args: [],
  description: 'Work queues: jobs ready now and dead letters, per queue',
  async run(broker: ServiceBroker) {
    const queues = (await Promise.all(QUEUE_OWNERS.map((owner) => {
      const action = `${owner}.operatorQueues`;
      return callAction<{ queue: string; purpose: string; ready: number; dead: number }[]>(broker, action, {}, oneNode(broker, action));
    }))).flat();
    return table(['queue', 'purpose', 'ready', 'dead letters'], queues.map((q) => [q.queue, q.purpose, q.ready, q.dead]));
  },
};

export const requeueCommand: OperatorCommand = {
  name: 'requeue',
  args: ['queue'],
  description: 'requeue <queue>: move the dead letters of a queue back into it (after fixing their cause)',
  async run(broker: ServiceBroker, { queue }) {
    for (const owner of QUEUE_OWNERS) {
      const action = `${owner}.operatorRequeue`;
      try {
        const result = await callAction<{ queue: string; requeued: number }>(broker, action, { queue }, oneNode(broker, action));
        return `${result.requeued} dead letters of ${result.queue} requeued`;
      } catch (err) {
        // Not this actor's queue: the next one's, perhaps.
        if ((err as { code?: number }).code !== 404) throw err;
      }
    }
    throw new CommandError(`no queue named ${queue}; \`queues\` lists them.`);
  },
};
