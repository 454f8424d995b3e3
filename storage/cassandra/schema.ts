// The Cassandra keyspace and its tables, as an ordered list of versioned migrations.
//
// `migrate()` is safe to run from several processes at once:
//  - the keyspace and the `schema_migrations` table are created with IF NOT EXISTS, and
//    `schema_migrations` carries a fixed table id (`WITH ID = …`, derived from the keyspace
//    name) so two processes creating it concurrently create the very same table instead of
//    two tables with different ids (the classic concurrent-CREATE-TABLE schema conflict);
//  - each version is then run by exactly one process: the one whose lightweight transaction
//    `INSERT INTO schema_migrations (version, …) … IF NOT EXISTS` wins. The others wait until
//    the winner marks the version `done`, or take the version over (`UPDATE … IF owner = ?`)
//    when the winner's lease expired (it crashed mid-way; every statement is idempotent, so
//    re-running a half-done version is fine);
//  - the driver waits for schema agreement after each DDL statement, and `migrate()` waits
//    for agreement once more before it returns, so prepared statements see every table.
//
// Later migrations are appended to MIGRATIONS with the next version number; a released
// version is never edited.
import { createHash, randomUUID } from 'node:crypto';
import { types, type Client, type QueryOptions } from 'cassandra-driver';

const { consistencies } = types;

/** Sequence numbers per partition of the activity log and the messages table (see README). */
export const SEQ_BUCKET_SIZE = 1000;

export function seqBucket(seq: number): number {
  return Math.floor(seq / SEQ_BUCKET_SIZE);
}

export type Replication = Record<string, string | number>;

export const DEFAULT_REPLICATION: Replication = { class: 'SimpleStrategy', replication_factor: 1 };

