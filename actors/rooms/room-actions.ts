import type { Context } from 'moleculer';
import { callerOf, isAdmin, isSystemCall } from '../../contracts/caller.ts';
import { badRequest, forbidden, notFound } from '../../contracts/errors.ts';
import { newId } from '../../contracts/ids.ts';
import { keyedUuid, type IdempotentRequest } from '../../contracts/idempotency.ts';
import { idempotencyParam, keyedRequest } from '../idempotent-writes.ts';
import * as p from '../params.ts';
import type { RoomChange, RoomSort } from '../../storage/interfaces.ts';
import type { MembershipRecord, RoomRecord } from '../../storage/records.ts';
import { mayInspect, mustBeAbleToDeleteRoom, mustBeAbleToManageRoom } from './policy.ts';
import { presentMembership, presentRoom } from './presenters.ts';
import { readStatusOf } from './read-status.ts';
import type { ActivityDraft } from './room-log.ts';
import type { RoomsActions, RoomsContext } from './rooms-context.ts';

const roomFields = {
  title: { type: 'string', min: 1, max: 256, trim: true, optional: true },
  description: p.text(2048),
  teamId: p.optionalId,
  classificationId: p.optionalId,
  isLocked: p.flag,
  isAnnouncementOnly: p.flag,
  isPublic: p.flag,
};

type RoomInput = { title?: string; description?: string; teamId?: string; classificationId?: string; isLocked?: boolean; isAnnouncementOnly?: boolean; isPublic?: boolean; isReadOnly?: boolean };

