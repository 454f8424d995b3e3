// The webhook events of meetings, from the changes the conferences actor stores: a meeting
// `started` (someone is in it) and `ended`, a participant `joined` (past any lobby) and
// `left`. They go to the host's webhooks (the audience); `data` carries the ids and the small
// fields Webex puts there, never the agenda or the password.
import type { ResourceEvent } from '../../contracts/resource-events.ts';
import type { MeetingRecord, ParticipantRecord } from '../../storage/records.ts';

export function meetingEvent(before: MeetingRecord, after: MeetingRecord, actorId: string): ResourceEvent | undefined {
  const event = after.state === 'inProgress' && before.state !== 'inProgress' ? 'started' : after.state === 'ended' && before.state !== 'ended' ? 'ended' : undefined;
  if (!event) return undefined;
  return {
    resource: 'meetings', event, actorId, audience: [after.hostUserId], created: after.lastModified,
    data: {
      id: after.id, meetingNumber: after.meetingNumber, title: after.title, start: after.start, end: after.end, timezone: after.timezone,
      hostUserId: after.hostUserId, hostEmail: after.hostEmail, hostDisplayName: after.hostDisplayName, state: after.state,
      meetingType: 'meeting', ...(after.roomId ? { roomId: after.roomId } : {}),
    },
  };
}

export function participantEvent(meeting: MeetingRecord, before: ParticipantRecord | undefined, after: ParticipantRecord): ResourceEvent | undefined {
  const joined = after.state === 'joined' && before?.state !== 'joined';
  const left = after.state === 'end' && before?.state === 'joined';
  if (!joined && !left) return undefined;
  return {
    resource: 'meetingParticipants', event: joined ? 'joined' : 'left', actorId: after.personId, audience: [meeting.hostUserId],
    created: (left ? after.leftTime : after.joinedTime) ?? new Date().toISOString(),
    data: {
      id: after.id, meetingId: meeting.id, hostEmail: meeting.hostEmail, host: after.host, coHost: after.coHost, email: after.email,
      displayName: after.displayName, state: after.state, muted: after.muted, video: after.video, joinedTime: after.joinedTime,
      ...(after.leftTime ? { leftTime: after.leftTime } : {}),
    },
  };
}
