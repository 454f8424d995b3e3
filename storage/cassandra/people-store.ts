// PeopleStore on Cassandra.
//
// `people` (by id) holds the person; `people_by_org` and `people_by_name` are lookup hints
// holding ids only, and every read through them checks the person it finds, so a hint left
// behind by a crash is harmless.
//
// Email uniqueness is enforced by `person_emails`, written only by lightweight transactions:
// an email is claimed with `INSERT … IF NOT EXISTS` before the person is written, and
// released with `DELETE … IF person_id = ?` after. A claim whose owner does not exist or no
// longer lists the email (a process died between the claim and the person write, or between
// the person write and the release) is an orphan; after a grace period (default 60 s, so an
// in-flight create is never robbed) another person may take it over with
// `UPDATE … IF person_id = <orphan owner>`.
import { DuplicateEmailError, type Page, type PeopleStore } from '../interfaces.ts';
import type { PersonRecord, TokenRecord } from '../records.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { type Db, MutationSet, mapLimit, parseDoc, remove, upsert } from './db.ts';
import type { AuditRecord } from '../../contracts/audit-events.ts';
import { auditMutation } from './audit-store.ts';

/** Cassandra's largest TTL: 20 years. */
const MAX_TTL_SECONDS = 630_720_000;

export interface PeopleStoreOptions {
  /** How old an orphaned email claim must be before another person may take it (default 60 s). */
  orphanClaimGraceMs?: number;
  /** listPeople by display name collects the matches of the prefix and sorts them by id in memory, up to this many (default 10 000). */
  maxNameMatches?: number;
}

const lower = (emails: string[]) => [...new Set(emails.map((e) => e.toLowerCase()))];

export class CassandraPeopleStore implements PeopleStore {
  private readonly db: Db;
  private readonly ks: string;
  private readonly graceMs: number;
  private readonly maxNameMatches: number;

  constructor(db: Db, options: PeopleStoreOptions = {}) {
    this.db = db;
    this.ks = db.ks;
    this.graceMs = options.orphanClaimGraceMs ?? 60_000;
    this.maxNameMatches = options.maxNameMatches ?? 10_000;
  }

  async createPerson(person: PersonRecord, passwordHash?: string, audit?: AuditRecord): Promise<void> {
    await this.claimEmails(person.id, person.emails);
    const set = new MutationSet();
    this.personRows(person, set);
    if (audit) set.add(auditMutation(audit));
    if (passwordHash) set.add(upsert('passwords', { person_id: person.id }, { hash: passwordHash }));
    await this.db.mutate(set.list);
  }

  async updatePerson(person: PersonRecord, audit?: AuditRecord): Promise<void> {
    const old = await this.getPerson(person.id);
    if (!old) return;
    const before = lower(old.emails);
    const after = lower(person.emails);
    await this.claimEmails(person.id, person.emails.filter((e) => !before.includes(e.toLowerCase())));
    const set = new MutationSet();
    if (old.orgId !== person.orgId) set.add(remove('people_by_org', { org_id: old.orgId, id: old.id }));
    if (old.orgId !== person.orgId || old.displayName.toLowerCase() !== person.displayName.toLowerCase()) {
      set.add(remove('people_by_name', { org_id: old.orgId, name: old.displayName.toLowerCase(), id: old.id }));
    }
    this.personRows(person, set);
    if (audit) set.add(auditMutation(audit));
    await this.db.mutate(set.list);
    await this.releaseEmails(person.id, before.filter((e) => !after.includes(e)));
  }

  private personRows(person: PersonRecord, set: MutationSet): void {
    set.add(upsert('people', { id: person.id }, { doc: JSON.stringify(person) }));
    set.add(upsert('people_by_org', { org_id: person.orgId, id: person.id }));
    set.add(upsert('people_by_name', { org_id: person.orgId, name: person.displayName.toLowerCase(), id: person.id }));
  }