export interface Migration {
  version: number;
  description: string;
  /** CQL statements, each idempotent (IF NOT EXISTS); `ks` is the keyspace name. */
  statements: (ks: string) => string[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'people, rooms (fenced activity log and state), teams',
    statements: (ks) => [
      // ---- rooms: the fenced activity log --------------------------------------------------
      // The fencing token: one row per room, moved only by lightweight transactions
      // (`IF head = ?`). `pending` is the JSON of the write that set `head` (its activities,
      // changes and the facts read to apply them), so a write that won the fence is never lost.
      `CREATE TABLE IF NOT EXISTS ${ks}.room_heads (room_id text PRIMARY KEY, head bigint, pending text)`,
      // The last write whose state is fully applied (plain writes, timestamp = seq: never moves back).
      `CREATE TABLE IF NOT EXISTS ${ks}.room_applied (room_id text PRIMARY KEY, seq bigint)`,
      // The log, Discord-style: partitions of SEQ_BUCKET_SIZE consecutive seqs (bucket = floor(seq / 1000)).
      `CREATE TABLE IF NOT EXISTS ${ks}.activities (room_id text, bucket bigint, seq bigint, event text, subject_id text, doc text,
        PRIMARY KEY ((room_id, bucket), seq))`,
      // Joins and departures per (room, person); room-wide events (room.deleted) under subject '*'.
      `CREATE TABLE IF NOT EXISTS ${ks}.membership_events (room_id text, subject_id text, seq bigint, event text,
        PRIMARY KEY ((room_id, subject_id), seq))`,
      // ---- rooms: state -------------------------------------------------------------------
      `CREATE TABLE IF NOT EXISTS ${ks}.rooms (id text PRIMARY KEY, doc text)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.rooms_by_team (team_id text, room_id text, PRIMARY KEY ((team_id), room_id))`,
      `CREATE TABLE IF NOT EXISTS ${ks}.direct_rooms (direct_key text PRIMARY KEY, room_id text)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.memberships (id text PRIMARY KEY, room_id text, person_id text, doc text)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.memberships_by_room (room_id text, id text, person_id text, doc text,
        PRIMARY KEY ((room_id), id))`,
      `CREATE TABLE IF NOT EXISTS ${ks}.memberships_by_person (person_id text, id text, room_id text, doc text,
        PRIMARY KEY ((person_id), id))`,
      // A person's rooms by room id: findMembership, roomIdsOf and listRoomsOf.
      `CREATE TABLE IF NOT EXISTS ${ks}.rooms_of_person (person_id text, room_id text, membership_id text, doc text,
        PRIMARY KEY ((person_id), room_id))`,
      `CREATE TABLE IF NOT EXISTS ${ks}.messages (id text PRIMARY KEY, room_id text, seq bigint, doc text)`,
      // A room's messages, bucketed by seq like the log; newest first.
      `CREATE TABLE IF NOT EXISTS ${ks}.messages_by_room (room_id text, bucket bigint, seq bigint, id text, doc text,
        PRIMARY KEY ((room_id, bucket), seq)) WITH CLUSTERING ORDER BY (seq DESC)`,
      // The buckets of messages_by_room that ever held a message, so listing skips empty ones.
      `CREATE TABLE IF NOT EXISTS ${ks}.message_buckets (room_id text, bucket bigint, PRIMARY KEY ((room_id), bucket))
        WITH CLUSTERING ORDER BY (bucket DESC)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.message_replies (parent_id text, seq bigint, room_id text, id text,
        PRIMARY KEY ((parent_id), seq)) WITH CLUSTERING ORDER BY (seq DESC)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.mentions (room_id text, person_id text, seq bigint, message_id text,
        PRIMARY KEY ((room_id, person_id), seq)) WITH CLUSTERING ORDER BY (seq DESC)`,
      // ---- people ---------------------------------------------------------------------------
      `CREATE TABLE IF NOT EXISTS ${ks}.people (id text PRIMARY KEY, doc text)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.people_by_org (org_id text, id text, PRIMARY KEY ((org_id), id))`,
      `CREATE TABLE IF NOT EXISTS ${ks}.people_by_name (org_id text, name text, id text, PRIMARY KEY ((org_id), name, id))`,
      // Email ownership: claimed and released only by lightweight transactions.
      `CREATE TABLE IF NOT EXISTS ${ks}.person_emails (email text PRIMARY KEY, person_id text, claimed_at timestamp)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.passwords (person_id text PRIMARY KEY, hash text)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.tokens (hash text PRIMARY KEY, person_id text, kind text, expires_at text, created text)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.tokens_by_person (person_id text, hash text, PRIMARY KEY ((person_id), hash))`,
      // ---- teams ----------------------------------------------------------------------------
      `CREATE TABLE IF NOT EXISTS ${ks}.teams (id text PRIMARY KEY, doc text)`,
      // One partition per team, written only by lightweight transactions (conditional batches):
      // kind 'person' rows (key = person id) make (team, person) unique; kind 'id' rows
      // (key = membership id) list the memberships in id order. Both rows of a membership are
      // written by the same conditional batch, so they are always in step.
      `CREATE TABLE IF NOT EXISTS ${ks}.team_members (team_id text, kind text, key text, membership_id text, person_id text, doc text,
        PRIMARY KEY ((team_id), kind, key))`,
      // Lookup hints, validated against team_members on read.
      `CREATE TABLE IF NOT EXISTS ${ks}.team_membership_ids (id text PRIMARY KEY, team_id text, person_id text)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.teams_by_person (person_id text, team_id text, PRIMARY KEY ((person_id), team_id))`,
    ],
  },
  {
    version: 2,
    description: 'direct room claims (lightweight transactions only)',
    statements: (ks) => [`CREATE TABLE IF NOT EXISTS ${ks}.direct_claims (direct_key text PRIMARY KEY, room_id text)`],
  },
  {
    version: 3,
    description: 'meetings (compare-and-set on version) and their participants',
    statements: (ks) => [
      // Written only by lightweight transactions: INSERT … IF NOT EXISTS, UPDATE/DELETE … IF version = ?.
      `CREATE TABLE IF NOT EXISTS ${ks}.meetings (id text PRIMARY KEY, version bigint, doc text)`,
      // Listing hints (keys only, validated against `meetings` on read), one partition per host
      // or room. State leads the clustering so that a state filter reads one slice instead of
      // skipping the (ever growing) ended meetings; an unfiltered listing merges the three slices.
      `CREATE TABLE IF NOT EXISTS ${ks}.meetings_by_host (host_user_id text, state text, start text, id text,
        PRIMARY KEY ((host_user_id), state, start, id))`,
      `CREATE TABLE IF NOT EXISTS ${ks}.meetings_by_room (room_id text, state text, start text, id text,
        PRIMARY KEY ((room_id), state, start, id))`,
      // A participant id is `<meeting id>_<hex>`, so getParticipant finds the partition from the id alone.
      `CREATE TABLE IF NOT EXISTS ${ks}.participants (meeting_id text, id text, doc text, PRIMARY KEY ((meeting_id), id))`,
    ],
  },
  {
    version: 4,
    description: 'token families (refresh-token rotation and revocation)',
    statements: (ks) => [
      // `used_at` is set once, by a lightweight transaction (`IF kind = 'refresh' AND used_at = null`).
      `ALTER TABLE ${ks}.tokens ADD IF NOT EXISTS (family_id text, used_at text)`,
      // A family's tokens, written with each token's TTL; a hint checked against `tokens`.
      `CREATE TABLE IF NOT EXISTS ${ks}.tokens_by_family (family_id text, hash text, PRIMARY KEY ((family_id), hash))`,
    ],
  },
  {
    version: 5,
    description: 'idempotency keys (the answers of keyed writes, kept 24 hours)',
    statements: (ks) => [
      // One row per (actor's scope, person, key), written with the write it answers (a room
      // write applies it from its fenced pending write); the table's TTL forgets it after 24 h.
      `CREATE TABLE IF NOT EXISTS ${ks}.idempotency_keys (scope text, person_id text, key text, doc text,
        PRIMARY KEY ((scope, person_id, key))) WITH default_time_to_live = 86400`,
    ],
  },
  {
    version: 6,
    description: 'a keyed meeting create keeps its answer in the meeting row',
    // Set with the meeting by its conditional batch, with a 24-hour TTL of its own.
    statements: (ks) => [`ALTER TABLE ${ks}.meetings ADD IF NOT EXISTS (idempotency text)`],
  },
  {
    version: 7,
    description: 'keyed team and team membership creates keep their answers in their rows',
    // Set by the conditional batches that write the team (putKeyedTeam) or the membership's `id` row, with a 24-hour TTL of their own.
    statements: (ks) => [
      `ALTER TABLE ${ks}.teams ADD IF NOT EXISTS (idempotency text)`,
      `ALTER TABLE ${ks}.team_members ADD IF NOT EXISTS (idempotency text)`,
    ],
  },
  {
    version: 8,
    description: 'webhooks (the notifications actor), their listing hints and failure counters',
    statements: (ks) => [
      `CREATE TABLE IF NOT EXISTS ${ks}.webhooks (id text PRIMARY KEY, doc text)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.webhooks_by_creator (created_by text, id text, PRIMARY KEY ((created_by), id))`,
      `CREATE TABLE IF NOT EXISTS ${ks}.webhooks_by_org (org_id text, id text, PRIMARY KEY ((org_id), id))`,
      `CREATE TABLE IF NOT EXISTS ${ks}.webhook_failures (id text PRIMARY KEY, failures counter)`,
    ],
  },
  {
    version: 9,
    description: 'read positions and the deleted messages they are counted against',
    statements: (ks) => [
      // Written by the fenced room writes (a deleteMessage of a message with an ord), at the write's seq timestamp.
      `CREATE TABLE IF NOT EXISTS ${ks}.message_deletions (room_id text, ord bigint, PRIMARY KEY ((room_id), ord))`,
      // Written outside the fenced writes, at the wall-clock time, by the room's owner (storage/interfaces.ts).
      `CREATE TABLE IF NOT EXISTS ${ks}.read_positions (room_id text, person_id text, doc text, PRIMARY KEY ((room_id), person_id))`,
    ],
  },
  {
    version: 10,
    description: 'attachment actions (the attachmentActions actor) and room tabs (the rooms actor)',
    statements: (ks) => [
      // Written once per action, never changed.
      `CREATE TABLE IF NOT EXISTS ${ks}.attachment_actions (id text PRIMARY KEY, doc text)`,
      // Room state like memberships: written by the fenced room writes, at the write's seq timestamp.
      `CREATE TABLE IF NOT EXISTS ${ks}.room_tabs (id text PRIMARY KEY, room_id text, doc text)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.room_tabs_by_room (room_id text, id text, doc text, PRIMARY KEY ((room_id), id))`,
    ],
  },
  {
    version: 11,
    description: 'Web Push subscriptions by person, their id index, and the VAPID key pair (the notifications actor)',
    statements: (ks) => [
      `CREATE TABLE IF NOT EXISTS ${ks}.push_subscriptions (person_id text, id text, doc text, PRIMARY KEY ((person_id), id))`,
      `CREATE TABLE IF NOT EXISTS ${ks}.push_subscription_owners (id text PRIMARY KEY, person_id text)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.vapid_keys (one int PRIMARY KEY, doc text)`,
    ],
  },
  {
    version: 12,
    description: 'manual presence statuses (the presence actor)',
    // Written with a TTL up to the status's expiry when it has one (storage/cassandra/presence-status-store.ts).
    statements: (ks) => [`CREATE TABLE IF NOT EXISTS ${ks}.manual_statuses (person_id text PRIMARY KEY, doc text)`],
  },
  {
    version: 13,
    description: 'the webhook outbox: how far each room\'s activities were queued for delivery (the notifications actor)',
    statements: (ks) => [`CREATE TABLE IF NOT EXISTS ${ks}.webhook_dispatch (room_id text PRIMARY KEY, seq bigint)`],
  },
  {
    version: 14,
    description: 'blobs: content addresses, their owners, and their bytes in chunks (storage/cassandra/blob-store.ts)',
    statements: (ks) => [
      // Moved only by lightweight transactions (put joins or creates, the last release deletes).
      `CREATE TABLE IF NOT EXISTS ${ks}.blobs (key text PRIMARY KEY, generation uuid, size bigint, owners set<text>)`,
      // One chunk (CHUNK_BYTES) per partition.
      `CREATE TABLE IF NOT EXISTS ${ks}.blob_chunks (generation uuid, chunk int, data blob, PRIMARY KEY ((generation, chunk)))`,
    ],
  },
  {
    version: 15,
    description: 'file records of the files actor, and the files of each message',
    statements: (ks) => [
      `CREATE TABLE IF NOT EXISTS ${ks}.files (id text PRIMARY KEY, doc text)`,
      `CREATE TABLE IF NOT EXISTS ${ks}.files_by_message (message_id text, id text, PRIMARY KEY ((message_id), id))`,
    ],
  },
  {
    version: 16,
    description: 'administrators\' audit events, by org and month, newest first (the people actor, storage/cassandra/audit-store.ts)',
    statements: (ks) => [
      `CREATE TABLE IF NOT EXISTS ${ks}.audit_events (org_id text, month text, created timestamp, id text, actor_id text, category text, doc text,
        PRIMARY KEY ((org_id, month), created, id)) WITH CLUSTERING ORDER BY (created DESC, id DESC)`,
    ],
  },
  {
    version: 17,
    description: 'the org activity index: the hours in which an org\'s rooms wrote, and which rooms up to which seq (GET /v1/events)',
    statements: (ks) => [
      // Both written by the fenced room writes, at the write's seq timestamp, and never deleted
      // (the activity log they point into outlives its room). One row per org and active hour.
      `CREATE TABLE IF NOT EXISTS ${ks}.org_hours (org_id text, hour text, PRIMARY KEY ((org_id), hour)) WITH CLUSTERING ORDER BY (hour DESC)`,
      // One row per room and hour it wrote in; the write of the higher seq wins (seq timestamps).
      `CREATE TABLE IF NOT EXISTS ${ks}.org_room_hours (org_id text, hour text, room_id text, last_seq bigint, PRIMARY KEY ((org_id, hour), room_id))`,
    ],
  },
  {
    version: 18,
    description: 'organizations\' message retention policies (the rooms actor, storage/cassandra/retention-store.ts)',
    statements: (ks) => [`CREATE TABLE IF NOT EXISTS ${ks}.retention_policies (org_id text PRIMARY KEY, doc text)`],
  },
  {
    version: 19,
    description: 'what a blob owner holds (blob_puts, blob_owner_keys), the files of each room, and uploads not on a message yet by hour (the files actor\'s sweeps)',
    statements: (ks) => [
      `CREATE TABLE IF NOT EXISTS ${ks}.blob_puts (owner text, generation uuid, PRIMARY KEY ((owner), generation))`,
      `CREATE TABLE IF NOT EXISTS ${ks}.blob_owner_keys (owner text, key text, PRIMARY KEY ((owner), key))`,
      `CREATE TABLE IF NOT EXISTS ${ks}.files_by_room (room_id text, id text, PRIMARY KEY ((room_id), id))`,
      // A hint per upload, by the hour it began; the sweep reads the hours past the grace period.
      // The TTL bounds what a sweep that never ran leaves; tombstones are gone after an hour.
      `CREATE TABLE IF NOT EXISTS ${ks}.files_unattached (hour bigint, id text, PRIMARY KEY ((hour), id)) WITH default_time_to_live = ${UNATTACHED_TTL_SECONDS} AND gc_grace_seconds = 3600`,
    ],
  },
  {
    version: 20,
    description: 'the preview of each file (its JSON, and the blob it holds), beside the record',
    // Written only by lightweight transactions (UPDATE … IF EXISTS; the record's deletion is DELETE … IF preview_blob = ?).
    statements: (ks) => [`ALTER TABLE ${ks}.files ADD IF NOT EXISTS (preview text, preview_blob text)`],
  },
  {
    version: 21,
    description: 'the rooms each person left, with the last seq before they left (search reach of former members), and who left each room (its deletion)',
    // Written by the room's own writes with its seq timestamps (room-mutations.ts), purged with the room.
    statements: (ks) => [
      `CREATE TABLE IF NOT EXISTS ${ks}.departures_by_person (person_id text, room_id text, last_seq bigint, left_at text, PRIMARY KEY ((person_id), room_id))`,
      `CREATE TABLE IF NOT EXISTS ${ks}.departures_by_room (room_id text, person_id text, PRIMARY KEY ((room_id), person_id))`,
    ],
  },
];

