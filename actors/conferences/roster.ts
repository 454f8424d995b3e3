// Who is in a meeting and how they got there: entering (to the meeting or its lobby),
// admission, departure, host mute, the end. Each function changes the live meeting, its
// store and its media node; the caller publishes the new state once it is done.
import { randomUUID } from 'node:crypto';
import type { Context } from 'moleculer';
import type { ParticipantRecord } from '../../storage/records.ts';
import type { Caller } from '../../contracts/caller.ts';
import { ApiError, conflict } from '../../contracts/errors.ts';
import type { ConferencesContext } from './conferences-context.ts';
import type { LiveMeeting } from './live-meeting.ts';
import { nodeForParticipant, placeMeeting } from './placement.ts';

export interface Entry {
  caller: Caller;
  sessionId: string;
  gatewayNodeId: string;
  rtpCapabilities?: object;
}

/** Places the participant's media on a node (see nodeForParticipant) and joins them there. */
async function joinMedia(cc: ConferencesContext, ctx: Context, live: LiveMeeting, participantId: string, rtpCapabilities?: object, exclude: string[] = []): Promise<string> {
  const node = await nodeForParticipant(ctx.broker, live, cc.participantsPerNode, exclude);
  await cc.media(ctx, live, 'open', {}, node);
  await cc.media(ctx, live, 'join', { participantId, rtpCapabilities }, node);
  return node;
}

/**
 * A person enters: hosts and co-hosts join at once; others join unless the meeting is
 * locked, its host is absent and joining before the host is off, or (for a room meeting)
 * they cannot see the room; then they wait in the lobby.
 */
export async function enter(cc: ConferencesContext, ctx: Context, live: LiveMeeting, entry: Entry): Promise<ParticipantRecord> {
  const m = live.meeting;
  if (m.state === 'ended') throw new ApiError(409, 'The meeting has ended.', 'MEETING_ENDED');
  if (live.ofSession(entry.sessionId)) throw conflict('This live session has already joined the meeting.');
  const host = entry.caller.id === m.hostUserId;
  let lobby: 'locked' | 'host' | 'stranger' | undefined;
  if (!host) {
    if (m.locked) lobby = 'locked';
    else if (m.roomId && !(await cc.seesRoom(ctx, m.roomId))) lobby = 'stranger';
    else if (!m.enabledJoinBeforeHost && !live.hostPresent()) lobby = 'host';
  }
  const participant: ParticipantRecord = {
    id: `${m.id}_${randomUUID().replaceAll('-', '')}`,
    meetingId: m.id,
    personId: entry.caller.id,
    email: entry.caller.email,
    displayName: entry.caller.displayName,
    host,
    coHost: false,
    state: lobby ? 'lobby' : 'joined',
    muted: false,
    video: 'off',
    handRaised: false,
    joinedTime: new Date().toISOString(),
    gatewayNodeId: entry.gatewayNodeId,
    sessionId: entry.sessionId,
    producers: [],
    mediaEpoch: 0,
  };
  if (!lobby) participant.mediaNodeId = await joinMedia(cc, ctx, live, participant.id, entry.rtpCapabilities);
  await cc.saveParticipant(live, participant);
  if (lobby === 'host') live.waitingForHost.add(participant.id);
  if (!lobby && m.state !== 'inProgress') await cc.saveMeeting(live, { state: 'inProgress' });
  if (host) {
    // Those who waited only for the host come in with them.
    for (const id of [...live.waitingForHost]) {
      const waiting = live.participants.get(id);
      if (waiting?.state === 'lobby' && !m.locked) await admit(cc, ctx, live, waiting);
    }
  }
  return participant;
}

export async function admit(cc: ConferencesContext, ctx: Context, live: LiveMeeting, participant: ParticipantRecord): Promise<void> {
  live.waitingForHost.delete(participant.id);
  if (participant.state !== 'lobby') return;
  const mediaNodeId = await joinMedia(cc, ctx, live, participant.id);
  await cc.saveParticipant(live, { ...participant, state: 'joined', mediaNodeId });
  if (live.meeting.state !== 'inProgress') await cc.saveMeeting(live, { state: 'inProgress' });
}

