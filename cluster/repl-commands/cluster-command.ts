// `cluster`: every node the console sees, with what it runs (roles, Squared, Node.js and
// Moleculer versions), how long it has run, its load, and for gateways their live sockets
// and the rooms and meetings those sockets follow (`gateway.stats`).
import type { ServiceBroker } from 'moleculer';
import { callAction, type OperatorCommand } from './command.ts';
import { table } from './table.ts';

interface NodeFacts {
  roles: string[];
  squaredVersion: string;
  nodeVersion: string;
  uptimeSeconds: number;
  load1: number;
  cores: number;
  rssBytes: number;
  draining: boolean;
  /** Requests each service of the node is handling now. */
  inFlight?: Record<string, number>;
}

interface GatewayStats {
  sessions: number;
  rooms: number;
  meetings: number;
}

interface RegistryNode {
  id: string;
  available: boolean;
  local: boolean;
  hostname: string | null;
  client: { version?: string };
  services?: { name: string }[];
}

export function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return d > 0 ? `${d}d${h}h` : h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

/** `rooms:3,people:0`: the requests each actor (and the gateway, media) of a node is handling. */
const inFlight = (counts: Record<string, number>) => Object.entries(counts).filter(([name]) => name !== 'operator')
  .map(([name, count]) => `${name}:${count}`).join(',');

const optional = <T>(promise: Promise<T>) => promise.catch(() => undefined);

export const clusterCommand: OperatorCommand = {
  name: 'cluster',
  args: [],
  description: 'Nodes of the cluster: roles, versions, uptime, load, memory, requests in flight per service; live sockets per gateway',
  async run(broker: ServiceBroker) {
    const nodes = (broker.registry.getNodeList({ onlyAvailable: false, withServices: true }) as unknown as RegistryNode[])
      .sort((a, b) => a.id.localeCompare(b.id));
    const rows = await Promise.all(nodes.map(async (node) => {
      const offers = (service: string) => node.local ? broker.getLocalService(service) !== undefined : (node.services ?? []).some((s) => s.name === service);
      const facts = node.available && offers('operator') ? await optional(callAction<NodeFacts>(broker, 'operator.node', {}, node.id)) : undefined;
      const stats = node.available && offers('gateway') ? await optional(callAction<GatewayStats>(broker, 'gateway.stats', {}, node.id)) : undefined;
      const state = !node.available ? 'gone' : facts?.draining ? 'draining' : 'up';
      const roles = facts ? facts.roles.join(',') : node.id === broker.nodeID ? 'console (this one)' : 'console';
      return [
        node.id, state, roles, facts?.squaredVersion, facts?.nodeVersion, node.client.version,
        facts ? duration(facts.uptimeSeconds) : undefined,
        facts ? `${facts.load1.toFixed(2)}/${facts.cores}` : undefined,
        facts ? `${Math.round(facts.rssBytes / 1048576)} MiB` : undefined,
        stats?.sessions, stats?.rooms, stats?.meetings,
        facts?.inFlight ? inFlight(facts.inFlight) : undefined,
      ];
    }));
    const gateways = rows.filter((row) => row[9] !== undefined);
    const sockets = gateways.reduce((sum, row) => sum + Number(row[9]), 0);
    return `${table(['node', 'state', 'roles', 'squared', 'node.js', 'moleculer', 'uptime', 'load/cores', 'rss', 'live sockets', 'followed rooms', 'meetings', 'in flight'], rows)}\n`
      + `${nodes.filter((n) => n.available).length} nodes up, ${gateways.length} gateways, ${sockets} live sockets`;
  },
};
