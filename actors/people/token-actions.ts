// The people actor's token actions: resolving a bearer token (internal, for the gateway's
// machinery), the OAuth 2.0 token endpoint (password and refresh_token grants, RFC 6749
// sections 4.3 and 6) with rotation and reuse detection (RFC 9700 section 4.14), and token
// revocation (RFC 7009).
import { randomUUID } from 'node:crypto';
import type { Context, Logger, ServiceSchema } from 'moleculer';
import type { Caller } from '../../contracts/caller.ts';
import { oauthError, unauthorized } from '../../contracts/errors.ts';
import type { PeopleStore, SessionCache } from '../../storage/interfaces.ts';
import { verifyPassword } from './passwords.ts';
import type { PasswordThrottle } from './password-throttle.ts';
import type { TokenKeeper } from './token-keeper.ts';
import { tokenHash } from './tokens.ts';

export type PeopleActions = NonNullable<ServiceSchema['actions']>;

export interface TokenActionsContext {
  store: PeopleStore;
  sessions: SessionCache;
  tokens: TokenKeeper;
  passwords: PasswordThrottle;
  logger(): Logger;
}

/** How long a resolved token is trusted without reading the store (bounded by its expiry). */
const SESSION_CACHE_SECONDS = 60;

type TokenParams = { grant_type?: unknown; username?: unknown; password?: unknown; refresh_token?: unknown; clientAddress?: string };

/** A body field of the token endpoints, checked here so that every problem is answered in RFC 6749's shape. */
function field(name: string, value: unknown, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > max) throw oauthError(400, 'invalid_request', `${name} must be a string of at most ${max} characters.`);
  return value;
}

