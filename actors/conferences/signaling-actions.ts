// Meeting signaling from the live sockets (docs/meetings.md): the gateway validated the
// frame and names the session it came from; here the session's participant is found, its
// right to act checked, and the request carried out on the meeting's media node. Requests
// that change what others see (joins, producers, hands, host controls) run in the
// meeting's queue and publish the new state; pure media plumbing (transports, consumers)
// only needs the participant and goes straight to the media node.
import type { Context } from 'moleculer';
import type { ParticipantRecord } from '../../storage/records.ts';
import { callerOf } from '../../contracts/caller.ts';
import { ApiError, badRequest, forbidden, notFound } from '../../contracts/errors.ts';
import * as p from '../params.ts';
import type { ConferencesContext } from './conferences-context.ts';
import type { LiveMeeting } from './live-meeting.ts';
import { admit, depart, detach, endMeeting, enter, mute, reattach } from './roster.ts';
import { SIGNALING_ACTIONS, type SignalingAction } from '../../contracts/signaling-vocabulary.ts';


const HOST_ACTIONS = new Set<SignalingAction>(['lock', 'unlock', 'end', 'muteAll', 'lowerHands', 'mute', 'expel', 'admit']);

/** What the gateway checked (docs/meetings.md lists each action's fields). */
type Args = Record<string, unknown> & {
  rtpCapabilities?: object; direction?: 'send' | 'recv'; transportId?: string; dtlsParameters?: object;
  kind?: 'audio' | 'video'; rtpParameters?: object; producerId?: string; consumerId?: string; participantId?: string;
};

interface SignalParams {
  meetingId: string;
  sessionId: string;
  gatewayNodeId: string;
  action: SignalingAction;
  args: Args;
}

const notJoined = () => new ApiError(404, 'Join the meeting first.', 'MEETING_NOT_JOINED');

