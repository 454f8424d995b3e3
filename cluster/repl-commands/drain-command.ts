// `drain <node>`: the graceful drain SIGTERM starts (services unregistered, in-flight
// requests finished, live sockets told to reconnect elsewhere, then the process stops),
// asked of the node over the transporter (`operator.drain`). The console waits to see the
// node leave, unless it is the console's own process (an embedded installation).
import type { ServiceBroker } from 'moleculer';
import { CommandError, callAction, nodesOffering, type OperatorCommand } from './command.ts';

/** How long the console watches for a drained node to leave: a drain's timeout and some. */
const WATCH_MS = 30_000;

export const drainCommand: OperatorCommand = {
  name: 'drain',
  args: ['nodeId'],
  description: 'Drain a node gracefully (as SIGTERM does), then watch it leave',
  async run(broker: ServiceBroker, { nodeId }) {
    if (!nodesOffering(broker, 'operator.drain').includes(nodeId)) {
      throw new CommandError(`no Squared node ${nodeId} is up (see \`cluster\`).`);
    }
    const answer = await callAction<{ already: boolean }>(broker, 'operator.drain', {}, nodeId);
    const started = `${nodeId}: ${answer.already ? 'was already draining' : 'draining'} (services unregistered, in-flight requests finished, live sockets sent elsewhere, then it stops)`;
    if (nodeId === broker.nodeID) return `${started}; this console closes with it`;
    const since = Date.now();
    while (Date.now() - since < WATCH_MS) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (!broker.registry.nodes.get(nodeId)?.available) return `${started}\n${nodeId}: left the cluster after ${((Date.now() - since) / 1000).toFixed(1)} s`;
    }
    return `${started}\n${nodeId}: still in the cluster after ${WATCH_MS / 1000} s (see \`cluster\`)`;
  },
};
