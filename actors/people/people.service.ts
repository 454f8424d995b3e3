// The `people` actor: identity, credentials and tokens. It alone reads the people store.
import fs from 'node:fs';
import path from 'node:path';
import type { Context, ServiceSchema } from 'moleculer';
import { randomBytes } from 'node:crypto';
import { ADMIN_ROLE, callerOf, isAdmin, type Caller } from '../../contracts/caller.ts';
import { badRequest, conflict, forbidden, notFound, oauthError, unauthorized } from '../../contracts/errors.ts';
import { idKind, newId } from '../../contracts/ids.ts';
import * as p from '../params.ts';
import { DuplicateEmailError, type PeopleStore, type SessionCache } from '../../storage/interfaces.ts';
import type { PersonRecord, PersonType } from '../../storage/records.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { presentPerson } from './presenter.ts';
import { ACCESS_TOKEN_SECONDS, REFRESH_TOKEN_SECONDS, newToken, tokenHash } from './tokens.ts';

export interface PeopleServiceOptions {
  store: PeopleStore;
  /** Resolved tokens, so that most requests need no read of the people store. */
  sessions: SessionCache;
  dataDir: string;
  adminEmail: string;
  adminPassword: string | undefined;
}

const personFields = {
  emails: { type: 'array', items: p.email, min: 1, max: 10, optional: true },
  displayName: { type: 'string', min: 1, max: 256, trim: true, optional: true },
  firstName: p.text(256),
  lastName: p.text(256),
  nickName: p.text(256),
  avatar: { type: 'url', max: 2048, optional: true },
  roles: { type: 'array', items: { type: 'string', max: 200 }, max: 20, optional: true },
  // Squared extension: Webex people sign in through an identity provider; here an admin may set a password.
  password: { type: 'string', min: 8, max: 256, optional: true },
};

const UPDATABLE = ['emails', 'displayName', 'firstName', 'lastName', 'nickName', 'avatar', 'roles'] as const;

type PersonInput = { emails?: string[]; displayName?: string; firstName?: string; lastName?: string; nickName?: string; avatar?: string; roles?: string[]; password?: string };

/** How long a resolved token is trusted without reading the store (bounded by its expiry). */
const SESSION_CACHE_SECONDS = 60;