/** How long a hint of an upload not on a message is kept (storage/cassandra/file-store.ts): 7 days. */
export const UNATTACHED_TTL_SECONDS = 7 * 24 * 3600;

export interface MigrateOptions {
  keyspace: string;
  replication?: Replication;
  /** How long a process may hold a version before others take it over (default 120 s). */
  leaseMs?: number;
  /** How long to wait for other processes' migrations overall (default 300 s). */
  timeoutMs?: number;
  log?: (message: string) => void;
}

const KEYSPACE_NAME = /^[a-z][a-z0-9_]{0,47}$/;

export function assertKeyspaceName(keyspace: string): void {
  if (!KEYSPACE_NAME.test(keyspace)) throw new Error(`invalid keyspace name ${JSON.stringify(keyspace)} (lower-case letters, digits, _; at most 48)`);
}

function replicationCql(replication: Replication): string {
  const entries = Object.entries(replication).map(([key, value]) => {
    if (!/^[A-Za-z0-9_.]+$/.test(key) || !/^[A-Za-z0-9_.]+$/.test(String(value))) throw new Error(`invalid replication option ${key}=${value}`);
    return `'${key}': '${value}'`;
  });
  return `{${entries.join(', ')}}`;
}

/** A table id that every process derives the same way, so concurrent CREATEs agree. */
function fixedTableId(keyspace: string, table: string): string {
  const hex = createHash('sha256').update(`squared:${keyspace}.${table}`).digest('hex');
  // Shaped as a version 4 UUID (Cassandra accepts any UUID as a table id).
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A schema change waits for every node to apply it, behind every other keyspace's changes:
 * on a busy cluster that is far longer than the driver's 12 s read timeout (CI saw CREATE
 * TABLE time out while other clusters migrated), and the statements are idempotent anyway.
 */
