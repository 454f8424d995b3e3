// How a Redis-backed helper reports an outage: at most one warning per interval while it
// lasts (with the count of what went without Redis), one line when it is over.

/** The logging these stores need; a Moleculer or pino logger fits. */
export interface OutageLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export class OutageLog {
  /** Redis failed since the last success. */
  failing = false;
  /** A warning was logged for the current outage. */
  private warned = false;
  private lastWarnMs = Number.NEGATIVE_INFINITY;
  /** Failures not logged because of the interval, since the last warning. */
  private suppressed = 0;
  /** Operations done without Redis in the current outage. */
  private without = 0;
  private readonly logger: OutageLogger;
  private readonly warnIntervalMs: number;
  private readonly messages: { down: string; up: string; countName: string };
  private readonly onFailure: () => void;

  /** `onFailure` hears every failure, logged or not (the engine error count). */
  constructor(logger: OutageLogger, warnIntervalMs: number, messages: { down: string; up: string; countName: string }, onFailure: () => void = () => undefined) {
    this.logger = logger;
    this.warnIntervalMs = warnIntervalMs;
    this.messages = messages;
    this.onFailure = onFailure;
  }

  /** A failure; `countsAsWithout` when an operation went on without Redis. */
  failed(err: unknown, countsAsWithout: boolean): void {
    this.failing = true;
    this.onFailure();
    if (countsAsWithout) this.without++;
    const now = Date.now();
    if (now - this.lastWarnMs < this.warnIntervalMs) {
      this.suppressed++;
      return;
    }
    this.logger.warn(
      { err: err instanceof Error ? err.message : String(err), suppressedWarnings: this.suppressed, [this.messages.countName]: this.without },
      this.messages.down,
    );
    this.lastWarnMs = now;
    this.suppressed = 0;
    this.warned = true;
  }

  succeeded(): void {
    if (!this.failing) return;
    // Only an outage that was warned about is announced over: flapping stays at one line per interval.
    if (this.warned) this.logger.info({ [this.messages.countName]: this.without }, this.messages.up);
    this.failing = false;
    this.warned = false;
    this.without = 0;
  }
}
