// The Moleculer broker of a Squared process. Embedded mode runs without a transporter; a
// cluster sets SQUARED_TRANSPORTER (e.g. nats://127.0.0.1:4222) and every role joins it.
import { Validators, type BrokerOptions } from 'moleculer';
import type { Config } from './cluster/config.ts';

/**
 * Action parameters drop the fields their schema does not name, so a body can never set
 * what an action did not ask for (ids, owners, timestamps): Webex ignores unknown fields too.
 */
class StrictValidator extends Validators.Fastest {
  compile(schema: Record<string, unknown>) {
    return super.compile({ $$strict: 'remove', ...schema });
  }
}

export function brokerOptions(config: Config, transporter: string | undefined): BrokerOptions {
  return {
    namespace: 'squared',
    nodeID: config.nodeId,
    transporter: transporter ? { type: 'NATS', options: { url: transporter } } : undefined,
    logger: {
      type: 'Pino',
      options: {
        level: config.logLevel,
        pino: { options: { base: undefined, timestamp: true } },
      },
    },
    logLevel: config.logLevel as BrokerOptions['logLevel'],
    requestTimeout: config.limits.requestTimeoutMs,
    // Room actions are routed to the node that owns the room (cluster mode).
    registry: { strategy: 'Shard', strategyOptions: { shardKey: 'roomId', preferLocal: false } },
    validator: new StrictValidator(),
    metrics: config.metricsPort
      ? { enabled: true, reporter: [{ type: 'Prometheus', options: { port: config.metricsPort, path: '/metrics' } }] }
      : { enabled: false },
    // Stopping waits for in-flight requests to finish.
    tracking: { enabled: true, shutdownTimeout: 10_000 },
  };
}
