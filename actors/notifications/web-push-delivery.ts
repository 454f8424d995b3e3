// One Web Push attempt of one notification to one subscription, as a WorkQueue job handler.
// web-push builds the request — the payload encrypted for the browser's keys as RFC 8291
// says (aes128gcm, RFC 8188) and a VAPID signature (RFC 8292) — and the outbound client
// sends it, under the webhooks' SSRF policy (checked again here: the name may resolve
// elsewhere now). What the push service answers decides:
// - 2xx: delivered;
// - 404 or 410: the subscription is gone (expired, unsubscribed): it is dropped, as is one
//   past its own expirationTime, without a request;
// - 5xx, 408, 429, a timeout or a connection error: thrown, so the queue retries it;
// - any other answer (a 3xx is never followed, a 4xx refuses this request) or a policy
//   refusal: logged and dropped, as another attempt would meet the same.
// The payload is small and carries no text of the message: a push service relays it, and
// the job waits in the queue; the client's service worker fetches the message with its token.
import webPush from 'web-push';
import type { PushSettings } from '../../contracts/config.ts';
import type { NotificationFrame } from '../../contracts/live-frames.ts';
import type { PushStore, VapidKeys } from '../../storage/push-store.ts';
import { OutboundClient } from '../outbound-fetch.ts';
import { OutboundRefusedError } from '../outbound-policy.ts';

export interface PushJob {
  subscriptionId: string;
  notification: Omit<NotificationFrame, 'preview'>;
}

class RetryablePushError extends Error {
  override name = 'RetryablePushError';
}

export class WebPushDelivery {
  private readonly store: PushStore;
  private readonly client: OutboundClient;
  private readonly settings: PushSettings;
  private readonly keys: VapidKeys;
  private readonly log: { info(obj: object, message: string): void; warn(obj: object, message: string): void };

  constructor(deps: { store: PushStore; client: OutboundClient; settings: PushSettings; keys: VapidKeys; log: WebPushDelivery['log'] }) {
    this.store = deps.store;
    this.client = deps.client;
    this.settings = deps.settings;
    this.keys = deps.keys;
    this.log = deps.log;
  }

  async handle(job: PushJob): Promise<void> {
    const subscription = await this.store.get(job.subscriptionId);
    if (!subscription) return;
    if (subscription.expirationTime !== undefined && subscription.expirationTime <= Date.now()) {
      await this.store.remove(subscription.id);
      return this.log.info({ subscriptionId: subscription.id }, 'push subscription expired: dropped');
    }
    let request: webPush.RequestDetails & { body: Buffer };
    try {
      request = webPush.generateRequestDetails(subscription, JSON.stringify(job.notification), {
        vapidDetails: { subject: this.settings.subject, publicKey: this.keys.publicKey, privateKey: this.keys.privateKey },
        TTL: this.settings.ttlSeconds,
        contentEncoding: 'aes128gcm',
        urgency: 'high',
      });
    } catch (err) {
      // Keys web-push cannot encrypt for: no later attempt would do better.
      return this.log.warn({ err, subscriptionId: subscription.id }, 'push could not be encrypted for the subscription');
    }
    let status: number;
    try {
      status = (await this.client.request(request.endpoint, { method: 'POST', headers: request.headers, body: request.body })).status;
    } catch (err) {
      if (err instanceof OutboundRefusedError) return this.log.warn({ subscriptionId: subscription.id, reason: err.message }, 'push endpoint refused by the outbound policy');
      throw err;
    }
    if (status >= 200 && status < 300) return;
    if (status === 404 || status === 410) {
      await this.store.remove(subscription.id);
      return this.log.info({ subscriptionId: subscription.id, status }, 'push subscription gone: dropped');
    }
    if (status >= 500 || status === 408 || status === 429) throw new RetryablePushError(`the push service answered ${status}`);
    this.log.warn({ subscriptionId: subscription.id, status }, 'push refused by the push service');
  }
}
