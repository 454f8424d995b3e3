import type { DatabaseSync } from 'node:sqlite';
import { DuplicateEmailError, type Page, type PeopleStore } from '../interfaces.ts';
import type { PersonRecord, TokenRecord } from '../records.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { inTransaction, parseDoc, statementCache } from './sqlite.ts';
import type { AuditRecord } from '../../contracts/audit-events.ts';
import { auditSchema, insertAuditEvent } from './audit-store.ts';

export const peopleSchema = `
CREATE TABLE IF NOT EXISTS people (
  id TEXT PRIMARY KEY, org_id TEXT NOT NULL, display_name TEXT NOT NULL COLLATE NOCASE, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS people_by_name ON people (org_id, display_name);
CREATE TABLE IF NOT EXISTS person_emails (email TEXT PRIMARY KEY, person_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS person_emails_by_person ON person_emails (person_id);
CREATE TABLE IF NOT EXISTS passwords (person_id TEXT PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
  hash TEXT PRIMARY KEY, person_id TEXT NOT NULL, kind TEXT NOT NULL, expires_at TEXT, created TEXT NOT NULL,
  family_id TEXT, used_at TEXT);
CREATE INDEX IF NOT EXISTS tokens_by_person ON tokens (person_id);
${auditSchema}`;

/** Columns added to `tokens` after its first release, for databases made before them. */
const LATER_TOKEN_COLUMNS = ['family_id', 'used_at'];

type TokenRow = { hash: string; person_id: string; kind: TokenRecord['kind']; expires_at: string | null; created: string; family_id: string | null; used_at: string | null };

export class SqlitePeopleStore implements PeopleStore {
  private readonly sql;

  private readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {

    this.db = db;
    const columns = new Set((db.prepare('PRAGMA table_info(tokens)').all() as { name: string }[]).map((c) => c.name));
    for (const column of LATER_TOKEN_COLUMNS) if (!columns.has(column)) db.exec(`ALTER TABLE tokens ADD COLUMN ${column} TEXT`);
    db.exec('CREATE INDEX IF NOT EXISTS tokens_by_family ON tokens (family_id) WHERE family_id IS NOT NULL');
    this.sql = statementCache(db);
  }

  async createPerson(person: PersonRecord, passwordHash?: string, audit?: AuditRecord): Promise<void> {
    inTransaction(this.db, () => {
      if (audit) insertAuditEvent(this.sql, audit);
      this.sql('INSERT INTO people (id, org_id, display_name, doc) VALUES (?, ?, ?, ?)')
        .run(person.id, person.orgId, person.displayName, JSON.stringify(person));
      this.claimEmails(person);
      if (passwordHash) this.sql('INSERT INTO passwords (person_id, hash) VALUES (?, ?)').run(person.id, passwordHash);
    });
  }

  async updatePerson(person: PersonRecord, audit?: AuditRecord): Promise<void> {
    inTransaction(this.db, () => {
      if (audit) insertAuditEvent(this.sql, audit);
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

  async deletePerson(id: string, audit?: AuditRecord): Promise<void> {
    inTransaction(this.db, () => {
      if (audit) insertAuditEvent(this.sql, audit);
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
    this.sql('INSERT INTO tokens (hash, person_id, kind, expires_at, created, family_id, used_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(token.hash, token.personId, token.kind, token.expiresAt, token.created, token.familyId ?? null, token.usedAt ?? null);
  }

  async getToken(hash: string): Promise<TokenRecord | undefined> {
    const row = this.sql('SELECT hash, person_id, kind, expires_at, created, family_id, used_at FROM tokens WHERE hash = ?').get(hash) as TokenRow | undefined;
    if (!row) return undefined;
    return {
      hash: row.hash, personId: row.person_id, kind: row.kind, expiresAt: row.expires_at, created: row.created,
      ...(row.family_id ? { familyId: row.family_id } : {}), ...(row.used_at ? { usedAt: row.used_at } : {}),
    };
  }

  async deleteToken(hash: string): Promise<void> {
    this.sql('DELETE FROM tokens WHERE hash = ?').run(hash);
  }

  async useRefreshToken(hash: string, usedAt: string): Promise<boolean> {
    const result = this.sql("UPDATE tokens SET used_at = ? WHERE hash = ? AND kind = 'refresh' AND used_at IS NULL").run(usedAt, hash);
    return Number(result.changes) === 1;
  }

  async deleteTokenFamily(familyId: string): Promise<void> {
    this.sql('DELETE FROM tokens WHERE family_id = ?').run(familyId);
  }

  async deletePersonTokens(personId: string, audit?: AuditRecord): Promise<void> {
    inTransaction(this.db, () => {
      if (audit) insertAuditEvent(this.sql, audit);
      this.sql('DELETE FROM tokens WHERE person_id = ?').run(personId);
    });
  }
}
