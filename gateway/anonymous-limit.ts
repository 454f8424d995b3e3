// The limit on unauthenticated attempts per client address, for REST and live hellos alike:
// a request with no usable token or a token refused, a hello refused. Each failure spends a
// token of the address's bucket in the shared RateLimitStore (memory, or Redis for every
// gateway at once), under its own key. A success spends nothing, so signed-in clients never
// meet this limit. Once a take is refused, this gateway refuses every request and hello of
// the address that would need a token check or a password check (REST 429, live close
// 4029), before the token is looked up or the body read, until the Retry-After it was told.
import type { RateLimitStore } from '../storage/interfaces.ts';

/** Past this many refused addresses remembered, those whose wait is over are forgotten. */
const MAX_REMEMBERED = 10_000;

export class AnonymousLimit {
  private readonly store: RateLimitStore;
  private readonly burst: number;
  private readonly perSecond: number;
  private readonly now: () => number;
  /** Address → when this gateway lets it try again (ms since the epoch). */
  private readonly refusedUntil = new Map<string, number>();

  /** `perSecond` 0: no limit. */
  constructor(store: RateLimitStore, burst: number, perSecond: number, now: () => number = Date.now) {
    this.store = store;
    this.burst = burst;
    this.perSecond = perSecond;
    this.now = now;
  }

  /** Seconds the address must still wait before it may try, or 0. Costs no I/O. */
  refusal(address: string): number {
    const until = this.refusedUntil.get(address);
    if (until === undefined) return 0;
    const left = until - this.now();
    if (left > 0) return Math.ceil(left / 1000);
    this.refusedUntil.delete(address);
    return 0;
  }

  /** One failed attempt of the address: 0 while within the limit, else the seconds to wait. */
  async failed(address: string): Promise<number> {
    if (!(this.perSecond > 0)) return 0;
    const { allowed, retryAfterSeconds } = await this.store.take(`anon:${address}`, this.burst, this.perSecond);
    if (allowed) return 0;
    // The Redis store answers Infinity for a burst of 0; a wait is whole seconds, at least one.
    const seconds = Number.isFinite(retryAfterSeconds) ? Math.max(1, retryAfterSeconds) : 60;
    if (this.refusedUntil.size >= MAX_REMEMBERED) this.forgetPast();
    this.refusedUntil.set(address, this.now() + seconds * 1000);
    return seconds;
  }

  private forgetPast(): void {
    const now = this.now();
    for (const [address, until] of this.refusedUntil) if (until <= now) this.refusedUntil.delete(address);
  }
}
