// Removes what an isolated test cluster left in the engines: its keyspace, index and keys.
import cassandra from 'cassandra-driver';

export async function dropClusterData(env: Record<string, string>): Promise<void> {
  const keyspace = env.SQUARED_CASSANDRA_KEYSPACE;
  if (!keyspace || !/^squared_[0-9a-f]+$/.test(keyspace) || !env.SQUARED_CASSANDRA) return;
  // A schema change waits for the whole keyspace to go, which on a busy machine can take
  // longer than the driver's default 12 s.
  const client = new cassandra.Client({
    contactPoints: env.SQUARED_CASSANDRA.split(','), localDataCenter: env.SQUARED_CASSANDRA_DC ?? 'datacenter1',
    socketOptions: { readTimeout: 120_000 },
  });
  try {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  } finally {
    await client.shutdown();
  }
  if (env.SQUARED_ELASTICSEARCH && env.SQUARED_ES_INDEX) {
    for (const index of [env.SQUARED_ES_INDEX, `${env.SQUARED_ES_INDEX}-checkpoints`]) {
      await fetch(`${env.SQUARED_ELASTICSEARCH}/${index}`, { method: 'DELETE' }).catch(() => undefined);
    }
  }
}
