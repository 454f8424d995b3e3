// What one presence actor does for the people it owns (the Shard strategy routes a person's
// calls to one actor: `presenceOf`): it remembers the status it last showed of each, and
// when it may change with nothing reported (a lease lapsing, the idle time, a manual status
// expiring). A sweep re-reads the people whose time came; a report (a heartbeat, a closed
// socket, a status set, a meeting) re-reads its person when it may change the status. A
// status that differs from the one shown goes to the pacer, which publishes it.
//
// A heartbeat that changes nothing costs one write of the leases and no read: a person shown
// `active` stays so until their deadline, when the sweep reads them again.
import type { Logger } from 'moleculer';
import type { PresenceView } from '../../contracts/live-frames.ts';
import type { DeviceLeaseStore, DeviceReport, ManualStatusStore } from '../../storage/presence-store.ts';
import { aggregate, type Aggregate } from './aggregate.ts';
import { PresencePacer } from './presence-pacer.ts';

/** How long after a failed read of the store its people are read again. */
const RETRY_MS = 2000;
/** People read in one sweep at most (the rest wait for the next). */
const SWEEP_BATCH = 1000;

interface Shown {
  view: PresenceView;
  checkAt: number;
}

export interface PresenceOwnerOptions {
  leases: DeviceLeaseStore;
  statuses: ManualStatusStore;
  idleMs: number;
  minIntervalMs: number;
  publish(personId: string, view: PresenceView): void;
  /** Whether this actor owns the person now (the ring of presence actors). */
  owns(personId: string): boolean;
  /** Tells the person's owner to take them over (read them and show them). */
  handOver(personId: string): void;
  logger: Logger;
}

export class PresenceOwner {
  private readonly shown = new Map<string, Shown>();
  private readonly pacer: PresencePacer;
  private readonly options: PresenceOwnerOptions;
  private sweeping = false;
  /** The lease the gateways ask for (their heartbeats say it), for the doubt after a store failure. */
  private leaseMs = 30_000;

  constructor(options: PresenceOwnerOptions) {
    this.options = options;
    this.pacer = new PresencePacer(options.minIntervalMs, options.publish);
  }

  /** Reads the people's facts from the store and aggregates them (any actor may: the store is shared). */
  async read(personIds: string[], now = Date.now()): Promise<Map<string, Aggregate>> {
    const { leases, statuses, idleMs } = this.options;
    const [leased, manual, meetings, last] = await Promise.all([leases.leasesOf(personIds), statuses.statusesOf(personIds), leases.meetingsOf(personIds), leases.lastActivityOf(personIds)]);
    return new Map(personIds.map((id) => [id, aggregate({ leases: leased.get(id) ?? [], manual: manual.get(id), meetings: meetings.get(id), lastActivity: last.get(id) }, now, idleMs)]));
  }

  /** Devices renewed: the leases written, and their people read again only where the status may change. */
  async heartbeat(devices: DeviceReport[], ttlMs: number): Promise<void> {
    this.leaseMs = ttlMs;
    await this.options.leases.renew(devices, ttlMs);
    const now = Date.now();
    const changing = new Set<string>();
    for (const d of devices) {
      const shown = this.shown.get(d.personId)?.view.status;
      // Unknown: a new device. Inactive: the report may carry activity. Others hold until their deadline or an event.
      if (shown === undefined || shown === 'unknown' || (shown === 'inactive' && now - d.lastActivity < this.options.idleMs)) changing.add(d.personId);
    }
    if (changing.size > 0) await this.evaluate([...changing]);
  }

  /** Reads the people again and shows what changed; people it does not own any more go to their owner. */
  async evaluate(personIds: string[]): Promise<void> {
    const now = Date.now();
    let read: Map<string, Aggregate>;
    try {
      read = await this.read(personIds, now);
    } catch (err) {
      // The store is failing: nothing is concluded; the people are tried again shortly.
      this.options.logger.debug({ err, people: personIds.length }, 'presence could not be read: trying again');
      for (const id of personIds) this.shown.set(id, { view: this.shown.get(id)?.view ?? { status: 'unknown' }, checkAt: now + RETRY_MS });
      throw err;
    }
    for (const [personId, { view, changesAt }] of read) {
      if (!this.options.owns(personId)) {
        this.shown.delete(personId);
        this.options.handOver(personId);
        continue;
      }
      const before = this.shown.get(personId)?.view;
      // Every device gone just after the store failed: it may have lost them (a Redis restarted
      // empty) rather than they their gateways. Shown as before until every gateway renewed once.
      const doubtUntil = this.options.leases.lastFailureAt() + this.leaseMs;
      if (view.status === 'unknown' && (before?.status === 'active' || before?.status === 'inactive') && now < doubtUntil) {
        this.shown.set(personId, { view: before, checkAt: doubtUntil });
        continue;
      }
      if (view.status === 'unknown' && changesAt === undefined) this.shown.delete(personId);
      // Without a deadline a status changes only by a report (a meeting, a manual status without expiry); looked at again now and then in case one was lost.
      else this.shown.set(personId, { view, checkAt: changesAt ?? now + 60_000 });
      if (view.status !== (before?.status ?? 'unknown')) this.pacer.changed(personId, view, now);
    }
  }

  /** The people whose deadline passed, read again (one sweep at a time). */
  async sweep(now = Date.now()): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const due: string[] = [];
      for (const [personId, shown] of this.shown) {
        if (shown.checkAt <= now) due.push(personId);
        if (due.length >= SWEEP_BATCH) break;
      }
      if (due.length > 0) await this.evaluate(due).catch(() => undefined);
      this.pacer.prune(now);
    } finally {
      this.sweeping = false;
    }
  }

  /** The ring changed: everyone shown is read again soon, and handed over if another owns them now. */
  ownersChanged(): void {
    const now = Date.now();
    for (const shown of this.shown.values()) shown.checkAt = Math.min(shown.checkAt, now);
  }

  /** How many people this actor shows (operators). */
  size(): number {
    return this.shown.size;
  }

  stop(): void {
    this.pacer.stop();
    this.shown.clear();
  }
}
