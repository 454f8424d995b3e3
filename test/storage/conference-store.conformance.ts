// The guarantees of ConferenceStore, as one suite that every adapter must pass (the embedded
// SQLite store and the Cassandra store).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { DuplicateMeetingError, type ConferenceStore, type Page } from '../../storage/interfaces.ts';
import type { MeetingRecord, MeetingState, ParticipantRecord } from '../../storage/records.ts';

const hex = () => randomBytes(16).toString('hex');
const at = (day: number, hour = 10) => `2031-03-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00.000Z`;

function meeting(extra: Partial<MeetingRecord> = {}): MeetingRecord {
  return {
    id: hex(), meetingNumber: '2640123456', title: 'Standup', password: 'Sq1-pass', start: at(1), end: at(1, 11), timezone: 'Europe/Paris',
    hostUserId: `host-${hex()}`, hostEmail: 'host@example.com', hostDisplayName: 'Host', enabledJoinBeforeHost: false, state: 'active',
    locked: false, mediaNodeId: 'media-1', created: at(1, 8), lastModified: at(1, 8), version: 1, ...extra,
  };
}

function participant(meetingId: string, extra: Partial<ParticipantRecord> = {}): ParticipantRecord {
  return {
    id: `${meetingId}_${hex()}`, meetingId, personId: `person-${hex()}`, email: 'p@example.com', displayName: 'P', host: false, coHost: false,
    state: 'joined', muted: false, video: 'off', handRaised: false, joinedTime: at(1, 10), producers: [], mediaEpoch: 0, ...extra,
  };
}

/** The next version of `m`, as the conferences actor writes it. */
const bump = (m: MeetingRecord, change: Partial<MeetingRecord> = {}): MeetingRecord => ({ ...m, ...change, version: m.version + 1 });

const byStartThenId = (a: MeetingRecord, b: MeetingRecord) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Every page in turn; no page is larger than `max`, and only a listing with nothing in it has an empty page. */
async function pages(read: (after?: string) => Promise<Page<MeetingRecord>>, max: number): Promise<MeetingRecord[]> {
  const all: MeetingRecord[] = [];
  let after: string | undefined;
  for (let reads = 0; reads === 0 || after; reads++) {
    assert.ok(reads < 100, 'paging never ends');
    const page = await read(after);
    assert.ok(page.items.length <= max, `a page of ${page.items.length} with max ${max}`);
    assert.ok(page.items.length > 0 || (after === undefined && !page.next), 'an empty page after a next cursor');
    all.push(...page.items);
    after = page.next;
  }
  return all;
}

const ids = (meetings: MeetingRecord[]) => meetings.map((m) => m.id);

