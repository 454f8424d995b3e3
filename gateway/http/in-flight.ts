// Counts the REST requests a gateway is answering, so that a draining gateway can wait
// for them to finish before it closes its connections.
export class InFlightRequests {
  private count = 0;
  private lastStartedAt = 0;
  private lastOpenedAt = 0;
  /** Once set, answers carry `Connection: close`: keep-alive clients reconnect elsewhere. */
  draining = false;

  get size(): number {
    return this.count;
  }

  enter(): void {
    this.count++;
    this.lastStartedAt = performance.now();
  }

  leave(): void {
    this.count--;
  }

  /** A connection was accepted: its first request may be on its way. */
  connectionOpened(): void {
    this.lastOpenedAt = performance.now();
  }

  /**
   * Resolves true once nothing is in flight, no request has started for `quietMs` (counted
   * from the call at the earliest) and no connection has opened for `freshMs`; false if
   * `timeoutMs` passed first.
   *
   * A quiet period rather than a count of zero: with the listening socket closed, requests
   * can still come from connections accepted just before, whose TLS handshake or first
   * request is on its way; a connection that has said nothing for a whole quiet period is
   * idle and may be closed (HTTP allows a server to close an idle connection). A connection
   * accepted just before gets longer (`freshMs`): its client, busy or slow, may not have
   * written its first request yet, and closing it then cuts a request that was sent (CI saw
   * it on a loaded machine). Each check first lets the event loop poll (setImmediate runs
   * after the poll phase): after a stall of the process, timers fire before the I/O that
   * queued up meanwhile is read, and a request waiting in a socket buffer must count as
   * started, not be cut off.
   */
  async settled(quietMs: number, timeoutMs: number, freshMs = quietMs): Promise<boolean> {
    const since = performance.now();
    const deadline = since + timeoutMs;
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      const now = performance.now();
      const quietFor = now - Math.max(since, this.lastStartedAt);
      const freshFor = now - this.lastOpenedAt;
      if (this.count === 0 && quietFor >= quietMs && freshFor >= freshMs) return true;
      if (now >= deadline) return false;
      const wait = this.count === 0 ? Math.max(quietMs - quietFor, freshMs - freshFor) : 20;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(wait, deadline - now))));
    }
  }
}
