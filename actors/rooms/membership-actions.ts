import type { Context } from 'moleculer';
import { callerOf, isComplianceOfficer } from '../../contracts/caller.ts';
import { badRequest, conflict, forbidden, notFound } from '../../contracts/errors.ts';
import { idKind, newId } from '../../contracts/ids.ts';
import type { IdempotentRequest } from '../../contracts/idempotency.ts';
import { idempotencyParam, keyedRequest } from '../idempotent-writes.ts';
import * as p from '../params.ts';
import type { MembershipRecord } from '../../storage/records.ts';
import { mayInspect, mustBeAbleToAssignModerators, mustBeAbleToManageMembers, mustBeAbleToRemoveMember } from './policy.ts';
import { presentMembership } from './presenters.ts';
import type { RoomsActions, RoomsContext } from './rooms-context.ts';

export function membershipActions(rc: RoomsContext): RoomsActions {
  const { store, log } = rc;

  const loadMembership = async (membershipId: string) => {
    const membership = idKind(membershipId) === 'MEMBERSHIP' ? await store.getMembership(membershipId) : undefined;
    if (!membership) throw notFound('Membership not found.');
    return membership;
  };

  /**
   * A compliance officer's listing by person without a room (Webex: "ALL memberships for the
   * user where a space is owned by an org to which the user belongs" — the officer's org):
   * the person's memberships a page at a time, those of other orgs' rooms left out, so a page
   * may hold fewer than `max` (its `next` still goes on). One room read per membership.
   */
  const personMembershipsInOrg = async (ctx: Context, personId: string, max: number, cursor?: string) => {
    const caller = callerOf(ctx);
    const page = await store.listMemberships({ personId, max, after: cursor });
    const rooms = await Promise.all(page.items.map((m) => store.getRoom(m.roomId)));
    const items = page.items.filter((_m, i) => rooms[i] !== undefined && mayInspect(caller, rooms[i]));
    rc.reportComplianceRead(ctx, { resource: 'memberships', query: { personId } });
    return { items: items.map(presentMembership), next: page.next };
  };

  return {
    createMembership: {
      visibility: 'published',
      params: { roomId: p.id, personId: p.optionalId, personEmail: { ...p.email, optional: true }, isModerator: p.flag, idempotency: idempotencyParam },
      async handler(ctx: Context<{ roomId: string; personId?: string; personEmail?: string; isModerator?: boolean; idempotency?: IdempotentRequest }>) {
        const caller = callerOf(ctx);
        const { roomId, personId, personEmail, isModerator } = ctx.params;
        if (!personId && !personEmail) throw badRequest('personId or personEmail is required.');
        const person = await rc.resolvePerson(ctx, personId ? { personId } : { email: personEmail });
        return log.append(roomId, async (firstSeq, now) => {
          const { room, membership: callerMembership } = await rc.loadRoomAsMember(ctx, roomId);
          mustBeAbleToManageMembers(room, callerMembership);
          if (isModerator) mustBeAbleToAssignModerators(room, callerMembership);
          if (await store.findMembership(roomId, person.id)) throw conflict('The person is already a member of the room.');
          const membership: MembershipRecord = {
            id: newId('MEMBERSHIP'), roomId, roomType: room.type, personId: person.id, personEmail: person.emails[0],
            personDisplayName: person.displayName, personOrgId: person.orgId, isModerator: isModerator ?? false,
            isRoomHidden: false, isMonitor: false, created: now, joinedSeq: firstSeq,
          };
          return {
            activities: [{ event: 'membership.created', actorId: caller.id, subjectId: person.id, data: presentMembership(membership) }],
            changes: [{ op: 'putMembership', membership }, { op: 'putRoom', room: { ...room, lastActivity: now } }],
            result: presentMembership(membership),
            after: rc.reads.joined(roomId, [{ personId: person.id, seq: firstSeq }], room.messageCount ?? 0),
          };
        }, keyedRequest(caller.id, ctx.params.idempotency));
      },
    },

    listMemberships: {
      visibility: 'published',
      params: { roomId: p.optionalId, personId: p.optionalId, personEmail: { ...p.email, optional: true }, max: p.max(100), cursor: p.cursor },
      async handler(ctx: Context<{ roomId?: string; personId?: string; personEmail?: string; max: number; cursor?: string }>) {
        const caller = callerOf(ctx);
        const { roomId, personEmail, max, cursor } = ctx.params;
        let { personId } = ctx.params;
        if (!roomId && !personId && !personEmail) {
          const page = await store.listMemberships({ personId: caller.id, max, after: cursor });
          return { items: page.items.map(presentMembership), next: page.next };
        }
        if (!roomId && !isComplianceOfficer(caller)) throw badRequest('roomId is required when filtering by person.');
        if (personEmail && !personId) {
          const person = await ctx.call<{ id: string } | null, { email: string }>('people.resolve', { email: personEmail });
          if (!person) return { items: [] };
          personId = person.id;
        }
        if (!roomId) return personMembershipsInOrg(ctx, personId!, max, cursor);
        const room = await rc.loadRoom(roomId);
        if (!(await store.findMembership(roomId, caller.id)) && !(room.teamId && (await rc.isTeamMember(ctx, room.teamId, caller.id)))) {
          if (!mayInspect(caller, room)) throw notFound('Room not found.');
          rc.reportComplianceRead(ctx, { resource: 'memberships', roomId, roomTitle: room.title, query: { roomId, personId, personEmail } });
        }
        const page = await store.listMemberships({ roomId, personId, max, after: cursor });
        return { items: page.items.map(presentMembership), next: page.next };
      },
    },

    getMembership: {
      visibility: 'published',
      params: { membershipId: p.id },
      async handler(ctx: Context<{ membershipId: string }>) {
        const membership = await loadMembership(ctx.params.membershipId);
        await rc.loadRoomAsReader(ctx, membership.roomId, 'memberships', { membershipId: membership.id }).catch(() => {
          throw notFound('Membership not found.');
        });
        return presentMembership(membership);
      },
    },

    updateMembership: {
      visibility: 'published',
      params: { membershipId: p.id, isModerator: p.flag, isRoomHidden: p.flag },
      async handler(ctx: Context<{ membershipId: string; isModerator?: boolean; isRoomHidden?: boolean }>) {
        const caller = callerOf(ctx);
        const { membershipId, isModerator, isRoomHidden } = ctx.params;
        const target = await loadMembership(membershipId);
        return log.append(target.roomId, async () => {
          const { room, membership: callerMembership } = await rc.loadRoomAsMember(ctx, target.roomId);
          const current = await loadMembership(membershipId);
          if (isModerator !== undefined && isModerator !== current.isModerator) mustBeAbleToAssignModerators(room, callerMembership);
          if (isRoomHidden !== undefined && current.personId !== caller.id) throw forbidden('Only the member may hide a room for themselves.');
          const updated: MembershipRecord = { ...current, isModerator: isModerator ?? current.isModerator, isRoomHidden: isRoomHidden ?? current.isRoomHidden };
          return {
            activities: [{ event: 'membership.updated', actorId: caller.id, subjectId: updated.personId, data: presentMembership(updated) }],
            changes: [{ op: 'putMembership', membership: updated }],
            result: presentMembership(updated),
          };
        });
      },
    },

    removeMembership: {
      visibility: 'published',
      params: { membershipId: p.id },
      async handler(ctx: Context<{ membershipId: string }>) {
        const caller = callerOf(ctx);
        const target = await loadMembership(ctx.params.membershipId);
        await log.append(target.roomId, async (firstSeq, now) => {
          const { room, membership: callerMembership } = await rc.loadRoomAsMember(ctx, target.roomId);
          const current = await loadMembership(ctx.params.membershipId);
          mustBeAbleToRemoveMember(room, callerMembership, current);
          return {
            activities: [{ event: 'membership.deleted', actorId: caller.id, subjectId: current.personId, data: presentMembership(current) }],
            changes: [
              { op: 'deleteMembership', id: current.id },
              // What they saw stays theirs to find (search-reach-actions.ts); nothing from this seq on.
              { op: 'putDeparture', departure: { roomId: current.roomId, personId: current.personId, lastSeq: firstSeq - 1, at: now } },
              { op: 'putRoom', room: { ...room, lastActivity: now } },
            ],
            result: null,
            after: rc.reads.left(current.roomId, current.personId),
          };
        });
        return null;
      },
    },
  };
}
