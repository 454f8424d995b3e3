// The `/v1/webhooks` actions, as Webex has them: a person manages the webhooks they created;
// an administrator also creates, lists and manages `ownedBy: org` webhooks of their
// organization. A target URL is checked against the outbound policy when given (400 for a
// refused scheme or address), the resource × event pair and the filter too.
import type { Context, ServiceSchema } from 'moleculer';
import { callerOf, isAdmin, type Caller } from '../../contracts/caller.ts';
import { badRequest, forbidden, notFound } from '../../contracts/errors.ts';
import { idKind, newId } from '../../contracts/ids.ts';
import type { WebhookRecord, WebhookStore } from '../../storage/webhook-store.ts';
import { checkTargetUrl, OutboundRefusedError, type OutboundPolicy } from '../outbound-policy.ts';
import * as p from '../params.ts';
import { withValues } from '../present.ts';
import { checkResourceEvent, parseFilter } from './webhook-vocabulary.ts';

/** Squared has no integrations yet: every webhook is made by Squared's own application. */
export const SQUARED_APP_ID = Buffer.from('ciscospark://us/APPLICATION/00000000-0000-0000-0000-000000000001').toString('base64url');

const name = { type: 'string', min: 1, max: 256, trim: true } as const;
const targetUrl = { type: 'string', min: 1, max: 2048, trim: true } as const;
const secret = { type: 'string', min: 1, max: 256, optional: true } as const;
const ownedBy = { type: 'enum', values: ['org', 'creator'], optional: true } as const;

export function presentWebhook(w: WebhookRecord): Record<string, unknown> {
  return withValues({
    id: w.id, name: w.name, targetUrl: w.targetUrl, resource: w.resource, event: w.event, filter: w.filter, secret: w.secret,
    status: w.status, ownedBy: w.ownedBy, orgId: w.orgId, createdBy: w.createdBy, appId: w.appId, created: w.created,
  });
}

function checkedUrl(url: string, policy: OutboundPolicy): string {
  try {
    return checkTargetUrl(url, policy).href;
  } catch (err) {
    if (err instanceof OutboundRefusedError) throw badRequest(err.message);
    throw err;
  }
}

function mayManage(caller: Caller, w: WebhookRecord): boolean {
  return w.createdBy === caller.id || (w.ownedBy === 'org' && isAdmin(caller) && w.orgId === caller.orgId);
}

export function webhookActions(store: WebhookStore, policy: OutboundPolicy): NonNullable<ServiceSchema['actions']> {
  const load = async (caller: Caller, webhookId: string) => {
    const webhook = idKind(webhookId) === 'WEBHOOK' ? await store.get(webhookId) : undefined;
    if (!webhook || !mayManage(caller, webhook)) throw notFound('Webhook not found.');
    return webhook;
  };
  const orgOwned = (caller: Caller, value: string | undefined): 'org' | 'creator' => {
    if (value !== 'org') return 'creator';
    if (!isAdmin(caller)) throw forbidden('Only an administrator may own a webhook for the organization.');
    return 'org';
  };

  return {
    create: {
      visibility: 'published',
      params: { name, targetUrl, resource: { type: 'string', min: 1, max: 64 }, event: { type: 'string', min: 1, max: 64 }, filter: { type: 'string', max: 2048, optional: true }, secret, ownedBy },
      async handler(ctx: Context<{ name: string; targetUrl: string; resource: string; event: string; filter?: string; secret?: string; ownedBy?: string }>) {
        const caller = callerOf(ctx);
        const { resource, event } = ctx.params;
        checkResourceEvent(resource, event);
        parseFilter(resource, ctx.params.filter);
        const webhook: WebhookRecord = {
          id: newId('WEBHOOK'), name: ctx.params.name, targetUrl: checkedUrl(ctx.params.targetUrl, policy), resource, event,
          filter: ctx.params.filter || undefined, secret: ctx.params.secret, status: 'active', ownedBy: orgOwned(caller, ctx.params.ownedBy),
          orgId: caller.orgId, createdBy: caller.id, appId: SQUARED_APP_ID, created: new Date().toISOString(),
        };
        await store.put(webhook);
        return presentWebhook(webhook);
      },
    },

    list: {
      visibility: 'published',
      params: { max: p.max(100), ownedBy: { type: 'enum', values: ['org'], optional: true }, cursor: p.cursor },
      async handler(ctx: Context<{ max: number; ownedBy?: 'org'; cursor?: string }>) {
        const caller = callerOf(ctx);
        const { max, cursor } = ctx.params;
        if (ctx.params.ownedBy === 'org') {
          if (!isAdmin(caller)) throw forbidden('Only an administrator may list the organization\'s webhooks.');
          const page = await store.listByOrg(caller.orgId, { max, after: cursor });
          return { items: page.items.filter((w) => w.ownedBy === 'org').map(presentWebhook), next: page.next };
        }
        const page = await store.listByCreator(caller.id, { max, after: cursor });
        return { items: page.items.map(presentWebhook), next: page.next };
      },
    },

    get: {
      visibility: 'published',
      params: { webhookId: p.id },
      async handler(ctx: Context<{ webhookId: string }>) {
        return presentWebhook(await load(callerOf(ctx), ctx.params.webhookId));
      },
    },

    update: {
      visibility: 'published',
      params: { webhookId: p.id, name, targetUrl, secret, ownedBy, status: { type: 'enum', values: ['active'], optional: true } },
      async handler(ctx: Context<{ webhookId: string; name: string; targetUrl: string; secret?: string; ownedBy?: string; status?: 'active' }>) {
        const caller = callerOf(ctx);
        const current = await load(caller, ctx.params.webhookId);
        const updated: WebhookRecord = {
          ...current, name: ctx.params.name, targetUrl: checkedUrl(ctx.params.targetUrl, policy),
          secret: ctx.params.secret ?? current.secret,
          ownedBy: ctx.params.ownedBy === undefined ? current.ownedBy : orgOwned(caller, ctx.params.ownedBy),
          status: ctx.params.status ?? current.status,
        };
        // Revived (or re-pointed): the failures that disabled it are forgotten.
        if (updated.status === 'active' && (current.status !== 'active' || updated.targetUrl !== current.targetUrl)) await store.clearFailures(current.id);
        // Only while it exists: a DELETE that won the race stays done.
        if (!(await store.update(updated))) throw notFound('Webhook not found.');
        return presentWebhook(updated);
      },
    },

    remove: {
      visibility: 'published',
      params: { webhookId: p.id },
      async handler(ctx: Context<{ webhookId: string }>) {
        const webhook = await load(callerOf(ctx), ctx.params.webhookId);
        await store.remove(webhook.id);
      },
    },
  };
}
