// The `notifications` actor: webhooks (their CRUD, and delivering each committed event to the
// webhooks that match it). It owns the webhooks store and the delivery queue. Matching
// happens where the commit is announced — the rooms actor's `rooms.activities`, and
// RESOURCE_EVENTS from the other actors — both emitted after the write is committed and
// heard by one notifications instance; each match becomes one durable WorkQueue job, which
// any actors node then delivers (at least once, see webhook-delivery.ts).
import { randomUUID } from 'node:crypto';
import type { Context, ServiceSchema } from 'moleculer';
import type { WebhookSettings } from '../../contracts/config.ts';
import { RESOURCE_EVENTS, type ResourceEvent } from '../../contracts/resource-events.ts';
import type { WorkQueue } from '../../storage/interfaces.ts';
import type { Activity } from '../../storage/records.ts';
import type { WebhookRecord, WebhookStore } from '../../storage/webhook-store.ts';
import { OutboundClient, type LookupFunction } from '../outbound-fetch.ts';
import { parseAllowList, type OutboundPolicy } from '../outbound-policy.ts';
import { resourceEventOf } from './room-activity-events.ts';
import { webhookActions } from './webhook-actions.ts';
import { operatorActions } from './operator-actions.ts';
import { WebhookAudience } from './webhook-audience.ts';
import { WebhookDelivery, type DeliveryJob } from './webhook-delivery.ts';
import { filterMatches, parseFilter } from './webhook-vocabulary.ts';

export interface NotificationsOptions {
  store: WebhookStore;
  queue: WorkQueue;
  /** The delivery queue's name (namespaced: clusters sharing a broker never take each other's jobs). */
  queueName: string;
  settings: WebhookSettings;
  lookup?: LookupFunction;
}

export function outboundPolicyOf(settings: WebhookSettings): OutboundPolicy {
  return { allowHttp: settings.allowHttp, allowHosts: parseAllowList(settings.allowHosts) };
}

const matches = (w: WebhookRecord, e: ResourceEvent) =>
  w.status === 'active' && (w.resource === e.resource || w.resource === 'all') && (w.event === e.event || w.event === 'all') &&
  filterMatches(parseFilter(w.resource, w.filter), e, { id: w.createdBy });

export function createNotificationsService({ store, queue, queueName, settings, lookup }: NotificationsOptions): ServiceSchema {
  const policy = outboundPolicyOf(settings);
  let stopConsumer: (() => Promise<void>) | undefined;
  let client: OutboundClient | undefined;
  let audience: WebhookAudience;

  /** Queues one job per webhook that matches and may hear it; returns once each is durably accepted. */
  async function dispatch(events: ResourceEvent[]): Promise<void> {
    if (events.length === 0) return;
    const webhooks = (await store.listAll()).filter((w) => w.status === 'active');
    if (webhooks.length === 0) return;
    for (const event of events) {
      const candidates = webhooks.filter((w) => matches(w, event));
      if (candidates.length === 0) continue;
      for (const webhook of await audience.allowed(candidates, event)) {
        const job: DeliveryJob = { webhookId: webhook.id, deliveryId: randomUUID(), event };
        await queue.publish(queueName, job);
      }
    }
  }

  return {
    name: 'notifications',
    actions: { ...webhookActions(store, policy), ...operatorActions(queue, queueName) },
    events: {
      'rooms.activities': {
        async handler(ctx: Context<{ activities: Activity[] }>) {
          const events = ctx.params.activities.map(resourceEventOf).filter((e): e is ResourceEvent => e !== undefined);
          await dispatch(events).catch((err: unknown) => this.logger.error({ err }, 'queueing webhook deliveries failed'));
        },
      },
      [RESOURCE_EVENTS]: {
        async handler(ctx: Context<{ events: ResourceEvent[] }>) {
          await dispatch(ctx.params.events).catch((err: unknown) => this.logger.error({ err }, 'queueing webhook deliveries failed'));
        },
      },
    },
    async started() {
      audience = new WebhookAudience(this.broker);
      client = OutboundClient.create(policy, {
        connectTimeoutMs: settings.connectTimeoutMs, totalTimeoutMs: settings.timeoutMs, maxResponseBytes: 4096, connectionsPerOrigin: settings.perTargetConcurrency,
      }, { lookup });
      const delivery = new WebhookDelivery({
        store, client, settings, log: this.logger,
        // Asked again at delivery: a creator who left the room since the commit hears nothing more of it.
        mayNotify: async (webhook, event) => (await audience.allowed([webhook], event)).length === 1,
      });
      stopConsumer = await queue.consume(queueName, (job, attempt) => delivery.handle(job as DeliveryJob, attempt), {
        maxAttempts: settings.maxAttempts, backoffMs: settings.backoffMs, concurrency: settings.concurrency,
      });
    },
    async stopped() {
      await stopConsumer?.();
      await client?.close();
    },
  };
}
