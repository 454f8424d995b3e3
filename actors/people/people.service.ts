// The `people` actor: identity, credentials and tokens. It alone reads the people store.
// Token issue, refresh and revocation are in token-actions.ts; creating people and changing
// passwords in accounts.ts; the first administrator in administrators.ts.
import { TOKENS_REVOKED } from '../../contracts/people-events.ts';
import { randomBytes } from 'node:crypto';
import type { Context, Logger, ServiceSchema } from 'moleculer';
import { ADMIN_ROLE, callerOf, isAdmin } from '../../contracts/caller.ts';
import type { PasswordAttemptLimits } from '../../contracts/config.ts';
import { badRequest, conflict, forbidden, notFound } from '../../contracts/errors.ts';
import { idKind } from '../../contracts/ids.ts';
import * as p from '../params.ts';
import { DuplicateEmailError, type AttemptThrottle, type PeopleStore, type SessionCache } from '../../storage/interfaces.ts';
import type { PersonRecord } from '../../storage/records.ts';
import { changePassword, createPerson, type PersonInput } from './accounts.ts';
import { createFirstAdministrator } from './administrators.ts';
import { passwordThrottle } from './password-throttle.ts';
import { presentPerson } from './presenter.ts';
import { withPresence } from './presence-fields.ts';
import { tokenActions } from './token-actions.ts';
import { adminRoleNames, auditActions, auditEventOf, describeUpdate, personTarget } from './audit-trail.ts';
import type { AuditStore } from '../../storage/audit-store.ts';
import { usageActions } from './org-usage.ts';
import { tokenKeeper } from './token-keeper.ts';