  /** Claims each email for the person, or releases what it claimed and throws DuplicateEmailError. */
  private async claimEmails(personId: string, emails: string[]): Promise<void> {
    const claimed: string[] = [];
    const seen = new Set<string>();
    for (const email of emails) {
      const key = email.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      const claim = await this.db.lwt(`INSERT INTO ${this.ks}.person_emails (email, person_id, claimed_at) VALUES (?, ?, ?) IF NOT EXISTS`, [key, personId, new Date()]);
      if (claim.applied) {
        claimed.push(key);
        continue;
      }
      const owner = claim.row?.person_id as string | undefined;
      if (owner === personId) continue;
      if (owner && (await this.isOrphanClaim(owner, key, claim.row?.claimed_at))) {
        const takeover = await this.db.lwt(`UPDATE ${this.ks}.person_emails SET person_id = ?, claimed_at = ? WHERE email = ? IF person_id = ?`,
          [personId, new Date(), key, owner]);
        if (takeover.applied) {
          claimed.push(key);
          continue;
        }
      }
      await this.releaseEmails(personId, claimed);
      throw new DuplicateEmailError(email);
    }
  }

  private async isOrphanClaim(owner: string, email: string, claimedAt: unknown): Promise<boolean> {
    const at = claimedAt instanceof Date ? claimedAt.getTime() : 0;
    if (Date.now() - at < this.graceMs) return false;
    const person = await this.getPerson(owner);
    return !person || !lower(person.emails).includes(email);
  }

  private async releaseEmails(personId: string, emails: string[]): Promise<void> {
    await mapLimit(emails, 8, (email) => this.db.lwt(`DELETE FROM ${this.ks}.person_emails WHERE email = ? IF person_id = ?`, [email, personId]));
  }

  async deletePerson(id: string, audit?: AuditRecord): Promise<void> {
    const old = await this.getPerson(id);
    const hashes = (await this.db.rows(`SELECT hash FROM ${this.ks}.tokens_by_person WHERE person_id = ?`, [id])).map((row) => row.hash as string);
    const set = new MutationSet();
    // The person's row and the event first: a person with many tokens needs several batches
    // (Db.mutate), and these two are then in the first, together.
    set.add(remove('people', { id }));
    if (audit) set.add(auditMutation(audit));
    set.add(remove('passwords', { person_id: id }));
    for (const hash of hashes) set.add(remove('tokens', { hash }));
    set.add(remove('tokens_by_person', { person_id: id }));
    if (old) {
      set.add(remove('people_by_org', { org_id: old.orgId, id }));
      set.add(remove('people_by_name', { org_id: old.orgId, name: old.displayName.toLowerCase(), id }));
    }
    await this.db.mutate(set.list);
    if (old) await this.releaseEmails(id, lower(old.emails));
  }

  async getPerson(id: string): Promise<PersonRecord | undefined> {
    return parseDoc<PersonRecord>(await this.db.first(`SELECT doc FROM ${this.ks}.people WHERE id = ?`, [id]));
  }

  async getPersonByEmail(email: string): Promise<PersonRecord | undefined> {
    const key = email.toLowerCase();
    const row = await this.db.first(`SELECT person_id FROM ${this.ks}.person_emails WHERE email = ?`, [key]);
    const person = row && (await this.getPerson(row.person_id as string));
    return person && lower(person.emails).includes(key) ? person : undefined;
  }

