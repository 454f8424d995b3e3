// What the operators' console (`meetings`, cluster/repl-commands/) reads of the meetings
// this actor runs: each meeting it owns that has people in it, its media node and its
// participants, from the store. Internal and read-only (visibility 'public'): no client
// route names it, and it loads nothing into the live meetings it reports on.
import type { Context } from 'moleculer';
import type { ConferencesContext } from './conferences-context.ts';

export function operatorActions(cc: ConferencesContext) {
  return {
    operatorMeetings: {
      visibility: 'public' as const,
      async handler(ctx: Context) {
        const meetings = [];
        for (const meetingId of cc.occupiedMeetings()) {
          // After ownership moved, the new owner reports the meeting; this node does not.
          if (!cc.owns(ctx.broker, meetingId)) continue;
          const meeting = await cc.store.getMeeting(meetingId);
          if (!meeting) continue;
          const participants = (await cc.store.listParticipants(meetingId)).filter((p) => p.state !== 'end');
          if (participants.length === 0) continue;
          meetings.push({
            id: meeting.id, title: meeting.title, state: meeting.state, roomId: meeting.roomId, mediaNodeId: meeting.mediaNodeId,
            participants: participants.map((p) => ({
              id: p.id, personId: p.personId, displayName: p.displayName, email: p.email, state: p.state, host: p.host,
              mediaNodeId: p.mediaNodeId ?? meeting.mediaNodeId, gatewayNodeId: p.gatewayNodeId, connected: p.detachedAt === undefined,
            })),
          });
        }
        return meetings;
      },
    },
  };
}
