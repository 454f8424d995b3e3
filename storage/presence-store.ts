// What the `presence` actor keeps, behind two small interfaces: the devices' leases (and the
// meetings people are in), which are ephemeral and renewed all the time by the gateways'
// heartbeats, and the manual statuses people set, which must survive a restart.

/** A live socket of a person, as its gateway reports it. */
export interface DeviceReport {
  personId: string;
  /** The live session's id: unique per socket. */
  deviceId: string;
  /** When the client last reported activity on the socket (epoch ms). */
  lastActivity: number;
}

export interface DeviceLease extends DeviceReport {
  /** When the lease lapses unless renewed (epoch ms). */
  expiresAt: number;
}

/**
 * Per-device leases and meeting participation: memory in the embedded mode, Redis keys with
 * TTLs in cluster mode (shared by every presence actor).
 *
 * Guarantees: a lease not renewed within its TTL is never answered again (a gateway killed
 * leaves nothing behind past the lease); a renewal replaces the lease (last write wins). The
 * store may lose everything (a Redis restart): the gateways' next heartbeats write it again,
 * so it is never the only copy of anything that matters for longer than a lease.
 */
export interface DeviceLeaseStore {
  /** Writes or renews each device's lease for `ttlMs` from now, and the person's last activity. */
  renew(devices: DeviceReport[], ttlMs: number): Promise<void>;
  /** The device is gone (its socket closed): its lease goes at once. */
  release(personId: string, deviceId: string): Promise<void>;
  /** The unexpired leases of each person asked about (a person with none maps to []). */
  leasesOf(personIds: string[]): Promise<Map<string, DeviceLease[]>>;
  /**
   * The latest activity ever renewed for each person (kept for days after their last lease
   * lapsed, so an offline person still shows when they were last active); absent if unknown.
   */
  lastActivityOf(personIds: string[]): Promise<Map<string, number>>;
  /** The person is in the meeting (joined) or no more; an entry lapses after `ttlMs` whatever happens. */
  setMeeting(personId: string, meetingId: string, inMeeting: boolean, ttlMs: number): Promise<void>;
  /** The meetings each person asked about is in (a person in none is absent). */
  meetingsOf(personIds: string[]): Promise<Map<string, string[]>>;
  /**
   * When the store last failed or lost its connection (epoch ms; 0: never). What it held may
   * be gone since (a Redis restarted empty): until every gateway renewed its leases once, a
   * person without leases may just not have been written again yet.
   */
  lastFailureAt(): number;
  close(): Promise<void>;
}

/** How long a person's last activity is kept after their last lease lapsed (lastActivityOf). */
export const LAST_ACTIVITY_KEEP_MS = 30 * 24 * 3600 * 1000;

export const MANUAL_STATUSES = ['DoNotDisturb', 'OutOfOffice'] as const;
export type ManualStatusName = (typeof MANUAL_STATUSES)[number];

/** A status a person set themselves; it wins over every other until cleared or expired. */
export interface ManualStatus {
  status: ManualStatusName;
  /** When it ends on its own (ISO 8601); absent: until cleared. */
  expires?: string;
  /** When it was set (ISO 8601). */
  set: string;
}

/**
 * Manual statuses, durable: SQLite embedded, Cassandra in cluster mode (a Redis without
 * persistence would forget a person's DoNotDisturb at its restart; the leases may be lost,
 * they are written again within a lease, but a manual status is written once).
 *
 * Guarantees: an expired status is never answered (its row may linger until read or
 * compacted); `put` replaces the person's status.
 */
export interface ManualStatusStore {
  put(personId: string, status: ManualStatus): Promise<void>;
  clear(personId: string): Promise<void>;
  /** The unexpired statuses of the people asked about (a person without one is absent). */
  statusesOf(personIds: string[]): Promise<Map<string, ManualStatus>>;
}
