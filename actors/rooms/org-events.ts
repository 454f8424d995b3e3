// An org's events (GET /v1/events), read from its rooms' activity logs — no second copy —
// through the org activity index (RoomStore.orgActiveHours / orgRoomsInHour): the hours in
// which any room of the org wrote, and for each such hour the rooms that did and the last seq
// each wrote in it. A page walks the active hours newest first; for each, it reads the
// activities of just the rooms active then, backwards from their last seq of the hour, and
// orders them newest first. Rooms idle in the window and hours without writes cost nothing.
//
// Cost of a page: one index read per 24 active hours, one per active hour, and the activities
// of the hours it touches (of every room active in them, filters applied after reading), at
// most SCAN_BUDGET activities unless a single hour holds more (an hour is read whole). A page
// that hits the budget ends short, with a `next` after the hours it read.
import { badRequest } from '../../contracts/errors.ts';
import { idKind, newId } from '../../contracts/ids.ts';
import { orgHourOf, type RoomStore } from '../../storage/interfaces.ts';
import type { Activity } from '../../storage/records.ts';

/** Webex's resource names of the log's events (`message.created` → `messages`). */
const RESOURCE_OF: Record<string, string> = { message: 'messages', membership: 'memberships', room: 'rooms', tab: 'tabs' };
export const EVENT_RESOURCES = ['messages', 'memberships', 'rooms', 'tabs'] as const;
export const EVENT_TYPES = ['created', 'updated', 'deleted'] as const;

/** Activities read at most per page (beyond the hour being read). */
const SCAN_BUDGET = 10_000;
/** Activities read per step backwards through a room's log. */
const STEP = 200;
const HOURS_PER_READ = 24;
const ROOMS_AT_ONCE = 16;
/**
 * How far before an hour's start a room's log is still read: the nodes' clocks may disagree by
 * up to this much, so an activity of the hour can sit behind one stamped a little earlier.
 */
const CLOCK_SKEW_MS = 60_000;

export interface OrgEventQuery {
  orgId: string;
  resource?: string;
  type?: string;
  actorId?: string;
  /** ISO instants, inclusive. */
  from?: string;
  to: string;
  max: number;
  /** The last event of the page before (eventKey), or a position between hours. */
  after?: EventKey;
}

/** The order of events, newest first: created, then room id, then seq, all descending. */
export type EventKey = [created: string, roomId: string, seq: number];

const keyOf = (a: Activity): EventKey => [a.created, a.roomId, a.seq];

/** Negative when `a` comes first (is newer). */
function compareKeys(a: EventKey, b: EventKey): number {
  if (a[0] !== b[0]) return a[0] > b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] > b[1] ? -1 : 1;
  return b[2] - a[2];
}

/** An event's id names its room and seq, so that GET /v1/events/{id} reads it from the log. */
export function eventIdOf(roomId: string, seq: number): string {
  const roomUuid = Buffer.from(roomId, 'base64url').toString('utf8').split('/').pop();
  return Buffer.from(`ciscospark://us/EVENT/${roomUuid}_${seq}`).toString('base64url');
}

/** The room and seq an event id names, or undefined for a string that is no event id. */
export function eventPlaceOf(eventId: string): { roomId: string; seq: number } | undefined {
  if (eventId.length > 200) return undefined;
  const match = /^ciscospark:\/\/us\/EVENT\/([0-9a-f-]{36})_([1-9][0-9]{0,14})$/.exec(Buffer.from(eventId, 'base64url').toString('utf8'));
  if (!match) return undefined;
  const roomId = newId('ROOM', match[1]);
  return idKind(roomId) === 'ROOM' ? { roomId, seq: Number(match[2]) } : undefined;
}

/** An activity as Webex's Event. */
export function presentEvent(activity: Activity, orgId: string): Record<string, unknown> {
  const [kind, type] = activity.event.split('.') as [string, string];
  return {
    id: eventIdOf(activity.roomId, activity.seq),
    resource: RESOURCE_OF[kind],
    type,
    actorId: activity.actorId,
    orgId,
    created: activity.created,
    data: activity.data,
  };
}

