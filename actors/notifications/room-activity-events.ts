// The rooms actor's committed activities as webhook events, with the `data` Webex sends:
// the ids and the small fields, never a message's text, markdown, html or cards.
import type { ResourceEvent } from '../../contracts/resource-events.ts';
import type { Activity } from '../../storage/records.ts';

const MESSAGE_FIELDS = ['id', 'roomId', 'roomType', 'personId', 'personEmail', 'mentionedPeople', 'mentionedGroups', 'files', 'parentId', 'created', 'updated'];
const ROOM_FIELDS = ['id', 'title', 'type', 'isLocked', 'teamId', 'lastActivity', 'creatorId', 'created'];
const MEMBERSHIP_FIELDS = ['id', 'roomId', 'personId', 'personEmail', 'personDisplayName', 'personOrgId', 'isModerator', 'isMonitor', 'roomType', 'created'];

function pick(data: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) if (data[field] !== undefined) out[field] = data[field];
  return out;
}

/** The webhook event of an activity, or undefined for an activity no webhook resource covers (a room deleted). */
export function resourceEventOf(activity: Activity): ResourceEvent | undefined {
  const [kind, verb] = activity.event.split('.') as [string, 'created' | 'updated' | 'deleted'];
  const base = { event: verb, actorId: activity.actorId, roomId: activity.roomId, created: activity.created, key: `${activity.roomId}/${activity.seq}` };
  switch (kind) {
    case 'message':
      return { ...base, resource: 'messages', data: pick(activity.data, MESSAGE_FIELDS) };
    case 'membership':
      return { ...base, resource: 'memberships', data: pick(activity.data, MEMBERSHIP_FIELDS) };
    case 'room':
      // Webex has no `rooms deleted` webhook event.
      return verb === 'deleted' ? undefined : { ...base, resource: 'rooms', data: pick(activity.data, ROOM_FIELDS) };
    default:
      return undefined;
  }
}
