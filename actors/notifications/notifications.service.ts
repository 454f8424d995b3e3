// The `notifications` actor: webhooks (their CRUD, and delivering each committed event to the
// webhooks that match it), and notifications for people (mentions and direct messages, live
// or by Web Push: person-notifications.ts). It owns the webhooks store (with the outbox's
// checkpoints), the push store and their delivery queues. A room's committed activities
// reach webhooks through the room outbox (room-outbox.ts): heard on the rooms actor's
// `rooms.activities` and, whatever was lost of those with a node, replayed from the room
// log — at least once. Events of the other actors (RESOURCE_EVENTS, emitted after their
// write is committed) are dispatched as heard. Each match becomes one durable WorkQueue job,
// which any actors node then delivers (at least once, see webhook-delivery.ts).
import { TOKENS_REVOKED } from '../../contracts/people-events.ts';
import type { Context, ServiceSchema } from 'moleculer';
import webPush from 'web-push';
import type { PushSettings, WebhookSettings } from '../../contracts/config.ts';
import { METRIC, type MetricSink } from '../../contracts/metrics.ts';
import { RESOURCE_EVENTS, type ResourceEvent } from '../../contracts/resource-events.ts';
import type { WorkQueue } from '../../storage/interfaces.ts';
import type { Activity } from '../../storage/records.ts';
import type { PushStore, VapidKeys } from '../../storage/push-store.ts';
import type { WebhookStore } from '../../storage/webhook-store.ts';
import { ownerOf } from '../../routing/owner-strategy.ts';
import { OutboundClient, type LookupFunction } from '../outbound-fetch.ts';
import { parseAllowList, type OutboundPolicy } from '../outbound-policy.ts';
import { webhookActions } from './webhook-actions.ts';
import { queueOperatorActions } from '../queue-operator-actions.ts';
import { notifyPeople } from './person-notifications.ts';
import { pushSubscriptionActions } from './push-subscriptions.ts';
import { WebPushDelivery, type PushJob } from './web-push-delivery.ts';
import { RoomOutbox } from './room-outbox.ts';
import { roomLogReader } from '../room-log-reader.ts';
import { WebhookAudience } from './webhook-audience.ts';
import { WebhookDelivery, type DeliveryJob } from './webhook-delivery.ts';
import { createDispatcher, type FilterRefused, type Unqueued } from './webhook-dispatch.ts';

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

/** Any room-keyed rooms action: its ring names a room's owner (routing/owner-strategy.ts). */
const ROOM_OWNER_ACTION = 'rooms.createMessage';

