import type { RateLimitStore } from '../interfaces.ts';
import { fullBucket, takeToken, type TokenBucket } from '../../contracts/token-bucket.ts';

/** Token buckets in this process's memory: right for one gateway, the embedded mode. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly buckets = new Map<string, TokenBucket>();

  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  async take(key: string, burst: number, perSecond: number): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
    const now = this.now();
    if (this.buckets.size > 100_000) this.evictFull(burst);
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = fullBucket(burst, now)));
    const waitMs = takeToken(bucket, burst, perSecond, now);
    return { allowed: waitMs === 0, retryAfterSeconds: waitMs === 0 ? 0 : Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  /** Full buckets carry no information: dropping them bounds memory under many tokens. */
  private evictFull(burst: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.tokens >= burst - 1) this.buckets.delete(key);
  }
}
