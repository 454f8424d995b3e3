// The Webex meetings resources: create, list, get, update (PUT and PATCH), delete.
// A meeting belongs to its host; a room meeting is also visible to whoever sees the room.
import { randomInt, randomUUID } from 'node:crypto';
import type { Context } from 'moleculer';
import { DuplicateMeetingError } from '../../storage/interfaces.ts';
import type { MeetingRecord, MeetingState } from '../../storage/records.ts';
import { callerOf } from '../../contracts/caller.ts';
import { badRequest, notFound } from '../../contracts/errors.ts';
import { keyedUuid, type IdempotentRequest } from '../../contracts/idempotency.ts';
import { idempotencyParam, keyedRequest, recordOf, replayOf } from '../idempotent-writes.ts';
import * as p from '../params.ts';
import type { ConferencesContext } from './conferences-context.ts';
import { placeMeeting } from './placement.ts';
import { presentMeeting } from './presenters.ts';
import { givenTimes, listingWindow, schedule } from './meeting-times.ts';
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

/** Every state a Webex listing may ask for; those Squared's meetings never have match nothing. */
const WEBEX_MEETING_STATES = ['active', 'scheduled', 'ready', 'lobby', 'inProgress', 'ended', 'missed', 'expired'];
/**
 * Webex's listing filters Squared does not act on (it has no webinars, recordings or polls):
 * declared so that a malformed one is a 400, as in Webex, rather than dropped unseen.
 */
const webexListingFilters = {
  meetingType: { type: 'enum', values: ['meetingSeries', 'scheduledMeeting', 'meeting'], optional: true },
  scheduledType: { type: 'enum', values: ['meeting', 'webinar', 'personalRoomMeeting'], optional: true },
  ...Object.fromEntries(['isModified', 'hasChat', 'hasRecording', 'hasTranscription', 'hasSummary', 'hasClosedCaption', 'hasPolls', 'hasQA', 'hasSlido', 'current']
    .map((name) => [name, p.flag])),
} as const;

interface Editable {
  title?: string;
  agenda?: string;
  password?: string;
  start?: string;
  end?: string;
  timezone?: string;
  enabledJoinBeforeHost?: boolean;
}

const newPassword = () => randomUUID().replaceAll('-', '').slice(0, 10);

/** A new meeting of the caller's, placed on a media node, not yet stored. */
export async function newMeeting(ctx: Context, id: string, input: Editable & { title: string; roomId?: string }, times = givenTimes(input)): Promise<MeetingRecord> {
  const caller = callerOf(ctx);
  const now = new Date().toISOString();
  return {
    id,
    meetingNumber: String(randomInt(1e9, 1e10)),
    title: input.title,
    agenda: input.agenda,
    password: input.password ?? newPassword(),
    ...schedule(times),
    hostUserId: caller.id,
    hostEmail: caller.email,
    hostDisplayName: caller.displayName,
    roomId: input.roomId,
    enabledJoinBeforeHost: input.enabledJoinBeforeHost ?? false,
    state: 'active',
    locked: false,
    mediaNodeId: await placeMeeting(ctx.broker),
    created: now,
    lastModified: now,
    version: 1,
  };
}