const SCHEMA_CHANGE = { readTimeout: 120_000 };

async function waitForSchemaAgreement(client: Client, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // checkSchemaAgreement() is public API of cassandra-driver 4.x, missing from its typings.
  const metadata = client.metadata as unknown as { checkSchemaAgreement(): Promise<boolean> };
  while (!(await metadata.checkSchemaAgreement())) {
    if (Date.now() > deadline) throw new Error('Cassandra nodes did not agree on the schema in time');
    await sleep(200);
  }
}

/** Creates the keyspace and runs every migration not yet done; returns the versions this process ran. */
export async function migrate(client: Client, options: MigrateOptions): Promise<number[]> {
  const ks = options.keyspace;
  assertKeyspaceName(ks);
  const leaseMs = options.leaseMs ?? 120_000;
  const timeoutMs = options.timeoutMs ?? 300_000;
  const log = options.log ?? (() => {});
  const owner = randomUUID();
  const ran: number[] = [];
  const lwt = { prepare: true, consistency: consistencies.localQuorum, serialConsistency: consistencies.serial };
  const serialRead = { prepare: true, consistency: consistencies.serial };

  await client.execute(`CREATE KEYSPACE IF NOT EXISTS ${ks} WITH replication = ${replicationCql(options.replication ?? DEFAULT_REPLICATION)}`, [], SCHEMA_CHANGE);
  await waitForSchemaAgreement(client, timeoutMs);
  await client.execute(`CREATE TABLE IF NOT EXISTS ${ks}.schema_migrations (
      version int PRIMARY KEY, description text, owner uuid, state text, started_at timestamp, finished_at timestamp)
    WITH ID = ${fixedTableId(ks, 'schema_migrations')}`, [], SCHEMA_CHANGE);
  await waitForSchemaAgreement(client, timeoutMs);

  const deadline = Date.now() + timeoutMs;
  for (const migration of MIGRATIONS) {
    for (;;) {
      const claim = await client.execute(
        `INSERT INTO ${ks}.schema_migrations (version, description, owner, state, started_at) VALUES (?, ?, ?, 'running', ?) IF NOT EXISTS`,
        [migration.version, migration.description, owner, new Date()], lwt);
      let mine = claim.wasApplied();
      if (!mine) {
        const row = (await client.execute(`SELECT owner, state, started_at FROM ${ks}.schema_migrations WHERE version = ?`, [migration.version], serialRead)).first();
        if (row?.state === 'done') break;
        const startedAt = row?.started_at instanceof Date ? row.started_at.getTime() : 0;
        if (row && Date.now() - startedAt > leaseMs) {
          // The owner's lease expired (it died mid-way): take the version over.
          mine = (await client.execute(`UPDATE ${ks}.schema_migrations SET owner = ?, started_at = ? WHERE version = ? IF owner = ? AND state = 'running'`,
            [owner, new Date(), migration.version, row.owner], lwt)).wasApplied();
        }
        if (!mine) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for schema migration ${migration.version} run by another process`);
          await sleep(250);
          continue;
        }
      }
      log(`cassandra: migrating ${ks} to version ${migration.version} (${migration.description})`);
      for (const statement of migration.statements(ks)) {
        await client.execute(statement, [], SCHEMA_CHANGE);
        // The driver already waited up to maxSchemaAgreementWaitSeconds; make sure.
        await waitForSchemaAgreement(client, timeoutMs);
      }
      const done = await client.execute(`UPDATE ${ks}.schema_migrations SET state = 'done', finished_at = ? WHERE version = ? IF owner = ?`,
        [new Date(), migration.version, owner], lwt);
      if (!done.wasApplied()) {
        // Our lease expired and someone took over; they will finish (the statements are idempotent).
        continue;
      }
      ran.push(migration.version);
      break;
    }
  }
  await waitForSchemaAgreement(client, timeoutMs);
  return ran;
}

/** The newest schema version this code knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
