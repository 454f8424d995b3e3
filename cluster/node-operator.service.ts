// The per-node service every Squared process runs for its operators (named `operator` on
// every node; callers pick the node with `nodeID`): what the node is (roles, versions,
// uptime, load), and the graceful drain that SIGTERM starts, triggered over the
// transporter by the console's `drain <node>`. Internal (visibility 'public'): no client
// route names it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Context, ServiceBroker, ServiceSchema } from 'moleculer';

export interface NodeOperatorOptions {
  roles: string[];
  /** Starts the node's graceful shutdown (the SIGTERM path of squared.ts). */
  drain: (reason: string) => void;
}

/**
 * The requests each of the node's services is handling now: its actors' queues. Read from
 * Moleculer's context tracking (on in moleculer.config.ts, for the drain), whose list of a
 * service's in-flight contexts is internal: when it is not there, nothing is reported.
 */
function inFlightByService(broker: ServiceBroker): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const service of broker.services) {
    const tracked = (service as unknown as { _trackedContexts?: unknown[] })._trackedContexts;
    if (Array.isArray(tracked) && !service.name.startsWith('$')) counts[service.name] = tracked.length;
  }
  return counts;
}

/** Long enough for the drain's answer to leave before the node unregisters its services. */
const ANSWER_BEFORE_DRAIN_MS = 200;

export function createNodeOperatorService({ roles, drain }: NodeOperatorOptions): ServiceSchema {
  const { version: squaredVersion } = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };
  let draining = false;
  return {
    name: 'operator',
    actions: {
      node: {
        visibility: 'public',
        handler(ctx: Context) {
          return {
            roles, squaredVersion, nodeVersion: process.version, pid: process.pid, hostname: os.hostname(),
            uptimeSeconds: Math.round(process.uptime()), load1: os.loadavg()[0], cores: os.availableParallelism(),
            rssBytes: process.memoryUsage.rss(), draining, inFlight: inFlightByService(ctx.broker),
          };
        },
      },
      drain: {
        visibility: 'public',
        handler(ctx: Context) {
          const already = draining;
          draining = true;
          // Not from inside the call: the drain waits for in-flight requests, this one included.
          if (!already) setTimeout(() => drain('drain (operator console)'), ANSWER_BEFORE_DRAIN_MS);
          return { nodeID: ctx.broker.nodeID, draining: true, already };
        },
      },
    },
  };
}
