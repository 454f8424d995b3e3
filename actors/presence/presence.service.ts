// The `presence` actor (issue 11, README "Presence"): people's statuses from their devices'
// leases, the meetings they are in and the manual statuses they set. It alone uses the
// presence stores. A person's reports are routed to one actor, the person's owner (the
// `presenceOf` key of the Shard strategy), which publishes their changes on
// `presence:<personId>` for the gateways whose sockets watch them (presence-owner.ts);
// reads (`statuses`) are answered by any actor from the shared store.
import type { Context, ServiceBroker, ServiceSchema } from 'moleculer';
import { callerOf } from '../../contracts/caller.ts';
import { badRequest } from '../../contracts/errors.ts';
import type { PresenceView } from '../../contracts/live-frames.ts';
import type { PresenceSettings } from '../../contracts/config.ts';
import { presenceTopic, type Fanout } from '../../routing/fanout/fanout.ts';
import { presenceOwnerOf } from '../../routing/owner-strategy.ts';
import { MANUAL_STATUSES, type DeviceLeaseStore, type DeviceReport, type ManualStatusName, type ManualStatusStore } from '../../storage/presence-store.ts';
import * as p from '../params.ts';
import { operatorActions } from './operator-actions.ts';
import { usageActions } from './usage-actions.ts';
import { PresenceOwner } from './presence-owner.ts';

export interface PresenceServiceOptions {
  leases: DeviceLeaseStore;
  statuses: ManualStatusStore;
  fanout: Fanout;
  settings: PresenceSettings;
}

/** A meeting entry lapses after this whatever happens (a conferences actor lost before it said the person left). */
const MEETING_TTL_MS = 12 * 3600 * 1000;
/** The farthest a manual status may be set to expire. */
const MAX_MANUAL_MS = 366 * 24 * 3600 * 1000;
const SWEEP_EVERY_MS = 250;

const presenceOf = { ...p.id } as const;

