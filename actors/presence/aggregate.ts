// A person's status from what the presence store holds about them (issue 11): a manual
// status wins over everything until it is cleared or expires; then a meeting; then `active`
// while any device reported activity within the idle time; `inactive` while any device is
// leased; `unknown` (offline) when none is. A pure function of the store and the clock, so
// that any presence actor answers the same for the same store.
import type { PresenceView } from '../../contracts/live-frames.ts';
import type { DeviceLease, ManualStatus } from '../../storage/presence-store.ts';

export interface PresenceFacts {
  leases: DeviceLease[];
  manual?: ManualStatus;
  meetings?: string[];
  /** The person's last activity kept beyond their leases (DeviceLeaseStore.lastActivityOf). */
  lastActivity?: number;
}

export interface Aggregate {
  view: PresenceView;
  /** When the status may change with nothing reported (a lease lapsing, the idle time, a manual status expiring). */
  changesAt?: number;
}

export function aggregate(facts: PresenceFacts, now: number, idleMs: number): Aggregate {
  const { leases, manual, meetings } = facts;
  const latest = Math.max(facts.lastActivity ?? 0, ...leases.map((l) => l.lastActivity));
  const lastActivity = latest > 0 ? new Date(latest).toISOString() : undefined;
  const view = (status: PresenceView['status']): PresenceView => (lastActivity ? { status, lastActivity } : { status });
  if (manual && (!manual.expires || Date.parse(manual.expires) > now)) {
    return { view: view(manual.status), changesAt: manual.expires ? Date.parse(manual.expires) : undefined };
  }
  if (meetings && meetings.length > 0) return { view: view('meeting') };
  if (leases.length === 0) return { view: view('unknown') };
  const firstLapse = Math.min(...leases.map((l) => l.expiresAt));
  const active = leases.filter((l) => now - l.lastActivity < idleMs);
  if (active.length === 0) return { view: view('inactive'), changesAt: firstLapse };
  const idleAt = Math.max(...active.map((l) => l.lastActivity)) + idleMs;
  return { view: view('active'), changesAt: Math.min(firstLapse, idleAt) };
}
