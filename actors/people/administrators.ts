// Administrators made outside the API: the first one, on the first start of an empty store,
// and the operator command's (`npm run admin`, cluster/admin.ts), which works on the store
// of a data directory or of a cluster's engines, so that nobody depends on a first-start file.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ADMIN_ROLE } from '../../contracts/caller.ts';
import { ApiError } from '../../contracts/errors.ts';
import { newId } from '../../contracts/ids.ts';
import type { PeopleStore } from '../../storage/interfaces.ts';
import type { PersonRecord } from '../../storage/records.ts';
import { changePassword, createPerson } from './accounts.ts';
import type { PasswordThrottle } from './password-throttle.ts';
import type { TokenKeeper } from './token-keeper.ts';
import { tokenHash, FIRST_ADMIN_TOKEN_SECONDS } from './tokens.ts';

export interface AdministratorDeps {
  store: PeopleStore;
  tokens: TokenKeeper;
  passwords: PasswordThrottle;
}

export const newPassword = () => randomBytes(12).toString('base64url');

/**
 * On an empty store: creates the administrator and writes `admin.json` (mode 0600) with
 * their email, their password when it was generated, and a token that expires after
 * FIRST_ADMIN_TOKEN_SECONDS. Answers the file's path, or undefined when people exist
 * already (then nothing is written). Several actor nodes may start at once: the email's
 * uniqueness lets one of them win.
 */
export async function createFirstAdministrator(deps: AdministratorDeps, options: { dataDir: string; email: string; password: string | undefined }): Promise<string | undefined> {
  if ((await deps.store.countPeople()) > 0) return undefined;
  const password = options.password ?? newPassword();
  let admin: PersonRecord;
  try {
    admin = await createPerson(deps.store, { emails: [options.email], displayName: 'Administrator', roles: [ADMIN_ROLE], password }, newId('ORGANIZATION'), 'person');
  } catch (err) {
    if (err instanceof ApiError && err.code === 409) return undefined;
    throw err;
  }
  const { token, expiresAt } = await deps.tokens.issueStandalone(admin.id, FIRST_ADMIN_TOKEN_SECONDS);
  const file = path.join(options.dataDir, 'admin.json');
  fs.mkdirSync(options.dataDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ email: options.email, password: options.password ? undefined : password, token, tokenExpiresAt: expiresAt }, null, 2) + '\n', { mode: 0o600 });
  return file;
}

/** An operator's error: said on stderr, exit status 1. */
export class OperatorError extends Error {}

async function personByEmail(store: PeopleStore, email: string): Promise<PersonRecord> {
  const person = await store.getPersonByEmail(email.trim());
  if (!person) throw new OperatorError(`Nobody has the email ${email}.`);
  return person;
}

/**
 * Creates an administrator. Their organization is a new one with `newOrg`; that of `orgOf`
 * (an email) when given; on an empty store a new one; otherwise that of `fallbackAdminEmail` (the configured
 * first administrator), if that person exists.
 */
export async function createAdministrator(
  deps: AdministratorDeps,
  options: { email: string; displayName?: string; password: string; orgOf?: string; newOrg?: boolean; fallbackAdminEmail: string },
): Promise<PersonRecord> {
  let orgId: string;
  if (options.newOrg && options.orgOf) throw new OperatorError('Give --org-of or --new-org, not both.');
  if (options.newOrg) orgId = newId('ORGANIZATION');
  else if (options.orgOf) orgId = (await personByEmail(deps.store, options.orgOf)).orgId;
  else if ((await deps.store.countPeople()) === 0) orgId = newId('ORGANIZATION');
  else {
    const fallback = await deps.store.getPersonByEmail(options.fallbackAdminEmail);
    if (!fallback) throw new OperatorError(`Say whose organization the administrator joins: --org-of <email of someone in it>.`);
    orgId = fallback.orgId;
  }
  try {
    return await createPerson(deps.store, { emails: [options.email], displayName: options.displayName ?? 'Administrator', roles: [ADMIN_ROLE], password: options.password }, orgId, 'person');
  } catch (err) {
    if (err instanceof ApiError && err.code === 409) throw new OperatorError(`${options.email} exists already; use reset-password to give them a new password.`);
    throw err;
  }
}

/** A new password for the person; every token of theirs stops working, and any lock of their sign-in is lifted. */
export async function resetPassword(deps: AdministratorDeps, options: { email: string; password: string }): Promise<PersonRecord> {
  const person = await personByEmail(deps.store, options.email);
  if (person.type !== 'person') throw new OperatorError(`${options.email} is a bot: bots have no password.`);
  await changePassword(deps, person, options.password);
  return person;
}

/** Revokes every token of the person with this email, or one token (a refresh token with its sign-in). */
export async function revokeTokens(deps: AdministratorDeps, options: { email: string } | { token: string }): Promise<{ personId: string; revoked: 'all' | 'token' | 'sign-in' } | undefined> {
  if ('email' in options) {
    const person = await personByEmail(deps.store, options.email);
    await deps.tokens.revokeAllOf(person.id);
    return { personId: person.id, revoked: 'all' };
  }
  const record = await deps.store.getToken(tokenHash(options.token));
  if (!record) return undefined;
  if (record.kind === 'refresh') await deps.tokens.revokeFamilyOf(record);
  else await deps.tokens.revokeOne(record);
  return { personId: record.personId, revoked: record.kind === 'refresh' ? 'sign-in' : 'token' };
}
