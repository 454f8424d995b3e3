// The manifest of a cluster backup (manifest.json, written last): what `npm run backup`
// collected from the engines' own tools, and what `npm run restore` trusts. Checked like an
// embedded backup's (storage/embedded/backup-manifest.ts): its own checksum, and every file
// it lists there with its size and SHA-256, no other file.
import { readSignedManifest, verifyListedFiles } from '../../storage/embedded/backup-manifest.ts';

export const CLUSTER_BACKUP_FORMAT = 'squared-cluster-backup';
export const CLUSTER_BACKUP_FORMAT_VERSION = 1;

export interface ClusterBackupFile {
  /** `cassandra/<host>/<table>/<sstable component>` or `rabbitmq/definitions.json`. */
  path: string;
  bytes: number;
  sha256: string;
}

export interface ClusterBackupManifest {
  format: typeof CLUSTER_BACKUP_FORMAT;
  formatVersion: number;
  squaredVersion: string;
  nodeVersion: string;
  keyspace: string;
  /** The newest schema migration done in the keyspace (the restore's schema must know it). */
  schemaVersion: number;
  /** The `nodetool snapshot` tag taken on every Cassandra node. */
  snapshotTag: string;
  /** When the heads below were read, just before the snapshots: every write acknowledged before it is in the backup. */
  startedAt: string;
  finishedAt: string;
  /** The Cassandra nodes, by address, each with the tables whose snapshot was collected from it. */
  hosts: { address: string; tables: string[] }[];
  /** Every room's head seq before the snapshots; a restored head is this or later (writes went on meanwhile). */
  roomHeads: Record<string, number>;
  /** Whether RabbitMQ's definitions are in the backup (`rabbitmq/definitions.json`). */
  rabbitmqDefinitions: boolean;
  /** The message index is derived from the rooms' logs: a restore rebuilds it (`npm run reindex`). */
  searchIndex: 'rebuild';
  files: ClusterBackupFile[];
}

export async function verifyClusterBackup(dir: string): Promise<ClusterBackupManifest> {
  const manifest = readSignedManifest<ClusterBackupManifest>(dir, CLUSTER_BACKUP_FORMAT, CLUSTER_BACKUP_FORMAT_VERSION, 'a Squared cluster backup');
  await verifyListedFiles(dir, manifest.files);
  return manifest;
}