export function decodeEventKey(values: unknown[] | undefined): EventKey | undefined {
  if (!values) return undefined;
  const [created, roomId, seq] = values;
  if (values.length !== 3 || typeof created !== 'string' || Number.isNaN(Date.parse(created)) || typeof roomId !== 'string' || roomId.length > 200 || !Number.isSafeInteger(seq)) {
    throw badRequest('Invalid cursor.');
  }
  return [created, roomId, seq as number];
}

const hourStartMs = (hour: string) => Date.parse(`${hour}:00:00.000Z`);

export class OrgEvents {
  private readonly store: RoomStore;

  constructor(store: RoomStore) {
    this.store = store;
  }

  /** A page of the org's events, newest first, and the key to continue after (absent at the end). */
  async page(query: OrgEventQuery): Promise<{ items: Activity[]; next?: EventKey }> {
    const fromHour = query.from ? orgHourOf(query.from) : '0000';
    let uptoHour = orgHourOf(query.after ? (compareKeys(query.after, [query.to, '', 0]) > 0 ? query.after[0] : query.to) : query.to);
    const items: Activity[] = [];
    let scanned = 0;
    for (;;) {
      const hours = await this.store.orgActiveHours(query.orgId, { fromHour, uptoHour, max: HOURS_PER_READ });
      for (const hour of hours) {
        const activities = await this.hourOf(query.orgId, hour);
        scanned += activities.length;
        items.push(...activities.filter((a) => this.wanted(a, query)).sort((a, b) => compareKeys(keyOf(a), keyOf(b))));
        if (items.length >= query.max) return { items: items.slice(0, query.max), next: keyOf(items[query.max - 1]) };
        if (scanned >= SCAN_BUDGET) {
          // Everything of this hour and later is given: go on just before it.
          return { items, next: [new Date(hourStartMs(hour) - 1).toISOString(), '\uffff', Number.MAX_SAFE_INTEGER] };
        }
      }
      if (hours.length < HOURS_PER_READ) return { items };
      uptoHour = orgHourOf(new Date(hourStartMs(hours[hours.length - 1]) - 1).toISOString());
    }
  }

  /** One event of the org's, or undefined (another org's room, or no such activity). */
  async get(orgId: string, roomId: string, seq: number): Promise<Activity | undefined> {
    const [activity] = await this.store.activities(roomId, seq - 1, seq, 1);
    if (!activity) return undefined;
    // The index says whose room it is, also once the room is deleted (its log stays).
    const rooms = await this.store.orgRoomsInHour(orgId, orgHourOf(activity.created));
    return rooms.some((room) => room.roomId === roomId && room.lastSeq >= seq) ? activity : undefined;
  }

  private wanted(a: Activity, q: OrgEventQuery): boolean {
    const [kind, type] = a.event.split('.');
    if (q.resource && RESOURCE_OF[kind] !== q.resource) return false;
    if (q.type && type !== q.type) return false;
    if (q.actorId && a.actorId !== q.actorId) return false;
    if (a.created > q.to || (q.from && a.created < q.from)) return false;
    return !q.after || compareKeys(keyOf(a), q.after) > 0;
  }

  /** Every activity stamped in the hour, of the rooms the index names for it. */
  private async hourOf(orgId: string, hour: string): Promise<Activity[]> {
    const rooms = await this.store.orgRoomsInHour(orgId, hour);
    const start = hourStartMs(hour);
    const out: Activity[] = [];
    for (let i = 0; i < rooms.length; i += ROOMS_AT_ONCE) {
      const logs = await Promise.all(rooms.slice(i, i + ROOMS_AT_ONCE).map(async ({ roomId, lastSeq }) => {
        const found: Activity[] = [];
        for (let upto = lastSeq; upto > 0; upto -= STEP) {
          const step = await this.store.activities(roomId, Math.max(0, upto - STEP), upto, STEP);
          found.push(...step.filter((a) => orgHourOf(a.created) === hour));
          if (step.length === 0 || Date.parse(step[0].created) < start - CLOCK_SKEW_MS) break;
        }
        return found;
      }));
      for (const log of logs) out.push(...log);
    }
    return out;
  }
}
