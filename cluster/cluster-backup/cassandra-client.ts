// The one Cassandra connection the backup and restore commands hold: the driver, the
// keyspace, and the node addresses the driver discovered (nodetool runs against each).
import cassandra from 'cassandra-driver';
import { TS_BASE } from '../../storage/cassandra/room-write-path.ts';
import { seqBucket } from '../../storage/cassandra/schema.ts';

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

/**
 * Moves a restored room's head past the activities its snapshot holds beyond it, if any. The
 * fences are snapshotted before the rest (take.ts), so the activities may hold writes made
 * after the head: those are contiguous from it (a write is applied before the next fences),
 * and the head's own write is applied (one after it is). Left behind, a new write would claim
 * their seqs again and its cells would tie with theirs (a write's timestamp is its seq). So
 * the head and `room_applied` become the last of them; answers the new head.
 */
export async function raiseHeadToLog(session: CassandraSession, roomId: string, head: number): Promise<number> {
  const ks = session.keyspace;
  let last = head;
  for (let bucket = seqBucket(head); ; bucket++) {
    const rows = (await session.client.execute(`SELECT seq FROM ${ks}.activities WHERE room_id = ? AND bucket = ? AND seq > ?`, [roomId, bucket, last])).rows.map((row) => Number(row.seq)).sort((a, b) => a - b);
    let next = last;
    for (const seq of rows) {
      if (seq !== next + 1) break;
      next = seq;
    }
    if (next === last) break;
    last = next;
  }
  if (last === head) return head;
  const raised = await session.client.execute(`UPDATE ${ks}.room_heads SET head = ?, pending = null WHERE room_id = ? IF head = ?`, [last, roomId, head],
    { serialConsistency: cassandra.types.consistencies.serial });
  if (!raised.wasApplied()) throw new Error(`room ${roomId} changed while it was restored (its head is no longer ${head}): is a cluster running on the keyspace?`);
  await session.client.execute(`INSERT INTO ${ks}.room_applied (room_id, seq) VALUES (?, ?) USING TIMESTAMP ?`, [roomId, last, cassandra.types.Long.fromNumber(TS_BASE + last)]);
  return last;
}
