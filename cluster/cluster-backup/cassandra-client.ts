// The one Cassandra connection the backup and restore commands hold: the driver, the
// keyspace, and the node addresses the driver discovered (nodetool runs against each).
import cassandra from 'cassandra-driver';

export interface CassandraTarget {
  contactPoints: string[];
  localDataCenter: string;
  keyspace: string;
}

export interface CassandraSession {
  client: cassandra.Client;
  keyspace: string;
  /** Every node of the cluster, by address (without the port). */
  hosts(): string[];
  close(): Promise<void>;
}

export async function openCassandraSession(target: CassandraTarget): Promise<CassandraSession> {
  const client = new cassandra.Client({
    contactPoints: target.contactPoints,
    localDataCenter: target.localDataCenter,
    queryOptions: { prepare: true, consistency: cassandra.types.consistencies.localQuorum, fetchSize: 1000 },
  });
  await client.connect();
  return {
    client,
    keyspace: target.keyspace,
    hosts: () => client.hosts.values().map((host) => host.address.slice(0, host.address.lastIndexOf(':')).replace(/^\[|\]$/g, '')).sort(),
    close: () => client.shutdown(),
  };
}

export async function keyspaceExists(session: CassandraSession): Promise<boolean> {
  const found = await session.client.execute('SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?', [session.keyspace]);
  return found.rowLength > 0;
}

/** The newest schema migration done in the keyspace, 0 for none. */
export async function schemaVersionOf(session: CassandraSession): Promise<number> {
  const rows = await session.client.execute(`SELECT version, state FROM ${session.keyspace}.schema_migrations`);
  return Math.max(0, ...rows.rows.filter((row) => row.state === 'done').map((row) => Number(row.version)));
}

/** Every room's head seq, paged through `room_heads`. */
export async function roomHeadsOf(session: CassandraSession): Promise<Record<string, number>> {
  const heads: Record<string, number> = {};
  let pageState: string | undefined;
  do {
    const page = await session.client.execute(`SELECT room_id, head FROM ${session.keyspace}.room_heads`, [], { pageState, fetchSize: 1000 });
    for (const row of page.rows) heads[row.room_id as string] = Number(row.head);
    pageState = page.pageState ?? undefined;
  } while (pageState);
  return Object.fromEntries(Object.entries(heads).sort(([a], [b]) => (a < b ? -1 : 1)));
}
