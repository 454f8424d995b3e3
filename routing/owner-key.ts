// The key that names a call's owner: the room or the meeting whose single writer must run
// it (or the person whose presence is shown by one presence actor). The owner strategy hashes it onto the ring of nodes offering the action, so every
// caller (gateway or actor) reaches the same node for the same room or meeting.
import { meetingOf } from '../contracts/participant-ids.ts';

/** The room or meeting whose owner must run the call (a participant id starts with its meeting's). */
export function ownerKey(ctx: { params?: Record<string, unknown> }): string | undefined {
  const params = ctx.params ?? {};
  if (typeof params.roomId === 'string') return params.roomId;
  if (typeof params.meetingId === 'string') return params.meetingId;
  if (typeof params.participantId === 'string') return meetingOf(params.participantId);
  // The person whose presence a presence actor shows (actors/presence): one owner per person.
  if (typeof params.presenceOf === 'string') return params.presenceOf;
  return undefined;
}
