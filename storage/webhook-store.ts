// The webhooks of the `notifications` actor: their records and the store that keeps them.
import type { Page } from './interfaces.ts';

export type WebhookStatus = 'active' | 'inactive';

export interface WebhookRecord {
  id: string;
  name: string;
  targetUrl: string;
  resource: string;
  event: string;
  /** Webex filter text (`roomId=…&mentionedPeople=me`), as given and validated. */
  filter?: string;
  secret?: string;
  status: WebhookStatus;
  /** `org`: an administrator's webhook that sees the whole organization; `creator` otherwise. */
  ownedBy: 'org' | 'creator';
  orgId: string;
  createdBy: string;
  appId: string;
  created: string;
}

/**
 * Webhooks by id, by creator and by organization, and each one's count of consecutive failed
 * deliveries. `put` creates or replaces the record (its failure count stays); `update`
 * replaces it only while it exists — every change after creation goes through it, so a
 * DELETE racing a PUT or delivery's set-inactive is never undone by them; `listAll` is
 * every webhook, for matching committed activities against them. `addFailure` is atomic: two
 * deliveries failing at once on two nodes count two.
 */
export interface WebhookStore {
  put(webhook: WebhookRecord): Promise<void>;
  /** Replaces an existing webhook (same creator and organization); false, changing nothing, when it does not exist (deleted). */
  update(webhook: WebhookRecord): Promise<boolean>;
  /**
   * Sets an active webhook inactive and changes nothing else of it as it is now (a PUT that
   * landed meanwhile keeps its target and secret); false when it is deleted or not active.
   */
  deactivate(id: string): Promise<boolean>;
  get(id: string): Promise<WebhookRecord | undefined>;
  remove(id: string): Promise<void>;
  /** In id order, `max` at most, after the id `after`. */
  listByCreator(createdBy: string, page: { max: number; after?: string }): Promise<Page<WebhookRecord>>;
  listByOrg(orgId: string, page: { max: number; after?: string }): Promise<Page<WebhookRecord>>;
  listAll(): Promise<WebhookRecord[]>;
  /** Counts one more consecutive failure; returns the count now. */
  addFailure(id: string): Promise<number>;
  /** A delivery got through (or the webhook was revived): the count starts again from 0. */
  clearFailures(id: string): Promise<void>;
  failures(id: string): Promise<number>;

  // ---- the outbox checkpoints (actors/notifications/room-outbox.ts) ----------------------
  /**
   * Each given room's "dispatched up to" seq: every activity of the room at or before it has
   * had its delivery jobs durably queued. A room never checkpointed is absent from the map.
   */
  dispatchedUpTo(roomIds: string[]): Promise<Map<string, number>>;
  /**
   * Keeps the given checkpoints, last write wins (a lower value than the one kept is taken
   * too: it is still true, and costs only repeated deliveries on the next catch-up).
   */
  putDispatchedUpTo(checkpoints: Map<string, number>): Promise<void>;
  close(): Promise<void>;
}