  async listPeople(query: { orgId: string; email?: string; displayName?: string; ids?: string[]; max: number; after?: string }): Promise<Page<PersonRecord>> {
    const cursor = decodeCursor(query.after);
    const afterId = cursor ? String(cursor[0]) : '';
    const email = query.email ? query.email.toLowerCase() : undefined;
    const prefix = query.displayName ? query.displayName.toLowerCase() : undefined;
    const ids = query.ids ? new Set(query.ids) : undefined;
    const matches = (p: PersonRecord | undefined): p is PersonRecord => p !== undefined && p.orgId === query.orgId && p.id > afterId
      && (email === undefined || lower(p.emails).includes(email))
      && (prefix === undefined || p.displayName.toLowerCase().startsWith(prefix))
      && (ids === undefined || ids.has(p.id));

    let candidates: string[] | undefined;
    if (email !== undefined) {
      const row = await this.db.first(`SELECT person_id FROM ${this.ks}.person_emails WHERE email = ?`, [email]);
      candidates = row ? [row.person_id as string] : [];
    } else if (ids) {
      candidates = [...ids];
    } else if (prefix !== undefined) {
      const rows = (await this.db.run(`SELECT id FROM ${this.ks}.people_by_name WHERE org_id = ? AND name >= ? AND name < ? LIMIT ?`,
        [query.orgId, prefix, `${prefix}\u{10FFFF}`, this.maxNameMatches + 1], { fetchSize: this.maxNameMatches + 1 })).rows;
      if (rows.length > this.maxNameMatches) throw new Error(`more than ${this.maxNameMatches} people match the display name "${query.displayName}"; narrow it down`);
      candidates = [...new Set(rows.map((row) => row.id as string))];
    }

    let found: PersonRecord[];
    if (candidates) {
      found = (await mapLimit(candidates.filter((id) => id > afterId), 32, (id) => this.getPerson(id))).filter(matches);
      found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    } else {
      // The whole org, in id order: keyset paging through people_by_org.
      found = [];
      let from = afterId;
      const chunk = Math.min(query.max + 1, 1000);
      for (;;) {
        const rows = (await this.db.run(`SELECT id FROM ${this.ks}.people_by_org WHERE org_id = ? AND id > ? LIMIT ?`, [query.orgId, from, chunk])).rows;
        const people = await mapLimit(rows.map((row) => row.id as string), 32, (id) => this.getPerson(id));
        found.push(...people.filter(matches));
        if (found.length > query.max || rows.length < chunk) break;
        from = rows[rows.length - 1].id as string;
      }
    }
    const items = found.slice(0, query.max);
    return { items, next: found.length > query.max ? encodeCursor([items[items.length - 1].id]) : undefined };
  }

  /** A full scan, page by page (only used at start-up to tell whether anyone exists). */
  async countPeople(): Promise<number> {
    let n = 0;
    for await (const _ of this.db.each(`SELECT id FROM ${this.ks}.people`, [], 5000)) n++;
    return n;
  }

  async setPasswordHash(personId: string, hash: string): Promise<void> {
    await this.db.run(`INSERT INTO ${this.ks}.passwords (person_id, hash) VALUES (?, ?)`, [personId, hash]);
  }

  async getPasswordHash(personId: string): Promise<string | undefined> {
    return (await this.db.first(`SELECT hash FROM ${this.ks}.passwords WHERE person_id = ?`, [personId]))?.hash as string | undefined;
  }

  /**
   * Expiring tokens are written with a TTL that ends at their expiry, so Cassandra drops
   * them by itself (an already expired token lives one second). Bot tokens never expire.
   */
  async saveToken(token: TokenRecord): Promise<void> {
    const ttl = ttlOf(token.expiresAt);
    const statements = [
      { query: `INSERT INTO ${this.ks}.tokens (hash, person_id, kind, expires_at, created, family_id, used_at) VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?`,
        params: [token.hash, token.personId, token.kind, token.expiresAt ?? undefined, token.created, token.familyId, token.usedAt, ttl] },
      { query: `INSERT INTO ${this.ks}.tokens_by_person (person_id, hash) VALUES (?, ?) USING TTL ?`, params: [token.personId, token.hash, ttl] },
    ];
    if (token.familyId) statements.push({ query: `INSERT INTO ${this.ks}.tokens_by_family (family_id, hash) VALUES (?, ?) USING TTL ?`, params: [token.familyId, token.hash, ttl] });
    await this.db.client.batch(statements, { prepare: true, logged: true, consistency: this.db.consistency });
  }

