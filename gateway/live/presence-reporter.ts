// One gateway's report of its live sockets to the presence actors (README, Presence): each
// socket is a device of its person, leased for `leaseMs` and renewed every third of it by
// one heartbeat per presence actor (the devices grouped by the actor that owns their person),
// so a gateway killed leaves its devices to lapse within the lease. A socket's opening goes
// at once; its activity goes at once only when the activity last reported is so old that
// the person may be shown `inactive` before the next heartbeat (it ends an `inactive`),
// else with the next heartbeat: a client reporting activity often costs the actors nothing.
//
// A gateway that drains (a restart, a deploy) does not release its devices: their clients
// reconnect, here or elsewhere, as new devices within the lease, and their people never
// show offline in between. A socket that closes otherwise releases its device at once.
import type { Logger } from 'moleculer';
import type { DeviceReport } from '../../storage/presence-store.ts';

/** Devices in one heartbeat call at most. */
const BATCH = 5000;

interface Device extends DeviceReport {
  /** The activity the presence actor was last told of. */
  reported: number;
}

export interface PresenceReporterOptions {
  leaseMs: number;
  /** The presence actors' idle time (SQUARED_PRESENCE_IDLE_MS). */
  idleMs: number;
  /** The presence actor that owns the person (undefined: none known, let the registry choose). */
  ownerOf(personId: string): string | undefined;
  call(action: string, params: object, nodeID: string | undefined): Promise<unknown>;
  logger: Logger;
}

export class PresenceReporter {
  private readonly devices = new Map<string, Device>();
  private readonly options: PresenceReporterOptions;
  private readonly everyMs: number;
  private timer: NodeJS.Timeout | undefined;
  private draining = false;
  private lastWarning = 0;

  constructor(options: PresenceReporterOptions) {
    this.options = options;
    this.everyMs = Math.max(250, Math.floor(options.leaseMs / 3));
  }

  start(): void {
    this.timer = setInterval(() => this.send([...this.devices.values()]), this.everyMs);
    this.timer.unref?.();
  }

  /** From now on closed sockets keep their leases (see above), and no more heartbeats go. */
  drain(): void {
    this.draining = true;
    clearInterval(this.timer);
  }

  opened(deviceId: string, personId: string): void {
    const now = Date.now();
    const device: Device = { personId, deviceId, lastActivity: now, reported: now };
    this.devices.set(deviceId, device);
    this.send([device]);
  }

  active(deviceId: string): void {
    const device = this.devices.get(deviceId);
    if (!device) return;
    const now = Date.now();
    device.lastActivity = now;
    if (now - device.reported >= this.options.idleMs - this.everyMs) this.send([device]);
  }

  closed(deviceId: string): void {
    const device = this.devices.get(deviceId);
    if (!device) return;
    this.devices.delete(deviceId);
    if (this.draining) return;
    this.options.call('presence.release', { presenceOf: device.personId, deviceId }, this.options.ownerOf(device.personId)).catch((err: unknown) => this.warn(err));
  }

  size(): number {
    return this.devices.size;
  }

  private send(devices: Device[]): void {
    if (devices.length === 0 || this.draining) return;
    const byOwner = new Map<string | undefined, DeviceReport[]>();
    for (const device of devices) {
      device.reported = device.lastActivity;
      const owner = this.options.ownerOf(device.personId);
      let reports = byOwner.get(owner);
      if (!reports) byOwner.set(owner, (reports = []));
      reports.push({ personId: device.personId, deviceId: device.deviceId, lastActivity: device.lastActivity });
    }
    for (const [owner, reports] of byOwner) {
      for (let i = 0; i < reports.length; i += BATCH) {
        this.options.call('presence.heartbeat', { leaseMs: this.options.leaseMs, devices: reports.slice(i, i + BATCH) }, owner).catch((err: unknown) => this.warn(err));
      }
    }
  }

  /** A failed report is healed by the next heartbeat; said once in a while, not per call. */
  private warn(err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarning < 30_000) return;
    this.lastWarning = now;
    this.options.logger.warn({ err }, 'presence could not be reported: the next heartbeat tries again');
  }
}
