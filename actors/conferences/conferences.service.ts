// The `conferences` actor: meetings and their participants (the Webex meetings API), the
// signaling of the live sockets, host controls, and what the media plane reports on its
// own. Each meeting has one owner at a time (actions are routed by `meetingId`); the
// meeting's media live on the media node chosen at creation (placement.ts).
import type { Context, ServiceSchema } from 'moleculer';
import { RESOURCE_EVENTS } from '../../contracts/resource-events.ts';
import type { Fanout } from '../../routing/fanout/fanout.ts';
import { ownerOf } from '../../routing/owner-strategy.ts';
import * as p from '../params.ts';
import type { ConferenceStore } from '../../storage/interfaces.ts';
import { ConferencesContext } from './conferences-context.ts';
import type { LiveMeeting } from './live-meeting.ts';
import { meetingActions } from './meeting-actions.ts';
import { operatorActions } from './operator-actions.ts';
import { usageActions } from './usage-actions.ts';
import { roomMeetingInfoActions } from './room-meeting-info.ts';
import { participantActions } from './participant-actions.ts';
import { depart, detach, relocate } from './roster.ts';
import { signalingActions } from './signaling-actions.ts';

interface MediaEvent {
  meetingId: string;
}

export interface ConferencesOptions {
  store: ConferenceStore;
  fanout: Fanout;
  /** Participants of one meeting on one media node before newcomers go to another (default 400). */
  participantsPerNode?: number;
  /** How long a participant whose live session went away keeps their place (default 30 s; 0: they leave at once). */
  reconnectGraceMs?: number;
}

