// The `teams` actor: teams and team memberships. A team's rooms belong to the rooms actor;
// this actor asks it to create the team's general room and to add or remove its members.
import { Errors, type Context, type ServiceSchema } from 'moleculer';
import { ownerOf } from '../../routing/owner-strategy.ts';
import { callerOf, type CallMeta } from '../../contracts/caller.ts';
import { ApiError, badRequest, conflict, forbidden, notFound } from '../../contracts/errors.ts';
import { idKind, newId } from '../../contracts/ids.ts';
import { keyedUuid, requestFingerprint, type IdempotentRequest } from '../../contracts/idempotency.ts';
import { idempotencyParam, keyedRequest, recordOf, replayOf } from '../idempotent-writes.ts';
import * as p from '../params.ts';
import { withValues } from '../present.ts';
import { DuplicateMemberError, type TeamStore } from '../../storage/interfaces.ts';
import type { IdempotencyRecord, PersonRecord, TeamMembershipRecord, TeamRecord } from '../../storage/records.ts';

const presentTeam = (t: TeamRecord) => withValues({ id: t.id, name: t.name, description: t.description, creatorId: t.creatorId, created: t.created });
const presentTeamMembership = (m: TeamMembershipRecord) => withValues({
  id: m.id, teamId: m.teamId, personId: m.personId, personEmail: m.personEmail, personDisplayName: m.personDisplayName,
  personOrgId: m.personOrgId, isModerator: m.isModerator, created: m.created,
});

