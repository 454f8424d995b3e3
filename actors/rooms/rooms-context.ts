// What every rooms action needs: the store, the room log, and look-ups that raise the
// right error. Other actors' data (people, teams) is reached through their actions only.
import type { Context, ServiceSchema } from 'moleculer';
import { callerOf, isSystemCall } from '../../contracts/caller.ts';
import type { ComplianceRead } from '../../contracts/compliance-events.ts';
import { notFound } from '../../contracts/errors.ts';
import { idKind } from '../../contracts/ids.ts';
import type { RoomStore } from '../../storage/interfaces.ts';
import type { MembershipRecord, PersonRecord, RoomRecord } from '../../storage/records.ts';
import { mayInspect, mustBeMember, mustNotActAsInspector } from './policy.ts';
import type { RoomLog } from './room-log.ts';
import type { ReadTracker } from './read-tracker.ts';

/** A group of the rooms actor's actions, typed so that each one's `visibility` is checked. */
export type RoomsActions = NonNullable<ServiceSchema['actions']>;

export interface RoomsContext {
  store: RoomStore;
  log: RoomLog;
  /** The read positions' upkeep, hooked to the room's writes. */
  reads: ReadTracker;
  loadRoom(roomId: string): Promise<RoomRecord>;
  /**
   * The room and the caller's membership; 404 unless the caller is a member (403 for a
   * compliance officer who may read the room but, being no member, not act in it).
   */
  loadRoomAsMember(ctx: Context, roomId: string): Promise<{ room: RoomRecord; membership: MembershipRecord }>;
  /**
   * The room for a read: its members', or a compliance officer's of the room's org (reported
   * as a compliance read of `resource`); 404 for anyone else.
   */
  loadRoomAsReader(ctx: Context, roomId: string, resource: ComplianceRead['resource'], query?: Record<string, unknown>): Promise<{ room: RoomRecord; membership?: MembershipRecord }>;
  /** Records that a compliance officer read something (an admin audit event, compliance-audit.ts). */
  reportComplianceRead(ctx: Context, read: Pick<ComplianceRead, 'resource' | 'roomId' | 'roomTitle' | 'query'>): void;
  resolvePerson(ctx: Context, who: { personId?: string; email?: string }): Promise<PersonRecord>;
  isTeamMember(ctx: Context, teamId: string, personId: string): Promise<boolean>;
}

/** Records a compliance read (the service wires it to the audit events). */
export type ComplianceReporter = (ctx: Context, read: ComplianceRead) => void;

export function createRoomsContext(store: RoomStore, log: RoomLog, reads: ReadTracker, report: ComplianceReporter): RoomsContext {
  const reportComplianceRead: RoomsContext['reportComplianceRead'] = (ctx, read) => {
    const caller = callerOf(ctx);
    report(ctx, { actorId: caller.id, orgId: caller.orgId, ...read, at: new Date().toISOString() });
  };
  const loadRoom = async (roomId: string) => {
    const room = idKind(roomId) === 'ROOM' ? await store.getRoom(roomId) : undefined;
    if (!room) throw notFound('Room not found.');
    return room;
  };
  return {
    store,
    log,
    reads,
    loadRoom,
    async loadRoomAsMember(ctx, roomId) {
      const room = await loadRoom(roomId);
      const membership = await store.findMembership(roomId, callerOf(ctx).id);
      if (isSystemCall(ctx) && !membership) {
        // Actors acting on a rule of their own (a team managing its rooms) act as a moderator.
        return { room, membership: systemMembership(room, callerOf(ctx).id) };
      }
      if (!membership) mustNotActAsInspector(callerOf(ctx), room);
      mustBeMember(membership);
      return { room, membership };
    },
    async loadRoomAsReader(ctx, roomId, resource, query = {}) {
      const room = await loadRoom(roomId);
      const caller = callerOf(ctx);
      const membership = await store.findMembership(roomId, caller.id);
      if (membership || isSystemCall(ctx)) return { room, membership };
      if (!mayInspect(caller, room)) throw notFound('Room not found.');
      reportComplianceRead(ctx, { resource, roomId, roomTitle: room.title, query });
      return { room };
    },
    reportComplianceRead,
    async resolvePerson(ctx, who) {
      const person = await ctx.call<PersonRecord | null, { personId?: string; email?: string }>('people.resolve', who);
      if (!person) throw notFound('Person not found.');
      return person;
    },
    async isTeamMember(ctx, teamId, personId) {
      return ctx.call<boolean, { teamId: string; personId: string }>('teams.isMember', { teamId, personId });
    },
  };
}

function systemMembership(room: RoomRecord, personId: string): MembershipRecord {
  return {
    id: '', roomId: room.id, roomType: room.type, personId, personEmail: '', personDisplayName: '', personOrgId: '',
    isModerator: true, isRoomHidden: false, isMonitor: false, created: room.created, joinedSeq: 0,
  };
}
