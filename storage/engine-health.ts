// Whether this node reaches the engines it needs, for /ready and the squared_engine_up
// gauge. Each probe reads state its adapter keeps anyway (a client's connection status, the
// last answer of a periodic ping), so asking costs no I/O and /ready never queries an engine.
// The wiring gives one probe per adapter it opened: the engines a node needs follow from its
// roles (a gateway: Redis and NATS; an actors node: Cassandra, Redis, Elasticsearch, NATS).
import { METRIC, type EngineName, type MetricSink } from '../contracts/metrics.ts';

export interface EngineProbe {
  engine: EngineName;
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

  /** The engines this node needs and cannot reach now (an engine with several clients: any of them down). */
  missing(): EngineName[] {
    return [...new Set(this.probes.filter((probe) => !probe.reachable()).map((probe) => probe.engine))];
  }

  /**
   * Every `intervalMs`, sets the gauge of each engine and logs each change (an engine lost,
   * an engine back), so that nodes without /ready (actors) show it too.
   */
  watch(intervalMs = 1000): void {
    const sample = () => {
      const missing = new Set(this.missing());
      for (const engine of this.engines) {
        const up = !missing.has(engine);
        this.metrics.set(METRIC.engineUp, up ? 1 : 0, { engine });
        const before = this.lastSeen.get(engine);
        if (before !== undefined && before !== up) {
          if (up) this.logger.info({ engine }, 'engine reachable again');
          else this.logger.warn({ engine }, 'engine unreachable: this node reports not ready');
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
