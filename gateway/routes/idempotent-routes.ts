// The Idempotency-Key header on the creates that honour it: the gateway checks the key,
// fingerprints the request, and hands both to the action, which stores its answer in the
// same commit as the write (actors/idempotent-writes.ts). Because a retry is then safe,
// a keyed call whose owner node died under it is retried here, a bounded number of times.
import { isIdempotencyKey, requestFingerprint, type IdempotentRequest } from '../../contracts/idempotency.ts';
import { HttpError } from '../http/http-errors.ts';
import type { Route, RouteContext } from '../http/router.ts';
import { withoutNulls } from './resource-routes.ts';

/** The POSTs whose action takes `idempotency` (Webex creates of Squared's writers). */
export const IDEMPOTENT_CREATES = new Set(['/v1/rooms', '/v1/memberships', '/v1/messages', '/v1/teams', '/v1/team/memberships', '/v1/meetings', '/v1/room/tabs']);

/**
 * Failures that mean the owner node went away: the call was rejected when its node
 * disconnected (it may or may not have committed), or no node offers the action yet.
 * Broker-level retries already cover calls no node took; these need the key to be safe.
 */
const OWNER_LOST = new Set(['RequestRejectedError', 'ServiceNotAvailableError', 'ServiceNotFoundError']);
/** Retries after the first attempt, and the wait before each: 0.25 s, 0.5 s, 1 s. */
export const OWNER_LOST_RETRIES = 3;
const RETRY_BASE_MS = 250;

/** The request's key and fingerprint; undefined without the header, 400 for a malformed key. */
export function idempotencyOf(ctx: RouteContext): IdempotentRequest | undefined {
  const key = ctx.request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (!isIdempotencyKey(key)) throw new HttpError(400, 'Idempotency-Key must be 1 to 255 printable ASCII characters.');
  return { key, fingerprint: requestFingerprint(ctx.request.method, ctx.request.path, ctx.request.query, withoutNulls(ctx.body)) };
}

/** The route, with its calls given the request's key (or none: a body cannot supply one) and retried when keyed. */
export function idempotent(route: Route): Route {
  return {
    ...route,
    async handle(ctx) {
      const idempotency = idempotencyOf(ctx);
      const call = async <T>(action: string, params: object): Promise<T> => {
        const keyed = { ...params, idempotency };
        for (let retry = 0; ; retry++) {
          try {
            return await ctx.call<T>(action, keyed);
          } catch (err) {
            if (!idempotency || retry >= OWNER_LOST_RETRIES || !OWNER_LOST.has((err as Error)?.name)) throw err;
            await new Promise((resolve) => setTimeout(resolve, RETRY_BASE_MS * 2 ** retry));
          }
        }
      };
      return route.handle({ ...ctx, call });
    },
  };
}
