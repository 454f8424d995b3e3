// Who may do what in a room, as Webex decides it. Pure functions over the room and the
// caller's membership; the actions look the records up and raise the error these name.
import { isComplianceOfficer, type Caller } from '../../contracts/caller.ts';
import { forbidden, locked, notFound } from '../../contracts/errors.ts';
import type { MembershipRecord, MessageRecord, RoomRecord } from '../../storage/records.ts';

/** Non-members get 404, not 403: a room's existence is itself private. */
export function mustBeMember(membership: MembershipRecord | undefined): asserts membership is MembershipRecord {
  if (!membership) throw notFound('Room not found.');
}

const isModerator = (membership: MembershipRecord) => membership.isModerator;

/**
 * A compliance officer inspects every room their organization owns: reads it, its
 * memberships and its messages as a member would, without being one. Never another org's
 * rooms, nor rooms of no org (from before rooms kept one), and never to act in them.
 */
export function mayInspect(caller: Caller, room: RoomRecord): boolean {
  return isComplianceOfficer(caller) && room.orgId !== undefined && room.orgId === caller.orgId;
}

/** A compliance officer who is no member may read the room but not act in it: 403, not 404. */
export function mustNotActAsInspector(caller: Caller, room: RoomRecord): void {
  if (mayInspect(caller, room)) throw forbidden('A compliance officer may read this room but not act in it.');
}

export function mustBeAbleToPost(room: RoomRecord, membership: MembershipRecord): void {
  if (room.isReadOnly) throw locked('The room is read-only.');
  if (room.isAnnouncementOnly && !isModerator(membership)) throw forbidden('Only moderators may post in an announcement-only room.');
}

/** Title, description and lock state: anyone in an unlocked room, moderators in a locked one. */
export function mustBeAbleToManageRoom(room: RoomRecord, membership: MembershipRecord): void {
  if (room.isReadOnly) throw locked('The room is read-only.');
  if (room.isLocked && !isModerator(membership)) throw forbidden('Only moderators may change a locked room.');
}

export function mustBeAbleToDeleteRoom(room: RoomRecord, membership: MembershipRecord): void {
  if (room.type === 'direct') throw forbidden('A direct room cannot be deleted.');
  if (room.isLocked ? !isModerator(membership) : room.creatorId !== membership.personId) {
    throw forbidden(room.isLocked ? 'Only moderators may delete a locked room.' : 'Only the creator may delete this room.');
  }
}

export function mustBeAbleToManageMembers(room: RoomRecord, membership: MembershipRecord): void {
  if (room.type === 'direct') throw forbidden('The membership of a direct room cannot change.');
  mustBeAbleToManageRoom(room, membership);
}

/** Moderator flags exist only in locked rooms, and only moderators hand them out. */
export function mustBeAbleToAssignModerators(room: RoomRecord, membership: MembershipRecord): void {
  if (!room.isLocked) throw forbidden('Moderators can only be assigned in a locked room.');
  if (!isModerator(membership)) throw forbidden('Only moderators may assign moderators.');
}

export function mustBeAbleToRemoveMember(room: RoomRecord, caller: MembershipRecord, target: MembershipRecord): void {
  if (room.type === 'direct') throw forbidden('The membership of a direct room cannot change.');
  if (caller.id === target.id) return; // anyone may leave
  mustBeAbleToManageMembers(room, caller);
}

export function mustBeAbleToEditMessage(message: MessageRecord, callerId: string): void {
  if (message.personId !== callerId) throw forbidden('Only the author may edit a message.');
}

export function mustBeAbleToDeleteMessage(room: RoomRecord, message: MessageRecord, caller: MembershipRecord): void {
  if (message.personId === caller.personId) return;
  if (room.isLocked && isModerator(caller)) return;
  throw forbidden('Only the author or a moderator may delete this message.');
}
