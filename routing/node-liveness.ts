// Finding a dead node in well under a second, instead of waiting for its heartbeats to time
// out (6 s and more). Every node holds a NATS subscription on `<namespace>.alive.<nodeID>`,
// and the NATS server drops it the moment the node's connection goes (the process killed,
// its machine lost). Each node asks every other node it knows, a few times a second, with a
// request on that subject: NATS answers "no responders" (503) at once when the subscription
// is gone, and two such answers in a row mean the node is gone. The registry is then told
// (`registry.nodes.disconnected`): the owner ring is rebuilt, so its rooms and meetings go to
// the next owner, and the calls waiting on it are rejected instead of timing out.
//
// A node that is only slow (a stalled event loop, a long GC) keeps its subscription, so its
// probe times out instead, which is never taken for a death: heartbeats still decide those,
// and a partition. A node wrongly marked gone comes back with its next heartbeat, and the
// owners' fence keeps any overlap safe.
import { connect, Events, type NatsConnection, type NatsError } from 'nats';
import type { ServiceBroker } from 'moleculer';

export interface NodeLivenessOptions {
  servers: string | string[];
  namespace: string;
  /** How often each other node is asked (default 250 ms). */
  probeIntervalMs?: number;
  /** "No responders" answers in a row that make a node gone (default 2). */
  misses?: number;
  /** After this node's own NATS connection came back, peers get this long to subscribe again (default 3 s). */
  settleMs?: number;
}

const NO_RESPONDERS = '503';

export const aliveSubject = (namespace: string, nodeId: string) => `${namespace}.alive.${Buffer.from(nodeId).toString('base64url')}`;

export class NodeLiveness {
  private readonly broker: ServiceBroker;
  private readonly nc: NatsConnection;
  private readonly options: Required<Omit<NodeLivenessOptions, 'servers'>>;
  private readonly misses = new Map<string, number>();
  private readonly probing = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** Verdicts wait until then: set when this node's own connection comes back. */
  private settledAt = 0;

  private constructor(broker: ServiceBroker, nc: NatsConnection, options: NodeLivenessOptions) {
    this.broker = broker;
    this.nc = nc;
    this.options = { namespace: options.namespace, probeIntervalMs: options.probeIntervalMs ?? 250, misses: options.misses ?? 2, settleMs: options.settleMs ?? 3000 };
  }

  /** Connects, answers for this node, and starts asking the others. */
  static async start(broker: ServiceBroker, options: NodeLivenessOptions): Promise<NodeLiveness> {
    const nc = await connect({
      servers: options.servers, name: `squared-liveness-${broker.nodeID}`,
      reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: true,
    });
    const liveness = new NodeLiveness(broker, nc, options);
    nc.subscribe(aliveSubject(options.namespace, broker.nodeID), { callback: (_err, msg) => msg.respond() });
    void liveness.watchStatus();
    liveness.timer = setInterval(() => liveness.probeAll(), liveness.options.probeIntervalMs);
    liveness.timer.unref();
    return liveness;
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === Events.Reconnect) {
        this.settledAt = Date.now() + this.options.settleMs;
        this.misses.clear();
      }
    }
  }

  private probeAll(): void {
    for (const node of this.broker.registry.nodes.list({ onlyAvailable: true, withServices: false }) as { id: string; local: boolean }[]) {
      if (node.local || this.probing.has(node.id)) continue;
      this.probing.add(node.id);
      void this.probe(node.id).finally(() => this.probing.delete(node.id));
    }
  }

  private async probe(nodeId: string): Promise<void> {
    try {
      await this.nc.request(aliveSubject(this.options.namespace, nodeId), undefined, { timeout: 1000 });
      this.misses.delete(nodeId);
    } catch (err) {
      // Only "no responders" says the subscription is gone; a timeout is a slow node, and a
      // closed or reconnecting connection says nothing about the other node.
      if ((err as NatsError).code !== NO_RESPONDERS || this.nc.isClosed() || Date.now() < this.settledAt) return;
      const misses = (this.misses.get(nodeId) ?? 0) + 1;
      this.misses.set(nodeId, misses);
      if (misses < this.options.misses) return;
      this.misses.delete(nodeId);
      this.broker.logger.warn({ node: nodeId }, 'node gone: its NATS connection closed (liveness probe); its calls go to the next owner');
      this.broker.registry.nodes.disconnected(nodeId, true);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.nc.drain().catch(() => this.nc.close());
  }
}
