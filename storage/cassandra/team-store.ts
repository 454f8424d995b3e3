// TeamStore on Cassandra.
//
// A team's memberships live in the team's partition of `team_members`, written only by
// lightweight transactions (conditional batches, one partition): the `person` row (key =
// person id) makes (team, person) unique — `INSERT … IF NOT EXISTS`, DuplicateMemberError
// when it does not apply — and the `id` row (key = membership id) lists memberships in id
// order. Both rows of a membership are in the same conditional batch, so they never disagree.
//
// `team_membership_ids` (id → team, person) and `teams_by_person` are hints written before
// the transaction (and `teams_by_person` once more after it), and every read through them
// checks `team_members`, so a hint whose transaction lost or never ran is harmless.
import { DuplicateMemberError, type Page, type TeamStore } from '../interfaces.ts';
import { IDEMPOTENCY_TTL_SECONDS, idempotencyCutoff } from '../../contracts/idempotency.ts';
import type { IdempotencyRecord, TeamMembershipRecord, TeamRecord } from '../records.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import type { types } from 'cassandra-driver';
import { type Db, mapLimit, parseDoc } from './db.ts';

export class CassandraTeamStore implements TeamStore {
  private readonly db: Db;
  private readonly ks: string;

  constructor(db: Db) {
    this.db = db;
    this.ks = db.ks;
  }

  async putTeam(team: TeamRecord): Promise<void> {
    await this.db.run(`INSERT INTO ${this.ks}.teams (id, doc) VALUES (?, ?)`, [team.id, JSON.stringify(team)]);
  }

  async putKeyedTeam(team: TeamRecord, idempotency?: IdempotencyRecord): Promise<boolean> {
    // One Paxos round on the team's row: the team and its answer together, unless a
    // concurrent retry's answer is there already. The answer's cell has its own 24-hour TTL.
    const put = { query: `UPDATE ${this.ks}.teams SET doc = ? WHERE id = ? IF idempotency = null`, params: [JSON.stringify(team), team.id] };
    const { applied } = idempotency
      ? await this.db.lwtBatch([put, { query: `UPDATE ${this.ks}.teams USING TTL ${IDEMPOTENCY_TTL_SECONDS} SET idempotency = ? WHERE id = ?`, params: [JSON.stringify(idempotency), team.id] }])
      : await this.db.lwt(put.query, put.params);
    return applied;
  }

  async getTeamIdempotency(teamId: string): Promise<IdempotencyRecord | undefined> {
    return live(await this.db.serialRead(`SELECT idempotency FROM ${this.ks}.teams WHERE id = ?`, [teamId]));
  }

  async getTeamMembershipIdempotency(membershipId: string): Promise<IdempotencyRecord | undefined> {
    const hint = await this.db.first(`SELECT team_id FROM ${this.ks}.team_membership_ids WHERE id = ?`, [membershipId]);
    if (!hint) return undefined;
    // Serial: a create whose Paxos round is still being committed must be seen (a retry racing it).
    return live(await this.db.serialRead(`SELECT idempotency FROM ${this.ks}.team_members WHERE team_id = ? AND kind = 'id' AND key = ?`, [hint.team_id, membershipId]));
  }

  /** Memberships first, the team last, so a deletion cut short can be run again. */
  async deleteTeam(id: string): Promise<void> {
    const members = await this.db.rows(`SELECT key, membership_id FROM ${this.ks}.team_members WHERE team_id = ? AND kind = 'person'`, [id]);
    await mapLimit(members, 8, (row) => this.removeMembership(id, row.key as string, row.membership_id as string));
    await this.db.run(`DELETE FROM ${this.ks}.teams WHERE id = ?`, [id]);
  }

