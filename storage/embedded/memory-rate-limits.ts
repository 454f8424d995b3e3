import type { RateLimitStore } from '../interfaces.ts';

interface Bucket { tokens: number; updatedMs: number }

/** Token buckets in this process's memory: right for one gateway, the embedded mode. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly buckets = new Map<string, Bucket>();

  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  async take(key: string, burst: number, perSecond: number): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: burst, updatedMs: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.updatedMs) / 1000) * perSecond);
    bucket.updatedMs = now;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 100_000) this.evictFull(burst);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)) };
  }

  /** Full buckets carry no information: dropping them bounds memory under many tokens. */
  private evictFull(burst: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.tokens >= burst - 1) this.buckets.delete(key);
  }
}
