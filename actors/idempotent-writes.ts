// Keyed writes in the actors: the parameter the gateway passes for a request that carried
// an Idempotency-Key (contracts/idempotency.ts), the record committed with the write, and
// what a stored record means for a new request with the same key: the same request gets
// the stored answer again, another request a 422.
import { ApiError } from '../contracts/errors.ts';
import type { IdempotentRequest } from '../contracts/idempotency.ts';
import type { IdempotencyRecord } from '../storage/records.ts';

/** The action parameter; set by the gateway from the header (a body cannot set it, see gateway/routes/idempotent-routes.ts). */
export const idempotencyParam = {
  type: 'object',
  optional: true,
  strict: 'remove',
  props: { key: { type: 'string', min: 1, max: 255 }, fingerprint: { type: 'string', length: 64 } },
} as const;

/** A keyed request of one person: keys are scoped to the caller. */
export interface KeyedRequest extends IdempotentRequest {
  personId: string;
}

export const keyedRequest = (personId: string, request: IdempotentRequest | undefined): KeyedRequest | undefined =>
  request ? { personId, key: request.key, fingerprint: request.fingerprint } : undefined;

export const keyReused = () =>
  new ApiError(422, 'The Idempotency-Key was sent before with another request (method, path or body); use a new key for a new request.', 'IDEMPOTENCY_KEY_REUSED');

/** The stored answer when the record answers this very request; a 422 when it answers another. */
export function replayOf(record: IdempotencyRecord, request: KeyedRequest): unknown {
  if (record.fingerprint !== request.fingerprint) throw keyReused();
  return JSON.parse(record.body);
}

/** The record of a create's answer (creates answer 200, as in Webex). */
export function recordOf(request: KeyedRequest, body: unknown, created: string): IdempotencyRecord {
  return { personId: request.personId, key: request.key, fingerprint: request.fingerprint, status: 200, body: JSON.stringify(body ?? null), created };
}
