// The state mutations of one room change on Cassandra: which rows of which tables a put or
// a delete of a room, membership, message or tab writes and removes. Pure: it reads nothing and
// only adds to mutation sets, so the fenced write path can apply (and re-apply) a write with
// the facts it read before its fence.
import type { RoomChange } from '../interfaces.ts';
import { mentionKeys } from '../records.ts';
import { MutationSet, remove, upsert } from './db.ts';
import { seqBucket } from './schema.ts';

/** `mentionedPeople` holds the message's mentions index keys (records.ts mentionKeys: people, and '*' for @all). */
export interface MessageFact { roomId: string; seq: number; ord?: number; parentId?: string; mentionedPeople?: string[] }
export interface MembershipFact { roomId: string; personId: string }

/** What a write's state mutations depend on besides the write itself, read before the fence. */
export interface Facts {
  messages: Record<string, MessageFact | null>;
  memberships: Record<string, MembershipFact | null>;
}

/**
 * The mutations of one change into `set` (written at the write's seq timestamp) or, for the
 * one table whose rows outlive a room, `clocked` (written at the wall-clock time).
 */
export function mutationsOf(change: RoomChange, set: MutationSet, clocked: MutationSet, messages: Map<string, MessageFact | null>,
memberships: Map<string, MembershipFact | null>, deletedRooms: string[]): void {
  switch (change.op) {
    case 'putRoom': {
      const r = change.room;
      set.add(upsert('rooms', { id: r.id }, { doc: JSON.stringify(r) }));
      // teamId and directKey never change after creation (the rooms actor guarantees it);
      // the lookups are validated against the room on read all the same.
      if (r.teamId) set.add(upsert('rooms_by_team', { team_id: r.teamId, room_id: r.id }));
      // A direct key may name a later room after its room was deleted; seq timestamps of
      // two rooms are not comparable, so this pointer takes the wall clock (newest room wins)
      // and is never deleted (findDirectRoom checks that the room still exists).
      if (r.directKey) clocked.add(upsert('direct_rooms', { direct_key: r.directKey }, { room_id: r.id }));
      return;
    }
    case 'deleteRoom':
      // Read-dependent (all members and messages), so done after the other mutations, by purgeRoom.
      deletedRooms.push(change.roomId);
      return;
    case 'putMembership': {
      const m = change.membership;
      const previous = memberships.get(m.id);
      if (previous && (previous.roomId !== m.roomId || previous.personId !== m.personId)) membershipRemovals(m.id, previous, set);
      const doc = JSON.stringify(m);
      set.add(upsert('memberships', { id: m.id }, { room_id: m.roomId, person_id: m.personId, doc }));
      set.add(upsert('memberships_by_room', { room_id: m.roomId, id: m.id }, { person_id: m.personId, doc }));
      set.add(upsert('memberships_by_person', { person_id: m.personId, id: m.id }, { room_id: m.roomId, doc }));
      set.add(upsert('rooms_of_person', { person_id: m.personId, room_id: m.roomId }, { membership_id: m.id, doc }));
      memberships.set(m.id, { roomId: m.roomId, personId: m.personId });
      return;
    }
    case 'deleteMembership': {
      const previous = memberships.get(change.id);
      if (previous) membershipRemovals(change.id, previous, set);
      memberships.set(change.id, null);
      return;
    }
    case 'putMessage': {
      const m = change.message;
      const previous = messages.get(m.id);
      const mentioned = new Set(mentionKeys(m));
      if (previous && (previous.roomId !== m.roomId || previous.seq !== m.seq || previous.parentId !== m.parentId)) {
        messageRemovals(m.id, previous, set);
      } else if (previous) {
        for (const personId of previous.mentionedPeople ?? []) {
          if (!mentioned.has(personId)) set.add(remove('mentions', { room_id: previous.roomId, person_id: personId, seq: previous.seq }));
        }
      }
      const doc = JSON.stringify(m);
      const bucket = seqBucket(m.seq);
      set.add(upsert('messages', { id: m.id }, { room_id: m.roomId, seq: m.seq, doc }));
      set.add(upsert('messages_by_room', { room_id: m.roomId, bucket, seq: m.seq }, { id: m.id, doc }));
      set.add(upsert('message_buckets', { room_id: m.roomId, bucket }));
      if (m.parentId) set.add(upsert('message_replies', { parent_id: m.parentId, seq: m.seq }, { room_id: m.roomId, id: m.id }));
      for (const personId of mentioned) set.add(upsert('mentions', { room_id: m.roomId, person_id: personId, seq: m.seq }, { message_id: m.id }));
      messages.set(m.id, { roomId: m.roomId, seq: m.seq, ord: m.ord, parentId: m.parentId, mentionedPeople: [...mentioned] });
      return;
    }
    case 'deleteMessage': {
      const previous = messages.get(change.id);
      if (previous) messageRemovals(change.id, previous, set);
      // Counted where it stood among the room's messages (unread counts).
      if (previous?.ord !== undefined) set.add(upsert('message_deletions', { room_id: previous.roomId, ord: previous.ord }));
      messages.set(change.id, null);
      return;
    }
    case 'putTab': {
      // A tab never moves to another room: its rows are simply replaced.
      const t = change.tab;
      const doc = JSON.stringify(t);
      set.add(upsert('room_tabs', { id: t.id }, { room_id: t.roomId, doc }));
      set.add(upsert('room_tabs_by_room', { room_id: t.roomId, id: t.id }, { doc }));
      return;
    }
    case 'deleteTab':
      set.add(remove('room_tabs', { id: change.id }));
      set.add(remove('room_tabs_by_room', { room_id: change.roomId, id: change.id }));
      return;
    case 'putIdempotency': {
      // Keyed by person, not room: seq timestamps of two rooms are not comparable, so the
      // wall clock (a record is written once, or again identically by a repair).
      const r = change.record;
      clocked.add(upsert('idempotency_keys', { scope: 'rooms', person_id: r.personId, key: r.key }, { doc: JSON.stringify(r) }));
      return;
    }
    case 'putDeparture':
      set.add(upsert('departures_by_person', { person_id: change.departure.personId, room_id: change.departure.roomId }, { last_seq: change.departure.lastSeq, left_at: change.departure.at }));
      set.add(upsert('departures_by_room', { room_id: change.departure.roomId, person_id: change.departure.personId }));
      return;
    case 'indexOrgActivity':
      set.add(upsert('org_hours', { org_id: change.orgId, hour: change.hour }));
      set.add(upsert('org_room_hours', { org_id: change.orgId, hour: change.hour, room_id: change.roomId }, { last_seq: change.lastSeq }));
      return;
    default: {
      const unknown: never = change;
      throw new Error(`unknown room change ${JSON.stringify(unknown)}`);
    }
  }
}

export function membershipRemovals(id: string, m: MembershipFact, set: MutationSet): void {
  set.add(remove('memberships', { id }));
  set.add(remove('memberships_by_room', { room_id: m.roomId, id }));
  set.add(remove('memberships_by_person', { person_id: m.personId, id }));
  set.add(remove('rooms_of_person', { person_id: m.personId, room_id: m.roomId }));
}

export function messageRemovals(id: string, m: MessageFact, set: MutationSet): void {
  set.add(remove('messages', { id }));
  set.add(remove('messages_by_room', { room_id: m.roomId, bucket: seqBucket(m.seq), seq: m.seq }));
  if (m.parentId) set.add(remove('message_replies', { parent_id: m.parentId, seq: m.seq }));
  for (const personId of m.mentionedPeople ?? []) set.add(remove('mentions', { room_id: m.roomId, person_id: personId, seq: m.seq }));
}
