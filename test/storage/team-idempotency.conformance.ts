// TeamStore's idempotency records (putKeyedTeam, createTeamMembership's `idempotency`, and
// their getters), as one suite every adapter passes: an answer is stored with its team or
// membership in one write, a second keyed write of the team is refused, and an answer is
// forgotten after 24 hours or with what it answered.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newId } from '../../contracts/ids.ts';
import { DuplicateMemberError, type TeamStore } from '../../storage/interfaces.ts';
import type { IdempotencyRecord, TeamMembershipRecord, TeamRecord } from '../../storage/records.ts';

const now = () => new Date().toISOString();

const team = (extra: Partial<TeamRecord> = {}): TeamRecord => ({ id: newId('TEAM'), name: 'n', creatorId: 'p', generalRoomId: newId('ROOM'), created: now(), ...extra });

const membership = (teamId: string, personId = newId('PEOPLE')): TeamMembershipRecord => ({
  id: newId('TEAM_MEMBERSHIP'), teamId, personId, personEmail: 'e', personDisplayName: 'n', personOrgId: 'o', isModerator: false, created: now(),
});

const record = (key: string, extra: Partial<IdempotencyRecord> = {}): IdempotencyRecord =>
  ({ personId: 'p', key, fingerprint: 'f'.repeat(64), status: 200, body: JSON.stringify({ key }), created: now(), ...extra });

export function teamIdempotencyConformance(name: string, open: () => Promise<TeamStore>): void {
  describe(`TeamStore idempotency records: ${name}`, () => {
    test('putKeyedTeam stores the team with its answer once; after it, every keyed write is refused and writes nothing', async () => {
      const store = await open();
      const t = team();
      // Without an answer: a step of the create (the team is made if it was not there).
      assert.equal(await store.putKeyedTeam({ ...t, generalRoomId: '' }), true);
      assert.equal((await store.getTeam(t.id))?.generalRoomId, '');
      assert.equal(await store.getTeamIdempotency(t.id), undefined);
      const answer = record('team');
      assert.equal(await store.putKeyedTeam(t, answer), true);
      assert.deepEqual(await store.getTeam(t.id), t);
      assert.deepEqual(await store.getTeamIdempotency(t.id), answer);
      assert.equal(await store.putKeyedTeam({ ...t, name: 'second' }, record('second')), false);
      assert.equal(await store.putKeyedTeam({ ...t, name: 'a late step' }), false);
      assert.equal((await store.getTeam(t.id))?.name, 'n');
      assert.deepEqual(await store.getTeamIdempotency(t.id), answer);
    });

    test('a membership\'s answer is stored with it, and a refused duplicate stores none', async () => {
      const store = await open();
      const t = team();
      await store.putTeam(t);
      const m = membership(t.id);
      const answer = record('membership');
      await store.createTeamMembership(m, answer);
      assert.deepEqual(await store.getTeamMembershipIdempotency(m.id), answer);
      const again = { ...membership(t.id, m.personId) };
      await assert.rejects(store.createTeamMembership(again, record('again')), DuplicateMemberError);
      assert.equal(await store.getTeamMembershipIdempotency(again.id), undefined);
      const plain = membership(t.id);
      await store.createTeamMembership(plain);
      assert.equal(await store.getTeamMembershipIdempotency(plain.id), undefined);
    });

    test('answers are forgotten after 24 hours, and with their membership or team', async () => {
      const store = await open();
      const t = team();
      await store.putTeam(t);
      const old = membership(t.id);
      await store.createTeamMembership(old, record('old', { created: new Date(Date.now() - 25 * 3600_000).toISOString() }));
      assert.equal(await store.getTeamMembershipIdempotency(old.id), undefined);
      const left = membership(t.id);
      await store.createTeamMembership(left, record('left'));
      await store.deleteTeamMembership(left.id);
      assert.equal(await store.getTeamMembershipIdempotency(left.id), undefined);
      const stays = membership(t.id);
      await store.createTeamMembership(stays, record('stays'));
      assert.equal(await store.putKeyedTeam(t, record('team')), true);
      await store.deleteTeam(t.id);
      assert.equal(await store.getTeamIdempotency(t.id), undefined);
      assert.equal(await store.getTeamMembershipIdempotency(stays.id), undefined);
    });
  });
}
