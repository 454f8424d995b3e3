// What the org usage figures need of conferences (docs/admin.md): of the meetings some people
// host that start since a day, those held (someone joined), their minutes (first join to last
// leave, or now) and their participants' minutes. Internal and read-only. Bounded: at most
// USAGE_MAX_MEETINGS meetings are read, each with its participants; past it `complete: false`.
import type { Context, ServiceSchema } from 'moleculer';
import { mapLimit } from '../../contracts/map-limit.ts';
import { USAGE_MAX_MEETINGS, USAGE_MAX_PEOPLE } from '../../contracts/org-usage.ts';
import type { MeetingRecord } from '../../storage/records.ts';
import * as p from '../params.ts';
import type { ConferencesContext } from './conferences-context.ts';

const MINUTE = 60_000;

export function usageActions(cc: ConferencesContext): NonNullable<ServiceSchema['actions']> {
  const { store } = cc;
  return {
    usageOf: {
      visibility: 'public',
      params: { hostUserIds: { type: 'array', items: p.id, max: USAGE_MAX_PEOPLE }, since: { type: 'string', max: 40 } },
      async handler(ctx: Context<{ hostUserIds: string[]; since: string }>) {
        const meetings: MeetingRecord[] = [];
        let complete = true;
        hosts: for (const hostUserId of ctx.params.hostUserIds) {
          let after: string | undefined;
          do {
            if (meetings.length >= USAGE_MAX_MEETINGS) {
              complete = false;
              break hosts;
            }
            const page = await store.listMeetings({ hostUserId, startFrom: ctx.params.since, max: Math.min(100, USAGE_MAX_MEETINGS - meetings.length), after });
            meetings.push(...page.items);
            after = page.next;
          } while (after);
        }
        const now = Date.now();
        let held = 0;
        let meetingMs = 0;
        let participantMs = 0;
        await mapLimit(meetings, 8, async (meeting) => {
          const joined = (await store.listParticipants(meeting.id)).filter((participant) => participant.state !== 'lobby');
          if (joined.length === 0) return;
          held += 1;
          const spans = joined.map((participant) => [Date.parse(participant.joinedTime), participant.leftTime ? Date.parse(participant.leftTime) : now]);
          meetingMs += Math.max(...spans.map(([, end]) => end)) - Math.min(...spans.map(([start]) => start));
          for (const [start, end] of spans) participantMs += Math.max(0, end - start);
        });
        return { meetings: held, meetingMinutes: Math.round(meetingMs / MINUTE), participantMinutes: Math.round(participantMs / MINUTE), complete };
      },
    },
  };
}