export function createPresenceService({ leases, statuses, fanout, settings }: PresenceServiceOptions): ServiceSchema {
  let owner: PresenceOwner | undefined;
  let sweeper: NodeJS.Timeout | undefined;

  /**
   * Asks the person's owner to read them again (a status set on another actor, a hand-over).
   * Named, not left to the registry, which prefers the calling node's own presence actor.
   */
  const toOwner = (broker: ServiceBroker, personId: string) => broker.call('presence.evaluate', { presenceOf: personId }, { nodeID: presenceOwnerOf(broker, personId) });

  /**
   * After a manual status was stored: the owner shows it. A failure to read the person now
   * (the leases' store failing) is no failure of the write: the owner reads them again shortly.
   */
  const showStored = (broker: ServiceBroker, personId: string) =>
    toOwner(broker, personId).catch((err: unknown) => broker.logger.warn({ err, personId }, 'a manual status was stored; its person is read again shortly'));

  return {
    name: 'presence',

    actions: {
      ...operatorActions(leases, statuses, () => owner!),
      ...usageActions(leases),
      /** From a gateway, to the owner of every device's person (the gateway groups them by owner): the devices' leases renewed. */
      heartbeat: {
        visibility: 'public',
        params: {
          leaseMs: { type: 'number', integer: true, min: 1000, max: 3_600_000 },
          devices: { type: 'array', max: 100_000, items: { type: 'object', strict: 'remove', props: { personId: p.id, deviceId: p.id, lastActivity: { type: 'number', integer: true, min: 0 } } } },
        },
        async handler(ctx: Context<{ leaseMs: number; devices: DeviceReport[] }>) {
          await owner!.heartbeat(ctx.params.devices, ctx.params.leaseMs);
          return null;
        },
      },

      /** From a gateway: a socket of the person closed. */
      release: {
        visibility: 'public',
        params: { presenceOf, deviceId: p.id },
        async handler(ctx: Context<{ presenceOf: string; deviceId: string }>) {
          await leases.release(ctx.params.presenceOf, ctx.params.deviceId);
          await owner!.evaluate([ctx.params.presenceOf]);
          return null;
        },
      },

      /** The person's owner reads them again (after a change made elsewhere, or a hand-over). */
      evaluate: {
        visibility: 'public',
        params: { presenceOf },
        async handler(ctx: Context<{ presenceOf: string }>) {
          await owner!.evaluate([ctx.params.presenceOf]);
          return null;
        },
      },

      /** From the conferences actor's events (see `events`): the person joined or left a meeting. */
      meeting: {
        visibility: 'public',
        params: { presenceOf, meetingId: p.id, inMeeting: { type: 'boolean' } },
        async handler(ctx: Context<{ presenceOf: string; meetingId: string; inMeeting: boolean }>) {
          await leases.setMeeting(ctx.params.presenceOf, ctx.params.meetingId, ctx.params.inMeeting, MEETING_TTL_MS);
          await owner!.evaluate([ctx.params.presenceOf]);
          return null;
        },
      },

      /**
       * The current status of each person (other actors: people in REST, the push helper's
       * do-not-disturb). Trusts the ids it is given: the caller decides who may see whom.
       */
      statuses: {
        visibility: 'public',
        params: { personIds: { type: 'array', items: p.id, max: 1000 } },
        async handler(ctx: Context<{ personIds: string[] }>): Promise<Record<string, PresenceView>> {
          const read = await owner!.read([...new Set(ctx.params.personIds)]);
          return Object.fromEntries([...read].map(([id, { view }]) => [id, view]));
        },
      },

      /** Squared extension: PUT /v1/people/me/status — the caller's manual status, until cleared or `expires`. */
      setStatus: {
        visibility: 'published',
        params: { status: { type: 'enum', values: [...MANUAL_STATUSES] }, expires: { type: 'string', max: 40, optional: true } },
        async handler(ctx: Context<{ status: ManualStatusName; expires?: string }>) {
          const caller = callerOf(ctx);
          const now = Date.now();
          let expires: string | undefined;
          if (ctx.params.expires !== undefined) {
            const at = Date.parse(ctx.params.expires);
            if (!Number.isFinite(at) || !/^\d{4}-\d\d-\d\dT/.test(ctx.params.expires)) throw badRequest('expires must be an ISO 8601 date and time.');
            if (at <= now) throw badRequest('expires must be in the future.');
            if (at - now > MAX_MANUAL_MS) throw badRequest('expires must be within a year.');
            expires = new Date(at).toISOString();
          }
          await statuses.put(caller.id, { status: ctx.params.status, ...(expires ? { expires } : {}), set: new Date(now).toISOString() });
          await showStored(ctx.broker, caller.id);
          return { status: ctx.params.status, ...(expires ? { expires } : {}) };
        },
      },

      /** Squared extension: DELETE /v1/people/me/status — the caller's status comes from their devices again. */
      clearStatus: {
        visibility: 'published',
        async handler(ctx: Context) {
          const caller = callerOf(ctx);
          await statuses.clear(caller.id);
          await showStored(ctx.broker, caller.id);
          return null;
        },
      },

      /** People this actor shows now, for operators. */
      stats: { visibility: 'public', handler: () => ({ shown: owner?.size() ?? 0 }) },
    },

    events: {
      /** The conferences actor: a person joined a meeting (past any lobby) or left it. */
      'conferences.participation'(ctx: Context<{ personId: string; meetingId: string; inMeeting: boolean }>) {
        const { personId, meetingId, inMeeting } = ctx.params;
        ctx.broker.call('presence.meeting', { presenceOf: personId, meetingId, inMeeting }, { nodeID: presenceOwnerOf(ctx.broker, personId) })
          .catch((err: unknown) => this.logger.warn({ err, personId, meetingId }, 'a meeting could not be shown in its participant\'s presence'));
      },
      '$node.connected'() {
        owner?.ownersChanged();
      },
      '$node.disconnected'() {
        owner?.ownersChanged();
      },
      '$services.changed'() {
        owner?.ownersChanged();
      },
    },

    created() {
      const broker = this.broker;
      owner = new PresenceOwner({
        leases, statuses, idleMs: settings.idleMs, minIntervalMs: settings.minIntervalMs, logger: this.logger,
        publish: (personId, view) => fanout.publish(presenceTopic(personId), { kind: 'presence', personId, ...view }),
        owns: (personId) => {
          const node = presenceOwnerOf(broker, personId);
          return node === undefined || node === broker.nodeID;
        },
        handOver: (personId) => void toOwner(broker, personId).catch((err: unknown) => this.logger.warn({ err, personId }, 'a person\'s presence could not be handed to its owner')),
      });
    },

    started() {
      sweeper = setInterval(() => void owner!.sweep(), SWEEP_EVERY_MS);
      sweeper.unref?.();
    },

    stopped() {
      clearInterval(sweeper);
      owner?.stop();
    },
  };
}
