// Teams over real HTTPS: a team and its general room, who may see and change a team, team
// memberships (which carry membership of the general room), and deleting a team with its rooms.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { ApiResponse } from '../../clients/api-client.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
before(async () => {
  target = await startTarget();
});
after(() => target.stop());

const ids = (response: ApiResponse) => (response.body.items as { id: string }[]).map((item) => item.id);

interface Team { id: string; generalRoomId: string }

/** A team made by `moderator`, with its general room found through GET /v1/rooms?teamId=. */
async function createTeam(moderator: TestPerson, name = `Team ${randomUUID().slice(0, 6)}`): Promise<Team> {
  const team = await moderator.api.post('/v1/teams', { name });
  assert.equal(team.status, 200, team.text);
  const rooms = await moderator.api.get(`/v1/rooms?teamId=${team.body.id}`);
  assert.equal(rooms.status, 200, rooms.text);
  assert.equal(rooms.body.items.length, 1, 'a new team has exactly one room, its general room');
  return { id: team.body.id, generalRoomId: rooms.body.items[0].id };
}

async function addToTeam(moderator: TestPerson, team: Team, person: TestPerson, isModerator = false): Promise<string> {
  const added = await moderator.api.post('/v1/team/memberships', { teamId: team.id, personId: person.id, isModerator });
  assert.equal(added.status, 200, added.text);
  return added.body.id;
}

async function roomMemberIds(viewer: TestPerson, roomId: string): Promise<string[]> {
  const members = await viewer.api.get(`/v1/memberships?roomId=${roomId}`);
  assert.equal(members.status, 200, members.text);
  return (members.body.items as { personId: string }[]).map((m) => m.personId);
}

describe('creating a team', () => {
  let owner: TestPerson;
  before(async () => {
    [owner] = await createPeople(target.admin, 'Olive TeamOwner');
  });

  test('POST /v1/teams is 200 and returns the team', async () => {
    const created = await owner.api.post('/v1/teams', { name: 'Platform', description: 'The platform team' });
    assert.equal(created.status, 200);
    assert.equal(created.body.name, 'Platform');
    assert.equal(created.body.description, 'The platform team');
    assert.equal(created.body.creatorId, owner.id);
    assert.ok(created.body.id && created.body.created);
  });

  test('the team gets a general room that GET /v1/rooms?teamId= shows', async () => {
    const created = await owner.api.post('/v1/teams', { name: 'General Room Team' });
    const rooms = await owner.api.get(`/v1/rooms?teamId=${created.body.id}`);
    assert.equal(rooms.status, 200);
    assert.equal(rooms.body.items.length, 1);
    assert.equal(rooms.body.items[0].teamId, created.body.id);
    assert.equal(rooms.body.items[0].title, 'General Room Team');
    assert.ok((await roomMemberIds(owner, rooms.body.items[0].id)).includes(owner.id), 'the creator is in the general room');
  });

  test('the creator is a moderator of the team', async () => {
    const team = await createTeam(owner);
    const memberships = await owner.api.get(`/v1/team/memberships?teamId=${team.id}`);
    assert.equal(memberships.status, 200);
    assert.equal(memberships.body.items.length, 1);
    assert.equal(memberships.body.items[0].personId, owner.id);
    assert.equal(memberships.body.items[0].isModerator, true);
  });

  test('the team is listed in GET /v1/teams of its members only', async () => {
    const [outsider] = await createPeople(target.admin, 'Oscar TeamOutsider');
    const team = await createTeam(owner);
    assert.ok(ids(await owner.api.get('/v1/teams')).includes(team.id));
    assert.ok(!ids(await outsider.api.get('/v1/teams')).includes(team.id));
  });

  test('a team without a name is 400', async () => {
    assert.equal((await owner.api.post('/v1/teams', {})).status, 400);
    assert.equal((await owner.api.post('/v1/teams', { name: '' })).status, 400);
  });
});