export function signalingActions(cc: ConferencesContext) {
  /** The session's participant; in the lobby only `leave` is possible. */
  const own = (live: LiveMeeting, sessionId: string, action: SignalingAction): ParticipantRecord => {
    const participant = live.ofSession(sessionId);
    if (!participant) throw notJoined();
    if (participant.state === 'lobby' && action !== 'leave') throw new ApiError(403, 'You are waiting in the lobby until a host admits you.', 'MEETING_IN_LOBBY');
    return participant;
  };
  const other = (live: LiveMeeting, participantId: string | undefined): ParticipantRecord => {
    const found = participantId ? live.participants.get(participantId) : undefined;
    if (!found) throw new ApiError(404, 'No such participant in the meeting.', 'MEETING_NO_PARTICIPANT');
    return found;
  };
  const setProducers = (live: LiveMeeting, participant: ParticipantRecord, change: Partial<ParticipantRecord>) =>
    cc.saveParticipant(live, { ...live.participants.get(participant.id)!, ...change });

  /**
   * A producer whose owner's media are on another media node is piped to the consumer's
   * node first (docs: media/README.md): the two nodes' pipe transports for this meeting
   * are made and connected once, then the producer goes through them, once per node. An
   * unknown producer is left to the consumer's node to refuse.
   */
  const pipeIfElsewhere = async (ctx: Context, live: LiveMeeting, consumer: ParticipantRecord, producerId: string): Promise<void> => {
    const owner = [...live.participants.values()].find((p) => p.producers.some((pr) => pr.id === producerId));
    if (!owner) return;
    const from = cc.nodeOf(live, owner);
    const to = cc.nodeOf(live, consumer);
    if (from === to) return;
    await cc.piping(live.meeting.id, async () => {
      type Endpoint = { ip: string; port: number; connectedTo?: { ip: string; port: number } };
      const same = (a: { ip: string; port: number } | undefined, b: Endpoint) => a?.ip === b.ip && a.port === b.port;
      const atTo = await cc.media<Endpoint>(ctx, live, 'linkEndpoint', { peerNodeId: from }, to);
      const atFrom = await cc.media<Endpoint>(ctx, live, 'linkEndpoint', { peerNodeId: to }, from);
      if (!same(atFrom.connectedTo, atTo)) await cc.media(ctx, live, 'connectLink', { peerNodeId: to, ip: atTo.ip, port: atTo.port }, from);
      if (!same(atTo.connectedTo, atFrom)) await cc.media(ctx, live, 'connectLink', { peerNodeId: from, ip: atFrom.ip, port: atFrom.port }, to);
      const piped = await cc.media<object>(ctx, live, 'pipeOut', { peerNodeId: to, producerId }, from);
      await cc.media(ctx, live, 'pipeIn', { peerNodeId: from, ...piped }, to);
    });
  };

  /** Plumbing: the participant's own media objects (the media node checks the ids are theirs). */
  const plumbing = async (ctx: Context<SignalParams>): Promise<unknown> => {
    const { meetingId, sessionId, action, args } = ctx.params;
    const { live, participant } = await cc.withMeeting(meetingId, async (l) => ({ live: l, participant: own(l, sessionId, action) }));
    switch (action) {
      case 'setRtpCapabilities':
        await cc.mediaOf(ctx, live, participant, 'setRtpCapabilities', { rtpCapabilities: args.rtpCapabilities });
        return {};
      case 'createTransport':
        return cc.mediaOf(ctx, live, participant, 'createTransport', { kind: 'webrtc', direction: args.direction });
      case 'connectTransport':
        await cc.mediaOf(ctx, live, participant, 'connectTransport', { transportId: args.transportId, dtlsParameters: args.dtlsParameters });
        return {};
      case 'restartIce':
        return cc.mediaOf(ctx, live, participant, 'restartIce', { transportId: args.transportId });
      case 'consume':
        await pipeIfElsewhere(ctx, live, participant, args.producerId!);
        return cc.mediaOf(ctx, live, participant, 'consume', { transportId: args.transportId, producerId: args.producerId });
      case 'resumeConsumer':
      case 'pauseConsumer':
        await cc.mediaOf(ctx, live, participant, 'setConsumerPaused', { consumerId: args.consumerId, paused: action === 'pauseConsumer' });
        return {};
      default:
        throw badRequest(`Unknown meeting action ${action}.`);
    }
  };

  /** What changes the roster: in the meeting's queue, then the new state goes out. */
  const rosterChange = (ctx: Context<SignalParams>): Promise<unknown> => {
    const { meetingId, sessionId, gatewayNodeId, action, args } = ctx.params;
    const caller = callerOf(ctx);
    return cc.withMeeting(meetingId, async (live) => {
      if (action === 'join') {
        await cc.mustSee(ctx, live).catch(async (err: unknown) => {
          // Anyone with the meeting id may knock: strangers wait in the lobby (see enter).
          if (!(err instanceof ApiError && err.code === 404) || live.meeting.state === 'ended') throw err;
        });
        const { rtpCapabilities: routerRtpCapabilities } = await cc.media<{ rtpCapabilities: object }>(ctx, live, 'open', {});
        const entry = { caller, sessionId, gatewayNodeId, rtpCapabilities: args.rtpCapabilities };
        // A reconnecting client names the participant it was: it takes its place back, media
        // and all. Someone else's id, or one that has left, is a fresh join.
        const previous = args.participantId ? live.participants.get(args.participantId) : undefined;
        const resumed = previous !== undefined && previous.personId === caller.id && !live.ofSession(sessionId);
        const participant = resumed ? await reattach(cc, live, previous, entry) : await enter(cc, ctx, live, entry);
        const state = cc.publish(live);
        // Someone waiting in the lobby sees what a lobby shows, not the meeting's state.
        const now = live.participants.get(participant.id) ?? participant;
        const meeting = now.state === 'lobby' ? live.lobbyState(now) : state;
        return { participantId: participant.id, state: now.state, resumed, routerRtpCapabilities, meeting };
      }
      if (HOST_ACTIONS.has(action) && !cc.isHost(caller, live)) throw forbidden('Only a host of the meeting may do this.');
      const me = HOST_ACTIONS.has(action) && !live.ofSession(sessionId) ? undefined : own(live, sessionId, action);
      switch (action) {
        case 'leave':
          await depart(cc, ctx, live, me!);
          break;
        case 'produce': {
          const { producerId } = await cc.mediaOf<{ producerId: string }>(ctx, live, me!, 'produce', {
            transportId: args.transportId, kind: args.kind, rtpParameters: args.rtpParameters,
          });
          const current = live.participants.get(me!.id)!;
          await setProducers(live, me!, {
            producers: [...current.producers, { id: producerId, kind: args.kind!, paused: false }],
            ...(args.kind === 'video' ? { video: 'on' as const } : { muted: false }),
          });
          cc.publish(live);
          return { producerId };
        }
        case 'pauseProducer':
        case 'resumeProducer': {
          const paused = action === 'pauseProducer';
          await cc.mediaOf(ctx, live, me!, 'setProducerPaused', { producerId: args.producerId, paused });
          const current = live.participants.get(me!.id)!;
          const producers = current.producers.map((pr) => (pr.id === args.producerId ? { ...pr, paused } : pr));
          const kind = current.producers.find((pr) => pr.id === args.producerId)?.kind;
          await setProducers(live, me!, { producers, ...(kind === 'audio' ? { muted: paused } : kind === 'video' ? { video: paused ? 'off' : 'on' } : {}) });
          break;
        }
        case 'closeProducer': {
          await cc.mediaOf(ctx, live, me!, 'closeProducer', { producerId: args.producerId });
          const current = live.participants.get(me!.id)!;
          await setProducers(live, me!, { producers: current.producers.filter((pr) => pr.id !== args.producerId) });
          break;
        }
        case 'raiseHand':
        case 'lowerHand':
          await setProducers(live, me!, { handRaised: action === 'raiseHand' });
          break;
        case 'lock':
        case 'unlock':
          await cc.saveMeeting(live, { locked: action === 'lock' });
          break;
        case 'end':
          await endMeeting(cc, ctx, live);
          break;
        case 'muteAll':
          for (const participant of live.joined()) if (!participant.host && !participant.coHost) await mute(cc, ctx, live, participant);
          break;
        case 'lowerHands':
          for (const participant of [...live.participants.values()]) if (participant.handRaised) await cc.saveParticipant(live, { ...participant, handRaised: false });
          break;
        case 'mute':
          await mute(cc, ctx, live, other(live, args.participantId));
          break;
        case 'expel': {
          const target = other(live, args.participantId);
          if (target.personId === live.meeting.hostUserId) throw forbidden('The host cannot be expelled.');
          await depart(cc, ctx, live, target);
          break;
        }
        case 'admit':
          await admit(cc, ctx, live, other(live, args.participantId));
          break;
        default:
          throw badRequest(`Unknown meeting action ${action}.`);
      }
      cc.publish(live);
      return {};
    });
  };

  const PLUMBING = new Set<SignalingAction>(['setRtpCapabilities', 'createTransport', 'connectTransport', 'restartIce', 'consume', 'resumeConsumer', 'pauseConsumer']);

  return {
    /**
     * One signaling request of a live session (docs/meetings.md). Public, not published: it
     * trusts the session id and gateway node the gateway's live machinery names, which no
     * client may choose; the caller's rights are checked here all the same.
     */
    signal: {
      visibility: 'public' as const,
      params: {
        meetingId: p.id,
        sessionId: { type: 'string', min: 1, max: 100 },
        gatewayNodeId: { type: 'string', min: 1, max: 200 },
        action: { type: 'enum', values: [...SIGNALING_ACTIONS] },
        args: { type: 'object' },
      },
      handler: (ctx: Context<SignalParams>) => (PLUMBING.has(ctx.params.action) ? plumbing(ctx) : rosterChange(ctx)),
    },

    /**
     * The meeting's state as last shown to its participants, for a live session that missed
     * a delta: only for its host and those in it. A session waiting in the lobby gets a 404
     * (its lobby views come with the changes, see LiveMeeting.lobbyFrames), and so does a
     * room member who is not in the meeting: its roster is for those taking part.
     */
    state: {
      // Asked by the gateway's live sessions only (their catch-up), never by a client route.
      visibility: 'public' as const,
      params: { meetingId: p.id },
      handler: (ctx: Context<{ meetingId: string }>) =>
        cc.withMeeting(ctx.params.meetingId, async (live) => {
          const caller = callerOf(ctx);
          if (!cc.isHost(caller, live) && !cc.isIn(caller, live)) throw notFound('Meeting not found.');
          return live.state();
        }),
    },

    /** The live session closed: its participant is detached (see roster.ts detach). */
    sessionClosed: {
      // The gateway's word that one of its sessions closed: trusted, so never a client's to call.
      visibility: 'public' as const,
      params: { meetingId: p.id, sessionId: { type: 'string', min: 1, max: 100 } },
      handler: (ctx: Context<{ meetingId: string; sessionId: string }>) =>
        cc.withMeeting(ctx.params.meetingId, async (live) => {
          const participant = live.ofSession(ctx.params.sessionId);
          if (!participant) return null;
          await detach(cc, ctx, live, participant);
          cc.publish(live);
          return null;
        }),
    },
  };
}