export function tokenActions({ store, sessions, tokens, passwords, logger }: TokenActionsContext): PeopleActions {
  const passwordGrant = async (username: string, password: string, clientAddress: string | undefined) => {
    const attempt = await passwords.begin(username, clientAddress);
    const person = await store.getPersonByEmail(username.trim());
    const stored = person && person.type === 'person' ? await store.getPasswordHash(person.id) : undefined;
    if (!person || !(await verifyPassword(password, stored))) throw oauthError(400, 'invalid_grant', 'The username or password is incorrect.');
    await attempt.succeeded();
    const familyId = randomUUID();
    const issued = await tokens.issue(person.id, familyId);
    // A password change revokes every token of the person after setting the new hash: a
    // grant that checked the old password and issued after that revocation must not stand.
    if ((await store.getPasswordHash(person.id)) !== stored) {
      await tokens.revokeFamily(person.id, familyId);
      throw oauthError(400, 'invalid_grant', 'The username or password is incorrect.');
    }
    return issued;
  };

  const refreshGrant = async (refreshToken: string) => {
    const hash = tokenHash(refreshToken);
    const record = await tokens.valid(hash, 'refresh');
    if (!record) throw oauthError(400, 'invalid_grant', 'The refresh token is invalid or expired.');
    if (record.usedAt || !(await store.useRefreshToken(hash, new Date().toISOString()))) {
      // Presented again after it was exchanged: either the client or whoever copied it is
      // not who it claims to be, so the whole sign-in goes (RFC 9700 section 4.14.2).
      await tokens.revokeFamilyOf(record);
      logger().warn({ personId: record.personId, familyId: record.familyId }, 'a used refresh token was presented again: its sign-in is revoked');
      throw oauthError(400, 'invalid_grant', 'The refresh token was already used; every token of its sign-in is revoked.');
    }
    if (!(await store.getPerson(record.personId))) throw oauthError(400, 'invalid_grant', 'The refresh token is invalid or expired.');
    // A refresh token from before families continues as the family named by its hash.
    const familyId = record.familyId ?? record.hash;
    const issued = await tokens.issue(record.personId, familyId);
    // A copy of the token presented meanwhile revokes the family; if that revocation ran
    // while these tokens were being written, some of them escaped it. The used token is
    // deleted with its family: gone now, the family was revoked, so these go too.
    if (!(await store.getToken(hash))) {
      await tokens.revokeFamily(record.personId, familyId);
      throw oauthError(400, 'invalid_grant', 'The refresh token was already used; every token of its sign-in is revoked.');
    }
    return issued;
  };

  return {
    /** Resolves a bearer token to its caller; 401 for unknown, expired, revoked or refresh tokens. */
    authenticate: {
      visibility: 'public',
      params: { token: { type: 'string', min: 1, max: 512 } },
      async handler(ctx: Context<{ token: string }>): Promise<Caller> {
        const hash = tokenHash(ctx.params.token);
        const cached = await sessions.get(hash);
        if (cached) return JSON.parse(cached) as Caller;
        const found = await tokens.valid(hash, 'access');
        if (!found) throw unauthorized();
        // The generation first, then the token and the person again: a revocation or change
        // after these reads makes the `set` a no-op, one before them is seen by them.
        const generation = await sessions.generation(found.personId);
        const record = await tokens.valid(hash, 'access');
        const person = record && (await store.getPerson(record.personId));
        if (!record || !person) throw unauthorized();
        const caller: Caller = { id: person.id, orgId: person.orgId, email: person.emails[0], displayName: person.displayName, roles: person.roles, type: person.type };
        const ttl = Math.min(SESSION_CACHE_SECONDS, record.expiresAt ? (Date.parse(record.expiresAt) - Date.now()) / 1000 : Infinity);
        await sessions.set(hash, person.id, generation, JSON.stringify(caller), ttl);
        return caller;
      },
    },

    /** OAuth2 token endpoint. `clientAddress` is set by the gateway (never from the body), for the throttle. */
    issueToken: {
      visibility: 'published',
      params: {
        grant_type: { type: 'any', optional: true },
        username: { type: 'any', optional: true },
        password: { type: 'any', optional: true },
        refresh_token: { type: 'any', optional: true },
        clientAddress: { type: 'string', max: 64, optional: true },
      },
      async handler(ctx: Context<TokenParams>) {
        const grant = field('grant_type', ctx.params.grant_type, 64);
        const username = field('username', ctx.params.username, 320);
        const password = field('password', ctx.params.password, 256);
        const refreshToken = field('refresh_token', ctx.params.refresh_token, 512);
        if (!grant) throw oauthError(400, 'invalid_request', 'grant_type is required.');
        if (grant === 'password') {
          if (!username || !password) throw oauthError(400, 'invalid_request', 'username and password are required.');
          return passwordGrant(username, password, ctx.params.clientAddress);
        }
        if (grant === 'refresh_token') {
          if (!refreshToken) throw oauthError(400, 'invalid_request', 'refresh_token is required.');
          return refreshGrant(refreshToken);
        }
        throw oauthError(400, 'unsupported_grant_type', `Grant type "${grant}" is not supported.`);
      },
    },

    /**
     * RFC 7009: revokes an access token, or a refresh token with its whole sign-in. Whoever
     * holds a token may revoke it; an unknown token is no error (section 2.2), and the hint
     * only says where to look first, so it is not needed here.
     */
    revokeToken: {
      visibility: 'published',
      params: { token: { type: 'any', optional: true }, token_type_hint: { type: 'any', optional: true } },
      async handler(ctx: Context<{ token?: unknown; token_type_hint?: unknown }>) {
        const token = field('token', ctx.params.token, 512);
        field('token_type_hint', ctx.params.token_type_hint, 64);
        if (!token) throw oauthError(400, 'invalid_request', 'token is required.');
        const record = await store.getToken(tokenHash(token));
        if (record?.kind === 'refresh') await tokens.revokeFamilyOf(record);
        else if (record) await tokens.revokeOne(record);
        return null;
      },
    },

    /**
     * Every token of a person, everywhere at once (the operators' console, `tokens revoke`).
     * Internal: it trusts the person id it is given, so no client route reaches it.
     */
    revokeTokensOf: {
      visibility: 'public',
      params: { personId: { type: 'string', min: 1, max: 200 } },
      async handler(ctx: Context<{ personId: string }>) {
        const person = await store.getPerson(ctx.params.personId);
        if (!person) return { personId: ctx.params.personId, revoked: false };
        await tokens.revokeAllOf(person.id);
        logger().warn({ personId: person.id }, 'every token of the person revoked by an operator');
        return { personId: person.id, revoked: true };
      },
    },
  };
}
