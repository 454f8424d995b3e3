// The `teams` actor: teams and team memberships. A team's rooms belong to the rooms actor;
// this actor asks it to create the team's general room and to add or remove its members.
import type { Context, ServiceSchema } from 'moleculer';
import { ownerOf } from '../../routing/owner-strategy.ts';
import { callerOf, type CallMeta } from '../../contracts/caller.ts';
import { ApiError, conflict, forbidden, notFound } from '../../contracts/errors.ts';
import { idKind, newId } from '../../contracts/ids.ts';
import * as p from '../params.ts';
import { withValues } from '../present.ts';
import { DuplicateMemberError, type TeamStore } from '../../storage/interfaces.ts';
import type { PersonRecord, TeamMembershipRecord, TeamRecord } from '../../storage/records.ts';

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

  const addMember = async (ctx: Context, team: TeamRecord, person: PersonRecord, isModerator: boolean) => {
    const membership: TeamMembershipRecord = {
      id: newId('TEAM_MEMBERSHIP'), teamId: team.id, personId: person.id, personEmail: person.emails[0],
      personDisplayName: person.displayName, personOrgId: person.orgId, isModerator, created: new Date().toISOString(),
    };
    try {
      await store.createTeamMembership(membership);
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
        params: { name: { type: 'string', min: 1, max: 256, trim: true }, description: p.text(2048) },
        async handler(ctx: Context<{ name: string; description?: string }>) {
          const caller = callerOf(ctx);
          const team: TeamRecord = {
            id: newId('TEAM'), name: ctx.params.name, description: ctx.params.description, creatorId: caller.id, generalRoomId: '', created: new Date().toISOString(),
          };
          await store.putTeam(team);
          const creator = await ctx.call<PersonRecord, { personId: string }>('people.resolve', { personId: caller.id });
          await addMember(ctx, team, creator, true);
          const room = await ctx.call<{ id: string }, object>('rooms.create', { title: team.name, teamId: team.id });
          team.generalRoomId = room.id;
          await store.putTeam(team);
          return presentTeam(team);
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
        params: { teamId: p.id, personId: p.optionalId, personEmail: { ...p.email, optional: true }, isModerator: p.flag },
        async handler(ctx: Context<{ teamId: string; personId?: string; personEmail?: string; isModerator?: boolean }>) {
          const { team, membership } = await loadTeamAsMember(ctx, ctx.params.teamId);
          mustModerate(membership);
          const { personId, personEmail } = ctx.params;
          const person = await ctx.call<PersonRecord | null, object>('people.resolve', personId ? { personId } : { email: personEmail });
          if (!person) throw notFound('Person not found.');
          return presentTeamMembership(await addMember(ctx, team, person, ctx.params.isModerator ?? false));
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
