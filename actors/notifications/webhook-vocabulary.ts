// Which resource × event pairs a webhook may name (Webex's table), and the filters each
// resource takes, validated when a webhook is created or changed and matched at dispatch.
import { idKind } from '../../contracts/ids.ts';
import { badRequest } from '../../contracts/errors.ts';
import type { ResourceEvent } from '../../contracts/resource-events.ts';

/**
 * Webex's pairs that Squared can fire; `all` as an event means every event of the resource;
 * resource `all` (the firehose) takes event `all` only. Webex also has `meetings` created,
 * updated and deleted (scheduled meetings): Squared's conferences actor has no such events to
 * send, so a webhook for them is refused (400) instead of accepted and never fired.
 */
export const EVENTS_OF: Record<string, string[]> = {
  messages: ['created', 'updated', 'deleted'],
  memberships: ['created', 'updated', 'deleted'],
  rooms: ['created', 'updated'],
  attachmentActions: ['created'],
  meetings: ['started', 'ended'],
  meetingParticipants: ['joined', 'left'],
  all: [],
};

export function checkResourceEvent(resource: string, event: string): void {
  const events = EVENTS_OF[resource];
  if (!events) throw badRequest(`Unsupported resource "${resource}"; one of ${Object.keys(EVENTS_OF).join(', ')}.`);
  if (event !== 'all' && !events.includes(event)) {
    throw badRequest(resource === 'all' ? 'The resource "all" takes the event "all" only.' : `The resource "${resource}" has no event "${event}"; one of ${[...events, 'all'].join(', ')}.`);
  }
}

type FilterKind = 'room' | 'person' | 'email' | 'bool' | 'roomType' | 'mentioned' | 'text';

/** The filters Webex documents per resource, and what each value must be. */
const FILTERS_OF: Record<string, Record<string, FilterKind>> = {
  messages: { roomId: 'room', roomType: 'roomType', personId: 'person', personEmail: 'email', mentionedPeople: 'mentioned', hasFiles: 'bool' },
  memberships: { roomId: 'room', personId: 'person', personEmail: 'email', isModerator: 'bool' },
  rooms: { type: 'roomType', isLocked: 'bool' },
  attachmentActions: { roomId: 'room', personId: 'person' },
  meetings: { hostUserId: 'text', hostEmail: 'email', meetingType: 'text' },
  meetingParticipants: { meetingId: 'text', hostEmail: 'email' },
  all: { roomId: 'room' },
};

const EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * Parses and validates `key=value&key=value` (values URL-encoded, as Webex takes them):
 * known keys of the resource only, each once, each value of its kind. Returns the pairs.
 */
export function parseFilter(resource: string, filter: string | undefined): Map<string, string> {
  const pairs = new Map<string, string>();
  if (filter === undefined || filter === '') return pairs;
  const known = FILTERS_OF[resource] ?? {};
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(filter);
  } catch {
    throw badRequest('The filter is not a valid query string.');
  }
  for (const [key, value] of params) {
    const kind = known[key];
    if (!kind) throw badRequest(`Unsupported filter "${key}" for ${resource}${Object.keys(known).length ? `; one of ${Object.keys(known).join(', ')}` : ''}.`);
    if (pairs.has(key)) throw badRequest(`The filter "${key}" is given twice.`);
    if (!valueFits(kind, value)) throw badRequest(`The filter "${key}" has an invalid value.`);
    pairs.set(key, value);
  }
  return pairs;
}

function valueFits(kind: FilterKind, value: string): boolean {
  switch (kind) {
    case 'room': return idKind(value) === 'ROOM';
    case 'person': return idKind(value) === 'PEOPLE';
    case 'email': return EMAIL.test(value) && value.length <= 320;
    case 'bool': return value === 'true' || value === 'false';
    case 'roomType': return value === 'direct' || value === 'group';
    // Webex takes `me` or a person id (an email would never match the ids a message's mentionedPeople holds).
    case 'mentioned': return value === 'me' || idKind(value) === 'PEOPLE';
    case 'text': return value.length > 0 && value.length <= 200;
    default: {
      const unknownKind: never = kind;
      return unknownKind;
    }
  }
}

/**
 * Whether an event passes a webhook's filters. `me` stands for the webhook's creator;
 * `hasFiles` is about the message carrying files; `type` of a room is its `type`; every other
 * filter is the data field of its name, compared as text.
 */
export function filterMatches(pairs: Map<string, string>, event: ResourceEvent, creator: { id: string; email?: string }): boolean {
  const data = event.data;
  for (const [key, value] of pairs) {
    if (key === 'mentionedPeople') {
      const mentioned = Array.isArray(data.mentionedPeople) ? (data.mentionedPeople as string[]) : [];
      const who = value === 'me' ? creator.id : value;
      if (!mentioned.includes(who)) return false;
    } else if (key === 'hasFiles') {
      const hasFiles = Array.isArray(data.files) && data.files.length > 0;
      if (String(hasFiles) !== value) return false;
    } else if (key === 'personEmail' || key === 'hostEmail') {
      if (String(data[key] ?? '').toLowerCase() !== value.toLowerCase()) return false;
    } else if (key === 'roomId' && data.roomId === undefined) {
      if (event.roomId !== value) return false;
    } else if (String(data[key] ?? '') !== value) {
      return false;
    }
  }
  return true;
}