describe('reading, changing and deleting a team', () => {
  let moderator: TestPerson;
  let member: TestPerson;
  let outsider: TestPerson;
  let team: Team;
  before(async () => {
    [moderator, member, outsider] = await createPeople(target.admin, 'Mona Moderator', 'Mel Member', 'Otto Outsider');
    team = await createTeam(moderator, 'Readable Team');
    await addToTeam(moderator, team, member);
  });

  test('the moderator gets the team', async () => {
    const got = await moderator.api.get(`/v1/teams/${team.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.id, team.id);
    assert.equal(got.body.name, 'Readable Team');
  });

  test('a member gets the team', async () => {
    assert.equal((await member.api.get(`/v1/teams/${team.id}`)).status, 200);
  });

  test('a non-member getting the team gets 404', async () => {
    assert.equal((await outsider.api.get(`/v1/teams/${team.id}`)).status, 404);
  });

  test('the moderator renames the team with PUT (200)', async () => {
    const own = await createTeam(moderator, 'Old Name');
    const renamed = await moderator.api.put(`/v1/teams/${own.id}`, { name: 'New Name' });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.name, 'New Name');
    assert.equal((await moderator.api.get(`/v1/teams/${own.id}`)).body.name, 'New Name');
  });

  test('a member who is not a moderator changing the team gets 403', async () => {
    const refused = await member.api.put(`/v1/teams/${team.id}`, { name: 'Taken Over' });
    assert.equal(refused.status, 403);
    assert.equal((await moderator.api.get(`/v1/teams/${team.id}`)).body.name, 'Readable Team');
  });

  test('a non-member changing the team gets 404', async () => {
    assert.equal((await outsider.api.put(`/v1/teams/${team.id}`, { name: 'Taken Over' })).status, 404);
  });

  test('a member who is not a moderator deleting the team gets 403', async () => {
    assert.equal((await member.api.delete(`/v1/teams/${team.id}`)).status, 403);
    assert.equal((await moderator.api.get(`/v1/teams/${team.id}`)).status, 200);
  });

  test('a non-member deleting the team gets 404', async () => {
    assert.equal((await outsider.api.delete(`/v1/teams/${team.id}`)).status, 404);
  });

  test('the moderator deletes the team (204) and it is then 404', async () => {
    const own = await createTeam(moderator);
    const deleted = await moderator.api.delete(`/v1/teams/${own.id}`);
    assert.equal(deleted.status, 204);
    assert.equal((await moderator.api.get(`/v1/teams/${own.id}`)).status, 404);
    assert.ok(!ids(await moderator.api.get('/v1/teams')).includes(own.id));
  });
});

describe('team memberships', () => {
  let moderator: TestPerson;
  let member: TestPerson;
  let outsider: TestPerson;
  before(async () => {
    [moderator, member, outsider] = await createPeople(target.admin, 'Tess TeamMod', 'Tim TeamMember', 'Tony TeamOutsider');
  });

  test('the moderator adds a person (200), who then is a member of the general room too', async () => {
    const team = await createTeam(moderator);
    const added = await moderator.api.post('/v1/team/memberships', { teamId: team.id, personId: member.id });
    assert.equal(added.status, 200);
    assert.equal(added.body.teamId, team.id);
    assert.equal(added.body.personId, member.id);
    assert.equal(added.body.personEmail, member.email);
    assert.equal(added.body.isModerator, false);
    assert.ok((await roomMemberIds(moderator, team.generalRoomId)).includes(member.id));
    assert.ok(ids(await member.api.get('/v1/rooms')).includes(team.generalRoomId), 'the general room is in the new member\'s rooms');
    assert.equal((await member.api.get(`/v1/teams/${team.id}`)).status, 200);
  });

  test('the moderator adds a person by email', async () => {
    const team = await createTeam(moderator);
    const added = await moderator.api.post('/v1/team/memberships', { teamId: team.id, personEmail: member.email });
    assert.equal(added.status, 200);
    assert.equal(added.body.personId, member.id);
  });

  test('adding a person who is already a member is 409', async () => {
    const team = await createTeam(moderator);
    await addToTeam(moderator, team, member);
    const again = await moderator.api.post('/v1/team/memberships', { teamId: team.id, personId: member.id });
    assert.equal(again.status, 409);
  });

  test('adding an unknown person is 404', async () => {
    const team = await createTeam(moderator);
    const ghost = Buffer.from(`ciscospark://us/PEOPLE/${randomUUID()}`).toString('base64url');
    assert.equal((await moderator.api.post('/v1/team/memberships', { teamId: team.id, personId: ghost })).status, 404);
  });

  test('a member who is not a moderator adding a person gets 403', async () => {
    const team = await createTeam(moderator);
    await addToTeam(moderator, team, member);
    const refused = await member.api.post('/v1/team/memberships', { teamId: team.id, personId: outsider.id });
    assert.equal(refused.status, 403);
    assert.ok(!(await roomMemberIds(moderator, team.generalRoomId)).includes(outsider.id));
  });

  test('a non-member adding a person (even themselves) gets 404', async () => {
    const team = await createTeam(moderator);
    const refused = await outsider.api.post('/v1/team/memberships', { teamId: team.id, personId: outsider.id });
    assert.equal(refused.status, 404);
  });

  test('listing memberships requires membership of the team: a non-member gets 404', async () => {
    const team = await createTeam(moderator);
    await addToTeam(moderator, team, member);
    const listed = await member.api.get(`/v1/team/memberships?teamId=${team.id}`);
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.items.map((m: { personId: string }) => m.personId).sort(), [moderator.id, member.id].sort());
    assert.equal((await outsider.api.get(`/v1/team/memberships?teamId=${team.id}`)).status, 404);
  });

  test('listing memberships without a teamId is 400', async () => {
    assert.equal((await member.api.get('/v1/team/memberships')).status, 400);
  });

  test('a non-member getting a team membership gets 404', async () => {
    const team = await createTeam(moderator);
    const membershipId = await addToTeam(moderator, team, member);
    assert.equal((await member.api.get(`/v1/team/memberships/${membershipId}`)).status, 200);
    assert.equal((await outsider.api.get(`/v1/team/memberships/${membershipId}`)).status, 404);
  });

  test('the moderator makes a member a moderator, who may then change the team', async () => {
    const team = await createTeam(moderator);
    const membershipId = await addToTeam(moderator, team, member);
    const promoted = await moderator.api.put(`/v1/team/memberships/${membershipId}`, { isModerator: true });
    assert.equal(promoted.status, 200);
    assert.equal(promoted.body.isModerator, true);
    assert.equal((await member.api.get(`/v1/team/memberships/${membershipId}`)).body.isModerator, true);
    assert.equal((await member.api.put(`/v1/teams/${team.id}`, { name: 'Renamed By New Moderator' })).status, 200);
    const demoted = await moderator.api.put(`/v1/team/memberships/${membershipId}`, { isModerator: false });
    assert.equal(demoted.status, 200);
    assert.equal(demoted.body.isModerator, false);
    assert.equal((await member.api.put(`/v1/teams/${team.id}`, { name: 'Not Allowed Anymore' })).status, 403);
  });

  test('a member who is not a moderator cannot make themselves a moderator (403)', async () => {
    const team = await createTeam(moderator);
    const membershipId = await addToTeam(moderator, team, member);
    assert.equal((await member.api.put(`/v1/team/memberships/${membershipId}`, { isModerator: true })).status, 403);
    assert.equal((await moderator.api.get(`/v1/team/memberships/${membershipId}`)).body.isModerator, false);
  });

  test('a member removes themselves (204) and leaves the team and its general room', async () => {
    const team = await createTeam(moderator);
    const membershipId = await addToTeam(moderator, team, member);
    const left = await member.api.delete(`/v1/team/memberships/${membershipId}`);
    assert.equal(left.status, 204);
    assert.equal((await member.api.get(`/v1/teams/${team.id}`)).status, 404);
    assert.ok(!(await roomMemberIds(moderator, team.generalRoomId)).includes(member.id));
    assert.equal((await moderator.api.get(`/v1/team/memberships/${membershipId}`)).status, 404);
  });

  test('a member who is not a moderator removing someone else gets 403', async () => {
    const team = await createTeam(moderator);
    await addToTeam(moderator, team, member);
    const otherId = await addToTeam(moderator, team, outsider);
    const refused = await member.api.delete(`/v1/team/memberships/${otherId}`);
    assert.equal(refused.status, 403);
    assert.equal((await outsider.api.get(`/v1/teams/${team.id}`)).status, 200);
  });

  test('the moderator removes a member (204), who leaves the general room', async () => {
    const team = await createTeam(moderator);
    const membershipId = await addToTeam(moderator, team, member);
    assert.equal((await moderator.api.delete(`/v1/team/memberships/${membershipId}`)).status, 204);
    assert.ok(!(await roomMemberIds(moderator, team.generalRoomId)).includes(member.id));
    assert.equal((await member.api.get(`/v1/teams/${team.id}`)).status, 404);
  });
});

