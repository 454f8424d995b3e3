// The `rooms` actor: rooms, memberships, messages, room tabs and each room's activity log. It owns
// every room's sequence; in a cluster the Shard strategy routes a room's calls to one node.
// Actions marked 'published' are those the gateway's routes call for a client (the teams
// actor calls some too, as a system call); each checks its caller itself. The live-sync
// actions are 'public': internal, trusting the person they are given.
import type { ServiceSchema } from 'moleculer';
import type { MetricSink } from '../../contracts/metrics.ts';
import { currentTrackingId } from '../../contracts/request-tracking.ts';
import type { Fanout } from '../../routing/fanout/fanout.ts';
import type { RoomStore } from '../../storage/interfaces.ts';
import type { Activity } from '../../storage/records.ts';
import { liveActions } from './live-actions.ts';
import { memberCheckActions } from './member-check-actions.ts';
import { searchReachActions } from './search-reach-actions.ts';
import { membershipActions } from './membership-actions.ts';
import { messageActions } from './message-actions.ts';
import { operatorActions } from './operator-actions.ts';
import { usageActions } from './usage-actions.ts';
import { previewActions } from './preview-actions.ts';
import { roomActions } from './room-actions.ts';
import { tabActions } from './tab-actions.ts';
import { RoomLog, type RoomLogFaults } from './room-log.ts';
import { ReadTracker, type Warn } from './read-tracker.ts';
import { readActions } from './read-actions.ts';
import { createRoomsContext, type ComplianceReporter } from './rooms-context.ts';
import { eventActions } from './event-actions.ts';
import { recordComplianceRead } from './compliance-audit.ts';
import { retentionActions, sweepRetention } from './retention.ts';
import type { RetentionStore } from '../../storage/retention-store.ts';
import { ownerOf } from '../../routing/owner-strategy.ts';

export interface RoomsServiceOptions {
  store: RoomStore;
  /** Organizations' message retention policies (retention.ts). */
  retention: RetentionStore;
  fanout: Fanout;
  faults?: RoomLogFaults;
  metrics?: MetricSink;
  /** Seconds between two retention sweeps of the rooms this node owns. */
  retentionSweepSeconds?: number;
  /** The retention sweep's clock (tests move it ahead: cluster/fault-injection.ts). */
  retentionNow?: () => number;
}

export function createRoomsService({ store, retention, fanout, faults, metrics, retentionSweepSeconds = 3600, retentionNow }: RoomsServiceOptions): ServiceSchema {
  let announce: (activities: Activity[]) => void = () => undefined;
  let warn: Warn = () => undefined;
  let report: ComplianceReporter = () => undefined;
  const log = new RoomLog(store, fanout, (activities) => announce(activities), faults, metrics);
  const rc = createRoomsContext(store, log, new ReadTracker(store, log, (err, message) => warn(err, message)), (ctx, read) => report(ctx, read));
  let retentionTimer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;
  return {
    name: 'rooms',
    created() {
      // One `search` and one `notifications` instance (balanced) hear each committed write; its log lines name the
      // request that made the write.
      warn = (err, message) => this.logger.warn({ err }, message);
      // Compliance reads are admin audit events (compliance-audit.ts).
      report = (ctx, read) => recordComplianceRead(ctx, read, (err) => this.logger.warn({ err }, 'could not record a compliance read in the audit events'));
      announce = (activities) => void this.broker.emit('rooms.activities', { activities }, { meta: { trackingId: currentTrackingId() } });
    },
    actions: {
      ...roomActions(rc),
      ...membershipActions(rc),
      ...messageActions(rc),
      ...tabActions(rc),
      ...liveActions(rc),
      ...readActions(rc),
      ...operatorActions(rc),
      ...usageActions(rc),
      ...memberCheckActions(rc),
      ...searchReachActions(rc),
      ...previewActions(rc),
      ...eventActions(rc),
      ...retentionActions(retention),
    },
    started() {
      const sweep = () => {
        if (sweeping) return;
        sweeping = sweepRetention({
          rc, retention, broker: this.broker,
          owns: (roomId) => ownerOf(this.broker, 'rooms.createMessage', { roomId }) === this.broker.nodeID,
          warn: (err, message) => this.logger.warn({ err }, message), now: retentionNow,
        }).then((deleted) => {
          if (deleted.size > 0) this.logger.info({ deleted: Object.fromEntries(deleted) }, 'messages deleted by retention policies');
        }, (err: unknown) => this.logger.warn({ err }, 'the retention sweep stopped; the next one goes on')).finally(() => (sweeping = undefined));
      };
      retentionTimer = setInterval(sweep, retentionSweepSeconds * 1000);
      retentionTimer.unref();
    },
    async stopped() {
      clearInterval(retentionTimer);
      await sweeping;
    },
  };
}
