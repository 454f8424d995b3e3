// `npm run restore` on a cluster: a backup made by take.ts into an empty keyspace. Nothing
// is written until the backup passed its manifest's checks and the keyspace was found empty.
// Then: Squared's migrations create the schema (the table ids are the target keyspace's
// own), each table's SSTables are loaded on the node they came from with `nodetool import
// --copy-data` (the backup stays as it was), the room heads are checked against the
// manifest, and RabbitMQ's definitions are imported. The message index, derived, is rebuilt
// from the restored logs afterwards: `npm run reindex` once the cluster serves.
import fs from 'node:fs';
import path from 'node:path';
import cassandra from 'cassandra-driver';
import { migrate, SCHEMA_VERSION } from '../../storage/cassandra/schema.ts';
import { BackupRefusedError } from '../../storage/embedded/backup-manifest.ts';
import { keyspaceExists, openCassandraSession, raiseHeadToLog, roomHeadsOf, type CassandraTarget } from './cassandra-client.ts';
import { runTool, type EngineTools } from './engine-tools.ts';
import { verifyClusterBackup, type ClusterBackupManifest } from './manifest.ts';

export interface RestoreClusterBackupOptions {
  backupDir: string;
  cassandra: CassandraTarget;
  /** Whether the target cluster uses RabbitMQ (the backup's definitions are then imported). */
  rabbitmq: boolean;
  tools: EngineTools;
  log?: (line: string) => void;
}

/** Tables that are Squared's own bookkeeping of the schema: the migrations made them anew. */
const NOT_IMPORTED = new Set(['schema_migrations']);
const SNAPSHOT_METADATA = new Set(['manifest.json', 'schema.cql']);

/** Refuses a keyspace that holds any room or person: a restore never merges into live data. */
async function assertEmpty(client: cassandra.Client, keyspace: string): Promise<void> {
  for (const [table, key] of [['room_heads', 'room_id'], ['people', 'id']]) {
    const found = await client.execute(`SELECT ${key} FROM ${keyspace}.${table} LIMIT 1`).catch(() => undefined);
    if (found && found.rowLength > 0) throw new BackupRefusedError(`keyspace ${keyspace} is not empty (${table} has rows): restore into a new keyspace (SQUARED_CASSANDRA_KEYSPACE) or an empty cluster.`);
  }
}

/** Each host of the backup, paired with the target node that loads its SSTables. */
function pairHosts(manifest: ClusterBackupManifest, targets: string[]): Map<string, string> {
  const sources = manifest.hosts.map((host) => host.address);
  if (sources.every((source) => targets.includes(source))) return new Map(sources.map((source) => [source, source]));
  if (sources.length === 1 && targets.length === 1) return new Map([[sources[0], targets[0]]]);
  throw new BackupRefusedError(`the backup holds the snapshots of ${sources.join(', ')}; this cluster's nodes are ${targets.join(', ')}. `
    + 'Restore into a cluster with the same node addresses (each node loads its own snapshot), or load the SSTables with sstableloader (README, "Backup and restore (cluster)").');
}

function linkOrCopy(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
  }
}

export async function restoreClusterBackup(options: RestoreClusterBackupOptions): Promise<ClusterBackupManifest> {
  const log = options.log ?? (() => {});
  const manifest = await verifyClusterBackup(options.backupDir);
  if (manifest.schemaVersion > SCHEMA_VERSION) {
    throw new BackupRefusedError(`the backup's schema is version ${manifest.schemaVersion}; this Squared knows up to ${SCHEMA_VERSION}: restore it with the Squared that made it (${manifest.squaredVersion}) or newer.`);
  }
  if (manifest.rabbitmqDefinitions && !options.rabbitmq) log('the backup holds RabbitMQ definitions, but SQUARED_RABBITMQ is not set: they are not imported.');
  const session = await openCassandraSession(options.cassandra);
  try {
    const keyspace = session.keyspace;
    if (await keyspaceExists(session)) await assertEmpty(session.client, keyspace);
    const pairs = pairHosts(manifest, session.hosts());

    log(`creating the schema of ${keyspace} (Squared's migrations)`);
    await migrate(session.client, { keyspace, log });
    // nodetool import takes the SSTables of a directory laid out as <keyspace>/<table>/ for
    // the table it loads (it reads both names from the path and skips files of another), so
    // each table's files are linked into such a staging tree beside the backup first.
    const staging = fs.mkdtempSync(path.join(path.dirname(path.resolve(options.backupDir)), '.squared-restore-'));
    try {
      for (const host of manifest.hosts) {
        const target = pairs.get(host.address)!;
        let loaded = 0;
        for (const table of host.tables.filter((name) => !NOT_IMPORTED.has(name))) {
          const from = path.resolve(options.backupDir, 'cassandra', host.address, table);
          // Everything but the snapshot's own description of itself (manifest.json, schema.cql).
          const sstables = fs.readdirSync(from).filter((name) => !SNAPSHOT_METADATA.has(name));
          if (!sstables.some((name) => name.endsWith('-Data.db'))) continue; // the table was empty
          const dir = path.join(staging, host.address, keyspace, table);
          fs.mkdirSync(dir, { recursive: true });
          for (const name of sstables) linkOrCopy(path.join(from, name), path.join(dir, name));
          // --copy-data: Cassandra copies the files in; the backup stays as it was.
          const said = await runTool(options.tools.nodetool, ['import', '--copy-data', '--', keyspace, table, dir], { host: target });
          if (/failed/i.test(said)) throw new Error(`node ${target} did not import ${table}: ${said.trim()} (see its Cassandra log)`);
          loaded++;
        }
        log(`node ${target}: ${loaded} tables with rows loaded from the snapshot of ${host.address}`);
      }
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }

    const restored = await roomHeadsOf(session);
    const behind = Object.entries(manifest.roomHeads).filter(([room, head]) => (restored[room] ?? -1) < head);
    if (behind.length > 0) {
      const [room, head] = behind[0];
      throw new Error(`the restored keyspace ${keyspace} misses writes the backup promised: room ${room} has head ${restored[room] ?? 'none'}, the manifest ${head} `
        + `(${behind.length} room${behind.length > 1 ? 's' : ''} in all). Check the Cassandra logs of the import, drop the keyspace and restore again.`);
    }
    // Writes made while the snapshots were taken, held by the activities beyond their fence.
    let raised = 0;
    for (const [roomId, head] of Object.entries(restored)) if ((await raiseHeadToLog(session, roomId, head)) > head) raised++;
    if (raised > 0) log(`${raised} room head${raised > 1 ? 's' : ''} moved to the end of ${raised > 1 ? 'their logs' : 'its log'} (writes made during the snapshot)`);

    if (manifest.rabbitmqDefinitions && options.rabbitmq) {
      await runTool(options.tools.rabbitmqctl, ['import_definitions', path.resolve(options.backupDir, 'rabbitmq', 'definitions.json')]);
      log('RabbitMQ definitions imported');
    }
    return manifest;
  } finally {
    await session.close();
  }
}