  async getToken(hash: string): Promise<TokenRecord | undefined> {
    const row = await this.db.first(`SELECT hash, person_id, kind, expires_at, created, family_id, used_at FROM ${this.ks}.tokens WHERE hash = ?`, [hash]);
    return row && {
      hash: row.hash as string, personId: row.person_id as string, kind: row.kind as TokenRecord['kind'],
      expiresAt: (row.expires_at as string | null) ?? null, created: row.created as string,
      ...(row.family_id ? { familyId: row.family_id as string } : {}), ...(row.used_at ? { usedAt: row.used_at as string } : {}),
    };
  }

  async deleteToken(hash: string): Promise<void> {
    const row = await this.db.first(`SELECT person_id, family_id FROM ${this.ks}.tokens WHERE hash = ?`, [hash]);
    const set = new MutationSet();
    set.add(remove('tokens', { hash }));
    if (row) set.add(remove('tokens_by_person', { person_id: row.person_id, hash }));
    if (row?.family_id) set.add(remove('tokens_by_family', { family_id: row.family_id, hash }));
    await this.db.mutate(set.list);
  }

  /** A lightweight transaction on the token's row; the new cell gets the TTL the row has left. */
  async useRefreshToken(hash: string, usedAt: string): Promise<boolean> {
    const row = await this.db.first(`SELECT kind, expires_at FROM ${this.ks}.tokens WHERE hash = ?`, [hash]);
    if (!row || row.kind !== 'refresh') return false;
    const result = await this.db.lwt(`UPDATE ${this.ks}.tokens USING TTL ? SET used_at = ? WHERE hash = ? IF kind = 'refresh' AND used_at = null`,
      [ttlOf((row.expires_at as string | null) ?? null), usedAt, hash]);
    return result.applied;
  }

  async deleteTokenFamily(familyId: string): Promise<void> {
    const hashes = (await this.db.rows(`SELECT hash FROM ${this.ks}.tokens_by_family WHERE family_id = ?`, [familyId])).map((row) => row.hash as string);
    await this.deleteTokens(hashes);
    // Only the entries read: a token written into the family meanwhile (a refresh racing its
    // own revocation, see the refresh grant) keeps its entry, so that revoking again finds it.
    if (hashes.length > 0) await this.db.mutate(hashes.map((hash) => remove('tokens_by_family', { family_id: familyId, hash })));
  }

  /**
   * With `audit`, the event is in the logged batch of the tokens' rows when they fit in one
   * (a person holds a handful); with more (Db.mutate's size budget), in the batch of the
   * first of them.
   */
  async deletePersonTokens(personId: string, audit?: AuditRecord): Promise<void> {
    const hashes = (await this.db.rows(`SELECT hash FROM ${this.ks}.tokens_by_person WHERE person_id = ?`, [personId])).map((row) => row.hash as string);
    await this.deleteTokens(hashes, audit);
    await this.db.mutate([remove('tokens_by_person', { person_id: personId })]);
  }

  /** The tokens and their index rows (the families' rows are found from each token). */
  private async deleteTokens(hashes: string[], audit?: AuditRecord): Promise<void> {
    const rows = await mapLimit(hashes, 16, (hash) => this.db.first(`SELECT hash, person_id, family_id FROM ${this.ks}.tokens WHERE hash = ?`, [hash]));
    const set = new MutationSet();
    if (audit) set.add(auditMutation(audit));
    for (const hash of hashes) set.add(remove('tokens', { hash }));
    for (const row of rows) {
      if (!row) continue;
      set.add(remove('tokens_by_person', { person_id: row.person_id, hash: row.hash }));
      if (row.family_id) set.add(remove('tokens_by_family', { family_id: row.family_id, hash: row.hash }));
    }
    await this.db.mutate(set.list);
  }
}

/** The TTL of a token row: until its expiry (at least a second), none for tokens that never expire. */
function ttlOf(expiresAt: string | null): number {
  const expires = expiresAt ? Date.parse(expiresAt) : NaN;
  return Number.isNaN(expires) ? 0 : Math.min(MAX_TTL_SECONDS, Math.max(1, Math.ceil((expires - Date.now()) / 1000)));
}
