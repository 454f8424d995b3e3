// `npm run backup` on a cluster: Cassandra's own snapshots, collected, plus RabbitMQ's
// definitions, with a manifest. The steps, in order:
//   1. read every room's head (the manifest's promise: each restored head is this or later);
//   2. `nodetool snapshot` on every Cassandra node (it flushes first), so each node's SSTables
//      of that moment are hard-linked under snapshots/<tag>/: first the fences (room_heads,
//      room_applied) as <tag>-heads, then, on every node, the whole keyspace as <tag>;
//   3. copy each node's snapshot out of its data directory into cassandra/<host>/<table>/,
//      then `nodetool clearsnapshot` (the hard links would otherwise pin disk forever);
//   4. `rabbitmqctl export_definitions` (queues, users, policies; jobs in flight are not kept);
//   5. manifest.json last, with the size and SHA-256 of every file.
// Tables and nodes are snapshotted moments apart, which is safe for rooms because the fences go
// first: a room's write is one lightweight transaction on room_heads that carries the write
// itself, and is applied (its activity rows written) before the room's next write may fence.
// So every write before a snapshotted head is in the activities snapshotted after it, and the
// head's own is completed by its next reader (README, fencing). Had the activities gone first,
// a write applied after their flush and replaced in room_heads by the next one before its
// flush would be in neither (seen: a restored log missing one seq). Writes after the head
// that the later snapshot holds too are taken in by the restore (restore.ts).
// The message index is not copied: it is derived, and a restore rebuilds it from the logs.
import fs from 'node:fs';
import path from 'node:path';
import { sha256Of, writeManifest } from '../../storage/embedded/backup-manifest.ts';
import { openCassandraSession, roomHeadsOf, schemaVersionOf, keyspaceExists, type CassandraTarget } from './cassandra-client.ts';
import { runTool, type EngineTools } from './engine-tools.ts';
import { CLUSTER_BACKUP_FORMAT, CLUSTER_BACKUP_FORMAT_VERSION, type ClusterBackupFile, type ClusterBackupManifest } from './manifest.ts';

export interface TakeClusterBackupOptions {
  cassandra: CassandraTarget;
  /** Each Cassandra node's data directory (its `data_file_directories`) as this host reads it; key `*` for every node. */
  cassandraDataDirs: Map<string, string>;
  /** Whether the cluster uses RabbitMQ (its definitions are then backed up). */
  rabbitmq: boolean;
  tools: EngineTools;
  outDir: string;
  squaredVersion: string;
  log?: (line: string) => void;
}

/** Thrown before anything is written when the backup cannot be made as asked. */
export class ClusterBackupError extends Error {
  override name = 'ClusterBackupError';
}

/** The tables that fence the rooms' writes: snapshotted before the rest. */
const FENCE_TABLES = ['room_heads', 'room_applied'];
const headsTag = (tag: string) => `${tag}-heads`;

function snapshotTag(at: Date): string {
  return `squared-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase()}`;
}

/** `<data dir>/<keyspace>/<table>-<table id>/snapshots/<tag>/`, by table name. */
function snapshotDirs(dataDir: string, keyspace: string, tag: string): Map<string, string> {
  const keyspaceDir = path.join(dataDir, keyspace);
  if (!fs.existsSync(keyspaceDir)) throw new ClusterBackupError(`${keyspaceDir} does not exist: is ${dataDir} this node's Cassandra data directory (data_file_directories)?`);
  const found = new Map<string, string>();
  for (const entry of fs.readdirSync(keyspaceDir, { withFileTypes: true })) {
    const table = /^(.+)-[0-9a-f]{32}$/.exec(entry.name)?.[1];
    const dir = path.join(keyspaceDir, entry.name, 'snapshots', tag);
    if (entry.isDirectory() && table && fs.existsSync(dir)) found.set(table, dir);
  }
  return found;
}

