import type { DatabaseSync } from 'node:sqlite';
import { DuplicateMemberError, type Page, type TeamStore } from '../interfaces.ts';
import type { TeamMembershipRecord, TeamRecord } from '../records.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { inTransaction, parseDoc, statementCache } from './sqlite.ts';

export const teamsSchema = `
CREATE TABLE IF NOT EXISTS teams (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS team_memberships (
  id TEXT PRIMARY KEY, team_id TEXT NOT NULL, person_id TEXT NOT NULL, doc TEXT NOT NULL, UNIQUE (team_id, person_id));
CREATE INDEX IF NOT EXISTS team_memberships_by_person ON team_memberships (person_id, team_id);
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

  async deleteTeam(id: string): Promise<void> {
    inTransaction(this.db, () => {
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

  async createTeamMembership(membership: TeamMembershipRecord): Promise<void> {
    const result = this.sql('INSERT OR IGNORE INTO team_memberships (id, team_id, person_id, doc) VALUES (?, ?, ?, ?)')
      .run(membership.id, membership.teamId, membership.personId, JSON.stringify(membership));
    if (Number(result.changes) === 0) throw new DuplicateMemberError();
  }

  async putTeamMembership(membership: TeamMembershipRecord): Promise<void> {
    this.sql('UPDATE team_memberships SET doc = ? WHERE id = ?').run(JSON.stringify(membership), membership.id);
  }

  async deleteTeamMembership(id: string): Promise<void> {
    this.sql('DELETE FROM team_memberships WHERE id = ?').run(id);
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
