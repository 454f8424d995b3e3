// What an operators' console command is: a name, its arguments, its help text, and a run
// that reads or calls actions through a broker and answers the text to print. The same
// commands run in `npm run repl` on a cluster (as moleculer-repl custom commands) and in an
// embedded process's console socket (console-socket.ts), so both print the same thing.
import type { ServiceBroker } from 'moleculer';

export interface OperatorCommand {
  name: string;
  /** Positional arguments, in order, all required (shown as `<name>` in the help). */
  args: string[];
  description: string;
  run(broker: ServiceBroker, args: Record<string, string>): Promise<string>;
}

/** A refusal the operator can act on (unknown room, no such node): printed as it is. */
export class CommandError extends Error {
  override name = 'CommandError';
}

/** Calls an action with a bound on the wait: a console never hangs on a node that went away. */
export function callAction<T>(broker: ServiceBroker, action: string, params: Record<string, unknown> = {}, nodeID?: string): Promise<T> {
  return broker.call(action, params, { timeout: 5000, retries: 0, ...(nodeID ? { nodeID } : {}) }) as Promise<T>;
}

/** The ids of the available nodes that offer `action`. */
export function nodesOffering(broker: ServiceBroker, action: string): string[] {
  const list = broker.registry.getActionEndpoints(action);
  return (list?.endpoints ?? []).filter((endpoint) => endpoint.isAvailable).map((endpoint) => endpoint.id).sort();
}

/**
 * Asks every available node offering `action`. A node that does not answer (in trouble: when
 * the console matters most) costs only its own part of the answer: it is named in `silent`.
 */
export async function askEvery<T>(broker: ServiceBroker, action: string, params: Record<string, unknown> = {}): Promise<{ answers: { nodeID: string; value: T }[]; silent: string[] }> {
  const silent: string[] = [];
  const answers = await Promise.all(nodesOffering(broker, action).map(async (nodeID) => {
    try {
      return [{ nodeID, value: await callAction<T>(broker, action, params, nodeID) }];
    } catch (err) {
      silent.push(`${nodeID} (${(err as Error).name})`);
      return [];
    }
  }));
  return { answers: answers.flat(), silent };
}
