// Dispatch: an event becomes one durable WorkQueue job per active webhook that matches it
// (resource, event, filter) and may hear it (the rooms policy, webhook-audience.ts). Only
// events created since the webhook was created reach it, so a replay of a room's log
// (room-outbox.ts) never hands a new webhook the room's past. A failing lookup (who may hear
// an event) or publish costs only its event or its webhook's job, never the rest of the batch,
// and is visible (`unqueued`: an error log and a metric); the dispatch then rejects, so that
// the outbox keeps the room's checkpoint before it and queues it again later.
import { createHash, randomUUID } from 'node:crypto';
import type { ResourceEvent } from '../../contracts/resource-events.ts';
import type { WorkQueue } from '../../storage/interfaces.ts';
import type { WebhookRecord, WebhookStore } from '../../storage/webhook-store.ts';
import type { WebhookAudience } from './webhook-audience.ts';
import type { DeliveryJob } from './webhook-delivery.ts';
import { filterMatches, parseFilter } from './webhook-vocabulary.ts';

/** Hears a stored filter that no longer parses (a webhook kept from before a rule that refuses it). */
export type FilterRefused = (err: unknown, webhook: WebhookRecord) => void;

/**
 * Whether a webhook matches an event: active, created before it, its resource and event, and
 * its filter. Each webhook's filter is parsed once (per filter text), not per event. A stored
 * filter that no longer parses matches nothing — it is reported once per webhook and filter,
 * and never stops the event from reaching the other webhooks.
 */
export function createMatcher(refused: () => FilterRefused): { matches: (w: WebhookRecord, e: ResourceEvent) => boolean; retain: (webhooks: WebhookRecord[]) => void } {
  const parsed = new Map<string, { resource: string; filter: string | undefined; pairs: Map<string, string> | null }>();
  const filterOf = (w: WebhookRecord): Map<string, string> | null => {
    const known = parsed.get(w.id);
    if (known && known.filter === w.filter && known.resource === w.resource) return known.pairs;
    let pairs: Map<string, string> | null;
    try {
      pairs = parseFilter(w.resource, w.filter);
    } catch (err) {
      pairs = null;
      refused()(err, w);
    }
    parsed.set(w.id, { resource: w.resource, filter: w.filter, pairs });
    return pairs;
  };
  const matches = (w: WebhookRecord, e: ResourceEvent) => {
    if (w.status !== 'active' || e.created < w.created) return false;
    if ((w.resource !== e.resource && w.resource !== 'all') || (w.event !== e.event && w.event !== 'all')) return false;
    const pairs = filterOf(w);
    return pairs !== null && filterMatches(pairs, e, { id: w.createdBy });
  };
  // The parsed filters of deleted or inactive webhooks are dropped as the active list is read.
  const retain = (webhooks: WebhookRecord[]) => {
    const ids = new Set(webhooks.map((w) => w.id));
    for (const id of parsed.keys()) if (!ids.has(id)) parsed.delete(id);
  };
  return { matches, retain };
}


/**
 * The delivery id (X-Squared-Delivery) of an event for a webhook: derived from the event's
 * key when it has one, so that the same activity dispatched twice (by the live path and by
 * a replay after a node was lost) reaches the receiver under the same id, and it can drop
 * the repeat. Formatted as a UUID, as a random one would be.
 */
export function deliveryIdOf(webhookId: string, event: ResourceEvent): string {
  if (!event.key) return randomUUID();
  const hex = createHash('sha256').update(`${webhookId}\n${event.key}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export interface Dispatcher {
  /** The webhooks that may get jobs: the active ones. */
  activeWebhooks(): Promise<WebhookRecord[]>;
  /** Queues the events' jobs for the given webhooks; resolves once every job is durably accepted, rejects (after trying the rest) if one is not. */
  dispatch(events: ResourceEvent[], webhooks: WebhookRecord[]): Promise<void>;
}

/** Hears what could not be queued, and why. */
export type Unqueued = (err: unknown, event: ResourceEvent, webhooks: WebhookRecord[]) => void;

export function createDispatcher(store: WebhookStore, queue: WorkQueue, queueName: string, audience: () => WebhookAudience, unqueued: () => Unqueued, refused: () => FilterRefused): Dispatcher {
  const { matches, retain } = createMatcher(refused);
  return {
    async activeWebhooks() {
      const active = (await store.listAll()).filter((w) => w.status === 'active');
      retain(active);
      return active;
    },
    async dispatch(events, webhooks) {
      if (webhooks.length === 0) return;
      let failure: unknown;
      const failed = (err: unknown, event: ResourceEvent, some: WebhookRecord[]) => {
        failure ??= err;
        unqueued()(err, event, some);
      };
      for (const event of events) {
        const candidates = webhooks.filter((w) => matches(w, event));
        if (candidates.length === 0) continue;
        let allowed: WebhookRecord[];
        try {
          allowed = await audience().allowed(candidates, event);
        } catch (err) {
          failed(err, event, candidates);
          continue;
        }
        for (const webhook of allowed) {
          const job: DeliveryJob = { webhookId: webhook.id, deliveryId: deliveryIdOf(webhook.id, event), event };
          await queue.publish(queueName, job).catch((err: unknown) => failed(err, event, [webhook]));
        }
      }
      if (failure !== undefined) throw failure;
    },
  };
}