export interface PeopleServiceOptions {
  store: PeopleStore;
  /** Administrators' audit events: the people store writes its changes' events with them (docs/admin.md). */
  audit: AuditStore;
  /** Resolved tokens, so that most requests need no read of the people store. */
  sessions: SessionCache;
  /** Counted password attempts, shared by every actor node. */
  attempts: AttemptThrottle;
  passwordLimits: PasswordAttemptLimits;
  dataDir: string;
  adminEmail: string;
  adminPassword: string | undefined;
  /** Told the path of admin.json when this node created the first administrator and wrote it. */
  onFirstAdministrator?(credentialsFile: string): void;
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

/** Webex's options of a person's create and update (Squared has no calling data): validated, then ignored. */
const writeOptions = { type: 'object', optional: true, props: { callingData: p.flag, minResponse: p.flag, showAllTypes: p.flag } } as const;

const UPDATABLE = ['emails', 'displayName', 'firstName', 'lastName', 'nickName', 'avatar', 'roles'] as const;

export function createPeopleService(options: PeopleServiceOptions): ServiceSchema {
  const { store, sessions, dataDir, adminEmail, adminPassword } = options;
  let tellRevoked: (personId: string) => void = () => undefined;
  const tokens = tokenKeeper(store, sessions, (personId) => tellRevoked(personId));
  const passwords = passwordThrottle(options.attempts, options.passwordLimits);
  let logger: Logger | undefined;

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

  /** The caller, an administrator, and another person of their org (404 for one of another org, 400 for themselves). */
  const otherPersonOfOrg = async (ctx: Context, personId: string, selfRefusal: string) => {
    const caller = requireAdmin(ctx);
    const person = await loadPerson(personId);
    if (person.orgId !== caller.orgId) throw notFound('Person not found.');
    if (person.id === caller.id) throw badRequest(selfRefusal);
    return { caller, person };
  };

  return {
    name: 'people',

    created() {
      logger = this.logger;
      tellRevoked = (personId) => {
        this.broker.emit(TOKENS_REVOKED, { personId }).catch((err: unknown) => this.logger.warn({ err, personId }, 'the revocation of every token of a person could not be told'));
      };
    },

    actions: {
      ...tokenActions({ store, sessions, tokens, passwords, logger: () => logger! }),
      ...auditActions(options.audit),
      ...usageActions(store),

      /** Internal: a person record by id or email, for other actors' rules. */
      resolve: {
        visibility: 'public',
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

      /**
       * Internal (the avatars actor): the person's avatar URL replaced (or removed, without
       * `avatar`); answers the person as now and the URL it replaced, so that the caller can
       * release what the old one pointed at.
       */
      setAvatar: {
        visibility: 'public',
        params: { personId: p.id, avatar: { type: 'string', max: 2048, optional: true } },
        async handler(ctx: Context<{ personId: string; avatar?: string }>) {
          const person = await loadPerson(ctx.params.personId);
          const updated: PersonRecord = { ...person, avatar: ctx.params.avatar, lastModified: new Date().toISOString() };
          if (updated.avatar === undefined) delete updated.avatar;
          await store.updatePerson(updated);
          return { person: presentPerson(updated), previous: person.avatar ?? null };
        },
      },

      me: {
        visibility: 'published',
        // Webex's callingData is declared so that a malformed one is refused; Squared has no calling data.
        params: { callingData: p.flag },
        async handler(ctx: Context) {
          return (await withPresence(ctx, [presentPerson(await loadPerson(callerOf(ctx).id))]))[0];
        },
      },

      get: {
        visibility: 'published',
        params: { personId: p.id, callingData: p.flag },
        async handler(ctx: Context<{ personId: string }>) {
          const caller = callerOf(ctx);
          const person = await loadPerson(ctx.params.personId);
          if (person.orgId !== caller.orgId) throw notFound('Person not found.');
          return (await withPresence(ctx, [presentPerson(person)]))[0];
        },
      },

      list: {
        visibility: 'published',
        params: {
          email: { type: 'string', max: 320, optional: true },
          displayName: { type: 'string', max: 256, optional: true },
          id: { type: 'string', max: 20 * 200, optional: true },
          max: p.max(100),
          cursor: p.cursor,
          callingData: p.flag,
          excludeStatus: p.flag,
        },
        async handler(ctx: Context<{ email?: string; displayName?: string; id?: string; max: number; cursor?: string; excludeStatus?: boolean }>) {
          const caller = callerOf(ctx);
          const { email, displayName, id, max, cursor, excludeStatus } = ctx.params;
          // As in Webex: everyone may look people up; only administrators may list them all.
          if (!email && !displayName && !id && !isAdmin(caller)) throw badRequest('Email, displayName, or id list should be specified.');
          const ids = id ? id.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
          if (ids && ids.length > 85) throw badRequest('At most 85 ids may be given.');
          const page = await store.listPeople({ orgId: caller.orgId, email, displayName, ids, max, after: cursor });
          // The people listed are of the caller's organization (listPeople's orgId): shown with their presence, unless excludeStatus.
          const items = page.items.map(presentPerson);
          return { items: excludeStatus ? items : await withPresence(ctx, items), next: page.next };
        },
      },

      create: {
        visibility: 'published',
        params: { ...personFields, emails: { ...personFields.emails, optional: false }, query: writeOptions },
        async handler(ctx: Context<PersonInput & { emails: string[] }>) {
          const caller = requireAdmin(ctx);
          const audit = (person: PersonRecord) => auditEventOf(ctx, {
            category: 'USERS', eventDescription: 'User created', target: personTarget(person),
            actionText: `${caller.displayName} created the user ${person.displayName} (${person.emails.join(', ')})${person.roles.length ? ` with the roles ${adminRoleNames(person.roles).join(', ')}` : ''}.`,
          });
          return presentPerson(await createPerson(store, ctx.params, caller.orgId, 'person', audit));
        },
      },

      /** Squared extension: an administrator creates a bot and receives its non-expiring token. */
      createBot: {
        visibility: 'published',
        params: { displayName: { type: 'string', min: 1, max: 256, trim: true }, email: { ...p.email, optional: true } },
        async handler(ctx: Context<{ displayName: string; email?: string }>) {
          const caller = requireAdmin(ctx);
          const email = ctx.params.email ?? `${ctx.params.displayName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'bot'}-${randomBytes(3).toString('hex')}@bots.squared.local`;
          const audit = (person: PersonRecord) => auditEventOf(ctx, {
            category: 'BOTS', eventDescription: 'Bot created', target: personTarget(person), actionText: `${caller.displayName} created the bot ${person.displayName} (${email}).`,
          });
          const bot = await createPerson(store, { displayName: ctx.params.displayName, emails: [email] }, caller.orgId, 'bot', audit);
          const { token } = await tokens.issueStandalone(bot.id, null);
          return { ...presentPerson(bot), token };
        },
      },

      /**
       * A new password, or the loss of the administrator role, revokes every token of the
       * person: whoever held one must sign in again, with the rights they have now.
       */
      update: {
        visibility: 'published',
        params: { personId: p.id, ...personFields, query: writeOptions },
        async handler(ctx: Context<PersonInput & { personId: string }>) {
          const caller = callerOf(ctx);
          const person = await loadPerson(ctx.params.personId);
          if (!isAdmin(caller)) throw forbidden('Only an administrator may update people.');
          // An administrator manages their own organization's people (and grants its roles) only.
          if (person.orgId !== caller.orgId) throw notFound('Person not found.');
          const { password } = ctx.params;
          const changes = Object.fromEntries(UPDATABLE.map((key) => [key, ctx.params[key]]).filter(([, v]) => v !== undefined));
          const updated: PersonRecord = { ...person, ...changes, lastModified: new Date().toISOString() };
          if (updated.id === caller.id && !updated.roles.includes(ADMIN_ROLE)) throw badRequest('An administrator cannot remove their own administrator role.');
          const losesAdmin = person.roles.includes(ADMIN_ROLE) && !updated.roles.includes(ADMIN_ROLE);
          const audit = auditEventOf(ctx, { category: 'USERS', target: personTarget(updated), ...describeUpdate(caller, person, updated, password !== undefined, password !== undefined || losesAdmin) });
          try {
            await store.updatePerson(updated, audit);
          } catch (err) {
            if (err instanceof DuplicateEmailError) throw conflict(err.message);
            throw err;
          }
          if (password) await changePassword({ store, tokens, passwords }, updated, password);
          else if (losesAdmin) await tokens.revokeAllOf(updated.id);
          else await sessions.dropPerson(updated.id);
          return presentPerson(updated);
        },
      },

      /**
       * Squared extension: an administrator ends every session of a person of their org (every
       * token revoked, at once on every gateway), as after a lost device. Recorded as an audit
       * event in the commit of the revocation.
       */
      revokeTokensByAdmin: {
        visibility: 'published',
        params: { personId: p.id },
        async handler(ctx: Context<{ personId: string }>) {
          const { caller, person } = await otherPersonOfOrg(ctx, ctx.params.personId, 'An administrator cannot revoke their own tokens this way; use POST /v1/access_token/revoke.');
          await tokens.revokeAllOf(person.id, auditEventOf(ctx, {
            category: person.type === 'bot' ? 'BOTS' : 'USERS', eventDescription: 'Sessions revoked', target: personTarget(person),
            actionText: `${caller.displayName} revoked every token of the ${person.type === 'bot' ? 'bot' : 'user'} ${person.displayName}.`,
          }));
          return null;
        },
      },

      remove: {
        visibility: 'published',
        params: { personId: p.id },
        async handler(ctx: Context<{ personId: string }>) {
          const { caller, person } = await otherPersonOfOrg(ctx, ctx.params.personId, 'An administrator cannot delete themselves.');
          await store.deletePerson(person.id, auditEventOf(ctx, {
            category: person.type === 'bot' ? 'BOTS' : 'USERS', eventDescription: person.type === 'bot' ? 'Bot deleted' : 'User deleted', target: personTarget(person),
            actionText: `${caller.displayName} deleted the ${person.type === 'bot' ? 'bot' : 'user'} ${person.displayName} (${person.emails.join(', ')}).`,
          }));
          await sessions.dropPerson(person.id);
          // For what other actors keep of the person (the avatars actor: their picture's blobs).
          void ctx.emit('people.removed', { personId: person.id, avatar: person.avatar ?? null });
          return null;
        },
      },
    },

    async started() {
      const file = await createFirstAdministrator({ store, tokens, passwords }, { dataDir, email: adminEmail, password: adminPassword });
      if (!file) return;
      this.logger.info({ email: adminEmail, credentials: file }, 'created the first administrator; its password and a token valid for 24 h are in the credentials file');
      options.onFirstAdministrator?.(file);
    },
  };
}