export function createConferencesService({ store, fanout, participantsPerNode = 400, reconnectGraceMs = 30_000 }: ConferencesOptions): ServiceSchema {
  const cc = new ConferencesContext(store, fanout, participantsPerNode, reconnectGraceMs);
  cc.relocate = (ctx, live, deadNodeId) => relocate(cc, ctx, live, deadNodeId);

  /** Media events concern the meeting's owner only. */
  const onMeeting = (ctx: Context<MediaEvent>, change: (live: LiveMeeting) => Promise<boolean>) => {
    if (!cc.owns(ctx.broker, ctx.params.meetingId)) return;
    void cc.withMeeting(ctx.params.meetingId, async (live) => {
      if (await change(live)) cc.publish(live);
    }).catch((err: unknown) => ctx.service!.logger.warn({ err, meetingId: ctx.params.meetingId }, 'a media event could not be applied'));
  };

  /** What a lost node leaves behind in one meeting: detached participants, media to move. */
  const recoverFromLostNode = async (ctx: Context, live: LiveMeeting, nodeId: string) => {
    const gone = [...live.participants.values()].filter((participant) => participant.gatewayNodeId === nodeId);
    for (const participant of gone) await detach(cc, ctx, live, live.participants.get(participant.id)!);
    const moving = live.participants.size > 0 && cc.nodesOf(live).includes(nodeId);
    if (moving) await relocate(cc, ctx, live, nodeId);
    if (moving || gone.length > 0) cc.publish(live);
  };

  return {
    name: 'conferences',
    dependencies: ['rooms'],

    actions: {
      ...meetingActions(cc),
      ...participantActions(cc),
      ...signalingActions(cc),
      ...operatorActions(cc),
      ...usageActions(cc),
      ...roomMeetingInfoActions(cc),
      /**
       * A node went away, told by an actor that ran the meeting (it may not own it any more:
       * ownership follows the ring of conferences actors, and a meeting last run on one
       * actor may belong to another that never loaded it). Each actor that ran it tells the
       * owner, so the owner may hear it more than once: recovering is idempotent.
       */
      nodeLost: {
        // Between conferences actors only: it trusts its parameters.
        visibility: 'public',
        params: { meetingId: p.id, nodeId: { type: 'string', min: 1, max: 200 } },
        handler: (ctx: Context<{ meetingId: string; nodeId: string }>) =>
          cc.withMeeting(ctx.params.meetingId, (live) => recoverFromLostNode(ctx, live, ctx.params.nodeId)).then(() => null),
      },
      /** A detached participant's grace is over: unless a session took them back meanwhile, they leave. */
      graceOver: {
        // Between conferences actors only (the one that started the grace tells the owner): it trusts its parameters.
        visibility: 'public',
        params: { meetingId: p.id, participantId: { type: 'string', min: 1, max: 100 }, detachedAt: { type: 'string', min: 1, max: 40 } },
        handler: (ctx: Context<{ meetingId: string; participantId: string; detachedAt: string }>) =>
          cc.withMeeting(ctx.params.meetingId, async (live) => {
            const participant = live.participants.get(ctx.params.participantId);
            if (participant?.detachedAt !== ctx.params.detachedAt) return null;
            await depart(cc, ctx, live, participant);
            cc.publish(live);
            return null;
          }),
      },
    },

    created() {
      // A grace ends on whichever actor started it; the meeting's owner makes the change.
      cc.endGrace = (meetingId, participantId, detachedAt) => {
        const action = 'conferences.graceOver';
        this.broker.call(action, { meetingId, participantId, detachedAt }, { nodeID: ownerOf(this.broker, action, { meetingId }) })
          .catch((err: unknown) => this.logger.warn({ err, meetingId, participantId }, 'a detached participant could not be made to leave'));
      };
      // Stored meeting and participant changes, for the webhooks (one notifications instance hears each).
      cc.announce = (events) => void this.broker.emit(RESOURCE_EVENTS, { events });
      // For the presence actor (one instance hears each, and hands it to the person's owner).
      cc.participation = (personId, meetingId, inMeeting) => void this.broker.emit('conferences.participation', { personId, meetingId, inMeeting });
    },

    events: {
      /** A worker died and the meeting moved: its participants set their media up again. */
      'media.moved'(ctx: Context<MediaEvent & { participantIds: string[] }>) {
        onMeeting(ctx, async (live) => {
          for (const id of ctx.params.participantIds) {
            const participant = live.participants.get(id);
            if (participant) await cc.saveParticipant(live, { ...participant, producers: [], mediaEpoch: participant.mediaEpoch + 1 });
          }
          return true;
        });
      },
      'media.producerPaused'(ctx: Context<MediaEvent & { participantId: string; producerId: string; paused: boolean }>) {
        onMeeting(ctx, async (live) => {
          const participant = live.participants.get(ctx.params.participantId);
          const producer = participant?.producers.find((pr) => pr.id === ctx.params.producerId);
          if (!participant || !producer || producer.paused === ctx.params.paused) return false;
          const producers = participant.producers.map((pr) => (pr === producer ? { ...pr, paused: ctx.params.paused } : pr));
          await cc.saveParticipant(live, { ...participant, producers, ...(producer.kind === 'audio' ? { muted: ctx.params.paused } : {}) });
          return true;
        });
      },
      'media.activeSpeaker'(ctx: Context<MediaEvent & { participantId: string }>) {
        onMeeting(ctx, async (live) => {
          if (live.activeSpeaker === ctx.params.participantId || !live.participants.has(ctx.params.participantId)) return false;
          live.activeSpeaker = ctx.params.participantId;
          return true;
        });
      },
      /**
       * Meetings move between actor nodes when the nodes change: what this node holds live
       * may then be another's to change, so it is read again from the store on next use.
       */
      '$node.connected'() {
        cc.forgetAll();
      },
      /**
       * A service that registers after its node connected (or leaves before the node goes)
       * moves meetings too, without a node event.
       */
      '$services.changed'() {
        cc.forgetAll();
      },
      /**
       * A node went away. Participants whose live session was on it (a gateway that left
       * without its sessions saying goodbye) are detached: their clients reconnect to another
       * gateway within the grace and take their places back. Meetings whose media were on it
       * (a media node) move to another. Every meeting this actor has run is handed to its
       * owner now (this actor or another, see nodeLost), which reads it again from the store
       * first: the nodes changed, so what any actor held may be stale.
       */
      '$node.disconnected'(ctx: Context<{ node: { id: string } }>) {
        const nodeId = ctx.params.node.id;
        cc.forgetAll();
        for (const meetingId of cc.occupiedMeetings()) {
          // The owner as owns() names it (the signal ring), not a ring of nodeLost's own.
          ctx.broker.call('conferences.nodeLost', { meetingId, nodeId }, { nodeID: ownerOf(ctx.broker, 'conferences.signal', { meetingId }) })
            .catch((err: unknown) => this.logger.warn({ err, meetingId, nodeId }, 'a meeting could not recover from a lost node'));
        }
      },
    },
  };
}