/** A participant leaves (or is expelled): everything they own on the media node is closed. */
export async function depart(cc: ConferencesContext, ctx: Context, live: LiveMeeting, participant: ParticipantRecord): Promise<void> {
  live.waitingForHost.delete(participant.id);
  if (participant.state === 'joined') {
    // A media node that is gone has closed everything already.
    await cc.mediaOf(ctx, live, participant, 'leave', {}).catch((err: unknown) => {
      if (!(err instanceof ApiError && err.code === 503)) throw err;
    });
  }
  await cc.saveParticipant(live, { ...participant, state: 'end', leftTime: new Date().toISOString(), producers: [], handRaised: false });
  if (live.activeSpeaker === participant.id) live.activeSpeaker = null;
  // The last one out: the meeting can be started again.
  if (live.meeting.state === 'inProgress' && live.joined().length === 0) await cc.saveMeeting(live, { state: 'active' });
}

/**
 * The participant's live session went away without leaving (its socket closed, its gateway
 * was lost): they keep their place and their media for the reconnect grace, and a session
 * that joins with their participant id takes them back (reattach). With no grace they leave.
 */
export async function detach(cc: ConferencesContext, ctx: Context, live: LiveMeeting, participant: ParticipantRecord): Promise<void> {
  if (cc.reconnectGraceMs === 0) return depart(cc, ctx, live, participant);
  const { sessionId: _session, gatewayNodeId: _gateway, ...kept } = participant;
  const detached = { ...kept, detachedAt: new Date().toISOString() };
  await cc.saveParticipant(live, detached);
  cc.startGrace(detached);
}

/** A session of the same person takes a participant back: a detached one, or one whose old session has not noticed it is gone. */
export async function reattach(cc: ConferencesContext, live: LiveMeeting, participant: ParticipantRecord, entry: Entry): Promise<ParticipantRecord> {
  const { detachedAt: _detached, ...kept } = participant;
  const back = { ...kept, sessionId: entry.sessionId, gatewayNodeId: entry.gatewayNodeId };
  await cc.saveParticipant(live, back);
  cc.cancelGrace(participant.id);
  return back;
}

/** A host's mute: the participant's audio producers are paused on the media node. */
export async function mute(cc: ConferencesContext, ctx: Context, live: LiveMeeting, participant: ParticipantRecord): Promise<void> {
  if (participant.state === 'joined') {
    const { producerIds } = await cc.mediaOf<{ producerIds: string[] }>(ctx, live, participant, 'muteAudio', {});
    const producers = participant.producers.map((pr) => (producerIds.includes(pr.id) ? { ...pr, paused: true } : pr));
    await cc.saveParticipant(live, { ...participant, muted: true, producers });
  } else {
    await cc.saveParticipant(live, { ...participant, muted: true });
  }
}

/** Ends the meeting for everyone: all leave, the media node closes the meeting. */
export async function endMeeting(cc: ConferencesContext, ctx: Context, live: LiveMeeting): Promise<void> {
  const leftTime = new Date().toISOString();
  const nodes = cc.nodesOf(live);
  for (const participant of [...live.participants.values()]) {
    await cc.saveParticipant(live, { ...participant, state: 'end', leftTime, producers: [], handRaised: false });
  }
  live.waitingForHost.clear();
  live.activeSpeaker = null;
  for (const node of nodes) {
    await cc.media(ctx, live, 'close', {}, node).catch((err: unknown) => {
      if (!(err instanceof ApiError && err.code === 503)) throw err;
    });
  }
  if (live.meeting.state !== 'ended') await cc.saveMeeting(live, { state: 'ended' });
}

/**
 * A media node of the meeting is gone: the participants whose media were there join again
 * on other nodes (the meeting's home moves first if it was the one), and their mediaEpoch
 * grows, so their clients set their media up again (once the caller publishes the state).
 */
export async function relocate(cc: ConferencesContext, ctx: Context, live: LiveMeeting, deadNodeId: string): Promise<void> {
  const affected = live.joined().filter((p) => cc.nodeOf(live, p) === deadNodeId);
  if (live.meeting.mediaNodeId === deadNodeId) await cc.saveMeeting(live, { mediaNodeId: await placeMeeting(ctx.broker, [deadNodeId]) });
  for (const participant of affected) {
    const mediaNodeId = await joinMedia(cc, ctx, live, participant.id, undefined, [deadNodeId]);
    await cc.saveParticipant(live, { ...participant, mediaNodeId, producers: [], mediaEpoch: participant.mediaEpoch + 1 });
  }
  live.activeSpeaker = null;
  ctx.service?.logger.warn({ meetingId: live.meeting.id, deadNodeId, moved: affected.length, home: live.meeting.mediaNodeId }, 'meeting media moved off a media node that is gone');
}
