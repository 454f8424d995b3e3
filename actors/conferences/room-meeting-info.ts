// A room's meeting details (Webex `GET /v1/rooms/{roomId}/meetingInfo`), derived from the
// room's meetings in Squared. Webex gives every space one standing meeting; a Squared room has
// the meetings created for it (`POST /v1/meetings` with its roomId), so "the room's meeting"
// is the one someone is in now, else the earliest one not yet started nor ended. A room with
// neither has no meeting details (404). Squared has no SIP or telephone bridge: `sipAddress`,
// `callInTollFreeNumber` and `callInTollNumber` are never given. The gateway adds
// `meetingLink` (the meeting page on the gateway the client talks to, like `webLink`).
import type { Context } from 'moleculer';
import { notFound } from '../../contracts/errors.ts';
import type { MeetingRecord } from '../../storage/records.ts';
import * as p from '../params.ts';
import type { ConferencesContext } from './conferences-context.ts';

export function roomMeetingInfoActions(cc: ConferencesContext) {
  const firstOf = async (roomId: string, state: MeetingRecord['state']) => (await cc.store.listMeetings({ roomId, state, max: 1 })).items[0];
  return {
    roomMeetingInfo: {
      visibility: 'published' as const,
      params: { roomId: p.id },
      async handler(ctx: Context<{ roomId: string }>) {
        const { roomId } = ctx.params;
        // Members only, as the room itself: to others it does not exist.
        if (!(await cc.seesRoom(ctx, roomId))) throw notFound('Room not found.');
        const meeting = (await firstOf(roomId, 'inProgress')) ?? (await firstOf(roomId, 'active'));
        if (!meeting) throw notFound('The room has no meeting: create one with POST /v1/meetings and its roomId.');
        return { roomId, meetingNumber: meeting.meetingNumber, meetingId: meeting.id };
      },
    },
  };
}