  async getTeam(id: string): Promise<TeamRecord | undefined> {
    return parseDoc<TeamRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.teams WHERE id = ?`, [id]));
  }

  async listTeamsOf(personId: string, query: { max: number; after?: string }): Promise<Page<TeamRecord>> {
    const cursor = decodeCursor(query.after);
    let from = cursor ? String(cursor[0]) : '';
    const found: TeamRecord[] = [];
    const chunk = Math.min(query.max + 1, 500);
    for (;;) {
      const rows = (await this.db.run(`SELECT team_id FROM ${this.ks}.teams_by_person WHERE person_id = ? AND team_id > ? LIMIT ?`, [personId, from, chunk])).rows;
      const teams = await mapLimit(rows.map((row) => row.team_id as string), 16, async (teamId) => {
        const [team, membership] = await Promise.all([this.getTeam(teamId), this.findTeamMembership(teamId, personId)]);
        return team && membership ? team : undefined;
      });
      for (const team of teams) if (team) found.push(team);
      if (found.length > query.max || rows.length < chunk) break;
      from = rows[rows.length - 1].team_id as string;
    }
    const items = found.slice(0, query.max);
    return { items, next: found.length > query.max ? encodeCursor([items[items.length - 1].id]) : undefined };
  }

  async createTeamMembership(membership: TeamMembershipRecord, idempotency?: IdempotencyRecord): Promise<void> {
    const { id, teamId, personId } = membership;
    const doc = JSON.stringify(membership);
    await Promise.all([
      this.db.run(`INSERT INTO ${this.ks}.team_membership_ids (id, team_id, person_id) VALUES (?, ?, ?)`, [id, teamId, personId]),
      this.db.run(`INSERT INTO ${this.ks}.teams_by_person (person_id, team_id) VALUES (?, ?)`, [personId, teamId]),
    ]);
    const insert = `INSERT INTO ${this.ks}.team_members (team_id, kind, key, membership_id, person_id, doc) VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS`;
    const { applied } = await this.db.lwtBatch([
      { query: insert, params: [teamId, 'person', personId, id, personId, doc] },
      { query: insert, params: [teamId, 'id', id, id, personId, doc] },
      // A keyed create's answer: a cell of the `id` row, in the same Paxos round, with its own 24-hour TTL.
      ...(idempotency ? [{
        query: `UPDATE ${this.ks}.team_members USING TTL ${IDEMPOTENCY_TTL_SECONDS} SET idempotency = ? WHERE team_id = ? AND kind = 'id' AND key = ?`,
        params: [JSON.stringify(idempotency), teamId, id],
      }] : []),
    ]);
    if (!applied) {
      // The person is a member already (their teams_by_person hint is right either way).
      await this.db.run(`DELETE FROM ${this.ks}.team_membership_ids WHERE id = ?`, [id]);
      throw new DuplicateMemberError();
    }
    // Again, in case a concurrent removal of an earlier membership deleted the hint.
    await this.db.run(`INSERT INTO ${this.ks}.teams_by_person (person_id, team_id) VALUES (?, ?)`, [personId, teamId]);
  }

  /** Replaces a membership's record, if that membership (same id) still exists. */
  async putTeamMembership(membership: TeamMembershipRecord): Promise<void> {
    const { id, teamId, personId } = membership;
    const doc = JSON.stringify(membership);
    await this.db.lwtBatch([
      { query: `UPDATE ${this.ks}.team_members SET doc = ? WHERE team_id = ? AND kind = 'person' AND key = ? IF membership_id = ?`, params: [doc, teamId, personId, id] },
      { query: `UPDATE ${this.ks}.team_members SET doc = ? WHERE team_id = ? AND kind = 'id' AND key = ? IF membership_id = ?`, params: [doc, teamId, id, id] },
    ]);
  }

  async deleteTeamMembership(id: string): Promise<void> {
    const hint = await this.db.first(`SELECT team_id, person_id FROM ${this.ks}.team_membership_ids WHERE id = ?`, [id]);
    if (hint) await this.removeMembership(hint.team_id as string, hint.person_id as string, id);
  }

  private async removeMembership(teamId: string, personId: string, id: string): Promise<void> {
    const { applied } = await this.db.lwtBatch([
      { query: `DELETE FROM ${this.ks}.team_members WHERE team_id = ? AND kind = 'person' AND key = ? IF membership_id = ?`, params: [teamId, personId, id] },
      { query: `DELETE FROM ${this.ks}.team_members WHERE team_id = ? AND kind = 'id' AND key = ? IF EXISTS`, params: [teamId, id] },
    ]);
    const stillMember = !applied && (await this.findTeamMembership(teamId, personId)) !== undefined;
    await Promise.all([
      this.db.run(`DELETE FROM ${this.ks}.team_membership_ids WHERE id = ?`, [id]),
      // Keep the person's hint when they are (again) a member under another membership.
      stillMember ? Promise.resolve() : this.db.run(`DELETE FROM ${this.ks}.teams_by_person WHERE person_id = ? AND team_id = ?`, [personId, teamId]),
    ]);
  }

  async getTeamMembership(id: string): Promise<TeamMembershipRecord | undefined> {
    const hint = await this.db.first(`SELECT team_id FROM ${this.ks}.team_membership_ids WHERE id = ?`, [id]);
    if (!hint) return undefined;
    return parseDoc<TeamMembershipRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.team_members WHERE team_id = ? AND kind = 'id' AND key = ?`, [hint.team_id, id]));
  }

  async findTeamMembership(teamId: string, personId: string): Promise<TeamMembershipRecord | undefined> {
    return parseDoc<TeamMembershipRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.team_members WHERE team_id = ? AND kind = 'person' AND key = ?`, [teamId, personId]));
  }

  async listTeamMemberships(teamId: string, query: { max: number; after?: string }): Promise<Page<TeamMembershipRecord>> {
    const cursor = decodeCursor(query.after);
    const rows = (await this.db.run(`SELECT doc FROM ${this.ks}.team_members WHERE team_id = ? AND kind = 'id' AND key > ? LIMIT ?`,
      [teamId, cursor ? String(cursor[0]) : '', query.max + 1])).rows;
    const items = rows.slice(0, query.max).map((row) => parseDoc<TeamMembershipRecord>(row)!);
    return { items, next: rows.length > query.max ? encodeCursor([items[items.length - 1].id]) : undefined };
  }
}

/** A stored answer, unless its 24 hours are over (the TTL forgets it within a second; this makes the bound exact). */
function live(row: types.Row | undefined): IdempotencyRecord | undefined {
  const record = parseDoc<IdempotencyRecord>(row, 'idempotency');
  return record && record.created >= idempotencyCutoff() ? record : undefined;
}