export function conferenceStoreConformance(name: string, open: () => Promise<ConferenceStore>): void {
  describe(`ConferenceStore conformance: ${name}`, () => {
    test('a meeting is created and read back field for field; optional fields left out stay out', async () => {
      const store = await open();
      const full = meeting({ agenda: 'Weekly sync — ünïcödé', roomId: `room-${hex()}`, enabledJoinBeforeHost: true, locked: true, state: 'inProgress', version: 7 });
      const bare = meeting();
      await store.createMeeting(full);
      await store.createMeeting(bare);
      assert.deepEqual(await store.getMeeting(full.id), full);
      const read = await store.getMeeting(bare.id);
      assert.deepEqual(read, bare);
      assert.ok(!('agenda' in read!) && !('roomId' in read!), `absent fields came back: ${JSON.stringify(read)}`);
      assert.equal(await store.getMeeting(hex()), undefined);
    });

    test('createMeeting refuses an id that exists (DuplicateMeetingError) and changes nothing; of concurrent creates one wins', async () => {
      const store = await open();
      const m = meeting({ roomId: `room-${hex()}` });
      await store.createMeeting(m);
      const impostor = meeting({ id: m.id, title: 'impostor', roomId: `room-${hex()}`, start: at(2), state: 'ended' });
      await assert.rejects(store.createMeeting(impostor), DuplicateMeetingError);
      await assert.rejects(store.createMeeting({ ...m, title: 'same keys' }), DuplicateMeetingError);
      assert.deepEqual(await store.getMeeting(m.id), m);
      assert.deepEqual((await store.listMeetings({ hostUserId: impostor.hostUserId, max: 10 })).items, []);
      assert.deepEqual((await store.listMeetings({ roomId: impostor.roomId, max: 10 })).items, []);
      assert.deepEqual((await store.listMeetings({ hostUserId: m.hostUserId, max: 10 })).items, [m]);
      assert.deepEqual((await store.listMeetings({ roomId: m.roomId, max: 10 })).items, [m]);

      const id = hex();
      const racing = [1, 2, 3].map((n) => meeting({ id, title: `racer ${n}` }));
      const results = await Promise.allSettled(racing.map((r) => store.createMeeting(r)));
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [racing[i]] : []));
      assert.equal(winners.length, 1, JSON.stringify(results.map((r) => r.status)));
      assert.ok(results.every((r) => r.status === 'fulfilled' || r.reason instanceof DuplicateMeetingError));
      assert.deepEqual(await store.getMeeting(id), winners[0]);
    });

    test('updateMeeting stores a change only from the stored version; a stale one is refused and changes nothing', async () => {
      const store = await open();
      const m = meeting({ roomId: `room-${hex()}` });
      await store.createMeeting(m);
      const v2 = bump(m, { state: 'inProgress', title: 'v2', agenda: 'added' });
      assert.equal(await store.updateMeeting(v2, 1), true);
      assert.deepEqual(await store.getMeeting(m.id), v2);

      const stale = bump(m, { state: 'ended', start: at(5), title: 'stale' });
      assert.equal(await store.updateMeeting(stale, 1), false);
      assert.deepEqual(await store.getMeeting(m.id), v2);
      assert.deepEqual((await store.listMeetings({ hostUserId: m.hostUserId, max: 10 })).items, [v2]);
      assert.deepEqual((await store.listMeetings({ roomId: m.roomId, state: 'ended', max: 10 })).items, []);
      assert.deepEqual((await store.listMeetings({ roomId: m.roomId, state: 'inProgress', max: 10 })).items, [v2]);

      const { agenda: _dropped, ...withoutAgenda } = v2;
      const v3 = bump(withoutAgenda, { title: 'v3' });
      assert.equal(await store.updateMeeting(v3, 2), true);
      const read = await store.getMeeting(m.id);
      assert.deepEqual(read, v3);
      assert.ok(!('agenda' in read!), 'a field dropped by an update stays dropped');

      const ghost = meeting();
      assert.equal(await store.updateMeeting(bump(ghost), 1), false);
      assert.equal(await store.getMeeting(ghost.id), undefined);
      assert.deepEqual((await store.listMeetings({ hostUserId: ghost.hostUserId, max: 10 })).items, []);
    });

    test('updateMeeting requires version expectedVersion + 1 and an unchanged host and room', async () => {
      const store = await open();
      const m = meeting({ roomId: `room-${hex()}` });
      await store.createMeeting(m);
      await assert.rejects(store.updateMeeting({ ...m, version: 3, title: 'skipped a version' }, 1));
      await assert.rejects(store.updateMeeting({ ...m, title: 'same version' }, 1));
      await assert.rejects(store.updateMeeting(bump(m, { hostUserId: `host-${hex()}` }), 1));
      await assert.rejects(store.updateMeeting(bump(m, { roomId: `room-${hex()}` }), 1));
      const { roomId: _room, ...personal } = m;
      await assert.rejects(store.updateMeeting(bump(personal), 1));
      assert.deepEqual(await store.getMeeting(m.id), m);
    });

    test('concurrent updates from the same version: exactly one wins, and its record is the one stored and listed', async () => {
      const store = await open();
      const states: MeetingState[] = ['active', 'inProgress', 'ended', 'inProgress'];
      for (let round = 0; round < 5; round++) {
        const m = meeting({ roomId: `room-${hex()}` });
        await store.createMeeting(m);
        const updates = states.map((state, i) => bump(m, { state, start: at(10 + i), title: `writer ${i}` }));
        const results = await Promise.all(updates.map((u) => store.updateMeeting(u, 1)));
        assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${JSON.stringify(results)}`);
        const winner = updates[results.indexOf(true)];
        assert.deepEqual(await store.getMeeting(m.id), winner);
        for (const query of [{ hostUserId: m.hostUserId }, { roomId: m.roomId }]) {
          assert.deepEqual((await store.listMeetings({ ...query, max: 10 })).items, [winner]);
          for (const state of ['active', 'inProgress', 'ended'] as const) {
            assert.deepEqual(ids((await store.listMeetings({ ...query, state, max: 10 })).items), state === winner.state ? [m.id] : [], `${round} ${state}`);
          }
        }
        assert.equal(await store.updateMeeting(bump(winner, { title: 'next' }), 2), true);
      }
    });

    test('listMeetings by host and by room: ordered by (start, id), paged by max/after without gaps or duplicates', async () => {
      const store = await open();
      const host = `host-${hex()}`;
      const room = `room-${hex()}`;
      const states: MeetingState[] = ['ended', 'active', 'inProgress'];
      // Shared starts make id the tie-breaker; mixed states make every page draw on several states.
      const starts = [at(4), at(2), at(4), at(3), at(2), at(4), at(1), at(3)];
      const mine = starts.map((start, i) => meeting({ hostUserId: host, start, state: states[i % 3], ...(i % 2 ? { roomId: room } : {}) }));
      const others = [meeting({ roomId: room, start: at(2), state: 'ended' }), meeting({ roomId: room, start: at(5) }), meeting({ start: at(2) })];
      for (const m of [...mine, ...others]) await store.createMeeting(m);

      const hostExpected = [...mine].sort(byStartThenId);
      const roomExpected = [...mine.filter((m) => m.roomId === room), ...others.filter((m) => m.roomId === room)].sort(byStartThenId);
      for (const max of [1, 2, 3, 8, 100]) {
        assert.deepEqual(await pages((after) => store.listMeetings({ hostUserId: host, max, after }), max), hostExpected, `host, max ${max}`);
        assert.deepEqual(await pages((after) => store.listMeetings({ roomId: room, max, after }), max), roomExpected, `room, max ${max}`);
      }
      const first = await store.listMeetings({ hostUserId: host, max: 3 });
      assert.deepEqual(first.items, hostExpected.slice(0, 3));
      assert.ok(first.next);
      assert.deepEqual((await store.listMeetings({ hostUserId: host, max: 3, after: first.next })).items, hostExpected.slice(3, 6));
      assert.equal((await store.listMeetings({ hostUserId: host, max: 8 })).next, undefined);
      const nobody = await store.listMeetings({ hostUserId: `host-${hex()}`, max: 5 });
      assert.deepEqual([nobody.items, nobody.next], [[], undefined]);
      await assert.rejects(store.listMeetings({ max: 5 }));
      await assert.rejects(store.listMeetings({ hostUserId: host, roomId: room, max: 5 }));
    });

    test('listMeetings from a start time: those starting at or after it, in order, paged, with or without a state', async () => {
      const store = await open();
      const host = `host-${hex()}`;
      const starts = [at(1), at(2, 9), at(2), at(2), at(3), at(4, 11)];
      const mine = starts.map((start, i) => meeting({ hostUserId: host, start, state: i % 2 ? 'ended' : 'active' }));
      for (const m of mine) await store.createMeeting(m);
      const expected = mine.filter((m) => m.start >= at(2)).sort(byStartThenId);
      for (const max of [1, 2, 100]) {
        assert.deepEqual(await pages((after) => store.listMeetings({ hostUserId: host, startFrom: at(2), max, after }), max), expected, `max ${max}`);
      }
      assert.deepEqual(ids((await store.listMeetings({ hostUserId: host, startFrom: at(2), state: 'active', max: 10 })).items), ids(expected.filter((m) => m.state === 'active')));
      // A cursor past startFrom goes on from the cursor.
      const first = await store.listMeetings({ hostUserId: host, max: 4 });
      assert.deepEqual((await store.listMeetings({ hostUserId: host, startFrom: at(1), max: 10, after: first.next })).items, [...mine].sort(byStartThenId).slice(4));
      assert.deepEqual((await store.listMeetings({ hostUserId: host, startFrom: at(5), max: 10 })).items, []);
    });

    test('listMeetings filtered by state, paged, following state changes', async () => {
      const store = await open();
      const host = `host-${hex()}`;
      const room = `room-${hex()}`;
      const states: MeetingState[] = ['active', 'ended', 'ended', 'inProgress', 'active', 'ended', 'active', 'ended', 'active'];
      const all = states.map((state, i) => meeting({ hostUserId: host, roomId: room, state, start: at(1 + (i % 4), 9 + i) }));
      for (const m of all) await store.createMeeting(m);
      const check = async (current: MeetingRecord[]) => {
        for (const state of ['active', 'inProgress', 'ended'] as const) {
          const expected = current.filter((m) => m.state === state).sort(byStartThenId);
          for (const max of [1, 2, 50]) {
            assert.deepEqual(await pages((after) => store.listMeetings({ hostUserId: host, state, max, after }), max), expected, `host ${state} max ${max}`);
            assert.deepEqual(await pages((after) => store.listMeetings({ roomId: room, state, max, after }), max), expected, `room ${state} max ${max}`);
          }
        }
        assert.deepEqual(await pages((after) => store.listMeetings({ hostUserId: host, max: 2, after }), 2), [...current].sort(byStartThenId));
      };
      await check(all);

      const current = [...all];
      for (const [i, state] of [[0, 'inProgress'], [3, 'ended'], [4, 'inProgress'], [0, 'ended']] as const) {
        const next = bump(current[i], { state });
        assert.equal(await store.updateMeeting(next, current[i].version), true);
        current[i] = next;
      }
      await check(current);
    });

    test('a change of start moves the meeting in the listings, and back again', async () => {
      const store = await open();
      const host = `host-${hex()}`;
      const room = `room-${hex()}`;
      let [a, b, c] = [at(1), at(2), at(3)].map((start) => meeting({ hostUserId: host, roomId: room, start }));
      for (const m of [a, b, c]) await store.createMeeting(m);
      const listed = async () => {
        const byHost = await pages((after) => store.listMeetings({ hostUserId: host, max: 1, after }), 1);
        assert.deepEqual(await pages((after) => store.listMeetings({ roomId: room, max: 2, after }), 2), byHost);
        assert.deepEqual(await pages((after) => store.listMeetings({ roomId: room, state: 'active', max: 2, after }), 2), byHost);
        return byHost;
      };
      assert.deepEqual(await listed(), [a, b, c]);

      const moved = bump(a, { start: at(4) });
      assert.equal(await store.updateMeeting(moved, a.version), true);
      a = moved;
      assert.deepEqual(await listed(), [b, c, a]);

      const back = bump(a, { start: at(1) });
      assert.equal(await store.updateMeeting(back, a.version), true);
      a = back;
      assert.deepEqual(await listed(), [a, b, c]);

      // Same start as b: the id decides.
      const tie = bump(c, { start: at(2), state: 'inProgress' });
      assert.equal(await store.updateMeeting(tie, c.version), true);
      c = tie;
      assert.deepEqual(await pages((after) => store.listMeetings({ hostUserId: host, max: 1, after }), 1), [a, ...[b, c].sort(byStartThenId)]);
      assert.deepEqual((await store.listMeetings({ roomId: room, state: 'active', max: 10 })).items, [a, b]);
    });

    test('deleteMeeting removes the meeting from get, from the listings, and its participants', async () => {
      const store = await open();
      const host = `host-${hex()}`;
      const room = `room-${hex()}`;
      const gone = meeting({ hostUserId: host, roomId: room, start: at(2) });
      const kept = meeting({ hostUserId: host, roomId: room, start: at(3) });
      for (const m of [gone, kept]) await store.createMeeting(m);
      // Updated first, so that its listing entries are not the ones it was created with.
      const v2 = bump(gone, { start: at(1), state: 'inProgress' });
      const updated = bump(v2, { state: 'ended' });
      assert.equal(await store.updateMeeting(v2, 1), true);
      assert.equal(await store.updateMeeting(updated, 2), true);
      const goneParticipants = [participant(gone.id), participant(gone.id)];
      const keptParticipant = participant(kept.id);
      for (const p of [...goneParticipants, keptParticipant]) await store.putParticipant(p);

      await store.deleteMeeting(gone.id);
      assert.equal(await store.getMeeting(gone.id), undefined);
      for (const query of [{ hostUserId: host }, { roomId: room }]) {
        assert.deepEqual((await store.listMeetings({ ...query, max: 10 })).items, [kept]);
        for (const state of ['active', 'inProgress', 'ended'] as const) {
          assert.deepEqual((await store.listMeetings({ ...query, state, max: 10 })).items, state === 'active' ? [kept] : []);
        }
      }
      assert.deepEqual(await store.listParticipants(gone.id), []);
      for (const p of goneParticipants) assert.equal(await store.getParticipant(p.id), undefined);
      assert.deepEqual(await store.getMeeting(kept.id), kept);
      assert.deepEqual(await store.listParticipants(kept.id), [keptParticipant]);
      assert.deepEqual(await store.getParticipant(keptParticipant.id), keptParticipant);
      assert.equal(await store.updateMeeting(bump(updated), updated.version), false);
      assert.equal(await store.getMeeting(gone.id), undefined);

      await store.deleteMeeting(gone.id);
      await store.deleteMeeting(hex());
    });

    test('participants are put and read back field for field, and overwritten', async () => {
      const store = await open();
      const m = meeting();
      await store.createMeeting(m);
      const full = participant(m.id, {
        host: true, coHost: true, state: 'end', muted: true, video: 'on', handRaised: true, leftTime: at(1, 11), gatewayNodeId: 'gw-2', sessionId: 's-9',
        mediaEpoch: 3, producers: [{ id: 'prod-a', kind: 'audio', paused: true }, { id: 'prod-v', kind: 'video', paused: false }],
      });
      const bare = participant(m.id, { state: 'lobby' });
      await store.putParticipant(full);
      await store.putParticipant(bare);
      assert.deepEqual(await store.getParticipant(full.id), full);
      const read = await store.getParticipant(bare.id);
      assert.deepEqual(read, bare);
      assert.ok(!('leftTime' in read!) && !('gatewayNodeId' in read!) && !('sessionId' in read!), `absent fields came back: ${JSON.stringify(read)}`);
      assert.equal(await store.getParticipant(`${m.id}_${hex()}`), undefined);

      const { leftTime: _left, gatewayNodeId: _gateway, sessionId: _session, ...rejoined } = full;
      const overwrite = { ...rejoined, state: 'joined' as const, muted: false, mediaEpoch: 4, producers: [{ id: 'prod-a2', kind: 'audio' as const, paused: false }] };
      await store.putParticipant(overwrite);
      const again = await store.getParticipant(full.id);
      assert.deepEqual(again, overwrite);
      assert.ok(!('leftTime' in again!), 'an overwrite replaces the whole record');
      const admitted = { ...bare, state: 'joined' as const, joinedTime: at(1, 12) };
      await store.putParticipant(admitted);
      assert.deepEqual(await store.listParticipants(m.id), [overwrite, admitted]);
    });

    test('listParticipants: every participant of the meeting, by joinedTime then id, and no other meeting\'s', async () => {
      const store = await open();
      const [a, b] = [meeting(), meeting()];
      for (const m of [a, b]) await store.createMeeting(m);
      const ofA = [
        participant(a.id, { joinedTime: at(1, 12), state: 'end', leftTime: at(1, 13) }),
        participant(a.id, { joinedTime: at(1, 10) }),
        participant(a.id, { joinedTime: at(1, 11), state: 'lobby' }),
        participant(a.id, { joinedTime: at(1, 11) }),
        participant(a.id, { joinedTime: at(1, 11), host: true }),
      ];
      const ofB = [participant(b.id, { joinedTime: at(1, 9) }), participant(b.id, { joinedTime: at(1, 14) })];
      for (const p of [...ofA, ...ofB]) await store.putParticipant(p);
      const order = (list: ParticipantRecord[]) => [...list].sort((x, y) =>
        (x.joinedTime < y.joinedTime ? -1 : x.joinedTime > y.joinedTime ? 1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
      assert.deepEqual(await store.listParticipants(a.id), order(ofA));
      assert.deepEqual(await store.listParticipants(b.id), order(ofB));
      assert.deepEqual(await store.listParticipants(hex()), []);
    });
  });
}
