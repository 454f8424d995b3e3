// One delivery attempt of one event to one webhook, as a WorkQueue job handler: the body
// exactly as Webex sends it, signed with the webhook's secret, POSTed through the outbound
// client (SSRF policy, timeouts, capped body). What the queue does with a throw — retry with
// backoff, then the dead-letter list — is the retry policy:
// - 2xx: delivered; the webhook's failure count starts again from 0;
// - 5xx, 408, 429, a timeout or a connection error: thrown, so retried (with backoff) until the
//   job's last attempt;
// - any other status (a 3xx is never followed, a 4xx says the target refuses) and a policy
//   refusal (the name now resolves to a private address): not retried;
// - a job that gives up (its last attempt failed, or a failure not worth retrying) counts one
//   failure of its webhook and is dead-lettered; the webhook is set `inactive` when its
//   consecutive failed jobs reach the threshold. Counting jobs, not attempts, lets a target
//   that is down for a moment (a bot restarting during a burst) catch up through the retries
//   without being disabled: only events that could not be delivered at all count;
// - a job that meets an inactive webhook is dead-lettered (a `PUT status: active` and the
//   operator's requeue bring it back); a deleted webhook's jobs are dropped;
// - the creator must still see the event (the rooms policy, asked now): else it is dropped;
// - a target with too many deliveries in flight hands the job back (TargetBusyError, a
//   DeferJobError): it spends no attempt and counts no failure.
// A retry waits a random jitter first (up to a quarter of its backoff, at most 2 s), so the
// retries of many events that failed together do not hit the target in one burst.
import { createHmac, randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebhookSettings } from '../../contracts/config.ts';
import type { ResourceEvent } from '../../contracts/resource-events.ts';
import { DeadLetterJobError } from '../../storage/interfaces.ts';
import type { WebhookRecord, WebhookStore } from '../../storage/webhook-store.ts';
import { OutboundClient } from '../outbound-fetch.ts';
import { OutboundRefusedError } from '../outbound-policy.ts';
import { withValues } from '../present.ts';
import { TargetLimiter } from './target-limiter.ts';

export interface DeliveryJob {
  webhookId: string;
  /** The same on every attempt: a receiver may use it (header X-Squared-Delivery) to drop a duplicate. */
  deliveryId: string;
  event: ResourceEvent;
}

export interface DeliveryLog {
  info(obj: object, message: string): void;
  warn(obj: object, message: string): void;
}

/** The POST body: the webhook's fields, then who did it and the event's data (Webex's order). */
export function deliveryBody(webhook: WebhookRecord, event: ResourceEvent): string {
  return JSON.stringify(withValues({
    id: webhook.id, name: webhook.name, targetUrl: webhook.targetUrl, resource: event.resource, event: event.event, filter: webhook.filter,
    orgId: webhook.orgId, createdBy: webhook.createdBy, appId: webhook.appId, ownedBy: webhook.ownedBy, status: webhook.status, created: webhook.created,
    actorId: event.actorId, data: event.data,
  }));
}

export const signature = (secret: string, body: Buffer) => createHmac('sha1', secret).update(body).digest('hex');

class RetryableDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetryableDeliveryError';
  }
}

export class WebhookDelivery {
  private readonly store: WebhookStore;
  private readonly client: OutboundClient;
  private readonly settings: WebhookSettings;
  private readonly mayNotify: (webhook: WebhookRecord, event: ResourceEvent) => Promise<boolean>;
  private readonly log: DeliveryLog;
  private readonly limiter: TargetLimiter;

  constructor(deps: { store: WebhookStore; client: OutboundClient; settings: WebhookSettings; mayNotify: WebhookDelivery['mayNotify']; log: DeliveryLog }) {
    this.store = deps.store;
    this.client = deps.client;
    this.settings = deps.settings;
    this.mayNotify = deps.mayNotify;
    this.log = deps.log;
    // As many may wait as run: a dead target holds at most twice its limit of the consumer's slots.
    this.limiter = new TargetLimiter(deps.settings.perTargetConcurrency, deps.settings.perTargetConcurrency);
  }

  async handle(job: DeliveryJob, attempt: number): Promise<void> {
    if (attempt > 1) await sleep(randomInt(0, Math.max(1, Math.min(2000, Math.floor((this.settings.backoffMs * 2 ** (attempt - 2)) / 4)))));
    const webhook = await this.store.get(job.webhookId);
    if (!webhook) return;
    if (webhook.status !== 'active') throw new DeadLetterJobError(`the webhook ${webhook.id} is inactive`);
    if (!(await this.mayNotify(webhook, job.event))) return;
    const body = Buffer.from(deliveryBody(webhook, job.event));
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Squared-Webhooks/1', 'x-squared-delivery': job.deliveryId };
    if (webhook.secret) headers['x-spark-signature'] = signature(webhook.secret, body);
    const origin = new URL(webhook.targetUrl).origin;
    // A TargetBusyError passes through: the queue hands the job back without spending an attempt.
    const outcome = await this.limiter.run(origin, () => this.send(webhook.targetUrl, body, headers));
    if (outcome === 'delivered') {
      if ((await this.store.failures(webhook.id)) > 0) await this.store.clearFailures(webhook.id);
      return;
    }
    if (outcome.retry && attempt < this.settings.maxAttempts) {
      this.log.warn({ webhookId: webhook.id, attempt, reason: outcome.reason }, 'webhook delivery failed; retrying');
      throw new RetryableDeliveryError(outcome.reason);
    }
    const failures = await this.store.addFailure(webhook.id);
    this.log.warn({ webhookId: webhook.id, attempt, failures, reason: outcome.reason }, 'webhook delivery given up');
    if (failures >= this.settings.failureThreshold) await this.disable(webhook.id, failures);
    throw new DeadLetterJobError(outcome.reason);
  }

  /** Sets the webhook inactive — its status alone: a PUT that landed meanwhile (a new target or secret) stays; a deleted one stays deleted. */
  private async disable(webhookId: string, failures: number): Promise<void> {
    if (await this.store.deactivate(webhookId)) this.log.info({ webhookId, failures }, 'webhook set inactive after repeated failures');
  }

  private async send(url: string, body: Buffer, headers: Record<string, string>): Promise<'delivered' | { retry: boolean; reason: string }> {
    try {
      const answer = await this.client.request(url, { method: 'POST', body, headers });
      if (answer.status >= 200 && answer.status < 300) return 'delivered';
      const retry = answer.status >= 500 || answer.status === 408 || answer.status === 429;
      return { retry, reason: `the target answered ${answer.status}` };
    } catch (err) {
      if (err instanceof OutboundRefusedError) return { retry: false, reason: err.message };
      return { retry: true, reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
  }
}
