// The `notifications` actor: webhooks (their CRUD, and delivering each committed event to the
// webhooks that match it), and notifications for people (mentions and direct messages, live
// or by Web Push: person-notifications.ts). It owns the webhooks and push stores and their
// delivery queues. Matching
// happens where the commit is announced — the rooms actor's `rooms.activities`, and
// RESOURCE_EVENTS from the other actors — both emitted after the write is committed and
// heard by one notifications instance; each match becomes one durable WorkQueue job, which
// any actors node then delivers (at least once, see webhook-delivery.ts).
import { randomUUID } from 'node:crypto';
import type { Context, ServiceSchema } from 'moleculer';
import webPush from 'web-push';
import type { PushSettings, WebhookSettings } from '../../contracts/config.ts';
import { METRIC, type MetricSink } from '../../contracts/metrics.ts';
import { RESOURCE_EVENTS, type ResourceEvent } from '../../contracts/resource-events.ts';
import type { WorkQueue } from '../../storage/interfaces.ts';
import type { Activity } from '../../storage/records.ts';
import type { PushStore, VapidKeys } from '../../storage/push-store.ts';
import type { WebhookRecord, WebhookStore } from '../../storage/webhook-store.ts';
import { OutboundClient, type LookupFunction } from '../outbound-fetch.ts';
import { parseAllowList, type OutboundPolicy } from '../outbound-policy.ts';
import { resourceEventOf } from './room-activity-events.ts';
import { webhookActions } from './webhook-actions.ts';
import { operatorActions } from './operator-actions.ts';
import { notifyPeople } from './person-notifications.ts';
import { pushSubscriptionActions } from './push-subscriptions.ts';
import { WebPushDelivery, type PushJob } from './web-push-delivery.ts';
import { WebhookAudience } from './webhook-audience.ts';
import { WebhookDelivery, type DeliveryJob } from './webhook-delivery.ts';
import { filterMatches, parseFilter } from './webhook-vocabulary.ts';

export interface NotificationsOptions {
  store: WebhookStore;
  queue: WorkQueue;
  /** The delivery queue's name (namespaced: clusters sharing a broker never take each other's jobs). */
  queueName: string;
  settings: WebhookSettings;
  push: PushStore;
  /** The Web Push queue's name (namespaced as `queueName`). */
  pushQueueName: string;
  pushSettings: PushSettings;
  lookup?: LookupFunction;
}

export function outboundPolicyOf(settings: WebhookSettings): OutboundPolicy {
  return { allowHttp: settings.allowHttp, allowHosts: parseAllowList(settings.allowHosts) };
}

const matches = (w: WebhookRecord, e: ResourceEvent) =>
  w.status === 'active' && (w.resource === e.resource || w.resource === 'all') && (w.event === e.event || w.event === 'all') &&
  filterMatches(parseFilter(w.resource, w.filter), e, { id: w.createdBy });

