// What a meeting's owner publishes for participants waiting in the lobby (LiveMeeting):
// their own lobby view, only when it changed, never the roster; a last view for those who
// leave the lobby without being admitted; nothing once they are in (the gateway then
// fetches the meeting's whole state for them).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LiveMeeting } from '../../actors/conferences/live-meeting.ts';
import type { MeetingRecord, ParticipantRecord } from '../../storage/records.ts';

const MEETING = 'a'.repeat(32);
const meeting: MeetingRecord = {
  id: MEETING, meetingNumber: '2640000000', title: 'Board', agenda: 'secret agenda', password: 'pw-secret', start: '2030-01-01T10:00:00.000Z',
  end: '2030-01-01T11:00:00.000Z', timezone: 'UTC', hostUserId: 'host-person', hostEmail: 'host@example.com', hostDisplayName: 'Hedda Host',
  roomId: 'the-room', enabledJoinBeforeHost: false, state: 'inProgress', locked: false, mediaNodeId: 'media-1',
  created: '2030-01-01T09:00:00.000Z', lastModified: '2030-01-01T09:00:00.000Z', version: 1,
};
const participant = (n: number, personId: string, state: ParticipantRecord['state']): ParticipantRecord => ({
  id: `${MEETING}_${String(n).padStart(32, '0')}`, meetingId: MEETING, personId, email: `${personId}@example.com`, displayName: personId,
  host: personId === 'host-person', coHost: false, state, muted: false, video: 'off', handRaised: false, joinedTime: '2030-01-01T10:00:00.000Z',
  producers: [], mediaEpoch: 0,
});

test('a participant in the lobby is published its own view when it changes, and never the roster', () => {
  const host = participant(1, 'host-person', 'joined');
  const knocker = participant(2, 'knocker', 'lobby');
  const live = new LiveMeeting(meeting, [host, knocker]);
  const first = live.advance();
  const view = JSON.parse(first.lobby[knocker.id]);
  assert.deepEqual(view, {
    type: 'meeting.state', meetingId: MEETING, version: first.state.version,
    meeting: { id: MEETING, title: 'Board', state: 'inProgress', locked: false },
    participants: [{ id: knocker.id, personId: 'knocker', displayName: 'knocker', host: false, coHost: false, state: 'lobby', muted: false, video: 'off', handRaised: false, mediaEpoch: 0, producers: [], connected: true }],
    activeSpeaker: null,
  });
  for (const secret of ['host-person', 'Hedda Host', 'host@example.com', 'pw-secret', 'secret agenda', 'the-room']) {
    assert.ok(!first.lobby[knocker.id].includes(secret), `the lobby view shows ${secret}`);
  }
  assert.ok(!(host.id in first.lobby), 'a joined participant has no lobby view');

  live.participants.set(host.id, { ...host, handRaised: true });
  assert.equal(live.advance().lobby[knocker.id], '', 'a change the lobby does not show sends nothing');
  live.meeting = { ...live.meeting, locked: true };
  const locked = live.advance();
  assert.equal(JSON.parse(locked.lobby[knocker.id]).meeting.locked, true);
  assert.equal(JSON.parse(locked.lobby[knocker.id]).version, locked.state.version);
});

test('leaving the lobby: admitted, nothing more; turned away or ended, a last view without oneself', () => {
  const admitted = participant(3, 'admitted', 'lobby');
  const refused = participant(4, 'refused', 'lobby');
  const live = new LiveMeeting(meeting, [participant(1, 'host-person', 'joined'), admitted, refused]);
  live.advance();
  live.participants.set(admitted.id, { ...admitted, state: 'joined' });
  live.participants.delete(refused.id);
  const next = live.advance();
  assert.ok(!(admitted.id in next.lobby), 'the admitted one is sent the whole state instead');
  assert.deepEqual(JSON.parse(next.lobby[refused.id]).participants, []);
  assert.deepEqual(live.advance().lobby, {}, 'each is told once');
});

test('an actor that takes the meeting over tells those who leave the lobby, though it never showed them a view', () => {
  const knocker = participant(5, 'knocker', 'lobby');
  const live = new LiveMeeting(meeting, [participant(1, 'host-person', 'joined'), knocker]);
  live.participants.delete(knocker.id);
  live.meeting = { ...live.meeting, state: 'ended' };
  const last = JSON.parse(live.advance().lobby[knocker.id]);
  assert.equal(last.meeting.state, 'ended');
  assert.deepEqual(last.participants, []);
});

test('the lobby view of a join has version 0, which no delta follows', () => {
  const knocker = participant(6, 'knocker', 'lobby');
  const live = new LiveMeeting(meeting, [knocker]);
  live.advance();
  const view = live.lobbyState(knocker);
  assert.equal(view.version, 0);
  assert.deepEqual(view.participants.map((p) => p.id), [knocker.id]);
  assert.ok(!('hostUserId' in view.meeting));
});
