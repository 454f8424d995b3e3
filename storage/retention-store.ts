// Organizations' message retention policies (issue 13, docs/admin.md "Retention"). Owned by
// the `rooms` actor, which owns the messages the policy removes: administrators set them
// through it, and its sweep (actors/rooms/retention.ts) reads them.

/** How long an org's messages are kept, by room type; a type without days keeps them forever. */
export interface RetentionPolicy {
  orgId: string;
  /** Days a message of a direct room is kept after it was posted. */
  directDays?: number;
  /** Days a message of a group room (spaces, team rooms) is kept after it was posted. */
  groupDays?: number;
  /** ISO 8601: when the policy was last set. */
  updated: string;
  /** The administrator who set it: the actor of the deletions it makes. */
  updatedBy: string;
}

export interface RetentionStore {
  get(orgId: string): Promise<RetentionPolicy | undefined>;
  /** Sets (replaces) the org's policy. */
  put(policy: RetentionPolicy): Promise<void>;
  /** Every org's policy, for a sweep: few orgs per installation, so one read. */
  list(): Promise<RetentionPolicy[]>;
}
