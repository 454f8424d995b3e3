// ConferenceStore's idempotency records (createMeeting's `idempotency`, getMeetingIdempotency),
// as one suite every adapter passes: the record is stored with the meeting or not at all,
// a duplicate create leaves the first one's, and it is forgotten after 24 hours or with the meeting.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { DuplicateMeetingError, type ConferenceStore } from '../../storage/interfaces.ts';
import type { IdempotencyRecord, MeetingRecord } from '../../storage/records.ts';

const now = () => new Date().toISOString();

function meeting(extra: Partial<MeetingRecord> = {}): MeetingRecord {
  return {
    id: randomBytes(16).toString('hex'), meetingNumber: '2640000000', title: 't', password: 'p', start: now(), end: now(), timezone: 'UTC',
    hostUserId: `host-${randomBytes(4).toString('hex')}`, hostEmail: 'e', hostDisplayName: 'n', enabledJoinBeforeHost: false, state: 'active',
    locked: false, mediaNodeId: 'm', created: now(), lastModified: now(), version: 1, ...extra,
  };
}

function record(key: string, extra: Partial<IdempotencyRecord> = {}): IdempotencyRecord {
  return { personId: 'host', key, fingerprint: 'f'.repeat(64), status: 200, body: JSON.stringify({ key }), created: now(), ...extra };
}

export function meetingIdempotencyConformance(name: string, open: () => Promise<ConferenceStore>): void {
  describe(`ConferenceStore idempotency records: ${name}`, () => {
    test('the record is stored with the meeting; a meeting created without one has none', async () => {
      const store = await open();
      const keyed = meeting();
      const answer = record('with a key');
      await store.createMeeting(keyed, answer);
      assert.deepEqual(await store.getMeetingIdempotency(keyed.id), answer);
      assert.deepEqual(await store.getMeeting(keyed.id), keyed);
      const plain = meeting();
      await store.createMeeting(plain);
      assert.equal(await store.getMeetingIdempotency(plain.id), undefined);
      assert.equal(await store.getMeetingIdempotency(randomBytes(16).toString('hex')), undefined);
    });

    test('a duplicate create is refused and leaves the first one\'s meeting and record', async () => {
      const store = await open();
      const first = meeting();
      const answer = record('first');
      await store.createMeeting(first, answer);
      await assert.rejects(store.createMeeting({ ...first, title: 'second' }, record('second')), DuplicateMeetingError);
      assert.deepEqual(await store.getMeetingIdempotency(first.id), answer);
      assert.equal((await store.getMeeting(first.id))?.title, 't');
    });

    test('a record more than 24 hours old is forgotten, and a deleted meeting takes its record along', async () => {
      const store = await open();
      const old = meeting();
      await store.createMeeting(old, record('old', { created: new Date(Date.now() - 25 * 3600_000).toISOString() }));
      assert.equal(await store.getMeetingIdempotency(old.id), undefined);
      const deleted = meeting();
      await store.createMeeting(deleted, record('deleted'));
      await store.deleteMeeting(deleted.id);
      assert.equal(await store.getMeetingIdempotency(deleted.id), undefined);
    });
  });
}
