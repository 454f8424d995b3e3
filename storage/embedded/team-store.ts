import type { DatabaseSync } from 'node:sqlite';
import { DuplicateMemberError, type Page, type TeamStore } from '../interfaces.ts';
import { idempotencyCutoff } from '../../contracts/idempotency.ts';
import type { IdempotencyRecord, TeamMembershipRecord, TeamRecord } from '../records.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { inTransaction, parseDoc, statementCache } from './sqlite.ts';

export const teamsSchema = `
CREATE TABLE IF NOT EXISTS teams (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS team_memberships (
  id TEXT PRIMARY KEY, team_id TEXT NOT NULL, person_id TEXT NOT NULL, doc TEXT NOT NULL, UNIQUE (team_id, person_id));
CREATE INDEX IF NOT EXISTS team_memberships_by_person ON team_memberships (person_id, team_id);
CREATE TABLE IF NOT EXISTS team_idempotency (resource_id TEXT PRIMARY KEY, created TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS team_idempotency_by_age ON team_idempotency (created);
`;

export class SqliteTeamStore implements TeamStore {
  private readonly sql;

  private readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {

    this.db = db;
    this.sql = statementCache(db);
  }

  async putTeam(team: TeamRecord): Promise<void> {
    this.sql('INSERT OR REPLACE INTO teams (id, doc) VALUES (?, ?)').run(team.id, JSON.stringify(team));
  }

  async putKeyedTeam(team: TeamRecord, idempotency?: IdempotencyRecord): Promise<boolean> {
    return inTransaction(this.db, () => {
      if (this.liveRecord(team.id)) return false;
      this.sql('INSERT OR REPLACE INTO teams (id, doc) VALUES (?, ?)').run(team.id, JSON.stringify(team));
      if (idempotency) this.putRecord(team.id, idempotency);
      return true;
    });
  }

  async getTeamIdempotency(teamId: string): Promise<IdempotencyRecord | undefined> {
    return this.liveRecord(teamId);
  }

  async getTeamMembershipIdempotency(membershipId: string): Promise<IdempotencyRecord | undefined> {
    return this.liveRecord(membershipId);
  }

  /** The answer kept for a team or team membership (by its id) and not yet 24 hours old. */
  private liveRecord(resourceId: string): IdempotencyRecord | undefined {
    const row = this.sql('SELECT doc FROM team_idempotency WHERE resource_id = ? AND created >= ?').get(resourceId, idempotencyCutoff());
    return row ? parseDoc<IdempotencyRecord>(row) : undefined;
  }

  private putRecord(resourceId: string, idempotency: IdempotencyRecord): void {
    // Expired records are swept by the writes that add records.
    this.sql('DELETE FROM team_idempotency WHERE created < ?').run(idempotencyCutoff());
    this.sql('INSERT OR REPLACE INTO team_idempotency (resource_id, created, doc) VALUES (?, ?, ?)').run(resourceId, idempotency.created, JSON.stringify(idempotency));
  }

  async deleteTeam(id: string): Promise<void> {
    inTransaction(this.db, () => {
      this.sql('DELETE FROM team_idempotency WHERE resource_id IN (SELECT id FROM team_memberships WHERE team_id = ?) OR resource_id = ?').run(id, id);
      this.sql('DELETE FROM team_memberships WHERE team_id = ?').run(id);
      this.sql('DELETE FROM teams WHERE id = ?').run(id);
    });
  }

  async getTeam(id: string): Promise<TeamRecord | undefined> {
    const row = this.sql('SELECT doc FROM teams WHERE id = ?').get(id);
    return row ? parseDoc<TeamRecord>(row) : undefined;
  }

  async listTeamsOf(personId: string, query: { max: number; after?: string }): Promise<Page<TeamRecord>> {
    const after = decodeCursor(query.after);
    const rows = this.sql(`SELECT t.id, t.doc FROM team_memberships m JOIN teams t ON t.id = m.team_id
      WHERE m.person_id = ? AND t.id > ? ORDER BY t.id LIMIT ?`).all(personId, after ? String(after[0]) : '', query.max + 1);
    const items = rows.slice(0, query.max).map((row) => parseDoc<TeamRecord>(row));
    return { items, next: rows.length > query.max ? encodeCursor([items[items.length - 1].id]) : undefined };
  }

  async createTeamMembership(membership: TeamMembershipRecord, idempotency?: IdempotencyRecord): Promise<void> {
    inTransaction(this.db, () => {
      const result = this.sql('INSERT OR IGNORE INTO team_memberships (id, team_id, person_id, doc) VALUES (?, ?, ?, ?)')
        .run(membership.id, membership.teamId, membership.personId, JSON.stringify(membership));
      if (Number(result.changes) === 0) throw new DuplicateMemberError();
      if (idempotency) this.putRecord(membership.id, idempotency);
    });
  }

  async putTeamMembership(membership: TeamMembershipRecord): Promise<void> {
    this.sql('UPDATE team_memberships SET doc = ? WHERE id = ?').run(JSON.stringify(membership), membership.id);
  }

  async deleteTeamMembership(id: string): Promise<void> {
    inTransaction(this.db, () => {
      this.sql('DELETE FROM team_idempotency WHERE resource_id = ?').run(id);
      this.sql('DELETE FROM team_memberships WHERE id = ?').run(id);
    });
  }

  async getTeamMembership(id: string): Promise<TeamMembershipRecord | undefined> {
    const row = this.sql('SELECT doc FROM team_memberships WHERE id = ?').get(id);
    return row ? parseDoc<TeamMembershipRecord>(row) : undefined;
  }

  async findTeamMembership(teamId: string, personId: string): Promise<TeamMembershipRecord | undefined> {
    const row = this.sql('SELECT doc FROM team_memberships WHERE team_id = ? AND person_id = ?').get(teamId, personId);
    return row ? parseDoc<TeamMembershipRecord>(row) : undefined;
  }

  async listTeamMemberships(teamId: string, query: { max: number; after?: string }): Promise<Page<TeamMembershipRecord>> {
    const after = decodeCursor(query.after);
    const rows = this.sql('SELECT id, doc FROM team_memberships WHERE team_id = ? AND id > ? ORDER BY id LIMIT ?')
      .all(teamId, after ? String(after[0]) : '', query.max + 1);
    const items = rows.slice(0, query.max).map((row) => parseDoc<TeamMembershipRecord>(row));
    return { items, next: rows.length > query.max ? encodeCursor([items[items.length - 1].id]) : undefined };
  }
}
