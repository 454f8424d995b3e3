// Moleculer's Shard strategy, made safe for ownership: a call for a room or meeting must
// reach the same node from every caller. The stock strategy rebuilds its hash ring only on
// `$node.*` events, with the endpoints available at the next call; a service that shows up
// on a node already connected (its INFO arrives a moment later) leaves the ring built
// without it until the next node event — and two gateways can then route the same room or
// meeting to different nodes. Here the ring is rebuilt whenever the set of endpoints it is
// asked to choose from differs from the one it was built from.
import { Strategies, type Context, type Endpoint, type ServiceBroker } from 'moleculer';

export class OwnerStrategy extends Strategies.Shard {
  private builtFor = '';

  select(list: Endpoint[], ctx: Context): Endpoint {
    const nodes = list.map((endpoint) => endpoint.id).sort().join(',');
    if (nodes !== this.builtFor) {
      (this as unknown as { needRebuild: boolean }).needRebuild = true;
      this.builtFor = nodes;
    }
    return super.select(list, ctx);
  }
}

const ownerRings = new WeakMap<ServiceBroker, Map<string, OwnerStrategy>>();

/**
 * The node that owns a call of `action` with `params` among every node offering it: the
 * node a gateway routes it to. Not `EndpointList.next`, which on a node offering the
 * action itself answers that node (the registry prefers local endpoints), so every actor
 * node would think it owns everything. A ring of its own per action, so that the local
 * calls of the node do not make it rebuild.
 */
export function ownerOf(broker: ServiceBroker, action: string, params: Record<string, unknown>): string | undefined {
  const list = broker.registry.getActionEndpoints(action);
  const available = list?.endpoints.filter((endpoint) => endpoint.isAvailable) ?? [];
  if (available.length === 0) return undefined;
  let rings = ownerRings.get(broker);
  if (!rings) ownerRings.set(broker, (rings = new Map()));
  let ring = rings.get(action);
  if (!ring) {
    ring = new OwnerStrategy(broker.registry as never, broker, (broker.options.registry?.strategyOptions ?? {}) as never);
    rings.set(action, ring);
  }
  return ring.select(available as unknown as Endpoint[], { params } as unknown as Context).id;
}

/** The presence actor that shows a person (actors/presence): every report about them goes there. */
export const presenceOwnerOf = (broker: ServiceBroker, personId: string): string | undefined => ownerOf(broker, 'presence.evaluate', { presenceOf: personId });
