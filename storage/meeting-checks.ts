// What both ConferenceStore adapters enforce on an update, so that a caller that breaks a
// rule fails the same way on either: Cassandra derives write timestamps from versions
// (an update moves the version by exactly one) and keys its listings by host and room
// (a meeting never moves between them).
import type { MeetingRecord } from './records.ts';

export function assertNextVersion(meeting: MeetingRecord, expectedVersion: number): void {
  if (meeting.version !== expectedVersion + 1) {
    throw new Error(`meeting ${meeting.id}: an update from version ${expectedVersion} must carry version ${expectedVersion + 1}, not ${meeting.version}`);
  }
}

export function assertSameOwners(stored: MeetingRecord, meeting: MeetingRecord): void {
  if (stored.hostUserId !== meeting.hostUserId || stored.roomId !== meeting.roomId) {
    throw new Error(`meeting ${meeting.id}: its host and room never change`);
  }
}
