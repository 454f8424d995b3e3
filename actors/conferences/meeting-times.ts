// The dates and times of meetings as clients give them: a meeting's start and end, and the
// from/to window of a listing. Each is checked at the edge, before any other work, to be an
// ISO 8601 date and time of the years 1970–9999; a schedule's end comes after its start and
// at most 23 hours 59 minutes later, Webex's own bound. Anything else is a 400, never a 500.
import { badRequest } from '../../contracts/errors.ts';
import type { MeetingRecord } from '../../storage/records.ts';

const HOUR = 3_600_000;
/** The longest meeting a schedule may hold: Webex's limit (23 hours 59 minutes). */
export const MAX_MEETING_MS = 24 * HOUR - 60_000;
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(10_000, 0, 1) - 1;
/**
 * ISO 8601 as Webex takes it: a date, optionally a time (minutes, seconds, fractions; after
 * a `T`, or a space as in Webex's own examples) and an offset. A four-digit year only: expanded years (`+275760-…`) are past any meeting.
 */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/;

/** The instant a client named (ms since the epoch), or a 400 that says what is allowed. */
export function instantOf(value: string, field: string): number {
  const ms = ISO_8601.test(value) && isCalendarDate(value) ? Date.parse(value) : Number.NaN;
  if (!(ms >= EARLIEST && ms <= LATEST)) throw badRequest(`${field} must be an ISO 8601 date and time between 1970 and 9999.`);
  return ms;
}

/** Whether the date part names a day that exists (Date.parse rolls 2030-02-31 over to March). */
function isCalendarDate(value: string): boolean {
  const [year, month, day] = value.slice(0, 10).split('-').map(Number);
  return month >= 1 && month <= 12 && day >= 1 && new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day;
}

export interface TimesInput {
  start?: string;
  end?: string;
  timezone?: string;
}

/** The times a request gives, each checked on its own (the schedule as a whole: see schedule). */
export interface GivenTimes {
  start?: number;
  end?: number;
  timezone?: string;
}

/** Checks the dates and the zone of a request, before the meeting is even read. */
export function givenTimes(input: TimesInput): GivenTimes {
  const timezone = input.timezone;
  if (timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: timezone });
    } catch {
      throw badRequest(`${timezone} is not an IANA time zone.`);
    }
  }
  return {
    start: input.start === undefined ? undefined : instantOf(input.start, 'start'),
    end: input.end === undefined ? undefined : instantOf(input.end, 'end'),
    timezone,
  };
}

/**
 * The schedule a meeting gets: what is given, else what it had, else from now for an hour.
 * A new start or end must leave the end after the start, within MAX_MEETING_MS.
 */
export function schedule(given: GivenTimes, current?: MeetingRecord): Pick<MeetingRecord, 'start' | 'end' | 'timezone'> {
  const timezone = given.timezone ?? current?.timezone ?? 'UTC';
  if (current && given.start === undefined && given.end === undefined) return { start: current.start, end: current.end, timezone };
  const start = given.start ?? (current ? Date.parse(current.start) : Date.now());
  const end = given.end ?? (current ? Date.parse(current.end) : start + HOUR);
  if (end <= start) throw badRequest('end must be after start.');
  if (end - start > MAX_MEETING_MS) throw badRequest('A meeting lasts at most 23 hours 59 minutes: end must be within that of start.');
  if (end > LATEST) throw badRequest('end must be before the year 10000.');
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString(), timezone };
}

/** A listing's window: meetings that start from `from` (inclusive) to `to` (exclusive), as ISO strings. */
export function listingWindow(input: { from?: string; to?: string }): { from?: string; to?: string } {
  const from = input.from === undefined ? undefined : instantOf(input.from, 'from');
  const to = input.to === undefined ? undefined : instantOf(input.to, 'to');
  if (from !== undefined && to !== undefined && from > to) throw badRequest('from cannot be after to.');
  return { from: from === undefined ? undefined : new Date(from).toISOString(), to: to === undefined ? undefined : new Date(to).toISOString() };
}