export function meetingActions(cc: ConferencesContext) {
  const update = async (ctx: Context<Editable & { meetingId: string }>) => {
    const { meetingId: _, ...input } = ctx.params;
    const times = givenTimes(input);
    return cc.withMeeting(ctx.params.meetingId, async (live) => {
      await cc.mustSee(ctx, live);
      cc.mustHost(ctx, live);
      const change: Partial<MeetingRecord> = { ...schedule(times, live.meeting) };
      if (input.title !== undefined) change.title = input.title;
      if (input.agenda !== undefined) change.agenda = input.agenda;
      if (input.password !== undefined) change.password = input.password;
      if (input.enabledJoinBeforeHost !== undefined) change.enabledJoinBeforeHost = input.enabledJoinBeforeHost;
      await cc.saveMeeting(live, change);
      if (live.participants.size > 0) cc.publish(live);
      return presentMeeting(live.meeting);
    });
  };

  return {
    create: {
      visibility: 'published' as const,
      params: { ...editable, start: optional(editable.start), end: optional(editable.end), roomId: p.optionalId, adhoc: p.flag, idempotency: idempotencyParam },
      async handler(ctx: Context<Editable & { title: string; roomId?: string; idempotency?: IdempotentRequest }>) {
        const caller = callerOf(ctx);
        const keyed = keyedRequest(caller.id, ctx.params.idempotency);
        // A keyed create names its meeting after the key: a retry, even racing the original
        // on another node, makes the same id, which the store takes once.
        let id = keyed ? keyedUuid(caller.id, 'meeting', keyed.key).replaceAll('-', '') : randomUUID().replaceAll('-', '');
        // The meeting first, then its record: both are written at once, so a meeting seen
        // without a record has outlived it (24 h), and the reused key is a new request.
        if (keyed && (await cc.store.getMeeting(id))) {
          const record = await cc.store.getMeetingIdempotency(id);
          if (record) return replayOf(record, keyed);
          id = randomUUID().replaceAll('-', '');
        }
        const times = givenTimes(ctx.params);
        if (ctx.params.roomId && !(await cc.seesRoom(ctx, ctx.params.roomId))) throw notFound('Room not found.');
        const meeting = await newMeeting(ctx, id, ctx.params, times);
        const answer = presentMeeting(meeting);
        try {
          await cc.store.createMeeting(meeting, keyed && recordOf(keyed, answer, meeting.created));
        } catch (err) {
          if (!(err instanceof DuplicateMeetingError)) throw err;
          // A keyed retry that raced its original: the original's answer (or a 422).
          const record = keyed && (await cc.store.getMeetingIdempotency(id));
          if (record) return replayOf(record, keyed);
          throw badRequest('Please try again.');
        }
        return answer;
      },
    },

    list: {
      visibility: 'published' as const,
      params: {
        roomId: p.optionalId, state: { type: 'enum', values: WEBEX_MEETING_STATES, optional: true }, max: p.max(10, 100), cursor: p.cursor,
        from: optional(editable.start), to: optional(editable.start),
        ...webexListingFilters,
      },
      async handler(ctx: Context<{ roomId?: string; state?: MeetingState; max: number; cursor?: string; from?: string; to?: string }>) {
        const { roomId, state, max, cursor } = ctx.params;
        const { from, to } = listingWindow(ctx.params);
        if (roomId && !(await cc.seesRoom(ctx, roomId))) throw notFound('Room not found.');
        const page = await cc.store.listMeetings({ ...(roomId ? { roomId } : { hostUserId: callerOf(ctx).id }), state, startFrom: from, max, after: cursor });
        // Meetings come in start order: past `to`, nothing later is in the window, and there is no next page.
        const items = to ? page.items.filter((m) => m.start < to) : page.items;
        return { items: items.map(presentMeeting), next: items.length < page.items.length ? undefined : page.next };
      },
    },

    get: {
      visibility: 'published' as const,
      params: { meetingId: p.id, current: p.flag },
      handler: (ctx: Context<{ meetingId: string }>) =>
        cc.withMeeting(ctx.params.meetingId, async (live) => {
          await cc.mustSee(ctx, live);
          return presentMeeting(live.meeting);
        }),
    },

    /** PUT: the whole editable set; title, start and end are required, as in Webex. */
    update: { visibility: 'published' as const, params: { meetingId: p.id, ...editable }, handler: update },

    /** PATCH: only what is given changes. */
    patch: {
      visibility: 'published' as const,
      params: { meetingId: p.id, ...editable, title: optional(editable.title), start: optional(editable.start), end: optional(editable.end) },
      handler: update,
    },

    /** Deleting a meeting in progress ends it for everyone first. */
    remove: {
      visibility: 'published' as const,
      params: { meetingId: p.id, sendEmail: p.flag },
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
