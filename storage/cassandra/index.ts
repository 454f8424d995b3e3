// The Cassandra storage of people, rooms, teams and meetings for cluster mode. Rate limits are not
// here: they are Redis's job, so the result is a Storage without `rateLimits`.
import { Client, types } from 'cassandra-driver';
import type { ConferenceStore, PeopleStore, RoomStore, Storage, TeamStore } from '../interfaces.ts';
import { CassandraAttachmentActionStore } from './attachment-action-store.ts';
import { CassandraConferenceStore } from './conference-store.ts';
import { Db } from './db.ts';
import { CassandraPeopleStore, type PeopleStoreOptions } from './people-store.ts';
import { CassandraAuditStore } from './audit-store.ts';
import { CassandraRetentionStore } from './retention-store.ts';
import type { RetentionStore } from '../retention-store.ts';
import type { AuditStore } from '../audit-store.ts';
import { CassandraRoomStore, type RoomStoreOptions } from './room-store.ts';
import { assertKeyspaceName, migrate, type Replication } from './schema.ts';
import { CassandraTeamStore } from './team-store.ts';
import { CassandraWebhookStore } from './webhook-store.ts';
import type { WebhookStore } from '../webhook-store.ts';
import type { AttachmentActionStore } from '../attachment-action-store.ts';
import { CassandraPushStore } from './push-store.ts';
import type { PushStore } from '../push-store.ts';
import type { ManualStatusStore } from '../presence-store.ts';
import { CassandraManualStatusStore } from './presence-status-store.ts';
import type { BlobStore } from '../blob-store.ts';
import { CassandraBlobStore } from './blob-store.ts';
import type { FileStore } from '../file-store.ts';
import { CassandraFileStore } from './file-store.ts';

export { CassandraConferenceStore } from './conference-store.ts';
export { CassandraPeopleStore } from './people-store.ts';
export { CassandraRoomStore } from './room-store.ts';
export { CassandraTeamStore } from './team-store.ts';
export { migrate, MIGRATIONS, SCHEMA_VERSION } from './schema.ts';

export interface CassandraStorageOptions {
  /** e.g. ['127.0.0.1:9042'] (host or host:port). */
  contactPoints: string[];
  /** e.g. 'datacenter1'. */
  localDataCenter: string;
  /** Default 'squared'. */
  keyspace?: string;
  /** Replication of the keyspace when this creates it (default SimpleStrategy, RF 1). */
  replication?: Replication;
  /** Use LOCAL_SERIAL instead of SERIAL for lightweight transactions (multi-datacenter set-ups). */
  localSerial?: boolean;
  credentials?: { username: string; password: string };
  /** Run the schema migrations on open (default true). */
  migrate?: boolean;
  rooms?: RoomStoreOptions;
  people?: PeopleStoreOptions;
  log?: (message: string) => void;
  /** Hears every failed query, e.g. to count it. */
  onError?: () => void;
}

export type CassandraStorage = Omit<Storage, 'rateLimits'> & {
  people: PeopleStore;
  audit: AuditStore;
  retention: RetentionStore;
  rooms: RoomStore;
  teams: TeamStore;
  conferences: ConferenceStore;
  webhooks: WebhookStore;
  attachmentActions: AttachmentActionStore;
  push: PushStore;
  manualStatuses: ManualStatusStore;
  blobs: BlobStore;
  files: FileStore;
  /** The driver client, for tests and tooling. */
  client: Client;
  /** Whether the driver holds a connection to a Cassandra node now (its own state: no query sent). */
  reachable(): boolean;
  keyspace: string;
};

export async function openCassandraStorage(options: CassandraStorageOptions): Promise<CassandraStorage> {
  const keyspace = options.keyspace ?? 'squared';
  assertKeyspaceName(keyspace);
  const { consistencies } = types;
  const client = new Client({
    contactPoints: options.contactPoints,
    localDataCenter: options.localDataCenter,
    credentials: options.credentials,
    protocolOptions: { maxSchemaAgreementWaitSeconds: 30 },
    queryOptions: {
      prepare: true,
      consistency: consistencies.localQuorum,
      serialConsistency: options.localSerial ? consistencies.localSerial : consistencies.serial,
    },
  });
  try {
    await client.connect();
    if (options.migrate ?? true) await migrate(client, { keyspace, replication: options.replication, log: options.log });
  } catch (err) {
    await client.shutdown().catch(() => {});
    throw err;
  }
  const db = new Db(client, keyspace, {
    consistency: consistencies.localQuorum,
    serialConsistency: options.localSerial ? consistencies.localSerial : consistencies.serial,
    onError: options.onError,
  });
  return {
    people: new CassandraPeopleStore(db, options.people),
    audit: new CassandraAuditStore(db),
    retention: new CassandraRetentionStore(db),
    rooms: new CassandraRoomStore(db, options.rooms),
    teams: new CassandraTeamStore(db),
    conferences: new CassandraConferenceStore(db),
    webhooks: new CassandraWebhookStore(db),
    attachmentActions: new CassandraAttachmentActionStore(db),
    push: new CassandraPushStore(db),
    manualStatuses: new CassandraManualStatusStore(db),
    blobs: new CassandraBlobStore(db),
    files: new CassandraFileStore(db),
    client,
    keyspace,
    reachable: () => client.getState().getConnectedHosts().length > 0,
    async close() {
      await client.shutdown();
    },
  };
}
