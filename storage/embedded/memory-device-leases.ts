// DeviceLeaseStore in this process's memory, for the embedded mode: the gateways and the
// presence actor are one process, so the leases die with it, as they should (a restarted
// process has no live sockets). Expired entries are dropped when read.
import { LAST_ACTIVITY_KEEP_MS, type DeviceLease, type DeviceLeaseStore, type DeviceReport } from '../presence-store.ts';

/** How long a person's last activity is remembered after their last lease lapsed. */

export class MemoryDeviceLeases implements DeviceLeaseStore {
  /** Person → device → lease. */
  private readonly leases = new Map<string, Map<string, DeviceLease>>();
  private readonly lastActivity = new Map<string, { at: number; keepUntil: number }>();
  /** Person → meeting → until when the entry counts. */
  private readonly meetings = new Map<string, Map<string, number>>();

  async renew(devices: DeviceReport[], ttlMs: number): Promise<void> {
    const now = Date.now();
    for (const { personId, deviceId, lastActivity } of devices) {
      let person = this.leases.get(personId);
      if (!person) this.leases.set(personId, (person = new Map()));
      person.set(deviceId, { personId, deviceId, lastActivity, expiresAt: now + ttlMs });
      const known = this.lastActivity.get(personId);
      this.lastActivity.set(personId, { at: Math.max(known?.at ?? 0, lastActivity), keepUntil: now + LAST_ACTIVITY_KEEP_MS });
    }
  }

  async release(personId: string, deviceId: string): Promise<void> {
    const person = this.leases.get(personId);
    person?.delete(deviceId);
    if (person?.size === 0) this.leases.delete(personId);
  }

  async leasesOf(personIds: string[]): Promise<Map<string, DeviceLease[]>> {
    const now = Date.now();
    const found = new Map<string, DeviceLease[]>();
    for (const personId of personIds) {
      const person = this.leases.get(personId);
      for (const [deviceId, lease] of person ?? []) if (lease.expiresAt <= now) person!.delete(deviceId);
      if (person?.size === 0) this.leases.delete(personId);
      found.set(personId, [...(person?.values() ?? [])]);
    }
    return found;
  }

  async lastActivityOf(personIds: string[]): Promise<Map<string, number>> {
    const now = Date.now();
    const found = new Map<string, number>();
    for (const personId of personIds) {
      const known = this.lastActivity.get(personId);
      if (known && known.keepUntil > now) found.set(personId, known.at);
      else if (known) this.lastActivity.delete(personId);
    }
    return found;
  }

  async setMeeting(personId: string, meetingId: string, inMeeting: boolean, ttlMs: number): Promise<void> {
    let person = this.meetings.get(personId);
    if (inMeeting) {
      if (!person) this.meetings.set(personId, (person = new Map()));
      person.set(meetingId, Date.now() + ttlMs);
      return;
    }
    person?.delete(meetingId);
    if (person?.size === 0) this.meetings.delete(personId);
  }

  async meetingsOf(personIds: string[]): Promise<Map<string, string[]>> {
    const now = Date.now();
    const found = new Map<string, string[]>();
    for (const personId of personIds) {
      const person = this.meetings.get(personId);
      if (!person) continue;
      for (const [meetingId, until] of person) if (until <= now) person.delete(meetingId);
      if (person.size === 0) this.meetings.delete(personId);
      else found.set(personId, [...person.keys()]);
    }
    return found;
  }

  /** Memory fails only with the process, which takes the actor along. */
  lastFailureAt(): number {
    return 0;
  }

  async close(): Promise<void> {
    this.leases.clear();
    this.meetings.clear();
  }
}
