// Counts the REST requests a gateway is answering and the HTTP connections it holds, so that
// a draining gateway can wait for them before it closes its connections.
export class InFlightRequests {
  private count = 0;
  private connections = 0;
  private lastStartedAt = 0;
  private lastOpenedAt = 0;
  /** Once set, answers carry `Connection: close`: keep-alive clients reconnect elsewhere. */
  draining = false;

  get size(): number {
    return this.count;
  }

  /** Open HTTP connections (a socket upgraded to a WebSocket is no longer one). */
  get openConnections(): number {
    return this.connections;
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
    this.connections++;
    this.lastOpenedAt = performance.now();
  }

  connectionClosed(): void {
    this.connections--;
  }

  /** uWS reports no close for a socket it upgraded: it leaves the HTTP tally here. */
  connectionUpgraded(): void {
    this.connections--;
  }

  /**
   * Resolves true once nothing is in flight and either every HTTP connection has closed, or
   * no request has started for `quietMs` (counted from the call at the earliest) and no
   * connection has opened for `freshMs`; false if `timeoutMs` passed first.
   *
   * Every connection closed is the drain's normal end and the only one that cuts nothing:
   * with the listening socket closed no connection can open, and each request answered while
   * draining carries `Connection: close`. What can keep a connection open is a keep-alive
   * client that sends nothing more (uWS closes it after 10 s idle), or a client that opened a
   * connection and has not written its first request yet — busy or stalled, on a loaded
   * machine for seconds (CI saw it three times, with a 1 s and then a 3 s grace). uWS.js tells
   * a handler nothing that identifies its connection, so the two cannot be told apart; the
   * second is given `freshMs` from the last connection accepted, which by default is uWS's own
   * idle timeout: a connection that has said nothing for that long would be closed by uWS
   * anyway, drain or not. Go's http.Server.Shutdown gives a new connection 5 s; nginx waits
   * for a fresh connection's request like this, and closes idle keep-alive ones.
   *
   * Each check first lets the event loop poll (setImmediate runs after the poll phase): after
   * a stall of the process, timers fire before the I/O that queued up meanwhile is read, and a
   * request waiting in a socket buffer must count as started, not be cut off.
   */
  async settled(quietMs: number, timeoutMs: number, freshMs = quietMs): Promise<boolean> {
    const since = performance.now();
    const deadline = since + timeoutMs;
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      const now = performance.now();
      if (this.count === 0 && this.connections <= 0) return true;
      const quietFor = now - Math.max(since, this.lastStartedAt);
      const freshFor = now - this.lastOpenedAt;
      if (this.count === 0 && quietFor >= quietMs && freshFor >= freshMs) return true;
      if (now >= deadline) return false;
      // Connections close without a timer to wake this loop: look again soon.
      const wait = this.count === 0 ? Math.min(50, Math.max(quietMs - quietFor, freshMs - freshFor)) : 20;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(wait, deadline - now))));
    }
  }
}
