// Whether this node reaches the engines it needs, for /ready and the squared_engine_up
// gauge. Each probe reads state its adapter keeps anyway (a client's connection status, the
// last answer of a periodic ping), so asking costs no I/O and /ready never queries an engine.
// The wiring gives one probe per adapter it opened: the engines a node uses follow from its
// roles (a gateway: Redis and NATS; an actors node: Cassandra, Redis, Elasticsearch, NATS).
// Only some of them are needed to serve: without Cassandra or NATS a node cannot answer, but
// without Redis (rate limits and the session cache fail open) or Elasticsearch (the index
// lags, posts go on) it serves, degraded. /ready is 503 only for the first kind: every
// gateway shares the same Redis, and a load balancer that took them all out of service when
// it went would turn a slower cloud into no cloud.
import { METRIC, type EngineName, type MetricSink } from '../contracts/metrics.ts';

export interface EngineProbe {
  engine: EngineName;
  /** Whether the node can serve without it (degraded) or not at all. */
  required: boolean;
  /** Cheap and synchronous: the adapter's cached view of its connection. */
  reachable(): boolean;
}

/** The logging it needs; a Moleculer or pino logger fits. */
interface HealthLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export class EngineHealth {
  private readonly probes: EngineProbe[];
  private readonly metrics: MetricSink;
  private readonly logger: HealthLogger;
  private readonly lastSeen = new Map<EngineName, boolean>();
  private timer: NodeJS.Timeout | undefined;

  constructor(probes: EngineProbe[], metrics: MetricSink, logger: HealthLogger) {
    this.probes = probes;
    this.metrics = metrics;
    this.logger = logger;
  }

  /** The engines this node needs, once each. */
  get engines(): EngineName[] {
    return [...new Set(this.probes.map((probe) => probe.engine))];
  }

  /** The engines this node cannot serve without and cannot reach now (an engine with several clients: any of them down). */
  missing(): EngineName[] {
    return this.unreachable(true);
  }

  /** The engines this node serves without, degraded, and cannot reach now. */
  degraded(): EngineName[] {
    return this.unreachable(false);
  }

  private unreachable(required: boolean): EngineName[] {
    return [...new Set(this.probes.filter((probe) => probe.required === required && !probe.reachable()).map((probe) => probe.engine))];
  }

  /**
   * Every `intervalMs`, sets the gauge of each engine and logs each change (an engine lost,
   * an engine back), so that nodes without /ready (actors) show it too.
   */
  watch(intervalMs = 1000): void {
    const sample = () => {
      const missing = new Set([...this.missing(), ...this.degraded()]);
      for (const engine of this.engines) {
        const up = !missing.has(engine);
        this.metrics.set(METRIC.engineUp, up ? 1 : 0, { engine });
        const before = this.lastSeen.get(engine);
        if (before !== undefined && before !== up) {
          if (up) this.logger.info({ engine }, 'engine reachable again');
          else this.logger.warn({ engine, required: this.probes.some((probe) => probe.engine === engine && probe.required) }, 'engine unreachable: this node reports not ready (a required engine) or degraded');
        }
        this.lastSeen.set(engine, up);
      }
    };
    sample();
    this.timer = setInterval(sample, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
