// Moleculer's Shard strategy, made safe for ownership: a call for a room or meeting must
// reach the same node from every caller. The stock strategy rebuilds its hash ring only on
// `$node.*` events, with the endpoints available at the next call; a service that shows up
// on a node already connected (its INFO arrives a moment later) leaves the ring built
// without it until the next node event — and two gateways can then route the same room or
// meeting to different nodes. Here the ring is rebuilt whenever the set of endpoints it is
// asked to choose from differs from the one it was built from.
import { Strategies, type Context, type Endpoint } from 'moleculer';

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
