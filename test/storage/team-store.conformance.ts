// The guarantees of TeamStore, as one suite that every adapter must pass (the embedded
// SQLite store and the Cassandra store).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newId } from '../../contracts/ids.ts';
import { DuplicateMemberError, type TeamStore } from '../../storage/interfaces.ts';
import type { TeamMembershipRecord, TeamRecord } from '../../storage/records.ts';

const now = () => new Date().toISOString();

function team(extra: Partial<TeamRecord> = {}): TeamRecord {
  return { id: newId('TEAM'), name: 'team', creatorId: 'p', generalRoomId: newId('ROOM'), created: now(), ...extra };
}

function member(teamId: string, personId: string, extra: Partial<TeamMembershipRecord> = {}): TeamMembershipRecord {
  return {
    id: newId('TEAM_MEMBERSHIP'), teamId, personId, personEmail: 'e', personDisplayName: 'n', personOrgId: 'o', isModerator: false, created: now(), ...extra,
  };
}

async function pages<T>(read: (after?: string) => Promise<{ items: T[]; next?: string }>, max: number): Promise<T[]> {
  const all: T[] = [];
  let after: string | undefined;
  do {
    const page = await read(after);
    assert.ok(page.items.length <= max);
    all.push(...page.items);
    after = page.next;
  } while (after);
  return all;
}

export function teamStoreConformance(name: string, open: () => Promise<TeamStore>): void {
  describe(`TeamStore conformance: ${name}`, () => {
    test('teams are put, replaced, read and deleted', async () => {
      const store = await open();
      const t = team();
      await store.putTeam(t);
      assert.deepEqual(await store.getTeam(t.id), t);
      const renamed = { ...t, name: 'renamed', description: 'd' };
      await store.putTeam(renamed);
      assert.deepEqual(await store.getTeam(t.id), renamed);
      await store.deleteTeam(t.id);
      assert.equal(await store.getTeam(t.id), undefined);
      assert.equal(await store.getTeam(newId('TEAM')), undefined);
    });

    test('a person is a member of a team at most once (DuplicateMemberError), and may join again after leaving', async () => {
      const store = await open();
      const t = team();
      await store.putTeam(t);
      const first = member(t.id, 'alice', { isModerator: true });
      await store.createTeamMembership(first);
      await assert.rejects(store.createTeamMembership(member(t.id, 'alice')), DuplicateMemberError);
      const racing = await Promise.allSettled([1, 2, 3].map(() => store.createTeamMembership(member(t.id, 'bob'))));
      assert.equal(racing.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one of concurrent joins wins');
      assert.ok(racing.every((r) => r.status === 'fulfilled' || r.reason instanceof DuplicateMemberError));
      assert.deepEqual(await store.findTeamMembership(t.id, 'alice'), first);
      assert.deepEqual(await store.getTeamMembership(first.id), first);
      assert.equal((await store.listTeamMemberships(t.id, { max: 10 })).items.length, 2);

      await store.deleteTeamMembership(first.id);
      assert.equal(await store.findTeamMembership(t.id, 'alice'), undefined);
      assert.equal(await store.getTeamMembership(first.id), undefined);
      const again = member(t.id, 'alice');
      await store.createTeamMembership(again);
      assert.deepEqual(await store.findTeamMembership(t.id, 'alice'), again);
      assert.equal(await store.getTeamMembership(first.id), undefined);
    });

    test('putTeamMembership replaces an existing membership and nothing else', async () => {
      const store = await open();
      const t = team();
      await store.putTeam(t);
      const m = member(t.id, 'carol');
      await store.createTeamMembership(m);
      const promoted = { ...m, isModerator: true, personDisplayName: 'Carol' };
      await store.putTeamMembership(promoted);
      assert.deepEqual(await store.getTeamMembership(m.id), promoted);
      assert.deepEqual(await store.findTeamMembership(t.id, 'carol'), promoted);
      assert.deepEqual((await store.listTeamMemberships(t.id, { max: 10 })).items, [promoted]);
      const ghost = member(t.id, 'dave');
      await store.putTeamMembership(ghost);
      assert.equal(await store.getTeamMembership(ghost.id), undefined);
      assert.equal(await store.findTeamMembership(t.id, 'dave'), undefined);
    });

    test('memberships of a team are listed in id order, paged', async () => {
      const store = await open();
      const t = team();
      await store.putTeam(t);
      const members = ['p1', 'p2', 'p3', 'p4', 'p5'].map((p) => member(t.id, p));
      for (const m of members) await store.createTeamMembership(m);
      await store.createTeamMembership(member(team().id, 'p1'));
      const listed = await pages((after) => store.listTeamMemberships(t.id, { max: 2, after }), 2);
      assert.deepEqual(listed.map((m) => m.id), members.map((m) => m.id).sort());
      assert.deepEqual(listed.find((m) => m.id === members[0].id), members[0]);
    });

    test('the teams of a person, in id order, paged, without the ones they left or that were deleted', async () => {
      const store = await open();
      const person = newId('PEOPLE');
      const teams = [team(), team(), team(), team(), team()];
      const memberships: TeamMembershipRecord[] = [];
      for (const t of teams) {
        await store.putTeam(t);
        const m = member(t.id, person);
        memberships.push(m);
        await store.createTeamMembership(m);
        await store.createTeamMembership(member(t.id, newId('PEOPLE')));
      }
      const listed = await pages((after) => store.listTeamsOf(person, { max: 2, after }), 2);
      assert.deepEqual(listed.map((t) => t.id), teams.map((t) => t.id).sort());
      await store.deleteTeamMembership(memberships[1].id);
      await store.deleteTeam(teams[3].id);
      const remaining = [teams[0], teams[2], teams[4]].map((t) => t.id).sort();
      assert.deepEqual((await pages((after) => store.listTeamsOf(person, { max: 1, after }), 1)).map((t) => t.id), remaining);
      assert.deepEqual((await store.listTeamsOf(newId('PEOPLE'), { max: 10 })).items, []);
    });

    test('deleting a team deletes its memberships', async () => {
      const store = await open();
      const t = team();
      await store.putTeam(t);
      const members = ['x', 'y', 'z'].map((p) => member(t.id, p));
      for (const m of members) await store.createTeamMembership(m);
      await store.deleteTeam(t.id);
      for (const m of members) {
        assert.equal(await store.getTeamMembership(m.id), undefined);
        assert.equal(await store.findTeamMembership(t.id, m.personId), undefined);
      }
      assert.deepEqual((await store.listTeamMemberships(t.id, { max: 10 })).items, []);
      assert.deepEqual((await store.listTeamsOf('x', { max: 10 })).items.filter((x) => x.id === t.id), []);
    });
  });
}
