// A room's meeting details (Webex `GET /v1/rooms/{roomId}/meetingInfo`), derived from the
// room's meetings in Squared. Webex gives every space a standing meeting, and clients ask for
// it to show the space's "Meet" link: so every Squared room has one too. "The room's meeting"
// is the one someone is in now, else the earliest one not yet started nor ended (one created
// with `POST /v1/meetings` and its roomId, or the standing one); a room with neither gets its
// standing meeting at the first ask, made by the member asking (its host, the meeting open
// before the host as Webex space meetings are) and titled as the room; once it has ended, the
// next ask makes the next one. Squared has no SIP or
// telephone bridge: `sipAddress`, `callInTollFreeNumber` and `callInTollNumber` are never
// given. The gateway adds `meetingLink` (the meeting page on the gateway the client talks to,
// like `webLink`).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'moleculer';
import { callerOf } from '../../contracts/caller.ts';
import { ApiError, conflict, notFound } from '../../contracts/errors.ts';
import { keyedUuid } from '../../contracts/idempotency.ts';
import { DuplicateMeetingError } from '../../storage/interfaces.ts';
import type { MeetingRecord } from '../../storage/records.ts';
import * as p from '../params.ts';
import type { ConferencesContext } from './conferences-context.ts';
import { newMeeting } from './meeting-actions.ts';

/** Standing meetings a room may start and end in one day before its members must create one. */
const MAX_STANDING_PER_DAY = 100;

export function roomMeetingInfoActions(cc: ConferencesContext) {
  const firstOf = async (roomId: string, state: MeetingRecord['state']) => (await cc.store.listMeetings({ roomId, state, max: 1 })).items[0];
  const current = async (roomId: string) => (await firstOf(roomId, 'inProgress')) ?? (await firstOf(roomId, 'active'));

  /**
   * The room's standing meeting of the day, made if it is not there. Its id is derived from
   * the room, the UTC day and how many of that day's have ended, so members asking at once
   * make the same meeting, which the store takes once: one standing meeting per room, however
   * many ask. (Two asking across midnight may make one each: both are the room's meetings,
   * and the next ask answers the earliest.)
   */
  async function standingMeeting(ctx: Context, roomId: string, title: string): Promise<MeetingRecord> {
    const day = new Date().toISOString().slice(0, 10);
    for (let ended = 0; ended < MAX_STANDING_PER_DAY; ended++) {
      const id = keyedUuid(roomId, 'standing-meeting', `${day}/${ended}`).replaceAll('-', '');
      const existing = await cc.store.getMeeting(id);
      if (existing?.state === 'ended') continue;
      if (existing) return existing;
      const meeting = await newMeeting(ctx, id, { title, roomId, enabledJoinBeforeHost: true });
      try {
        await cc.store.createMeeting(meeting);
        return meeting;
      } catch (err) {
        if (!(err instanceof DuplicateMeetingError)) throw err;
        // Another member's ask made it first: theirs is the room's. A read may not see a create
        // still committing (Cassandra's quorum read beside its lightweight transaction): the same
        // slot is read again, never the next one taken, which would make a second meeting.
        const made = await madeByAnother(id);
        if (made.state !== 'ended') return made;
      }
    }
    throw conflict('Too many meetings of this room ended today: create one with POST /v1/meetings.');
  }

  async function madeByAnother(id: string): Promise<MeetingRecord> {
    for (let tries = 0; ; tries++) {
      const made = await cc.store.getMeeting(id);
      if (made) return made;
      if (tries >= 20) throw new ApiError(503, 'The room\'s meeting is being made: try again.', 'SERVICE_UNAVAILABLE');
      await sleep(50);
    }
  }

  return {
    roomMeetingInfo: {
      visibility: 'published' as const,
      params: { roomId: p.id },
      async handler(ctx: Context<{ roomId: string }>) {
        const { roomId } = ctx.params;
        // Those who see the room, as the room itself: to others it does not exist.
        const caller = callerOf(ctx);
        let room: { title?: string };
        try {
          room = await ctx.call('rooms.get', { roomId }, { meta: { caller } });
        } catch (err) {
          throw err instanceof ApiError && err.code === 404 ? notFound('Room not found.') : err;
        }
        let meeting: Pick<MeetingRecord, 'id' | 'meetingNumber'> | undefined = await current(roomId);
        if (!meeting) {
          // Only a member makes the standing meeting (and hosts it): one who sees the room
          // without being in it (a team member, a compliance officer) may not act in it.
          const members = await ctx.call<string[], object>('rooms.membersAmong', { roomId, personIds: [caller.id] });
          if (!members.includes(caller.id)) throw notFound('The room has no meeting yet: a member\'s first ask makes it.');
          meeting = await standingMeeting(ctx, roomId, meetingTitle(room.title));
        }
        return { roomId, meetingNumber: meeting.meetingNumber, meetingId: meeting.id };
      },
    },
  };
}

/** A meeting title is 1 to 128 characters (the meetings' own limit); a room title may be longer or empty. */
function meetingTitle(roomTitle: string | undefined): string {
  let title = '';
  for (const char of (roomTitle ?? '').trim()) {
    if (title.length + char.length > 128) break;
    title += char;
  }
  return title.trim() || 'Room meeting';
}
