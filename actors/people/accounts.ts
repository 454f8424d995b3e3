// Creating people and setting their passwords, shared by the people actor's actions and the
// operator command (cluster/admin.ts), so that both keep the same rules: unique emails, a
// hashed password, and a password change that ends every session of the person.
import type { AuditRecord } from '../../contracts/audit-events.ts';
import { conflict } from '../../contracts/errors.ts';
import { newId } from '../../contracts/ids.ts';
import { DuplicateEmailError, type PeopleStore } from '../../storage/interfaces.ts';
import type { PersonRecord, PersonType } from '../../storage/records.ts';
import { hashPassword } from './passwords.ts';
import type { PasswordThrottle } from './password-throttle.ts';
import type { TokenKeeper } from './token-keeper.ts';

export type PersonInput = { emails?: string[]; displayName?: string; firstName?: string; lastName?: string; nickName?: string; avatar?: string; roles?: string[]; password?: string };

const displayNameOf = (input: PersonInput) =>
  input.displayName ?? ([input.firstName, input.lastName].filter(Boolean).join(' ') || input.emails?.[0]?.split('@')[0]);

/**
 * Creates the person (409 when an email is taken), with a password when one is given, and
 * with the audit event `audit` makes of it when an administrator does it (same commit).
 */
export async function createPerson(store: PeopleStore, input: PersonInput & { emails: string[] }, orgId: string, type: PersonType, audit?: (person: PersonRecord) => AuditRecord): Promise<PersonRecord> {
  const now = new Date().toISOString();
  const person: PersonRecord = {
    id: newId('PEOPLE'),
    emails: input.emails,
    displayName: displayNameOf(input)!,
    firstName: input.firstName,
    lastName: input.lastName,
    nickName: input.nickName,
    avatar: input.avatar,
    orgId,
    roles: input.roles ?? [],
    type,
    created: now,
    lastModified: now,
  };
  try {
    await store.createPerson(person, input.password ? await hashPassword(input.password) : undefined, audit?.(person));
  } catch (err) {
    if (err instanceof DuplicateEmailError || String((err as Error).message).includes('UNIQUE')) throw conflict(`A person with email ${input.emails[0]} already exists.`);
    throw err;
  }
  return person;
}

/**
 * Sets a new password, then revokes every token of the person (a password change is how a
 * stolen session is ended) and lifts any lock of their password sign-in.
 */
export async function changePassword(deps: { store: PeopleStore; tokens: TokenKeeper; passwords: PasswordThrottle }, person: PersonRecord, password: string): Promise<void> {
  await deps.store.setPasswordHash(person.id, await hashPassword(password));
  await deps.tokens.revokeAllOf(person.id);
  await deps.passwords.forgive(person.emails);
}
