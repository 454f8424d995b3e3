// Issuing and revoking tokens, in one place for the people actor's actions and the operator
// command. A sign-in (password grant) starts a family; each refresh rotates its refresh
// token within the family; a revocation deletes the tokens from the store, then drops the
// person's cached sessions, so no actor node or gateway accepts them from the next request on.
import { randomUUID } from 'node:crypto';
import type { AuditRecord } from '../../contracts/audit-events.ts';
import type { PeopleStore, SessionCache } from '../../storage/interfaces.ts';
import type { TokenRecord } from '../../storage/records.ts';
import { ACCESS_TOKEN_SECONDS, REFRESH_TOKEN_SECONDS, newToken, tokenHash } from './tokens.ts';

/** The token endpoint's answer (RFC 6749 section 5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  refresh_token_expires_in: number;
}

export interface TokenKeeper {
  /** An access and a refresh token of the family (a new family when none is given). */
  issue(personId: string, familyId?: string): Promise<TokenResponse>;
  /** An access token of no family, valid for `seconds` (null: it never expires, as a bot's). */
  issueStandalone(personId: string, seconds: number | null): Promise<{ token: string; expiresAt: string | null }>;
  /** The record of a token of this kind that has not expired. */
  valid(hash: string, kind: TokenRecord['kind']): Promise<TokenRecord | undefined>;
  /** Every token of the family. */
  revokeFamily(personId: string, familyId: string): Promise<void>;
  /** The token's whole family (the token alone when it has none). */
  revokeFamilyOf(record: TokenRecord): Promise<void>;
  /** This token only. */
  revokeOne(record: TokenRecord): Promise<void>;
  /**
   * Every token of the person: a password change, the loss of the administrator role, an
   * operator's revoke, an administrator's (with its `audit` event, in the commit of the revocation).
   */
  revokeAllOf(personId: string, audit?: AuditRecord): Promise<void>;
}

const isoIn = (now: number, seconds: number) => new Date(now + seconds * 1000).toISOString();

/** `allRevoked` hears each person whose every token was revoked (told to the other actors). */
export function tokenKeeper(store: PeopleStore, sessions: SessionCache, allRevoked: (personId: string) => void = () => undefined): TokenKeeper {
  return {
    async issue(personId, familyId = randomUUID()) {
      const now = Date.now();
      const created = new Date(now).toISOString();
      const accessToken = newToken();
      const refreshToken = newToken();
      await store.saveToken({ hash: tokenHash(accessToken), personId, kind: 'access', expiresAt: isoIn(now, ACCESS_TOKEN_SECONDS), created, familyId });
      await store.saveToken({ hash: tokenHash(refreshToken), personId, kind: 'refresh', expiresAt: isoIn(now, REFRESH_TOKEN_SECONDS), created, familyId });
      return {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: ACCESS_TOKEN_SECONDS,
        refresh_token: refreshToken,
        refresh_token_expires_in: REFRESH_TOKEN_SECONDS,
      };
    },

    async issueStandalone(personId, seconds) {
      const now = Date.now();
      const token = newToken();
      const expiresAt = seconds === null ? null : isoIn(now, seconds);
      await store.saveToken({ hash: tokenHash(token), personId, kind: 'access', expiresAt, created: new Date(now).toISOString() });
      return { token, expiresAt };
    },

    async valid(hash, kind) {
      const record = await store.getToken(hash);
      if (!record || record.kind !== kind) return undefined;
      if (record.expiresAt && Date.parse(record.expiresAt) <= Date.now()) return undefined;
      return record;
    },

    async revokeFamily(personId, familyId) {
      await store.deleteTokenFamily(familyId);
      await sessions.dropPerson(personId);
    },

    async revokeFamilyOf(record) {
      // A refresh token from before families continues as the family named by its hash (see the refresh grant).
      const familyId = record.familyId ?? record.hash;
      await store.deleteTokenFamily(familyId);
      await store.deleteToken(record.hash);
      // Once more, after the used token is gone: a refresh that won the race wrote its tokens
      // before it checked that token (see the refresh grant), so they are in the family now.
      await store.deleteTokenFamily(familyId);
      await sessions.dropPerson(record.personId);
    },

    async revokeOne(record) {
      await store.deleteToken(record.hash);
      await sessions.dropPerson(record.personId);
    },

    async revokeAllOf(personId, audit) {
      await store.deletePersonTokens(personId, audit);
      await sessions.dropPerson(personId);
      allRevoked(personId);
    },
  };
}