export function createNotificationsService({ store, queue, queueName, settings, push, pushQueueName, pushSettings, lookup }: NotificationsOptions): ServiceSchema {
  const policy = outboundPolicyOf(settings);
  const stopConsumers: (() => Promise<void>)[] = [];
  const clients: OutboundClient[] = [];
  let audience: WebhookAudience;
  let unqueued: (err: unknown, event: ResourceEvent, webhooks: WebhookRecord[]) => void = () => undefined;
  let vapid: VapidKeys | undefined;

  /**
   * Queues one job per webhook that matches and may hear it; returns once each is durably
   * accepted. A failing lookup (who may hear an event) or publish costs only its event or its
   * webhook's job, never the rest of the batch, and is visible: an error log and the
   * `webhookUnqueued` metric count what was not queued.
   */
  async function dispatch(events: ResourceEvent[]): Promise<void> {
    if (events.length === 0) return;
    const webhooks = (await store.listAll()).filter((w) => w.status === 'active');
    if (webhooks.length === 0) return;
    for (const event of events) {
      const candidates = webhooks.filter((w) => matches(w, event));
      if (candidates.length === 0) continue;
      let allowed: WebhookRecord[];
      try {
        allowed = await audience.allowed(candidates, event);
      } catch (err) {
        unqueued(err, event, candidates);
        continue;
      }
      for (const webhook of allowed) {
        const job: DeliveryJob = { webhookId: webhook.id, deliveryId: randomUUID(), event };
        await queue.publish(queueName, job).catch((err: unknown) => unqueued(err, event, [webhook]));
      }
    }
  }

  return {
    name: 'notifications',
    actions: {
      ...webhookActions(store, policy),
      ...pushSubscriptionActions(push, policy, pushSettings.maxSubscriptionsPerPerson, () => vapid!.publicKey),
      ...operatorActions(queue, [{ name: queueName, purpose: 'webhook deliveries' }, { name: pushQueueName, purpose: 'web push' }]),
    },
    events: {
      'rooms.activities': {
        async handler(ctx: Context<{ activities: Activity[] }>) {
          const { activities } = ctx.params;
          const events = activities.map(resourceEventOf).filter((e): e is ResourceEvent => e !== undefined);
          const people = { broker: this.broker, push, queue, queueName: pushQueueName, log: this.logger };
          await Promise.all([
            dispatch(events).catch((err: unknown) => this.logger.error({ err }, 'queueing webhook deliveries failed')),
            ...activities.map((activity) => notifyPeople(people, activity).catch((err: unknown) => this.logger.error({ err, roomId: activity.roomId }, 'notifying people failed'))),
          ]);
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
      // RFC 8292 §2.1: push services refuse, and web-push throws on, any other subject.
      if (!/^(mailto:\S+|https:\/\/\S+)$/.test(pushSettings.subject)) throw new Error(`SQUARED_PUSH_SUBJECT must be a mailto: or https: URL, not ${JSON.stringify(pushSettings.subject)}`);
      const metrics: MetricSink = this.broker.metrics;
      unqueued = (err, event, webhooks) => {
        metrics.increment(METRIC.webhookUnqueued, undefined, webhooks.length);
        this.logger.error({ err, resource: event.resource, event: event.event, roomId: event.roomId, webhookIds: webhooks.map((w) => w.id) }, 'webhook deliveries not queued');
      };
      // The first node to start stores the pair; every node, then and later, signs with it.
      vapid = await push.vapidKeys(webPush.generateVAPIDKeys());
      const client = OutboundClient.create(policy, {
        connectTimeoutMs: settings.connectTimeoutMs, totalTimeoutMs: settings.timeoutMs, maxResponseBytes: 4096, connectionsPerOrigin: settings.perTargetConcurrency,
      }, { lookup });
      // A few push services (the browsers' vendors') carry every person's pushes: each origin may use all of the consumer's connections.
      const pushClient = OutboundClient.create(policy, {
        connectTimeoutMs: settings.connectTimeoutMs, totalTimeoutMs: settings.timeoutMs, maxResponseBytes: 4096, connectionsPerOrigin: settings.concurrency,
      }, { lookup });
      clients.push(client, pushClient);
      const delivery = new WebhookDelivery({
        store, client, settings, log: this.logger,
        // Asked again at delivery: a creator who left the room since the commit hears nothing more of it.
        mayNotify: async (webhook, event) => (await audience.allowed([webhook], event)).length === 1,
      });
      const retries = { maxAttempts: settings.maxAttempts, backoffMs: settings.backoffMs, concurrency: settings.concurrency };
      stopConsumers.push(await queue.consume(queueName, (job, attempt) => delivery.handle(job as DeliveryJob, attempt), retries));
      const pushDelivery = new WebPushDelivery({ store: push, client: pushClient, settings: pushSettings, keys: vapid, log: this.logger });
      stopConsumers.push(await queue.consume(pushQueueName, (job) => pushDelivery.handle(job as PushJob), retries));
    },
    async stopped() {
      for (const stop of stopConsumers.splice(0)) await stop();
      for (const client of clients.splice(0)) await client.close();
    },
  };
}
