// Hands notifications to every gateway (`gateway.notify`), which writes each to the live
// sockets its person has open there, and answers whom it reached. Only gateways hold
// sockets (no shared registry of them to go stale), so asking them all is the one way to
// know who is online now; a gateway that does not answer in time counts as reaching nobody,
// and those people get a push instead: a duplicate beats a lost notification.
//
// The people of one message share a few frames (mention or direct, silent or not): each goes
// once with the ids of its people, in calls of at most PEOPLE_PER_CALL ids, so that an
// `@all` in a room of thousands stays far below the transporter's message size limit.
import type { ServiceBroker } from 'moleculer';
import type { NotificationFrame } from '../../contracts/live-frames.ts';
import type { PersonNotification } from './person-notifications.ts';

const NOTIFY_ACTION = 'gateway.notify';
const NOTIFY_TIMEOUT_MS = 3000;
const PEOPLE_PER_CALL = 2000;

/** What `gateway.notify` takes: frames, each with the people it is for. */
export interface NotificationGroup {
  frame: NotificationFrame;
  personIds: string[];
}

export function groupsOf(notifications: PersonNotification[]): NotificationGroup[][] {
  const byFrame = new Map<string, NotificationGroup>();
  for (const { personId, frame } of notifications) {
    const key = JSON.stringify(frame);
    const group = byFrame.get(key);
    if (group) group.personIds.push(personId);
    else byFrame.set(key, { frame, personIds: [personId] });
  }
  const calls: NotificationGroup[][] = [];
  let call: NotificationGroup[] = [];
  let size = 0;
  for (const { frame, personIds } of byFrame.values()) {
    for (let i = 0; i < personIds.length;) {
      const take = personIds.slice(i, i + PEOPLE_PER_CALL - size);
      call.push({ frame, personIds: take });
      size += take.length;
      i += take.length;
      if (size === PEOPLE_PER_CALL) {
        calls.push(call);
        call = [];
        size = 0;
      }
    }
  }
  if (call.length > 0) calls.push(call);
  return calls;
}

/** The people of `notifications` that some gateway reached on a live socket. */
export async function deliverLive(broker: ServiceBroker, notifications: PersonNotification[], log: { warn(obj: object, message: string): void }): Promise<Set<string>> {
  const endpoints = broker.registry.getActionEndpoints(NOTIFY_ACTION)?.endpoints ?? [];
  const nodes = endpoints.filter((e) => e.isAvailable).map((e) => e.id);
  const reached = new Set<string>();
  await Promise.all(groupsOf(notifications).flatMap((groups) => nodes.map(async (nodeID) => {
    try {
      const ids = await broker.call<string[], { groups: NotificationGroup[] }>(NOTIFY_ACTION, { groups }, { nodeID, timeout: NOTIFY_TIMEOUT_MS, retries: 0 });
      for (const id of ids) reached.add(id);
    } catch (err) {
      log.warn({ err, nodeID }, 'a gateway did not take its notifications: their people get a push');
    }
  })));
  return reached;
}
