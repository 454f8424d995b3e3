// At most `limit` deliveries in flight per target origin, and a short line of waiters behind
// them: a slow or dead target holds only its own few slots of the delivery consumer, never
// all of them, so other webhooks keep flowing. A delivery that finds the line full is handed
// back to the queue (TargetBusyError, a DeferJobError: delivered later without spending one of
// its attempts, and not counted as the target's failure — a slow but healthy target's jobs
// must not end dead-lettered for having waited).
import { DeferJobError } from '../../storage/interfaces.ts';

export class TargetBusyError extends DeferJobError {
  constructor(origin: string) {
    super(`${origin} has too many deliveries in flight`);
    this.name = 'TargetBusyError';
  }
}

export class TargetLimiter {
  private readonly limit: number;
  private readonly maxWaiting: number;
  private readonly targets = new Map<string, { running: number; waiting: (() => void)[] }>();

  constructor(limit: number, maxWaiting: number) {
    this.limit = limit;
    this.maxWaiting = maxWaiting;
  }

  async run<T>(origin: string, task: () => Promise<T>): Promise<T> {
    let target = this.targets.get(origin);
    if (!target) this.targets.set(origin, (target = { running: 0, waiting: [] }));
    if (target.running < this.limit) {
      target.running++;
    } else {
      if (target.waiting.length >= this.maxWaiting) throw new TargetBusyError(origin);
      // The slot is handed over by the one finishing (running stays), so none can jump the line.
      await new Promise<void>((resolve) => target.waiting.push(resolve));
    }
    try {
      return await task();
    } finally {
      const next = target.waiting.shift();
      if (next) {
        next();
      } else if (--target.running === 0) {
        this.targets.delete(origin);
      }
    }
  }
}
