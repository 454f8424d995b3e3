// The Webex REST shapes of meetings and participants. `webLink` and `siteUrl` name the
// gateway the client talks to, so the gateway adds them (see gateway/routes/meeting-routes.ts).
import type { MeetingRecord, ParticipantRecord } from '../../storage/records.ts';

export function presentMeeting(m: MeetingRecord) {
  return {
    id: m.id,
    // Every Squared meeting is a series of one: it is its own series.
    meetingSeriesId: m.id,
    meetingNumber: m.meetingNumber,
    title: m.title,
    agenda: m.agenda,
    password: m.password,
    meetingType: 'meetingSeries',
    state: m.state,
    timezone: m.timezone,
    start: m.start,
    end: m.end,
    hostUserId: m.hostUserId,
    hostDisplayName: m.hostDisplayName,
    hostEmail: m.hostEmail,
    // Squared has no separate host key: the host is whoever signs in as the host.
    hostKey: '',
    roomId: m.roomId,
    enabledJoinBeforeHost: m.enabledJoinBeforeHost,
    enableAutomaticLock: false,
    scheduledType: 'meeting',
    // No telephone bridge: the meeting number is the access code, and there are no numbers.
    telephony: { accessCode: m.meetingNumber, callInNumbers: [] },
    enabledBreakoutSessions: false,
  };
}

export function presentParticipant(p: ParticipantRecord, m: MeetingRecord) {
  return {
    id: p.id,
    host: p.host,
    coHost: p.coHost,
    email: p.email,
    displayName: p.displayName,
    invitee: false,
    muted: p.muted,
    video: p.video,
    state: p.state,
    joinedTime: p.joinedTime,
    leftTime: p.leftTime,
    meetingId: m.id,
    hostEmail: m.hostEmail,
    meetingStartTime: m.start,
  };
}