export function roomActions(rc: RoomsContext): RoomsActions {
  const { store, log } = rc;

  /** A room is visible to its members, a team's rooms to the team's members, an org's rooms to its compliance officers. */
  const loadVisibleRoom = async (ctx: Context, roomId: string) => {
    const room = await rc.loadRoom(roomId);
    const caller = callerOf(ctx);
    if (await store.findMembership(roomId, caller.id)) return room;
    if (room.teamId && (await rc.isTeamMember(ctx, room.teamId, caller.id))) return room;
    if (mayInspect(caller, room)) {
      rc.reportComplianceRead(ctx, { resource: 'rooms', roomId, roomTitle: room.title, query: { roomId } });
      return room;
    }
    throw notFound('Room not found.');
  };

  return {
    create: {
      visibility: 'published',
      params: { ...roomFields, title: { ...roomFields.title, optional: false }, idempotency: idempotencyParam },
      async handler(ctx: Context<RoomInput & { title: string; idempotency?: IdempotentRequest }>) {
        const caller = callerOf(ctx);
        const input = ctx.params;
        if (input.isAnnouncementOnly && !input.isLocked) throw badRequest('An announcement-only room must be locked.');
        if (input.teamId && !(await rc.isTeamMember(ctx, input.teamId, caller.id))) throw notFound('Team not found.');
        const keyed = keyedRequest(caller.id, input.idempotency);
        // A keyed create names its room after the key: a retry, even racing the original on
        // another node, reaches the same room (and owner), whose fence lets one of them write.
        let roomId = keyed ? newId('ROOM', keyedUuid(caller.id, 'room', keyed.key)) : newId('ROOM');
        // The key's record expired (24 h) but its room is there: the reused key is a new request.
        if (keyed && (await store.head(roomId)) > 0 && !(await store.getIdempotency(caller.id, keyed.key))) roomId = newId('ROOM');
        return log.append(roomId, async (firstSeq, now) => {
          const room: RoomRecord = {
            id: roomId, title: input.title, type: 'group', isLocked: input.isLocked ?? false,
            isAnnouncementOnly: input.isAnnouncementOnly ?? false, isReadOnly: false, isPublic: input.isPublic ?? false,
            description: input.description, teamId: input.teamId, classificationId: input.classificationId,
            creatorId: caller.id, orgId: caller.orgId, created: now, lastActivity: now,
          };
          const membership: MembershipRecord = {
            id: newId('MEMBERSHIP'), roomId, roomType: 'group', personId: caller.id, personEmail: caller.email,
            personDisplayName: caller.displayName, personOrgId: caller.orgId, isModerator: room.isLocked,
            isRoomHidden: false, isMonitor: false, created: now, joinedSeq: firstSeq + 1,
          };
          return {
            activities: [
              { event: 'room.created', actorId: caller.id, data: presentRoom(room) },
              { event: 'membership.created', actorId: caller.id, subjectId: caller.id, data: presentMembership(membership) },
            ],
            changes: [{ op: 'putRoom', room }, { op: 'putMembership', membership }],
            result: presentRoom(room, caller.id),
            after: rc.reads.joined(roomId, [{ personId: caller.id, seq: firstSeq + 1 }], 0),
          };
        }, keyed);
      },
    },

    list: {
      visibility: 'published',
      params: {
        teamId: p.optionalId,
        type: { type: 'enum', values: ['direct', 'group'], optional: true },
        sortBy: { type: 'enum', values: ['id', 'lastactivity', 'created'], optional: true, default: 'id' },
        // Webex's org-wide public spaces listing: declared so a malformed value is refused.
        orgPublicSpaces: p.flag,
        max: p.max(100),
        cursor: p.cursor,
      },
      async handler(ctx: Context<{ teamId?: string; type?: string; sortBy: RoomSort; max: number; cursor?: string }>) {
        const caller = callerOf(ctx);
        const { teamId, type, sortBy, max, cursor } = ctx.params;
        if (teamId && isSystemCall(ctx)) return { items: (await store.listTeamRooms(teamId)).map((room) => presentRoom(room)) };
        const page = await store.listRoomsOf(caller.id, { teamId, type, sortBy, max, after: cursor });
        // What a room list needs beside each room (a Squared extension, read-status.ts): one read per room.
        const positions = await store.readPositionsOf(caller.id, page.items.map((room) => room.id));
        return { items: page.items.map((room) => ({ ...presentRoom(room, caller.id), ...readStatusOf(room, positions.get(room.id)) })), next: page.next };
      },
    },

    get: {
      visibility: 'published',
      params: { roomId: p.id },
      async handler(ctx: Context<{ roomId: string }>) {
        return presentRoom(await loadVisibleRoom(ctx, ctx.params.roomId), callerOf(ctx).id);
      },
    },

    update: {
      visibility: 'published',
      params: { roomId: p.id, ...roomFields, isReadOnly: p.flag },
      async handler(ctx: Context<RoomInput & { roomId: string }>) {
        const caller = callerOf(ctx);
        const { roomId, ...input } = ctx.params;
        return log.append(roomId, async (_firstSeq, now) => {
          const { room, membership } = await rc.loadRoomAsMember(ctx, roomId);
          // Clients send the whole room back (Webex requires title): only real changes count.
          const changed = (Object.keys(input) as (keyof RoomInput)[]).filter((key) => input[key] !== undefined && input[key] !== room[key]);
          if (changed.length === 0) return { activities: [], changes: [], result: presentRoom(room, caller.id) };
          if (changed.includes('teamId')) throw badRequest('A room cannot move to another team.');
          if (changed.includes('isReadOnly') && !isAdmin(caller)) throw forbidden('Only an administrator may make a room read-only.');
          const locking = input.isLocked === true && !room.isLocked;
          // An administrator may set or lift read-only alone; everything else follows the
          // room's rules (in an unlocked room any member may lock it, becoming its moderator).
          if (!(changed.every((key) => key === 'isReadOnly') && isAdmin(caller))) {
            if (locking && room.type === 'direct') throw forbidden('A direct room cannot be locked.');
            mustBeAbleToManageRoom(room, membership);
          }
          const updated: RoomRecord = {
            ...room,
            title: input.title ?? room.title,
            description: input.description ?? room.description,
            classificationId: input.classificationId ?? room.classificationId,
            isLocked: input.isLocked ?? room.isLocked,
            isPublic: input.isPublic ?? room.isPublic,
            isReadOnly: input.isReadOnly ?? room.isReadOnly,
            isAnnouncementOnly: input.isAnnouncementOnly ?? (input.isLocked === false ? false : room.isAnnouncementOnly),
            lastActivity: now,
          };
          if (updated.isAnnouncementOnly && !updated.isLocked) throw badRequest('An announcement-only room must be locked.');
          const activities: ActivityDraft[] = [{ event: 'room.updated', actorId: caller.id, data: presentRoom(updated) }];
          const changes: RoomChange[] = [{ op: 'putRoom', room: updated }];
          const moderatorChanges: MembershipRecord[] = [];
          if (locking && membership.id) moderatorChanges.push({ ...membership, isModerator: true });
          if (input.isLocked === false && room.isLocked) {
            // An unlocked room has no moderators.
            for (const m of await allMemberships(rc, roomId)) if (m.isModerator) moderatorChanges.push({ ...m, isModerator: false });
          }
          for (const m of moderatorChanges) {
            activities.push({ event: 'membership.updated', actorId: caller.id, subjectId: m.personId, data: presentMembership(m) });
            changes.push({ op: 'putMembership', membership: m });
          }
          return { activities, changes, result: presentRoom(updated, caller.id) };
        });
      },
    },

    remove: {
      visibility: 'published',
      params: { roomId: p.id },
      async handler(ctx: Context<{ roomId: string }>) {
        const caller = callerOf(ctx);
        await log.append(ctx.params.roomId, async () => {
          const { room, membership } = await rc.loadRoomAsMember(ctx, ctx.params.roomId);
          // A team deleting its rooms acts under the team's rules, checked by the teams actor.
          if (!isSystemCall(ctx)) mustBeAbleToDeleteRoom(room, membership);
          return {
            activities: [{ event: 'room.deleted', actorId: caller.id, data: presentRoom(room) }],
            changes: [{ op: 'deleteRoom', roomId: room.id }],
            result: null,
            after: rc.reads.roomDeleted(room.id),
          };
        });
        return null;
      },
    },
  };
}

export async function allMemberships(rc: RoomsContext, roomId: string): Promise<MembershipRecord[]> {
  const all: MembershipRecord[] = [];
  let after: string | undefined;
  do {
    const page = await rc.store.listMemberships({ roomId, max: 1000, after });
    all.push(...page.items);
    after = page.next;
  } while (after);
  return all;
}