export function createNotificationsService({ store, queue, queueName, settings, push, pushQueueName, pushSettings, lookup }: NotificationsOptions): ServiceSchema {
  const policy = outboundPolicyOf(settings);
  const stopConsumers: (() => Promise<void>)[] = [];
  const clients: OutboundClient[] = [];
  let audience: WebhookAudience;
  let unqueued: Unqueued = () => undefined;
  let refused: FilterRefused = () => undefined;
  let vapid: VapidKeys | undefined;

  const dispatcher = createDispatcher(store, queue, queueName, () => audience, () => unqueued, () => refused);
  let outbox: RoomOutbox;
  let sweepTimer: NodeJS.Timeout | undefined;

  /**
   * A room's owner announces its writes to itself; a few are committed elsewhere (a room's
   * creation runs on the node that took the call): those are handed to the owner, so that one
   * node moves each room's checkpoint. If the owner does not take them, they are queued here.
   */
  async function toOutbox(ctx: Context, activities: Activity[]): Promise<void> {
    const log = ctx.service!.logger;
    const owner = activities.length > 0 ? ownerOf(ctx.broker, ROOM_OWNER_ACTION, { roomId: activities[0].roomId }) : undefined;
    if (owner && owner !== ctx.broker.nodeID) {
      const handed = await ctx.call('notifications.roomCommitted', { activities }, { nodeID: owner })
        .then(() => true, (err: unknown) => (log.warn({ err, owner }, 'the room\'s owner did not take its announcement; queued here'), false));
      if (handed) return;
    }
    await outbox.committed(activities).catch((err: unknown) => log.error({ err }, 'queueing webhook deliveries failed; the room outbox queues them later'));
  }

  return {
    name: 'notifications',
    actions: {
      ...webhookActions(store, policy),
      ...pushSubscriptionActions(push, policy, pushSettings.maxSubscriptionsPerPerson, () => vapid!.publicKey),
      ...queueOperatorActions(queue, [{ name: queueName, purpose: 'webhook deliveries' }, { name: pushQueueName, purpose: 'web push' }]),
      /** A room's announcement, handed over by a node that does not own the room (internal). */
      roomCommitted: {
        visibility: 'public',
        params: { activities: { type: 'array', items: { type: 'object' }, max: 1000 } },
        async handler(ctx: Context<{ activities: Activity[] }>) {
          await outbox.committed(ctx.params.activities);
        },
      },
    },
    events: {
      'rooms.activities': {
        async handler(ctx: Context<{ activities: Activity[] }>) {
          const { activities } = ctx.params;
          const people = { broker: this.broker, push, queue, queueName: pushQueueName, log: this.logger };
          await Promise.all([
            toOutbox(ctx, activities),
            ...activities.map((activity) => notifyPeople(people, activity).catch((err: unknown) => this.logger.error({ err, roomId: activity.roomId }, 'notifying people failed'))),
          ]);
        },
      },
      [RESOURCE_EVENTS]: {
        async handler(ctx: Context<{ events: ResourceEvent[] }>) {
          const events = ctx.params.events;
          // What failed is logged and counted by `unqueued`; these events are in no log to replay them from.
          await dispatcher.activeWebhooks().then((webhooks) => dispatcher.dispatch(events, webhooks)).catch(() => undefined);
        },
      },
      // Signed out everywhere: no browser of theirs should still show their notifications.
      [TOKENS_REVOKED]: {
        async handler(ctx: Context<{ personId: string }>) {
          const { personId } = ctx.params;
          try {
            for (const subscription of await push.ofPerson(personId)) await push.remove(subscription.id);
          } catch (err) {
            this.logger.warn({ err, personId }, 'the push subscriptions of a person signed out everywhere could not be removed');
          }
        },
      },
      // The rooms of a node that died are owned here now, maybe with announcements it heard and never dispatched.
      '$node.disconnected'(ctx: Context<{ node: { id: string }; unexpected?: boolean }>) {
        if (ctx.params.unexpected) void outbox.sweep();
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
      refused = (err, webhook) => this.logger.warn({ err: (err as Error).message, webhookId: webhook.id, filter: webhook.filter }, 'a stored webhook filter no longer parses: the webhook matches no event until its filter is changed');
      // The first node to start stores the pair; every node, then and later, signs with it.
      vapid = await push.vapidKeys(webPush.generateVAPIDKeys());
      outbox = new RoomOutbox({
        store, dispatcher, log: roomLogReader(this.broker),
        owns: (roomId) => ownerOf(this.broker, ROOM_OWNER_ACTION, { roomId }) === this.broker.nodeID,
        replayWindowMs: settings.replayWindowMinutes * 60_000,
        warn: (err, message, fields) => this.logger.warn({ err, ...fields }, message),
      });
      outbox.start();
      // At start-up (this node, or the whole cluster, may have stopped between a commit and its jobs), then now and then.
      void this.broker.waitForServices(['rooms']).then(() => outbox.sweep(), (err: unknown) => this.logger.warn({ err }, 'no rooms actor to sweep'));
      sweepTimer = setInterval(() => void outbox.sweep(), settings.sweepSeconds * 1000);
      sweepTimer.unref();
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
      clearInterval(sweepTimer);
      await outbox?.stop();
      for (const stop of stopConsumers.splice(0)) await stop();
      for (const client of clients.splice(0)) await client.close();
    },
  };
}