export async function takeClusterBackup(options: TakeClusterBackupOptions): Promise<ClusterBackupManifest> {
  const log = options.log ?? (() => {});
  const outDir = options.outDir;
  if (fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0) throw new ClusterBackupError(`${outDir} is not empty: a backup goes into a new or empty directory.`);
  const session = await openCassandraSession(options.cassandra);
  const snapshotted: string[] = [];
  let tag = '';
  try {
    const keyspace = session.keyspace;
    if (!(await keyspaceExists(session))) throw new ClusterBackupError(`keyspace ${keyspace} does not exist in this Cassandra cluster.`);
    const hosts = session.hosts();
    const unreadable = hosts.filter((host) => !options.cassandraDataDirs.has(host) && !options.cassandraDataDirs.has('*'));
    if (unreadable.length > 0) {
      throw new ClusterBackupError(`no data directory given for Cassandra node${unreadable.length > 1 ? 's' : ''} ${unreadable.join(', ')}: name each with --cassandra-data <host>=<dir> `
        + '(a directory this host can read), or follow the manual procedure (README, "Backup and restore (cluster)").');
    }
    fs.mkdirSync(outDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(outDir, 0o700);

    const startedAt = new Date();
    const schemaVersion = await schemaVersionOf(session);
    const roomHeads = await roomHeadsOf(session);
    tag = snapshotTag(startedAt);
    log(`${Object.keys(roomHeads).length} room heads read; snapshot ${tag} of ${keyspace} on ${hosts.join(', ')}`);
    for (const host of hosts) {
      snapshotted.push(host);
      await runTool(options.tools.nodetool, ['snapshot', '-t', headsTag(tag), '-kt', FENCE_TABLES.map((table) => `${keyspace}.${table}`).join(',')], { host });
    }
    for (const host of hosts) await runTool(options.tools.nodetool, ['snapshot', '-t', tag, '--', keyspace], { host });

    const files: ClusterBackupFile[] = [];
    const manifestHosts: ClusterBackupManifest['hosts'] = [];
    for (const host of hosts) {
      const dataDir = options.cassandraDataDirs.get(host) ?? options.cassandraDataDirs.get('*')!;
      // The fences of the first snapshot, everything else of the second.
      const tables = new Map([...snapshotDirs(dataDir, keyspace, tag), ...snapshotDirs(dataDir, keyspace, headsTag(tag))]);
      if (tables.size === 0) throw new ClusterBackupError(`node ${host} made no snapshot ${tag} under ${path.join(dataDir, keyspace)}: is that its data directory?`);
      for (const [table, dir] of tables) {
        const into = path.join(outDir, 'cassandra', host, table);
        fs.mkdirSync(into, { recursive: true });
        for (const name of fs.readdirSync(dir)) {
          const from = path.join(dir, name);
          if (!fs.statSync(from).isFile()) continue;
          fs.copyFileSync(from, path.join(into, name));
          const relative = ['cassandra', host, table, name].join('/');
          files.push({ path: relative, bytes: fs.statSync(from).size, sha256: await sha256Of(path.join(into, name)) });
        }
      }
      manifestHosts.push({ address: host, tables: [...tables.keys()].sort() });
    }

    if (options.rabbitmq) {
      const definitions = await runTool(options.tools.rabbitmqctl, ['export_definitions', '-']);
      JSON.parse(definitions); // a tool that printed something else must not pass for a backup
      fs.mkdirSync(path.join(outDir, 'rabbitmq'), { recursive: true });
      fs.writeFileSync(path.join(outDir, 'rabbitmq', 'definitions.json'), definitions, { mode: 0o600 });
      files.push({ path: 'rabbitmq/definitions.json', bytes: Buffer.byteLength(definitions), sha256: await sha256Of(path.join(outDir, 'rabbitmq', 'definitions.json')) });
    }

    const manifest: ClusterBackupManifest = {
      format: CLUSTER_BACKUP_FORMAT,
      formatVersion: CLUSTER_BACKUP_FORMAT_VERSION,
      squaredVersion: options.squaredVersion,
      nodeVersion: process.version,
      keyspace,
      schemaVersion,
      snapshotTag: tag,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      hosts: manifestHosts,
      roomHeads,
      rabbitmqDefinitions: options.rabbitmq,
      searchIndex: 'rebuild',
      files: files.sort((a, b) => (a.path < b.path ? -1 : 1)),
    };
    writeManifest(outDir, manifest);
    return manifest;
  } finally {
    // Copied or not, the snapshot's hard links would pin their SSTables' disk space forever.
    for (const host of snapshotted) {
      for (const each of [headsTag(tag), tag]) {
        await runTool(options.tools.nodetool, ['clearsnapshot', '-t', each, '--', session.keyspace], { host })
          .catch((err: Error) => log(`could not clear snapshot ${each} on ${host} (clear it with nodetool clearsnapshot): ${err.message}`));
      }
    }
    await session.close();
  }
}
