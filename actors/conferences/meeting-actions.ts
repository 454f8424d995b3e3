// The Webex meetings resources: create, list, get, update (PUT and PATCH), delete.
// A meeting belongs to its host; a room meeting is also visible to whoever sees the room.
import { randomInt, randomUUID } from 'node:crypto';
import type { Context } from 'moleculer';
import { DuplicateMeetingError } from '../../storage/interfaces.ts';
import type { MeetingRecord, MeetingState } from '../../storage/records.ts';
import { callerOf } from '../../contracts/caller.ts';
import { badRequest, notFound } from '../../contracts/errors.ts';
import * as p from '../params.ts';
import type { ConferencesContext } from './conferences-context.ts';
import { placeMeeting } from './placement.ts';
import { presentMeeting } from './presenters.ts';
import { endMeeting } from './roster.ts';

const editable = {
  title: { type: 'string', min: 1, max: 128, trim: true },
  agenda: p.text(1300),
  password: { type: 'string', min: 1, max: 64, optional: true },
  start: { type: 'string', max: 64 },
  end: { type: 'string', max: 64 },
  timezone: { type: 'string', min: 1, max: 64, optional: true },
  enabledJoinBeforeHost: p.flag,
} as const;
const optional = <T extends object>(schema: T) => ({ ...schema, optional: true }) as const;

interface Editable {
  title?: string;
  agenda?: string;
  password?: string;
  start?: string;
  end?: string;
  timezone?: string;
  enabledJoinBeforeHost?: boolean;
}

const HOUR = 3_600_000;

/** Checks and normalizes times and zone; start must come before end. */
function schedule(input: Editable, current?: MeetingRecord): Pick<MeetingRecord, 'start' | 'end' | 'timezone'> {
  const time = (value: string | undefined, field: string, fallback: string) => {
    if (value === undefined) return fallback;
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw badRequest(`${field} must be an ISO 8601 date and time.`);
    return new Date(ms).toISOString();
  };
  const now = Date.now();
  const start = time(input.start, 'start', current?.start ?? new Date(now).toISOString());
  const end = time(input.end, 'end', current?.end ?? new Date(Date.parse(start) + HOUR).toISOString());
  if (Date.parse(end) <= Date.parse(start)) throw badRequest('end must be after start.');
  const timezone = input.timezone ?? current?.timezone ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw badRequest(`${timezone} is not an IANA time zone.`);
  }
  return { start, end, timezone };
}

const newPassword = () => randomUUID().replaceAll('-', '').slice(0, 10);

export function meetingActions(cc: ConferencesContext) {
  const update = async (ctx: Context<Editable & { meetingId: string }>) =>
    cc.withMeeting(ctx.params.meetingId, async (live) => {
      await cc.mustSee(ctx, live);
      cc.mustHost(ctx, live);
      const { meetingId: _, ...input } = ctx.params;
      const change: Partial<MeetingRecord> = { ...schedule(input, live.meeting) };
      if (input.title !== undefined) change.title = input.title;
      if (input.agenda !== undefined) change.agenda = input.agenda;
      if (input.password !== undefined) change.password = input.password;
      if (input.enabledJoinBeforeHost !== undefined) change.enabledJoinBeforeHost = input.enabledJoinBeforeHost;
      await cc.saveMeeting(live, change);
      if (live.participants.size > 0) cc.publish(live);
      return presentMeeting(live.meeting);
    });

  return {
    create: {
      params: { ...editable, start: optional(editable.start), end: optional(editable.end), roomId: p.optionalId, adhoc: p.flag },
      async handler(ctx: Context<Editable & { title: string; roomId?: string }>) {
        const caller = callerOf(ctx);
        if (ctx.params.roomId && !(await cc.seesRoom(ctx, ctx.params.roomId))) throw notFound('Room not found.');
        const now = new Date().toISOString();
        const meeting: MeetingRecord = {
          id: randomUUID().replaceAll('-', ''),
          meetingNumber: String(randomInt(1e9, 1e10)),
          title: ctx.params.title,
          agenda: ctx.params.agenda,
          password: ctx.params.password ?? newPassword(),
          ...schedule(ctx.params),
          hostUserId: caller.id,
          hostEmail: caller.email,
          hostDisplayName: caller.displayName,
          roomId: ctx.params.roomId,
          enabledJoinBeforeHost: ctx.params.enabledJoinBeforeHost ?? false,
          state: 'active',
          locked: false,
          mediaNodeId: await placeMeeting(ctx.broker),
          created: now,
          lastModified: now,
          version: 1,
        };
        try {
          await cc.store.createMeeting(meeting);
        } catch (err) {
          if (err instanceof DuplicateMeetingError) throw badRequest('Please try again.');
          throw err;
        }
        return presentMeeting(meeting);
      },
    },

    list: {
      params: { roomId: p.optionalId, state: { type: 'enum', values: ['active', 'inProgress', 'ended'], optional: true }, max: p.max(10, 100), cursor: p.cursor },
      async handler(ctx: Context<{ roomId?: string; state?: MeetingState; max: number; cursor?: string }>) {
        const { roomId, state, max, cursor } = ctx.params;
        if (roomId && !(await cc.seesRoom(ctx, roomId))) throw notFound('Room not found.');
        const page = await cc.store.listMeetings({ ...(roomId ? { roomId } : { hostUserId: callerOf(ctx).id }), state, max, after: cursor });
        return { items: page.items.map(presentMeeting), next: page.next };
      },
    },

    get: {
      params: { meetingId: p.id },
      handler: (ctx: Context<{ meetingId: string }>) =>
        cc.withMeeting(ctx.params.meetingId, async (live) => {
          await cc.mustSee(ctx, live);
          return presentMeeting(live.meeting);
        }),
    },

    /** PUT: the whole editable set; title, start and end are required, as in Webex. */
    update: { params: { meetingId: p.id, ...editable }, handler: update },

    /** PATCH: only what is given changes. */
    patch: {
      params: { meetingId: p.id, ...editable, title: optional(editable.title), start: optional(editable.start), end: optional(editable.end) },
      handler: update,
    },

    /** Deleting a meeting in progress ends it for everyone first. */
    remove: {
      params: { meetingId: p.id },
      handler: (ctx: Context<{ meetingId: string }>) =>
        cc.withMeeting(ctx.params.meetingId, async (live) => {
          await cc.mustSee(ctx, live);
          cc.mustHost(ctx, live);
          await endMeeting(cc, ctx, live);
          cc.publish(live);
          await cc.store.deleteMeeting(live.meeting.id);
          cc.forget(live.meeting.id);
          return null;
        }),
    },
  };
}
