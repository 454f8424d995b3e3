import type { DatabaseSync } from 'node:sqlite';
import { DuplicateEmailError, type Page, type PeopleStore } from '../interfaces.ts';
import type { PersonRecord, TokenRecord } from '../records.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { inTransaction, parseDoc, statementCache } from './sqlite.ts';

export const peopleSchema = `
CREATE TABLE IF NOT EXISTS people (
  id TEXT PRIMARY KEY, org_id TEXT NOT NULL, display_name TEXT NOT NULL COLLATE NOCASE, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS people_by_name ON people (org_id, display_name);
CREATE TABLE IF NOT EXISTS person_emails (email TEXT PRIMARY KEY, person_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS person_emails_by_person ON person_emails (person_id);
CREATE TABLE IF NOT EXISTS passwords (person_id TEXT PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
  hash TEXT PRIMARY KEY, person_id TEXT NOT NULL, kind TEXT NOT NULL, expires_at TEXT, created TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tokens_by_person ON tokens (person_id);
`;

export class SqlitePeopleStore implements PeopleStore {
  private readonly sql;

  private readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {

    this.db = db;
    this.sql = statementCache(db);
  }

  async createPerson(person: PersonRecord, passwordHash?: string): Promise<void> {
    inTransaction(this.db, () => {
      this.sql('INSERT INTO people (id, org_id, display_name, doc) VALUES (?, ?, ?, ?)')
        .run(person.id, person.orgId, person.displayName, JSON.stringify(person));
      this.claimEmails(person);
      if (passwordHash) this.sql('INSERT INTO passwords (person_id, hash) VALUES (?, ?)').run(person.id, passwordHash);
    });
  }

  async updatePerson(person: PersonRecord): Promise<void> {
    inTransaction(this.db, () => {
      this.sql('UPDATE people SET org_id = ?, display_name = ?, doc = ? WHERE id = ?')
        .run(person.orgId, person.displayName, JSON.stringify(person), person.id);
      this.sql('DELETE FROM person_emails WHERE person_id = ?').run(person.id);
      this.claimEmails(person);
    });
  }

  private claimEmails(person: PersonRecord): void {
    for (const email of person.emails) {
      const owner = this.sql('SELECT person_id FROM person_emails WHERE email = ?').get(email.toLowerCase()) as { person_id: string } | undefined;
      if (owner && owner.person_id !== person.id) throw new DuplicateEmailError(email);
      this.sql('INSERT OR REPLACE INTO person_emails (email, person_id) VALUES (?, ?)').run(email.toLowerCase(), person.id);
    }
  }

  async deletePerson(id: string): Promise<void> {
    inTransaction(this.db, () => {
      for (const table of ['person_emails', 'passwords', 'tokens']) this.sql(`DELETE FROM ${table} WHERE person_id = ?`).run(id);
      this.sql('DELETE FROM people WHERE id = ?').run(id);
    });
  }

  async getPerson(id: string): Promise<PersonRecord | undefined> {
    const row = this.sql('SELECT doc FROM people WHERE id = ?').get(id);
    return row ? parseDoc<PersonRecord>(row) : undefined;
  }

  async getPersonByEmail(email: string): Promise<PersonRecord | undefined> {
    const row = this.sql('SELECT p.doc FROM person_emails e JOIN people p ON p.id = e.person_id WHERE e.email = ?').get(email.toLowerCase());
    return row ? parseDoc<PersonRecord>(row) : undefined;
  }

  async listPeople(query: { orgId: string; email?: string; displayName?: string; ids?: string[]; max: number; after?: string }): Promise<Page<PersonRecord>> {
    const where = ['p.org_id = ?'];
    const args: (string | number)[] = [query.orgId];
    let from = 'people p';
    if (query.email) {
      from += ' JOIN person_emails e ON e.person_id = p.id';
      where.push('e.email = ?');
      args.push(query.email.toLowerCase());
    }
    if (query.displayName) {
      // Webex matches display names by prefix, case-insensitively.
      where.push("p.display_name LIKE ? ESCAPE '\\'");
      args.push(query.displayName.replace(/[\\%_]/g, (c) => `\\${c}`) + '%');
    }
    if (query.ids) {
      where.push(`p.id IN (${query.ids.map(() => '?').join(',')})`);
      args.push(...query.ids);
    }
    const after = decodeCursor(query.after);
    if (after) {
      where.push('p.id > ?');
      args.push(String(after[0]));
    }
    const rows = this.db.prepare(`SELECT p.id, p.doc FROM ${from} WHERE ${where.join(' AND ')} ORDER BY p.id LIMIT ?`)
      .all(...args, query.max + 1);
    const items = rows.slice(0, query.max).map((row) => parseDoc<PersonRecord>(row));
    return { items, next: rows.length > query.max ? encodeCursor([items[items.length - 1].id]) : undefined };
  }

  async countPeople(): Promise<number> {
    return Number((this.sql('SELECT count(*) AS n FROM people').get() as { n: number }).n);
  }

  async setPasswordHash(personId: string, hash: string): Promise<void> {
    this.sql('INSERT OR REPLACE INTO passwords (person_id, hash) VALUES (?, ?)').run(personId, hash);
  }

  async getPasswordHash(personId: string): Promise<string | undefined> {
    const row = this.sql('SELECT hash FROM passwords WHERE person_id = ?').get(personId) as { hash: string } | undefined;
    return row?.hash;
  }

  async saveToken(token: TokenRecord): Promise<void> {
    this.sql('INSERT INTO tokens (hash, person_id, kind, expires_at, created) VALUES (?, ?, ?, ?, ?)')
      .run(token.hash, token.personId, token.kind, token.expiresAt, token.created);
  }

  async getToken(hash: string): Promise<TokenRecord | undefined> {
    const row = this.sql('SELECT hash, person_id, kind, expires_at, created FROM tokens WHERE hash = ?').get(hash) as
      { hash: string; person_id: string; kind: TokenRecord['kind']; expires_at: string | null; created: string } | undefined;
    return row && { hash: row.hash, personId: row.person_id, kind: row.kind, expiresAt: row.expires_at, created: row.created };
  }

  async deleteToken(hash: string): Promise<void> {
    this.sql('DELETE FROM tokens WHERE hash = ?').run(hash);
  }
}
