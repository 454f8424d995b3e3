import path from 'node:path';
import type { PeopleStore, Storage } from '../interfaces.ts';
import { SqliteAttachmentActionStore, attachmentActionsSchema } from './attachment-action-store.ts';
import { SqliteConferenceStore, conferencesSchema } from './conference-store.ts';
import { MemoryRateLimitStore } from './memory-rate-limits.ts';
import { SqlitePeopleStore, peopleSchema } from './people-store.ts';
import { SqliteAuditStore } from './audit-store.ts';
import { SqliteRetentionStore } from './retention-store.ts';
import type { RetentionStore } from '../retention-store.ts';
import type { AuditStore } from '../audit-store.ts';
import { SqliteRoomStore, roomsSchema } from './room-store.ts';
import { groupCommitOf } from './group-commit.ts';
import { WalSync } from './wal-sync.ts';
import { openDatabase } from './sqlite.ts';
import { SqliteTeamStore, teamsSchema } from './team-store.ts';
import { SqliteWebhookStore, webhooksSchema } from './webhook-store.ts';
import type { WebhookStore } from '../webhook-store.ts';
import type { AttachmentActionStore } from '../attachment-action-store.ts';
import { SqlitePushStore, pushSchema } from './push-store.ts';
import type { PushStore } from '../push-store.ts';
import type { ManualStatusStore } from '../presence-store.ts';
import { SqliteManualStatusStore, presenceSchema } from './presence-status-store.ts';
import type { BlobStore } from '../blob-store.ts';
import { DiskBlobStore } from './blob-store.ts';
import type { FileStore } from '../file-store.ts';
import { SqliteFileStore, filesSchema } from './file-store.ts';

/** The people store of a data directory alone (the operator command's). */
export function openEmbeddedPeopleStore(dataDir: string, durableSync: boolean): { people: PeopleStore; audit: AuditStore; close(): void } {
  const db = openDatabase({ file: path.join(dataDir, 'people.db'), durableSync, schema: peopleSchema });
  return { people: new SqlitePeopleStore(db), audit: new SqliteAuditStore(db), close: () => db.close() };
}

/** The embedded storage: one SQLite file per owning actor under `dataDir`. */
export function openEmbeddedStorage(dataDir: string, durableSync: boolean, onDurabilityLost: (err: Error) => void = () => undefined): Storage & { audit: AuditStore; retention: RetentionStore; webhooks: WebhookStore; attachmentActions: AttachmentActionStore; push: PushStore; manualStatuses: ManualStatusStore; blobs: BlobStore; files: FileStore } {
  const open = (name: string, schema: string) => openDatabase({ file: path.join(dataDir, `${name}.db`), durableSync, schema });
  const peopleDb = open('people', peopleSchema);
  // Every room's commit: durable before it is answered, its fsync off the event loop (wal-sync.ts).
  const roomsDb = openDatabase({ file: path.join(dataDir, 'rooms.db'), durableSync: false, schema: roomsSchema });
  const wal = durableSync ? new WalSync(roomsDb) : undefined;
  if (wal) groupCommitOf(roomsDb).syncAfterCommit(() => wal.sync(), onDurabilityLost);
  const teamsDb = open('teams', teamsSchema);
  const conferencesDb = open('conferences', conferencesSchema);
  const webhooksDb = open('webhooks', webhooksSchema);
  const attachmentActionsDb = open('attachment-actions', attachmentActionsSchema);
  const pushDb = open('push', pushSchema);
  const presenceDb = open('presence', presenceSchema);
  const filesDb = open('files', filesSchema);
  const blobs = DiskBlobStore.open(path.join(dataDir, 'blobs'), path.join(dataDir, 'blobs.db'), durableSync);
  return {
    people: new SqlitePeopleStore(peopleDb),
    // In the people database: the people store writes its changes' events in their transaction.
    audit: new SqliteAuditStore(peopleDb),
    retention: new SqliteRetentionStore(roomsDb),
    rooms: new SqliteRoomStore(roomsDb),
    teams: new SqliteTeamStore(teamsDb),
    conferences: new SqliteConferenceStore(conferencesDb),
    webhooks: new SqliteWebhookStore(webhooksDb),
    attachmentActions: new SqliteAttachmentActionStore(attachmentActionsDb),
    push: new SqlitePushStore(pushDb),
    manualStatuses: new SqliteManualStatusStore(presenceDb),
    blobs,
    files: new SqliteFileStore(filesDb),
    rateLimits: new MemoryRateLimitStore(),
    async close() {
      await blobs.close();
      for (const db of [peopleDb, roomsDb, teamsDb, conferencesDb, webhooksDb, attachmentActionsDb, pushDb, presenceDb, filesDb]) {
        groupCommitOf(db).flushNow(); // writes queued for the next group transaction still commit
        db.close();
      }
      await wal?.close();
    },
  };
}
