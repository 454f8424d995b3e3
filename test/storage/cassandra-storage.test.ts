// The storage conformance suites against Cassandra, plus what only a shared, multi-process
// store has to prove: fencing between processes, repair of a write cut short after its
// fence, and concurrent schema migration.
//
// Runs only when SQUARED_CASSANDRA names a contact point (e.g. 127.0.0.1:9042; start one with
// `bash cluster/engines/up.sh cassandra`). In CI (CI set) a missing SQUARED_CASSANDRA is a
// failure, never a silent skip. Each run uses a fresh keyspace and drops it at the end.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { SequenceConflictError } from '../../storage/interfaces.ts';
import { newId } from '../../contracts/ids.ts';
import { openCassandraStorage, type CassandraStorage, type CassandraStorageOptions } from '../../storage/cassandra/index.ts';
import { MIGRATIONS, migrate } from '../../storage/cassandra/schema.ts';
import type { RoomWrite } from '../../storage/interfaces.ts';
import type { Activity, MeetingRecord, MessageRecord, RoomRecord } from '../../storage/records.ts';
import { attachmentActionStoreConformance } from './attachment-action-store.conformance.ts';
import { conferenceStoreConformance } from './conference-store.conformance.ts';
import { meetingIdempotencyConformance } from './meeting-idempotency.conformance.ts';
import { peopleStoreConformance } from './people-store.conformance.ts';
import { roomIdempotencyConformance } from './room-idempotency.conformance.ts';
import { readPositionsConformance } from './read-positions.conformance.ts';
import { roomStoreMoreConformance } from './room-store-more.conformance.ts';
import { roomStoreConformance } from './room-store.conformance.ts';
import { roomTabsConformance } from './room-tabs.conformance.ts';
import { orgActivityConformance } from './org-activity.conformance.ts';
import { teamIdempotencyConformance } from './team-idempotency.conformance.ts';
import { teamStoreConformance } from './team-store.conformance.ts';
import { webhookStoreConformance } from './webhook-store.conformance.ts';
import { pushStoreConformance } from './push-store.conformance.ts';
import { manualStatusConformance } from './presence-store.conformance.ts';
import { blobStoreConformance } from './blob-store.conformance.ts';
import { fileStoreConformance } from './file-store.conformance.ts';
import { retentionStoreConformance } from './retention-store.conformance.ts';
import { auditStoreConformance } from './audit-store.conformance.ts';
import { CHUNK_BYTES } from '../../storage/cassandra/blob-store.ts';
import { engineAddress } from '../harness/engine.ts';

const contactPoint = engineAddress('Cassandra storage', 'SQUARED_CASSANDRA', '127.0.0.1:9042', 'cassandra');
const localDataCenter = process.env.SQUARED_CASSANDRA_DC ?? 'datacenter1';

