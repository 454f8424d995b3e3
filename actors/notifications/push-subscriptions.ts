// The push subscriptions of the caller (a Squared extension, docs/notifications.md): a
// browser's PushSubscription JSON as its Push API gives it, kept per person; and the VAPID
// public key a browser subscribes with (`applicationServerKey`). The endpoint is a URL
// Squared will POST to, so it passes the outbound policy of webhooks at creation (400 when
// refused) and again at every delivery. The keys are checked to be what RFC 8291 needs: a
// P-256 point and a 16-byte auth secret. An endpoint is one browser, so it is one
// subscription (its id derives from the endpoint): subscribed again it is replaced (the
// browser renewed its keys), by another person it changes hands (someone else signed in on
// that browser), so one person's pushes never reach a browser another person uses now. A
// person keeps at most `maxPerPerson`: the oldest goes when one more arrives.
import { createHash } from 'node:crypto';
import type { Context, ServiceSchema } from 'moleculer';
import { callerOf } from '../../contracts/caller.ts';
import { badRequest, notFound } from '../../contracts/errors.ts';
import { idKind, newId } from '../../contracts/ids.ts';
import type { PushStore, PushSubscriptionRecord } from '../../storage/push-store.ts';
import { checkTargetUrl, OutboundRefusedError, type OutboundPolicy } from '../outbound-policy.ts';
import { withValues } from '../present.ts';

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/** The subscription id of an endpoint: a UUID shaped from its SHA-256, the same on every node. */
function subscriptionIdOf(endpoint: string): string {
  const hex = createHash('sha256').update(endpoint).digest('hex');
  return newId('PUSH_SUBSCRIPTION', `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`);
}

function decodedLength(value: string): number {
  return BASE64URL.test(value) ? Buffer.from(value, 'base64url').length : -1;
}

export function presentSubscription(s: PushSubscriptionRecord): Record<string, unknown> {
  return withValues({ id: s.id, personId: s.personId, endpoint: s.endpoint, expirationTime: s.expirationTime, created: s.created });
}

function checkedEndpoint(url: string, policy: OutboundPolicy): string {
  try {
    return checkTargetUrl(url, policy).href;
  } catch (err) {
    if (err instanceof OutboundRefusedError) throw badRequest(`The push endpoint is refused: ${err.message}`);
    throw err;
  }
}

export function pushSubscriptionActions(store: PushStore, policy: OutboundPolicy, maxPerPerson: number, publicKey: () => string): NonNullable<ServiceSchema['actions']> {
  /** The caller's subscription of the path's id; another person's is as absent as an unknown one. */
  const own = async (ctx: Context<{ subscriptionId: string }>) => {
    const found = idKind(ctx.params.subscriptionId) === 'PUSH_SUBSCRIPTION' ? await store.get(ctx.params.subscriptionId) : undefined;
    if (!found || found.personId !== callerOf(ctx).id) throw notFound('Push subscription not found.');
    return found;
  };

  return {
    createPushSubscription: {
      visibility: 'published',
      params: {
        endpoint: { type: 'string', min: 1, max: 2048, trim: true },
        expirationTime: { type: 'number', integer: true, min: 0, optional: true },
        keys: { type: 'object', strict: 'remove', props: { p256dh: { type: 'string', min: 1, max: 200 }, auth: { type: 'string', min: 1, max: 100 } } },
      },
      async handler(ctx: Context<{ endpoint: string; expirationTime?: number; keys: { p256dh: string; auth: string } }>) {
        const caller = callerOf(ctx);
        const { p256dh, auth } = ctx.params.keys;
        const point = BASE64URL.test(p256dh) ? Buffer.from(p256dh, 'base64url') : undefined;
        if (!point || point.length !== 65 || point[0] !== 0x04) throw badRequest('keys.p256dh must be an uncompressed P-256 public key, base64url-encoded (65 bytes).');
        if (decodedLength(auth) !== 16) throw badRequest('keys.auth must be a 16-byte secret, base64url-encoded.');
        const endpoint = checkedEndpoint(ctx.params.endpoint, policy);
        const id = subscriptionIdOf(endpoint);
        const existing = await store.get(id);
        const renewed = existing?.personId === caller.id;
        // The browser changed hands (another person signed in on it): the earlier person's pushes must not reach it.
        if (existing && !renewed) await store.remove(id);
        const mine = renewed ? [] : await store.ofPerson(caller.id);
        const subscription: PushSubscriptionRecord = {
          id, personId: caller.id, endpoint, keys: { p256dh, auth },
          expirationTime: ctx.params.expirationTime, created: renewed ? existing.created : new Date().toISOString(),
        };
        await store.put(subscription);
        const oldestFirst = [...mine].sort((a, b) => a.created.localeCompare(b.created));
        for (const old of oldestFirst.slice(0, Math.max(0, mine.length + 1 - maxPerPerson))) await store.remove(old.id);
        return presentSubscription(subscription);
      },
    },

    listPushSubscriptions: {
      visibility: 'published',
      async handler(ctx: Context) {
        return { items: (await store.ofPerson(callerOf(ctx).id)).map(presentSubscription) };
      },
    },

    getPushSubscription: {
      visibility: 'published',
      params: { subscriptionId: { type: 'string', min: 1, max: 200, trim: true } },
      handler: async (ctx: Context<{ subscriptionId: string }>) => presentSubscription(await own(ctx)),
    },

    removePushSubscription: {
      visibility: 'published',
      params: { subscriptionId: { type: 'string', min: 1, max: 200, trim: true } },
      async handler(ctx: Context<{ subscriptionId: string }>) {
        await store.remove((await own(ctx)).id);
      },
    },

    vapidPublicKey: {
      visibility: 'published',
      handler: () => ({ publicKey: publicKey() }),
    },
  };
}
