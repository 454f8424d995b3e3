// The Moleculer broker of a Squared process. Embedded mode runs without a transporter; a
// cluster sets SQUARED_TRANSPORTER (e.g. nats://127.0.0.1:4222) and every role joins it.
import { Errors, Validators, type BrokerOptions, type Context, type Middleware } from 'moleculer';
import { ApiError } from './contracts/errors.ts';
import { currentTrackingId, withTrackingId } from './contracts/request-tracking.ts';
import type { Config } from './contracts/config.ts';
import { OwnerStrategy } from './routing/owner-strategy.ts';
import { ownerKey } from './routing/owner-key.ts';

/**
 * Action parameters drop the fields their schema does not name, so a body can never set
 * what an action did not ask for (ids, owners, timestamps): Webex ignores unknown fields too.
 */
class StrictValidator extends Validators.Fastest {
  compile(schema: Record<string, unknown>) {
    return super.compile({ $$strict: 'remove', ...schema });
  }
}

/** Rebuilds the actors' ApiErrors when they arrive from another node, status and all. */
class SquaredErrorRegenerator extends Errors.Regenerator {
  restoreCustomError(plain: Errors.PlainMoleculerError, payload: Record<string, unknown>): Error {
    if (plain.name === 'ApiError') {
      const err = new ApiError(plain.code, plain.message, plain.type);
      err.data = plain.data;
      return err;
    }
    return super.restoreCustomError(plain, payload);
  }
}

/**
 * Pino's options: every line written while serving a request carries its trackingId (the
 * mixin), and a terminal gets readable lines through pino-pretty (a transport: formatted
 * off the main thread). Anything else (a file, a pipe: tests, `npm run cluster`) gets
 * one JSON object per line.
 */
export function pinoOptions(terminal: boolean): Record<string, unknown> {
  return {
    base: undefined,
    timestamp: true,
    mixin: () => {
      const trackingId = currentTrackingId();
      return trackingId ? { trackingId } : {};
    },
    ...(terminal ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', singleLine: true } } } : {}),
  };
}

const trackingIdOf = (ctx: Context) => (ctx.meta as { trackingId?: unknown } | undefined)?.trackingId;

/**
 * Runs every local action and event handler in the trackingId of its call chain. The
 * gateway puts it in `ctx.meta`, which Moleculer passes to every nested call and event
 * (`ctx.call`, `ctx.emit`), across nodes too, so an actor's log lines name it.
 */
const TrackingIdMiddleware: Middleware = {
  name: 'TrackingId',
  localAction(next: (ctx: Context) => Promise<unknown>) {
    return (ctx: Context) => {
      const trackingId = trackingIdOf(ctx);
      return withTrackingId(typeof trackingId === 'string' ? trackingId : undefined, () => next(ctx));
    };
  },
  localEvent(next: (ctx: Context) => void | Promise<void>) {
    return (ctx: Context) => {
      const trackingId = trackingIdOf(ctx);
      return withTrackingId(typeof trackingId === 'string' ? trackingId : undefined, () => next(ctx));
    };
  },
};

export function brokerOptions(config: Config, transporter: string | undefined): BrokerOptions {
  return {
    namespace: config.namespace,
    nodeID: config.nodeId,
    transporter: transporter ? { type: 'NATS', options: { url: transporter } } : undefined,
    logger: {
      type: 'Pino',
      options: {
        level: config.logLevel,
        pino: { options: pinoOptions(process.stdout.isTTY === true) },
      },
    },
    middlewares: [TrackingIdMiddleware],
    logLevel: config.logLevel as BrokerOptions['logLevel'],
    requestTimeout: config.limits.requestTimeoutMs,
    // A node that dies without saying goodbye is noticed within seconds, so its rooms move on.
    heartbeatInterval: 2,
    heartbeatTimeout: 6,
    // Room actions are routed to the node that owns the room, meeting actions to the node
    // that owns the meeting (cluster mode). Media calls name their node and skip this.
    // The registry prefers a local endpoint (its default): an actor calling another actor
    // stays on its node for stateless reads, so a node that died is not waited for until
    // the heartbeat timeout. An actor's change of a room names the room's owner
    // (`ownerOf`, routing/owner-strategy.ts). Gateways have no local actors: their calls go
    // to the owner.
    registry: { strategy: OwnerStrategy, strategyOptions: { shardKey: ownerKey } },
    validator: new StrictValidator(),
    errorRegenerator: new SquaredErrorRegenerator(),
    // Port 0: any free port (the ready line names it).
    metrics: config.metricsPort !== undefined
      ? { enabled: true, reporter: [{ type: 'Prometheus', options: { port: config.metricsPort, path: '/metrics' } }] }
      : { enabled: false },
    // Stopping waits for in-flight requests to finish.
    tracking: { enabled: true, shutdownTimeout: config.limits.drainTimeoutMs },
    // A call that no node took (its node is leaving, or the registry has not caught up) is
    // tried again: it was never executed, so even a write is safe to retry. Timeouts and
    // other failures are not retried: their outcome is unknown.
    retryPolicy: {
      enabled: true,
      retries: 3,
      delay: 100,
      maxDelay: 1000,
      factor: 2,
      check: (err: Error) => err?.name === 'ServiceNotAvailableError' || err?.name === 'ServiceNotFoundError',
    },
  };
}
