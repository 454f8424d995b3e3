// Org usage for administrators (a Squared extension, docs/admin.md): the people actor lists
// the org's people from its own store and asks each other figure of its owner, about those
// people — presence (active people, live sockets), rooms (rooms, messages per day),
// conferences (meetings and minutes). Every owner's work is bounded (contracts/org-usage.ts);
// an answer that hit a bound says `complete: false`.
import type { Context } from 'moleculer';
import { callerOf, isAdmin } from '../../contracts/caller.ts';
import { forbidden } from '../../contracts/errors.ts';
import { USAGE_MAX_DAYS, USAGE_MAX_PEOPLE } from '../../contracts/org-usage.ts';
import type { PeopleStore } from '../../storage/interfaces.ts';
import type { PersonRecord } from '../../storage/records.ts';
import * as p from '../params.ts';
import type { PeopleActions } from './token-actions.ts';

const DAY = 24 * 3600 * 1000;

type Presence = { activeDay: number; activeWeek: number; activeMonth: number; liveSockets: number; peopleOnline: number };
type Rooms = { rooms: number; groupRooms: number; directRooms: number; messagesPerDay: Record<string, number>; complete: boolean };
type Meetings = { meetings: number; meetingMinutes: number; participantMinutes: number; complete: boolean };

/** The org's people, up to USAGE_MAX_PEOPLE, and whether there are more. */
async function orgPeople(store: PeopleStore, orgId: string): Promise<{ people: PersonRecord[]; complete: boolean }> {
  const people: PersonRecord[] = [];
  let after: string | undefined;
  do {
    const page = await store.listPeople({ orgId, max: Math.min(1000, USAGE_MAX_PEOPLE + 1 - people.length), after });
    people.push(...page.items);
    after = page.next;
  } while (after && people.length <= USAGE_MAX_PEOPLE);
  return people.length > USAGE_MAX_PEOPLE ? { people: people.slice(0, USAGE_MAX_PEOPLE), complete: false } : { people, complete: true };
}

export function usageActions(store: PeopleStore): PeopleActions {
  return {
    /** `GET /v1/organizations/{orgId}/usage?days=N`: administrators of the org only. */
    orgUsage: {
      visibility: 'published',
      params: { orgId: p.id, days: { type: 'number', integer: true, min: 1, max: USAGE_MAX_DAYS, convert: true, optional: true, default: 7 } },
      async handler(ctx: Context<{ orgId: string; days: number }>) {
        const caller = callerOf(ctx);
        if (!isAdmin(caller)) throw forbidden('Only an administrator may read the usage of the organization.');
        if (ctx.params.orgId !== caller.orgId) throw forbidden('The usage of another organization is not yours to read.');
        const { days } = ctx.params;
        const { people, complete: allPeople } = await orgPeople(store, caller.orgId);
        const ids = people.map((person) => person.id);
        const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
        const since = new Date(today - (days - 1) * DAY).toISOString();
        const [presence, rooms, meetings] = await Promise.all([
          ctx.call<Presence, object>('presence.usageOf', { personIds: ids }),
          ctx.call<Rooms, object>('rooms.usageOf', { personIds: ids, since }),
          ctx.call<Meetings, object>('conferences.usageOf', { hostUserIds: ids, since }),
        ]);
        const messagesPerDay = Array.from({ length: days }, (_, i) => {
          const date = new Date(today - (days - 1 - i) * DAY).toISOString().slice(0, 10);
          return { date, messages: rooms.messagesPerDay[date] ?? 0 };
        });
        return {
          orgId: caller.orgId,
          generated: new Date().toISOString(),
          days,
          people: { total: people.length, persons: people.filter((person) => person.type === 'person').length, bots: people.filter((person) => person.type === 'bot').length },
          activePeople: { lastDay: presence.activeDay, last7Days: presence.activeWeek, last30Days: presence.activeMonth },
          rooms: { total: rooms.rooms, group: rooms.groupRooms, direct: rooms.directRooms },
          messagesPerDay,
          live: { sockets: presence.liveSockets, people: presence.peopleOnline },
          meetings: { held: meetings.meetings, minutes: meetings.meetingMinutes, participantMinutes: meetings.participantMinutes },
          complete: allPeople && rooms.complete && meetings.complete,
        };
      },
    },
  };
}
