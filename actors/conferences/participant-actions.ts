// The Webex meetingParticipants resources: list, get, query by email, update (mute,
// unmute, admit, expel) and admit. Participants are listed to the meeting's hosts; a
// person may also read their own participant records.
import type { Context } from 'moleculer';
import type { ParticipantRecord } from '../../storage/records.ts';
import { callerOf } from '../../contracts/caller.ts';
import { badRequest, forbidden, notFound } from '../../contracts/errors.ts';
import * as p from '../params.ts';
import type { ConferencesContext } from './conferences-context.ts';
import type { LiveMeeting } from './live-meeting.ts';
import { meetingOf } from '../../contracts/participant-ids.ts';
import { presentParticipant } from './presenters.ts';
import { admit, depart, mute } from './roster.ts';

const PARTICIPANT_ID = /^[0-9a-f]{32}_[0-9a-f]{32}$/;

export function participantActions(cc: ConferencesContext) {
  /** The participant, from the live meeting or (once it left) from the store. */
  const find = async (live: LiveMeeting, participantId: string): Promise<ParticipantRecord> => {
    const found = PARTICIPANT_ID.test(participantId) ? live.participants.get(participantId) ?? (await cc.store.getParticipant(participantId)) : undefined;
    if (!found || found.meetingId !== live.meeting.id) throw notFound('Participant not found.');
    return found;
  };
  const mustSeeAsHost = async (ctx: Context, live: LiveMeeting) => {
    await cc.mustSee(ctx, live);
    cc.mustHost(ctx, live);
  };
  const page = (items: ParticipantRecord[], live: LiveMeeting, max: number, cursor?: string) => {
    const from = cursor ? Number.parseInt(cursor, 10) || 0 : 0;
    const slice = items.slice(from, from + max);
    return { items: slice.map((x) => presentParticipant(x, live.meeting)), next: from + max < items.length ? String(from + max) : undefined };
  };

  return {
    listParticipants: {
      visibility: 'published' as const,
      params: { meetingId: p.id, max: p.max(100, 100), cursor: p.cursor },
      handler: (ctx: Context<{ meetingId: string; max: number; cursor?: string }>) =>
        cc.withMeeting(ctx.params.meetingId, async (live) => {
          await mustSeeAsHost(ctx, live);
          return page(await cc.store.listParticipants(live.meeting.id), live, ctx.params.max, ctx.params.cursor);
        }),
    },

    queryParticipants: {
      visibility: 'published' as const,
      params: { meetingId: p.id, emails: { type: 'array', items: p.email, min: 1, max: 100 }, max: p.max(100, 100), cursor: p.cursor },
      handler: (ctx: Context<{ meetingId: string; emails: string[]; max: number; cursor?: string }>) =>
        cc.withMeeting(ctx.params.meetingId, async (live) => {
          await mustSeeAsHost(ctx, live);
          const emails = new Set(ctx.params.emails.map((e) => e.toLowerCase()));
          const all = await cc.store.listParticipants(live.meeting.id);
          return page(all.filter((x) => emails.has(x.email.toLowerCase())), live, ctx.params.max, ctx.params.cursor);
        }),
    },

    getParticipant: {
      visibility: 'published' as const,
      params: { participantId: p.id },
      handler: (ctx: Context<{ participantId: string }>) =>
        cc.withMeeting(meetingOf(ctx.params.participantId), async (live) => {
          await cc.mustSee(ctx, live);
          const participant = await find(live, ctx.params.participantId);
          if (participant.personId !== callerOf(ctx).id && !cc.isHost(callerOf(ctx), live)) throw notFound('Participant not found.');
          return presentParticipant(participant, live.meeting);
        }),
    },

    /**
     * A host mutes (the audio producers are paused on the media node), admits from the
     * lobby, or expels. Unmuting is the participant's own act (resuming their audio), so
     * `muted: false` from a host lifts the mute flag but does not open a microphone.
     */
    updateParticipant: {
      visibility: 'published' as const,
      params: { participantId: p.id, muted: p.flag, admit: p.flag, expel: p.flag },
      handler: (ctx: Context<{ participantId: string; muted?: boolean; admit?: boolean; expel?: boolean }>) =>
        cc.withMeeting(meetingOf(ctx.params.participantId), async (live) => {
          await mustSeeAsHost(ctx, live);
          let participant = await find(live, ctx.params.participantId);
          const { muted, admit: admitting, expel } = ctx.params;
          if (muted === undefined && !admitting && !expel) throw badRequest('Give muted, admit or expel.');
          if (participant.state === 'end') throw badRequest('The participant has left the meeting.');
          if (expel) {
            if (participant.personId === live.meeting.hostUserId) throw forbidden('The host cannot be expelled.');
            await depart(cc, ctx, live, participant);
          } else {
            if (admitting) await admit(cc, ctx, live, participant);
            participant = live.participants.get(participant.id)!;
            if (muted === true) await mute(cc, ctx, live, participant);
            if (muted === false) await cc.saveParticipant(live, { ...participant, muted: false });
          }
          cc.publish(live);
          return presentParticipant(live.participants.get(participant.id) ?? (await find(live, participant.id)), live.meeting);
        }),
    },

    /** Admits participants of one meeting (the gateway groups a request's items by meeting). */
    admit: {
      visibility: 'published' as const,
      params: { meetingId: p.id, participantIds: { type: 'array', min: 1, max: 100, items: p.id } },
      handler: (ctx: Context<{ meetingId: string; participantIds: string[] }>) =>
        cc.withMeeting(ctx.params.meetingId, async (live) => {
          await mustSeeAsHost(ctx, live);
          for (const id of ctx.params.participantIds) {
            const participant = await find(live, id);
            if (participant.state === 'lobby') await admit(cc, ctx, live, participant);
          }
          cc.publish(live);
          return null;
        }),
    },
  };
}