export function createTeamsService({ store }: { store: TeamStore }): ServiceSchema {
  const loadTeam = async (teamId: string) => {
    const team = idKind(teamId) === 'TEAM' ? await store.getTeam(teamId) : undefined;
    if (!team) throw notFound('Team not found.');
    return team;
  };
  /** The team and the caller's team membership; 404 for non-members, as for rooms. */
  const loadTeamAsMember = async (ctx: Context, teamId: string) => {
    const team = await loadTeam(teamId);
    const membership = await store.findTeamMembership(teamId, callerOf(ctx).id);
    if (!membership) throw notFound('Team not found.');
    return { team, membership };
  };
  const mustModerate = (membership: TeamMembershipRecord) => {
    if (!membership.isModerator) throw forbidden('Only team moderators may do this.');
  };
  const loadTeamMembership = async (id: string) => {
    const membership = idKind(id) === 'TEAM_MEMBERSHIP' ? await store.getTeamMembership(id) : undefined;
    if (!membership) throw notFound('Team membership not found.');
    return membership;
  };
  /**
   * Calls the rooms actor on the team's behalf, as the caller but under the team's rules.
   * A change of a room goes to the room's owner: the registry would keep it on this node
   * (it prefers local endpoints), where the store's fencing keeps it correct but makes the
   * owner re-read the room's head.
   */
  const asTeam = (ctx: Context, room?: { action: string; roomId: string }) => ({
    meta: { caller: callerOf(ctx), system: true } satisfies CallMeta,
    ...(room ? { nodeID: ownerOf(ctx.broker, room.action, { roomId: room.roomId }) } : {}),
  });

  /** Adds the person, with the answer of a keyed create (`keyed`) stored with the membership. */
  const addMember = async (ctx: Context, team: TeamRecord, person: PersonRecord, isModerator: boolean, keyed?: { id: string; answer: (m: TeamMembershipRecord) => IdempotencyRecord }) => {
    const membership: TeamMembershipRecord = {
      id: keyed?.id ?? newId('TEAM_MEMBERSHIP'), teamId: team.id, personId: person.id, personEmail: person.emails[0],
      personDisplayName: person.displayName, personOrgId: person.orgId, isModerator, created: new Date().toISOString(),
    };
    try {
      await store.createTeamMembership(membership, keyed?.answer(membership));
    } catch (err) {
      if (err instanceof DuplicateMemberError) throw conflict('The person is already a member of the team.');
      throw err;
    }
    if (team.generalRoomId) {
      await ctx.call('rooms.createMembership', { roomId: team.generalRoomId, personId: person.id }, asTeam(ctx, { action: 'rooms.createMembership', roomId: team.generalRoomId })).catch((err: unknown) => {
        if (!(err instanceof ApiError && err.code === 409)) throw err;
      });
    }
    return membership;
  };

  return {
    name: 'teams',
    actions: {
      /** Internal: the rooms actor asks it for a team's rooms; it trusts the ids it is given. */
      isMember: {
        visibility: 'public',
        params: { teamId: p.id, personId: p.id },
        async handler(ctx: Context<{ teamId: string; personId: string }>) {
          return idKind(ctx.params.teamId) === 'TEAM' && (await store.findTeamMembership(ctx.params.teamId, ctx.params.personId)) !== undefined;
        },
      },

      create: {
        visibility: 'published',
        params: { name: { type: 'string', min: 1, max: 256, trim: true }, description: p.text(2048), idempotency: idempotencyParam },
        async handler(ctx: Context<{ name: string; description?: string; idempotency?: IdempotentRequest }>) {
          const caller = callerOf(ctx);
          const keyed = keyedRequest(caller.id, ctx.params.idempotency);
          // A keyed create names its team after the key, so a retry finds it: answered (the
          // answer is stored with the team's last write), or cut short, and then finished.
          let teamId = keyed ? newId('TEAM', keyedUuid(caller.id, 'team', keyed.key)) : newId('TEAM');
          const earlier = keyed && (await store.getTeam(teamId));
          if (keyed && earlier) {
            const record = await store.getTeamIdempotency(teamId);
            if (record) return replayOf(record, keyed);
            // Finished, and its answer forgotten (24 h): the reused key is a new request.
            if (earlier.generalRoomId) teamId = newId('TEAM');
          }
          const team: TeamRecord = earlier && earlier.id === teamId ? { ...earlier, generalRoomId: '' } : {
            id: teamId, name: ctx.params.name, description: ctx.params.description, creatorId: caller.id, generalRoomId: '', created: new Date().toISOString(),
          };
          // Keyed, no step may overwrite the team a concurrent retry finished meanwhile.
          const answered = async () => {
            const record = await store.getTeamIdempotency(team.id);
            if (!record) throw new Errors.MoleculerRetryableError('The team is being created; try again.', 503, 'RETRY');
            return replayOf(record, keyed!);
          };
          if (!keyed) await store.putTeam(team);
          else if (!(await store.putKeyedTeam(team))) return answered();
          const creator = await ctx.call<PersonRecord, { personId: string }>('people.resolve', { personId: caller.id });
          await addMember(ctx, team, creator, true).catch((err: unknown) => {
            // A retry finishing a create cut short: the creator is in already.
            if (!(keyed && err instanceof ApiError && err.code === 409)) throw err;
          });
          // The general room of a keyed create is keyed by the team, so a retry finds it too.
          const roomKey = keyed && { key: `general room of ${team.id}`, fingerprint: requestFingerprint('POST', '/v1/rooms', {}, { teamId: team.id }) };
          const room = await ctx.call<{ id: string }, object>('rooms.create', { title: team.name, teamId: team.id, idempotency: roomKey || undefined });
          team.generalRoomId = room.id;
          if (!keyed) {
            await store.putTeam(team);
            return presentTeam(team);
          }
          const answer = presentTeam(team);
          if (await store.putKeyedTeam(team, recordOf(keyed, answer, new Date().toISOString()))) return answer;
          // A concurrent retry of the same create stored its answer first.
          return answered();
        },
      },

      list: {
        visibility: 'published',
        params: { max: p.max(100), cursor: p.cursor },
        async handler(ctx: Context<{ max: number; cursor?: string }>) {
          const page = await store.listTeamsOf(callerOf(ctx).id, { max: ctx.params.max, after: ctx.params.cursor });
          return { items: page.items.map(presentTeam), next: page.next };
        },
      },

      get: {
        visibility: 'published',
        params: { teamId: p.id },
        async handler(ctx: Context<{ teamId: string }>) {
          return presentTeam((await loadTeamAsMember(ctx, ctx.params.teamId)).team);
        },
      },

      update: {
        visibility: 'published',
        // PUT as in Webex: `name` is required (a `null` one is absent, so a 400 too).
        params: { teamId: p.id, name: { type: 'string', min: 1, max: 256, trim: true }, description: p.text(2048) },
        async handler(ctx: Context<{ teamId: string; name?: string; description?: string }>) {
          const { team, membership } = await loadTeamAsMember(ctx, ctx.params.teamId);
          mustModerate(membership);
          const updated = { ...team, name: ctx.params.name ?? team.name, description: ctx.params.description ?? team.description };
          await store.putTeam(updated);
          return presentTeam(updated);
        },
      },

      remove: {
        visibility: 'published',
        params: { teamId: p.id },
        async handler(ctx: Context<{ teamId: string }>) {
          const { team, membership } = await loadTeamAsMember(ctx, ctx.params.teamId);
          mustModerate(membership);
          // The team's rooms go first, so that no room is left pointing at a missing team.
          const rooms = await ctx.call<{ items: { id: string }[] }, object>('rooms.list', { teamId: team.id, max: 1000 }, asTeam(ctx));
          const roomIds = new Set([team.generalRoomId, ...rooms.items.map((r) => r.id)].filter(Boolean));
          for (const roomId of roomIds) {
            await ctx.call('rooms.remove', { roomId }, asTeam(ctx, { action: 'rooms.remove', roomId })).catch((err: unknown) => {
              if (!(err instanceof ApiError && err.code === 404)) throw err;
            });
          }
          await store.deleteTeam(team.id);
          return null;
        },
      },

      createMembership: {
        visibility: 'published',
        params: { teamId: p.id, personId: p.optionalId, personEmail: { ...p.email, optional: true }, isModerator: p.flag, idempotency: idempotencyParam },
        async handler(ctx: Context<{ teamId: string; personId?: string; personEmail?: string; isModerator?: boolean; idempotency?: IdempotentRequest }>) {
          // As for a room's memberships: without either there is nobody to add (it was a 404 "Person not found").
          if (!ctx.params.personId && !ctx.params.personEmail) throw badRequest('personId or personEmail is required.');
          const caller = callerOf(ctx);
          const keyed = keyedRequest(caller.id, ctx.params.idempotency);
          // A keyed create names its membership after the key; the answer is stored with it.
          let id = keyed ? newId('TEAM_MEMBERSHIP', keyedUuid(caller.id, 'team membership', keyed.key)) : undefined;
          const replay = async () => {
            const record = id && keyed && (await store.getTeamMembershipIdempotency(id));
            return record ? replayOf(record, keyed) : undefined;
          };
          // The membership first, then its answer (stored together): a membership without one outlived it (24 h).
          if (id && (await store.getTeamMembership(id))) {
            const answered = await replay();
            if (answered) return answered;
            id = newId('TEAM_MEMBERSHIP');
          }
          const { team, membership } = await loadTeamAsMember(ctx, ctx.params.teamId);
          mustModerate(membership);
          const { personId, personEmail } = ctx.params;
          const person = await ctx.call<PersonRecord | null, object>('people.resolve', personId ? { personId } : { email: personEmail });
          if (!person) throw notFound('Person not found.');
          const answerOf = (m: TeamMembershipRecord) => recordOf(keyed!, presentTeamMembership(m), m.created);
          try {
            return presentTeamMembership(await addMember(ctx, team, person, ctx.params.isModerator ?? false, id ? { id, answer: answerOf } : undefined));
          } catch (err) {
            // A concurrent retry of the same create got in first: its answer.
            const answered = err instanceof ApiError && err.code === 409 ? await replay() : undefined;
            if (answered) return answered;
            throw err;
          }
        },
      },

      listMemberships: {
        visibility: 'published',
        params: { teamId: p.id, max: p.max(100), cursor: p.cursor },
        async handler(ctx: Context<{ teamId: string; max: number; cursor?: string }>) {
          await loadTeamAsMember(ctx, ctx.params.teamId);
          const page = await store.listTeamMemberships(ctx.params.teamId, { max: ctx.params.max, after: ctx.params.cursor });
          return { items: page.items.map(presentTeamMembership), next: page.next };
        },
      },

      getMembership: {
        visibility: 'published',
        params: { membershipId: p.id },
        async handler(ctx: Context<{ membershipId: string }>) {
          const target = await loadTeamMembership(ctx.params.membershipId);
          await loadTeamAsMember(ctx, target.teamId).catch(() => {
            throw notFound('Team membership not found.');
          });
          return presentTeamMembership(target);
        },
      },

      updateMembership: {
        visibility: 'published',
        params: { membershipId: p.id, isModerator: { ...p.flag, optional: false } },
        async handler(ctx: Context<{ membershipId: string; isModerator: boolean }>) {
          const target = await loadTeamMembership(ctx.params.membershipId);
          const { membership } = await loadTeamAsMember(ctx, target.teamId);
          mustModerate(membership);
          const updated = { ...target, isModerator: ctx.params.isModerator };
          await store.putTeamMembership(updated);
          return presentTeamMembership(updated);
        },
      },

      removeMembership: {
        visibility: 'published',
        params: { membershipId: p.id },
        async handler(ctx: Context<{ membershipId: string }>) {
          const target = await loadTeamMembership(ctx.params.membershipId);
          const { team, membership } = await loadTeamAsMember(ctx, target.teamId);
          if (target.personId !== membership.personId) mustModerate(membership);
          await store.deleteTeamMembership(target.id);
          if (team.generalRoomId) {
            const found = await ctx.call<{ items: { id: string }[] }, object>('rooms.listMemberships', { roomId: team.generalRoomId, personId: target.personId }, asTeam(ctx))
              .catch(() => ({ items: [] }));
            for (const m of found.items) await ctx.call('rooms.removeMembership', { membershipId: m.id }, asTeam(ctx, { action: 'rooms.removeMembership', roomId: team.generalRoomId })).catch(() => undefined);
          }
          return null;
        },
      },
    },
  };
}
