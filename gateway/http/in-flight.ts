// Counts the REST requests a gateway is answering, so that a draining gateway can wait
// for them to finish before it closes its connections.
export class InFlightRequests {
  private count = 0;
  private waiters: (() => void)[] = [];
  /** Once set, answers carry `Connection: close`: keep-alive clients reconnect elsewhere. */
  draining = false;

  get size(): number {
    return this.count;
  }

  enter(): void {
    this.count++;
  }

  leave(): void {
    this.count--;
    if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves true when none is in flight any more, false if `timeoutMs` passed first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(wake);
    });
  }
}
