// Hands notifications to every gateway (`gateway.notify`), which writes each to the live
// sockets its person has open there, and answers whom it reached. Only gateways hold
// sockets (no shared registry of them to go stale), so asking them all is the one way to
// know who is online now; a gateway that does not answer in time counts as reaching nobody,
// and those people get a push instead: a duplicate beats a lost notification.
import type { ServiceBroker } from 'moleculer';
import type { PersonNotification } from './person-notifications.ts';

const NOTIFY_ACTION = 'gateway.notify';
const NOTIFY_TIMEOUT_MS = 3000;

/** The people of `notifications` that some gateway reached on a live socket. */
export async function deliverLive(broker: ServiceBroker, notifications: PersonNotification[], log: { warn(obj: object, message: string): void }): Promise<Set<string>> {
  const endpoints = broker.registry.getActionEndpoints(NOTIFY_ACTION)?.endpoints ?? [];
  const nodes = endpoints.filter((e) => e.isAvailable).map((e) => e.id);
  const answers = await Promise.all(nodes.map((nodeID) =>
    broker.call<string[], { notifications: PersonNotification[] }>(NOTIFY_ACTION, { notifications }, { nodeID, timeout: NOTIFY_TIMEOUT_MS, retries: 0 }).catch((err: unknown) => {
      log.warn({ err, nodeID }, 'a gateway did not take its notifications: their people get a push');
      return [] as string[];
    })));
  return new Set(answers.flat());
}