if (contactPoint) {
  const keyspace = `squared_test_${randomBytes(6).toString('hex')}`;
  const base: CassandraStorageOptions = { contactPoints: [contactPoint], localDataCenter, keyspace };
  const opened: CassandraStorage[] = [];
  const open = async (extra: Partial<CassandraStorageOptions> = {}) => {
    const storage = await openCassandraStorage({ ...base, ...extra });
    opened.push(storage);
    return storage;
  };
  let main: Promise<CassandraStorage> | undefined;
  const shared = () => (main ??= open());
  const extraKeyspaces: string[] = [];

  after(async () => {
    if (main) {
      const storage = await main;
      for (const ks of [keyspace, ...extraKeyspaces]) await storage.client.execute(`DROP KEYSPACE IF EXISTS ${ks}`);
    }
    for (const storage of opened) await storage.close();
  });

  roomStoreConformance('Cassandra', async () => (await shared()).rooms);
  roomStoreMoreConformance('Cassandra', async () => (await shared()).rooms);
  readPositionsConformance('Cassandra', async () => (await shared()).rooms);
  roomTabsConformance('Cassandra', async () => (await shared()).rooms);
  orgActivityConformance('Cassandra', async () => (await shared()).rooms);
  roomIdempotencyConformance('Cassandra', async () => (await shared()).rooms, 'later wins', async () => (await open({ migrate: false, rooms: { afterFence: async () => {
    throw new Error('simulated crash after the fence');
  } } })).rooms);
  peopleStoreConformance('Cassandra', async () => (await shared()).people);
  teamStoreConformance('Cassandra', async () => (await shared()).teams);
  webhookStoreConformance('Cassandra', async () => (await shared()).webhooks);
  attachmentActionStoreConformance('Cassandra', async () => (await shared()).attachmentActions);
  pushStoreConformance('Cassandra', async () => (await shared()).push);
  teamIdempotencyConformance('Cassandra', async () => (await shared()).teams);
  meetingIdempotencyConformance('Cassandra', async () => (await shared()).conferences);
  conferenceStoreConformance('Cassandra', async () => (await shared()).conferences);
  blobStoreConformance('Cassandra chunks', async () => (await shared()).blobs, CHUNK_BYTES);
  manualStatusConformance('Cassandra', async () => (await shared()).manualStatuses);
  blobStoreConformance('Cassandra chunks', async () => (await shared()).blobs, CHUNK_BYTES);
  fileStoreConformance('Cassandra', async () => (await shared()).files);
  retentionStoreConformance('Cassandra', async () => shared());
  auditStoreConformance('Cassandra', async () => shared());

  const now = () => new Date().toISOString();
  const room = (extra: Partial<RoomRecord> = {}): RoomRecord => ({
    id: newId('ROOM'), title: 't', type: 'group', isLocked: false, isAnnouncementOnly: false, isReadOnly: false, isPublic: false,
    creatorId: 'p', created: now(), lastActivity: now(), ...extra,
  });
  const activity = (roomId: string, seq: number, data: Record<string, unknown> = {}): Activity =>
    ({ roomId, seq, event: 'message.created', actorId: 'p', created: now(), data: { seq, ...data } });
  const message = (roomId: string, seq: number, text: string): MessageRecord =>
    ({ id: newId('MESSAGE'), roomId, roomType: 'group', seq, personId: 'p', personEmail: 'e', text, created: now(), editCount: 0 });

  describe('Cassandra: fencing between processes', () => {
    test('two store instances racing for the same seq of a room: exactly one wins, the loser leaves nothing', async () => {
      await shared();
      const [a, b] = [await open({ migrate: false }), await open({ migrate: false })];
      for (let round = 0; round < 10; round++) {
        const r = room();
        await a.rooms.commit({ roomId: r.id, activities: [activity(r.id, 1)], changes: [{ op: 'putRoom', room: r }] });
        await b.rooms.head(r.id);
        const attempts = [a, b, a, b].map((s, i) => {
          const m = message(r.id, 2, `writer ${i}`);
          return { m, done: s.rooms.commit({ roomId: r.id, activities: [activity(r.id, 2, { writer: i })], changes: [{ op: 'putMessage', message: m }] }) };
        });
        const results = await Promise.allSettled(attempts.map((x) => x.done));
        const winners = results.flatMap((res, i) => (res.status === 'fulfilled' ? [i] : []));
        assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(results.map((res) => res.status))}`);
        for (const res of results) if (res.status === 'rejected') assert.ok(res.reason instanceof SequenceConflictError, String(res.reason));
        const [winner] = winners;
        assert.equal(await b.rooms.head(r.id), 2);
        assert.deepEqual((await a.rooms.activities(r.id, 1, 2, 10)).map((x) => x.data.writer), [winner]);
        for (const [i, x] of attempts.entries()) assert.equal((await b.rooms.getMessage(x.m.id))?.text, i === winner ? `writer ${i}` : undefined);
      }
    });

    test('two instances appending to one room concurrently, re-reading the head on conflict: a gapless log, nothing lost or doubled', async () => {
      await shared();
      const writers = [await open({ migrate: false }), await open({ migrate: false })];
      const r = room();
      await writers[0].rooms.commit({ roomId: r.id, activities: [activity(r.id, 1)], changes: [{ op: 'putRoom', room: r }] });
      const perWriter = 8;
      const written: string[] = [];
      await Promise.all(writers.map(async (w, wi) => {
        for (let n = 0; n < perWriter; n++) {
          for (;;) {
            const seq = (await w.rooms.head(r.id)) + 1;
            const m = message(r.id, seq, `w${wi}-${n}`);
            try {
              await w.rooms.commit({ roomId: r.id, activities: [activity(r.id, seq, { text: m.text })], changes: [{ op: 'putMessage', message: m }] });
              written.push(m.text!);
              break;
            } catch (err) {
              if (!(err instanceof SequenceConflictError)) throw err;
            }
          }
        }
      }));
      const log = await writers[1].rooms.activities(r.id, 0, 1000, 1000);
      assert.deepEqual(log.map((x) => x.seq), Array.from({ length: 1 + 2 * perWriter }, (_, i) => i + 1));
      assert.deepEqual(log.slice(1).map((x) => x.data.text).sort(), [...written].sort());
      const listed = await writers[0].rooms.listMessages({ roomId: r.id, max: 100 });
      assert.deepEqual(listed.map((m) => m.text).sort(), [...written].sort());
      assert.deepEqual(listed.map((m) => m.seq), log.slice(1).map((x) => x.seq).reverse());
    });
  });

  describe('Cassandra: a write cut short after winning its fence is repaired', () => {
    const crash = async (_write: RoomWrite) => {
      throw new Error('simulated crash after the fence');
    };

    test('head() of another instance applies it: log, state and lookups', async () => {
      const healthy = await shared();
      const crashing = await open({ migrate: false, rooms: { afterFence: crash } });
      const r = room();
      const person = newId('PEOPLE');
      await healthy.rooms.commit({ roomId: r.id, activities: [activity(r.id, 1)], changes: [{ op: 'putRoom', room: r }] });
      const m = { ...message(r.id, 2, 'survives'), mentionedPeople: [person] };
      const membership = {
        id: newId('MEMBERSHIP'), roomId: r.id, roomType: 'group' as const, personId: person, personEmail: 'e', personDisplayName: 'n', personOrgId: 'o',
        isModerator: false, isRoomHidden: false, isMonitor: false, created: now(), joinedSeq: 2,
      };
      await crashing.rooms.head(r.id);
      await assert.rejects(crashing.rooms.commit({
        roomId: r.id, activities: [activity(r.id, 2), activity(r.id, 3)],
        changes: [{ op: 'putMessage', message: m }, { op: 'putMembership', membership }, { op: 'putRoom', room: { ...r, title: 'after' } }],
      }), /simulated crash/);
      // Nothing of the state was written by the crashed writer…
      assert.equal(await healthy.rooms.getMessage(m.id), undefined);
      // …but the write won its fence, so it is there for whoever looks at the room next.
      assert.deepEqual(await healthy.rooms.unappliedWrite(r.id), { firstSeq: 2, lastSeq: 3, appliedSeq: 1, events: [activity(r.id, 2).event, activity(r.id, 3).event] });
      assert.deepEqual(await healthy.rooms.unappliedWrite(r.id), { firstSeq: 2, lastSeq: 3, appliedSeq: 1, events: [activity(r.id, 2).event, activity(r.id, 3).event] }, 'looking repairs nothing');
      assert.equal(await healthy.rooms.head(r.id), 3);
      assert.equal(await healthy.rooms.unappliedWrite(r.id), undefined, 'head() applied it');
      assert.deepEqual((await healthy.rooms.activities(r.id, 0, 3, 10)).map((x) => x.seq), [1, 2, 3]);
      assert.deepEqual(await healthy.rooms.getMessage(m.id), m);
      assert.equal((await healthy.rooms.getRoom(r.id))?.title, 'after');
      assert.deepEqual(await healthy.rooms.findMembership(r.id, person), membership);
      assert.deepEqual((await healthy.rooms.listMessages({ roomId: r.id, mentionedPersonId: person, max: 5 })).map((x) => x.id), [m.id]);
      assert.ok((await healthy.rooms.roomIdsOf(person)).includes(r.id));
    });

    test('the next commit from another instance applies it before writing its own', async () => {
      const crashing = await open({ migrate: false, rooms: { afterFence: crash } });
      const other = await open({ migrate: false });
      const r = room();
      await other.rooms.commit({ roomId: r.id, activities: [activity(r.id, 1)], changes: [{ op: 'putRoom', room: r }] });
      const lost = message(r.id, 2, 'fenced, then crashed');
      await assert.rejects(crashing.rooms.commit({ roomId: r.id, activities: [activity(r.id, 2)], changes: [{ op: 'putMessage', message: lost }] }), /simulated crash/);
      const next = message(r.id, 3, 'next');
      // `other` still believes the head is 1 (it wrote seq 1): its stale seq is refused…
      await assert.rejects(other.rooms.commit({ roomId: r.id, activities: [activity(r.id, 2)], changes: [] }), SequenceConflictError);
      // …and seq 3 goes through, after the crashed write's state.
      await other.rooms.commit({ roomId: r.id, activities: [activity(r.id, 3)], changes: [{ op: 'putMessage', message: next }] });
      assert.deepEqual((await other.rooms.listMessages({ roomId: r.id, max: 10 })).map((x) => x.text), ['next', 'fenced, then crashed']);
    });

    test('a stalled winner applying late cannot overwrite what later writes changed', async () => {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let fenced!: () => void;
      const fencedOnce = new Promise<void>((resolve) => (fenced = resolve));
      const stalling = await open({ migrate: false, rooms: { afterFence: async () => { fenced(); await released; } } });
      const other = await open({ migrate: false });
      const r = room({ title: 'v1' });
      await other.rooms.commit({ roomId: r.id, activities: [activity(r.id, 1)], changes: [{ op: 'putRoom', room: r }] });
      const m = message(r.id, 2, 'v2 text');
      const late = stalling.rooms.commit({ roomId: r.id, activities: [activity(r.id, 2)], changes: [{ op: 'putRoom', room: { ...r, title: 'v2' } }, { op: 'putMessage', message: m }] });
      try {
        await fencedOnce;
        assert.equal(await other.rooms.head(r.id), 2, 'head() repairs the stalled write');
        await other.rooms.commit({
          roomId: r.id, activities: [activity(r.id, 3)],
          changes: [{ op: 'putRoom', room: { ...r, title: 'v3' } }, { op: 'putMessage', message: { ...m, text: 'v3 text', editCount: 1 } }],
        });
      } finally {
        release();
      }
      await late;
      assert.equal((await other.rooms.getRoom(r.id))?.title, 'v3');
      assert.equal((await other.rooms.getMessage(m.id))?.text, 'v3 text');
      assert.equal((await other.rooms.listMessages({ roomId: r.id, max: 1 }))[0].text, 'v3 text');
    });
  });

  describe('Cassandra: meeting listing hints', () => {
    const at = (day: number) => `2031-04-${String(day).padStart(2, '0')}T10:00:00.000Z`;
    const meeting = (extra: Partial<MeetingRecord>): MeetingRecord => ({
      id: randomBytes(16).toString('hex'), meetingNumber: '2640000000', title: 't', password: 'p', start: at(1), end: at(1), timezone: 'UTC',
      hostUserId: 'h', hostEmail: 'e', hostDisplayName: 'n', enabledJoinBeforeHost: false, state: 'active', locked: false, mediaNodeId: 'm',
      created: now(), lastModified: now(), version: 1, ...extra,
    });

    test('updates and deletion leave exactly the current keys; stray hints are skipped by listings and paging', async () => {
      const storage = await shared();
      const store = storage.conferences;
      const hints = async (table: string, column: string, value: string) =>
        (await storage.client.execute(`SELECT state, start, id FROM ${keyspace}.${table} WHERE ${column} = ?`, [value], { prepare: true }))
          .rows.map((row) => [row.state, row.start, row.id]);
      const host = `host-${randomBytes(8).toString('hex')}`;
      const roomId = `room-${randomBytes(8).toString('hex')}`;
      const m1 = meeting({ hostUserId: host, roomId, start: at(3) });
      const other = meeting({ hostUserId: host, start: at(4) });
      await store.createMeeting(m1);
      await store.createMeeting(other);
      const m2 = { ...m1, start: at(5), state: 'inProgress' as const, version: 2 };
      const m3 = { ...m2, state: 'ended' as const, version: 3 };
      assert.equal(await store.updateMeeting(m2, 1), true);
      assert.equal(await store.updateMeeting(m3, 2), true);
      assert.deepEqual(await hints('meetings_by_room', 'room_id', roomId), [['ended', at(5), m1.id]]);
      assert.deepEqual(await hints('meetings_by_host', 'host_user_id', host), [['active', at(4), other.id], ['ended', at(5), m1.id]]);

      // What a crash or a lost compare-and-set can leave: keys of an old version, of a meeting
      // that never came to be, and of another host's meeting.
      const stranger = meeting({ start: at(2) });
      await store.createMeeting(stranger);
      for (const [state, start, id] of [['active', at(3), m1.id], ['active', at(2), randomBytes(16).toString('hex')], ['active', at(1), stranger.id], ['ended', at(1), m1.id]]) {
        await storage.client.execute(`INSERT INTO ${keyspace}.meetings_by_host (host_user_id, state, start, id) VALUES (?, ?, ?, ?)`, [host, state, start, id], { prepare: true });
      }
      for (const max of [1, 2, 10]) {
        const listed: MeetingRecord[] = [];
        let after: string | undefined;
        for (let reads = 0; reads === 0 || after; reads++) {
          assert.ok(reads < 10, 'paging never ends');
          const page = await store.listMeetings({ hostUserId: host, max, after });
          assert.ok(page.items.length > 0 && page.items.length <= max, `max ${max}: a page of ${page.items.length}`);
          listed.push(...page.items);
          after = page.next;
        }
        assert.deepEqual(listed, [other, m3], `max ${max}`);
        assert.deepEqual((await store.listMeetings({ hostUserId: host, state: 'active', max })).items, [other].slice(0, max));
      }

      await store.deleteMeeting(m1.id);
      assert.deepEqual(await hints('meetings_by_room', 'room_id', roomId), []);
      assert.ok(!(await hints('meetings_by_host', 'host_user_id', host)).some(([state, start, id]) => id === m1.id && state === 'ended' && start === at(5)));
      assert.deepEqual((await store.listMeetings({ hostUserId: host, max: 10 })).items, [other]);
    });
  });

  describe('Cassandra: schema migrations', () => {
    test('several processes migrating one fresh keyspace at once: each version runs once, all agree, re-running is a no-op', async () => {
      const storage = await shared();
      const ks = `squared_test_${randomBytes(6).toString('hex')}`;
      extraKeyspaces.push(ks);
      const clients = [storage, await open({ migrate: false }), await open({ migrate: false })].map((s) => s.client);
      const ran = await Promise.all(clients.map((client) => migrate(client, { keyspace: ks })));
      assert.deepEqual(ran.flat().sort(), MIGRATIONS.map((m) => m.version).sort(), `each version ran exactly once: ${JSON.stringify(ran)}`);
      const versions = await storage.client.execute(`SELECT version, state FROM ${ks}.schema_migrations`);
      // Rows come in token order of their partition key, not by version.
      assert.deepEqual(versions.rows.map((row) => [row.version, row.state]).sort((a, b) => a[0] - b[0]), MIGRATIONS.map((m) => [m.version, 'done']));
      const tables = await storage.client.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [ks]);
      assert.ok(tables.rows.length >= 25, `tables: ${tables.rows.length}`);
      assert.deepEqual(await migrate(clients[1], { keyspace: ks }), []);
    });
  });
}
