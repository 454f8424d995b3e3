// Idempotent writes (the `Idempotency-Key` header): what a key may be, how a request is
// fingerprinted so a reused key can be told from a retry, how long a key is remembered, and
// the ids a keyed create derives from its key so that a retry lands on the same resource
// (the same owner, and the store's own uniqueness refusing a second copy).
import { createHash } from 'node:crypto';

/** A key is remembered this long after its write committed (Stripe's 24 hours). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

/** 1 to 255 printable ASCII characters (space to tilde). */
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

export function isIdempotencyKey(value: unknown): value is string {
  return typeof value === 'string' && KEY_PATTERN.test(value);
}

/** What the gateway passes to an action for a request that carried a key. */
export interface IdempotentRequest {
  key: string;
  /** sha256 (hex) of the request: method, path, query and canonical body. */
  fingerprint: string;
}

/** The same request gives the same fingerprint whatever the order of its body's fields. */
export function requestFingerprint(method: string, path: string, query: Record<string, string>, body: unknown): string {
  return createHash('sha256').update(JSON.stringify([method.toUpperCase(), path, canonical(query), canonical(body)])).digest('hex');
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]));
  }
  return value;
}

// A fixed namespace of Squared's own (RFC 9562 name-based ids).
const NAMESPACE = Buffer.from('5b0d8a4e6f7c4d1e9a3b2c1d0e9f8a7b', 'hex');

/**
 * A UUID version 5 (SHA-1, RFC 9562 §5.5) named by the person, what is created and the key:
 * the same person's retry with the same key makes the very same id.
 */
export function keyedUuid(personId: string, purpose: string, key: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(`${personId}\n${purpose}\n${key}`).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Records created before this ISO time are forgotten. */
export function idempotencyCutoff(now = Date.now()): string {
  return new Date(now - IDEMPOTENCY_TTL_SECONDS * 1000).toISOString();
}
