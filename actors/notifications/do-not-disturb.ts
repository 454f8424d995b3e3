// Who of some people is in do not disturb now, asked of the presence actor when there is
// one (`presence.statuses`). Without it — not deployed, not started yet, not answering —
// nobody is: notifications go out as usual rather than being lost to a missing service.
import type { Logger, ServiceBroker } from 'moleculer';
import { inBatches } from './in-batches.ts';

export const DO_NOT_DISTURB = 'DoNotDisturb';
const PRESENCE_ACTION = 'presence.statuses';

type Statuses = Record<string, { status: string; lastActivity?: string }>;

export async function inDoNotDisturb(broker: ServiceBroker, personIds: string[], log: Logger): Promise<Set<string>> {
  if (personIds.length === 0 || !broker.registry.getActionEndpoints(PRESENCE_ACTION)?.hasAvailable()) return new Set();
  try {
    // A room's notifications name up to all its members (5000); the action takes 1000 a call.
    return new Set(await inBatches(personIds, async (slice) => {
      const statuses = await broker.call<Statuses, { personIds: string[] }>(PRESENCE_ACTION, { personIds: slice }, { timeout: 2000, retries: 0 });
      return slice.filter((id) => statuses?.[id]?.status === DO_NOT_DISTURB);
    }));
  } catch (err) {
    log.warn({ err }, 'presence did not answer: notifications go out without do not disturb');
    return new Set();
  }
}
