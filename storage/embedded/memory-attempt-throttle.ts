// Counted attempts and their locks in this process's memory: right for the one actor node
// of the embedded mode. Bounded: past `maxKeys`, forgotten keys go first, then the oldest.
import type { AttemptPolicy, AttemptThrottle } from '../interfaces.ts';

interface Counted {
  attempts: number;
  lockedUntil: number;
  /** When the key is forgotten (its attempts and any lock are then over). */
  forgetAt: number;
}

/** The lock that the n-th counted attempt starts (0 below the policy's free attempts). */
export function lockAfter(attempts: number, policy: AttemptPolicy): number {
  if (attempts < policy.freeAttempts) return 0;
  return Math.min(policy.maxLockMs, policy.lockMs * 2 ** Math.min(attempts - policy.freeAttempts, 40));
}

export class MemoryAttemptThrottle implements AttemptThrottle {
  private readonly keys = new Map<string, Counted>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(options: { now?: () => number; maxKeys?: number } = {}) {
    this.now = options.now ?? Date.now;
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  async attempt(key: string, policy: AttemptPolicy): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
    const now = this.now();
    const counted = this.current(key, now) ?? { attempts: 0, lockedUntil: 0, forgetAt: 0 };
    if (counted.lockedUntil > now) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((counted.lockedUntil - now) / 1000)) };
    counted.attempts += 1;
    const lock = lockAfter(counted.attempts, policy);
    counted.lockedUntil = lock > 0 ? now + lock : 0;
    counted.forgetAt = Math.max(now + policy.forgetMs, counted.lockedUntil);
    // Re-inserted, so that the map's order stays the order of last use.
    this.keys.delete(key);
    this.keys.set(key, counted);
    if (this.keys.size > this.maxKeys) this.evict(now);
    return { allowed: true, retryAfterSeconds: 0 };
  }

  async refund(key: string, policy: AttemptPolicy): Promise<void> {
    const counted = this.current(key, this.now());
    if (!counted) return;
    counted.attempts = Math.max(0, counted.attempts - 1);
    if (counted.attempts < policy.freeAttempts) counted.lockedUntil = 0;
  }

  async clear(key: string): Promise<void> {
    this.keys.delete(key);
  }

  private current(key: string, now: number): Counted | undefined {
    const counted = this.keys.get(key);
    if (counted && counted.forgetAt <= now) {
      this.keys.delete(key);
      return undefined;
    }
    return counted;
  }

  private evict(now: number): void {
    for (const [key, counted] of this.keys) if (counted.forgetAt <= now) this.keys.delete(key);
    // Still too many: the least recently attempted go, down to 90 % so that this scan is rare.
    // Filling the map costs an attacker one password check per key, which the per-address
    // key throttles first.
    for (const key of this.keys.keys()) {
      if (this.keys.size <= this.maxKeys * 0.9) break;
      this.keys.delete(key);
    }
  }
}