export function createPeopleService({ store, sessions, dataDir, adminEmail, adminPassword }: PeopleServiceOptions): ServiceSchema {
  const requireAdmin = (ctx: Context) => {
    const caller = callerOf(ctx);
    if (!isAdmin(caller)) throw forbidden('Only an administrator may do this.');
    return caller;
  };

  const loadPerson = async (personId: string) => {
    const person = idKind(personId) === 'PEOPLE' ? await store.getPerson(personId) : undefined;
    if (!person) throw notFound('Person not found.');
    return person;
  };

  const issueAccessToken = async (personId: string, withRefresh: boolean, refreshToken?: string) => {
    const now = Date.now();
    const accessToken = newToken();
    await store.saveToken({ hash: tokenHash(accessToken), personId, kind: 'access', expiresAt: new Date(now + ACCESS_TOKEN_SECONDS * 1000).toISOString(), created: new Date(now).toISOString() });
    let refresh = refreshToken;
    if (withRefresh && !refresh) {
      refresh = newToken();
      await store.saveToken({ hash: tokenHash(refresh), personId, kind: 'refresh', expiresAt: new Date(now + REFRESH_TOKEN_SECONDS * 1000).toISOString(), created: new Date(now).toISOString() });
    }
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_SECONDS,
      ...(refresh ? { refresh_token: refresh, refresh_token_expires_in: REFRESH_TOKEN_SECONDS } : {}),
    };
  };

  /** The token record of a hash, if it is of this kind and not expired. */
  const validToken = async (hash: string, kind: 'access' | 'refresh') => {
    const record = await store.getToken(hash);
    if (!record || record.kind !== kind) return undefined;
    if (record.expiresAt && Date.parse(record.expiresAt) <= Date.now()) return undefined;
    return record;
  };

  const displayNameOf = (input: PersonInput) =>
    input.displayName ?? ([input.firstName, input.lastName].filter(Boolean).join(' ') || input.emails?.[0]?.split('@')[0]);

  const createPerson = async (input: PersonInput, orgId: string, type: PersonType) => {
    const now = new Date().toISOString();
    const person: PersonRecord = {
      id: newId('PEOPLE'),
      emails: input.emails!,
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
      await store.createPerson(person, input.password ? await hashPassword(input.password) : undefined);
    } catch (err) {
      if (err instanceof DuplicateEmailError || String((err as Error).message).includes('UNIQUE')) throw conflict(`A person with email ${input.emails![0]} already exists.`);
      throw err;
    }
    return person;
  };

  return {
    name: 'people',

    actions: {
      /** Resolves a bearer token to its caller; 401 for unknown, expired or refresh tokens. */
      authenticate: {
        params: { token: { type: 'string', min: 1, max: 512 } },
        async handler(ctx: Context<{ token: string }>): Promise<Caller> {
          const hash = tokenHash(ctx.params.token);
          const cached = await sessions.get(hash);
          if (cached) return JSON.parse(cached) as Caller;
          const record = await validToken(hash, 'access');
          if (!record) throw unauthorized();
          // Read before the person: a change of the person after this makes the `set` a no-op.
          const generation = await sessions.generation(record.personId);
          const person = await store.getPerson(record.personId);
          if (!person) throw unauthorized();
          const caller: Caller = { id: person.id, orgId: person.orgId, email: person.emails[0], displayName: person.displayName, roles: person.roles, type: person.type };
          const ttl = Math.min(SESSION_CACHE_SECONDS, record.expiresAt ? (Date.parse(record.expiresAt) - Date.now()) / 1000 : Infinity);
          await sessions.set(hash, person.id, generation, JSON.stringify(caller), ttl);
          return caller;
        },
      },

      /** OAuth2 token endpoint: password and refresh_token grants (RFC 6749 sections 4.3 and 6). */
      issueToken: {
        // Checked in the handler, so that every problem is answered in RFC 6749's shape.
        params: {
          grant_type: { type: 'any', optional: true },
          username: { type: 'any', optional: true },
          password: { type: 'any', optional: true },
          refresh_token: { type: 'any', optional: true },
        },
        async handler(ctx: Context<{ grant_type?: unknown; username?: unknown; password?: unknown; refresh_token?: unknown }>) {
          const field = (name: string, value: unknown, max: number) => {
            if (value === undefined) return undefined;
            if (typeof value !== 'string' || value.length > max) throw oauthError(400, 'invalid_request', `${name} must be a string of at most ${max} characters.`);
            return value;
          };
          const grant = field('grant_type', ctx.params.grant_type, 64);
          const username = field('username', ctx.params.username, 320);
          const password = field('password', ctx.params.password, 256);
          const refreshToken = field('refresh_token', ctx.params.refresh_token, 512);
          if (!grant) throw oauthError(400, 'invalid_request', 'grant_type is required.');
          if (grant === 'password') {
            if (!username || !password) throw oauthError(400, 'invalid_request', 'username and password are required.');
            const person = await store.getPersonByEmail(username.trim());
            const ok = await verifyPassword(password, person && person.type === 'person' ? await store.getPasswordHash(person.id) : undefined);
            if (!person || !ok) throw oauthError(400, 'invalid_grant', 'The username or password is incorrect.');
            return issueAccessToken(person.id, true);
          }
          if (grant === 'refresh_token') {
            if (!refreshToken) throw oauthError(400, 'invalid_request', 'refresh_token is required.');
            const record = await validToken(tokenHash(refreshToken), 'refresh');
            if (!record || !(await store.getPerson(record.personId))) throw oauthError(400, 'invalid_grant', 'The refresh token is invalid or expired.');
            return issueAccessToken(record.personId, true, refreshToken);
          }
          throw oauthError(400, 'unsupported_grant_type', `Grant type "${grant}" is not supported.`);
        },
      },

      /** Internal: a person record by id or email, for other actors' rules. */
      resolve: {
        params: { personId: p.optionalId, email: { type: 'string', max: 320, optional: true } },
        async handler(ctx: Context<{ personId?: string; email?: string }>) {
          if (ctx.params.personId) return idKind(ctx.params.personId) === 'PEOPLE' ? ((await store.getPerson(ctx.params.personId)) ?? null) : null;
          if (ctx.params.email) return (await store.getPersonByEmail(ctx.params.email)) ?? null;
          return null;
        },
      },

      /** Internal: many people in one call (a message's mentions), in the order asked; null where unknown. */
      resolveMany: {
        visibility: 'public',
        params: { people: { type: 'array', max: 1000, items: { type: 'object', props: { personId: p.optionalId, email: { type: 'string', max: 320, optional: true } } } } },
        async handler(ctx: Context<{ people: { personId?: string; email?: string }[] }>) {
          return Promise.all(ctx.params.people.map(async ({ personId, email }) => {
            if (personId) return idKind(personId) === 'PEOPLE' ? ((await store.getPerson(personId)) ?? null) : null;
            return email ? ((await store.getPersonByEmail(email)) ?? null) : null;
          }));
        },
      },

      me: {
        async handler(ctx: Context) {
          return presentPerson(await loadPerson(callerOf(ctx).id));
        },
      },

      get: {
        params: { personId: p.id },
        async handler(ctx: Context<{ personId: string }>) {
          const caller = callerOf(ctx);
          const person = await loadPerson(ctx.params.personId);
          if (person.orgId !== caller.orgId) throw notFound('Person not found.');
          return presentPerson(person);
        },
      },

      list: {
        params: {
          email: { type: 'string', max: 320, optional: true },
          displayName: { type: 'string', max: 256, optional: true },
          id: { type: 'string', max: 20 * 200, optional: true },
          max: p.max(100),
          cursor: p.cursor,
        },
        async handler(ctx: Context<{ email?: string; displayName?: string; id?: string; max: number; cursor?: string }>) {
          const caller = callerOf(ctx);
          const { email, displayName, id, max, cursor } = ctx.params;
          // As in Webex: everyone may look people up; only administrators may list them all.
          if (!email && !displayName && !id && !isAdmin(caller)) throw badRequest('Email, displayName, or id list should be specified.');
          const ids = id ? id.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
          if (ids && ids.length > 85) throw badRequest('At most 85 ids may be given.');
          const page = await store.listPeople({ orgId: caller.orgId, email, displayName, ids, max, after: cursor });
          return { items: page.items.map(presentPerson), next: page.next };
        },
      },

      create: {
        params: { ...personFields, emails: { ...personFields.emails, optional: false } },
        async handler(ctx: Context<PersonInput>) {
          const caller = requireAdmin(ctx);
          return presentPerson(await createPerson(ctx.params, caller.orgId, 'person'));
        },
      },

      /** Squared extension: an administrator creates a bot and receives its non-expiring token. */
      createBot: {
        params: { displayName: { type: 'string', min: 1, max: 256, trim: true }, email: { ...p.email, optional: true } },
        async handler(ctx: Context<{ displayName: string; email?: string }>) {
          const caller = requireAdmin(ctx);
          const email = ctx.params.email ?? `${ctx.params.displayName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'bot'}-${randomBytes(3).toString('hex')}@bots.squared.local`;
          const bot = await createPerson({ displayName: ctx.params.displayName, emails: [email] }, caller.orgId, 'bot');
          const token = newToken();
          await store.saveToken({ hash: tokenHash(token), personId: bot.id, kind: 'access', expiresAt: null, created: bot.created });
          return { ...presentPerson(bot), token };
        },
      },

      update: {
        params: { personId: p.id, ...personFields },
        async handler(ctx: Context<PersonInput & { personId: string }>) {
          const caller = callerOf(ctx);
          const person = await loadPerson(ctx.params.personId);
          if (!isAdmin(caller)) throw forbidden('Only an administrator may update people.');
          const { password } = ctx.params;
          const changes = Object.fromEntries(UPDATABLE.map((key) => [key, ctx.params[key]]).filter(([, v]) => v !== undefined));
          const updated: PersonRecord = { ...person, ...changes, lastModified: new Date().toISOString() };
          if (updated.id === caller.id && !updated.roles.includes(ADMIN_ROLE)) throw badRequest('An administrator cannot remove their own administrator role.');
          try {
            await store.updatePerson(updated);
          } catch (err) {
            if (err instanceof DuplicateEmailError) throw conflict(err.message);
            throw err;
          }
          if (password) await store.setPasswordHash(updated.id, await hashPassword(password));
          await sessions.dropPerson(updated.id);
          return presentPerson(updated);
        },
      },

      remove: {
        params: { personId: p.id },
        async handler(ctx: Context<{ personId: string }>) {
          const caller = requireAdmin(ctx);
          const person = await loadPerson(ctx.params.personId);
          if (person.id === caller.id) throw badRequest('An administrator cannot delete themselves.');
          await store.deletePerson(person.id);
          await sessions.dropPerson(person.id);
          return null;
        },
      },
    },

    async started() {
      if ((await store.countPeople()) > 0) return;
      // First start: create the administrator and leave their credentials for the operator.
      // Several actor nodes may start at once: the email's uniqueness lets one of them win.
      const password = adminPassword ?? randomBytes(12).toString('base64url');
      let admin: PersonRecord;
      try {
        admin = await createPerson({ emails: [adminEmail], displayName: 'Administrator', roles: [ADMIN_ROLE], password }, newId('ORGANIZATION'), 'person');
      } catch (err) {
        if ((err as { code?: number }).code === 409) return;
        throw err;
      }
      const token = newToken();
      await store.saveToken({ hash: tokenHash(token), personId: admin.id, kind: 'access', expiresAt: null, created: admin.created });
      const file = path.join(dataDir, 'admin.json');
      fs.writeFileSync(file, JSON.stringify({ email: adminEmail, password: adminPassword ? undefined : password, token }, null, 2) + '\n', { mode: 0o600 });
      this.logger.info({ email: adminEmail, credentials: file }, 'created the first administrator; its token and password are in the credentials file');
    },
  };
}
