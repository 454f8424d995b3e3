// What the `notifications` actor hears to deliver webhooks: committed changes of a Webex
// resource, whoever owns it. The rooms actor's committed activities are mapped to these by
// the notifications actor itself (it listens to `rooms.activities`); any other actor whose
// resource has webhooks (attachment actions, meetings) emits RESOURCE_EVENTS after its write
// is committed — never a gateway, never before the commit.

export const WEBHOOK_RESOURCES = ['messages', 'memberships', 'rooms', 'attachmentActions', 'meetings', 'meetingParticipants'] as const;
export type WebhookResource = (typeof WEBHOOK_RESOURCES)[number];

export const WEBHOOK_EVENTS = ['created', 'updated', 'deleted', 'started', 'ended', 'joined', 'left'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** The broker event (payload `{ events: ResourceEvent[] }`), emitted balanced: one notifications instance hears each. */
export const RESOURCE_EVENTS = 'notifications.resourceEvents';

export interface ResourceEvent {
  resource: WebhookResource;
  event: WebhookEvent;
  /** Who did it (the webhook body's `actorId`). */
  actorId: string;
  /** The room it happened in: a creator's webhook sees it only while the creator is a member. */
  roomId?: string;
  /**
   * When set, only webhooks created by these people see it (e.g. an attachment action goes to
   * the card message's author), in addition to the room rule.
   */
  audience?: string[];
  /** The webhook body's `data`: ids and the small fields Webex puts there, never content. */
  data: Record<string, unknown>;
  created: string;
  /**
   * What names this event uniquely and the same way each time it is dispatched (a room
   * activity: `roomId/seq`): a replay of it then gets the same delivery id.
   */
  key?: string;
}