describe('deleting a team deletes its rooms', () => {
  test('the general room and the other team rooms are 404 after the team is deleted', async () => {
    const [moderator, member] = await createPeople(target.admin, 'Dora DeleteTeam', 'Dan DeleteTeamMember');
    const team = await createTeam(moderator);
    const membershipId = await addToTeam(moderator, team, member);
    const other = await member.api.post('/v1/rooms', { title: 'Team side room', teamId: team.id });
    assert.equal(other.status, 200, other.text);
    assert.equal(other.body.teamId, team.id);

    assert.equal((await moderator.api.delete(`/v1/teams/${team.id}`)).status, 204);

    for (const person of [moderator, member]) {
      assert.equal((await person.api.get(`/v1/rooms/${team.generalRoomId}`)).status, 404, 'the general room is gone');
      assert.equal((await person.api.get(`/v1/rooms/${other.body.id}`)).status, 404, 'the other team room is gone');
      const rooms = ids(await person.api.get('/v1/rooms'));
      assert.ok(!rooms.includes(team.generalRoomId) && !rooms.includes(other.body.id));
    }
    assert.equal((await moderator.api.get(`/v1/team/memberships/${membershipId}`)).status, 404);
    assert.equal((await moderator.api.get(`/v1/messages?roomId=${team.generalRoomId}`)).status, 404);
  });

  test('a non-member cannot create a room in the team (404)', async () => {
    const [moderator, outsider] = await createPeople(target.admin, 'Nina TeamRooms', 'Ned NotInTeam');
    const team = await createTeam(moderator);
    const refused = await outsider.api.post('/v1/rooms', { title: 'Squatter', teamId: team.id });
    assert.equal(refused.status, 404);
  });
});
