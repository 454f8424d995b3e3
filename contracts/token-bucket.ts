// A token bucket: `burst` tokens at most, refilled at `perSecond`. The state is plain data
// so that a store can keep many of them (the embedded rate limits) and a live session one.

export interface TokenBucket {
  tokens: number;
  updatedMs: number;
}

export const fullBucket = (burst: number, nowMs: number): TokenBucket => ({ tokens: burst, updatedMs: nowMs });

/** Takes one token, after refilling for the time since the last use: 0 when taken, else the ms until one is there. */
export function takeToken(bucket: TokenBucket, burst: number, perSecond: number, nowMs: number): number {
  bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, nowMs - bucket.updatedMs) / 1000) * perSecond);
  bucket.updatedMs = nowMs;
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return 0;
  }
  return Math.ceil(((1 - bucket.tokens) / perSecond) * 1000);
}
