// Who a committed message notifies, and of what: every member it mentions (by id, or all of
// them with `@all`), and in a direct room the other person. Never its author, never someone
// who is not a member now (the rooms actor says who is). An edit notifies nobody again, as in
// Slack and Webex: only `message.created` counts. Then each is delivered: live when the
// person has a socket open, else by Web Push.
import type { Logger, ServiceBroker } from 'moleculer';
import { NOTIFICATION_PREVIEW_CHARS, type NotificationFrame } from '../../contracts/live-frames.ts';
import type { WorkQueue } from '../../storage/interfaces.ts';
import type { PushStore } from '../../storage/push-store.ts';
import type { Activity } from '../../storage/records.ts';
import { inDoNotDisturb } from './do-not-disturb.ts';
import { inBatches } from './in-batches.ts';
import { deliverLive } from './live-notifications.ts';
import type { PushJob } from './web-push-delivery.ts';

/** People whose push jobs are queued at once. */
const PUSH_CONCURRENCY = 32;

export interface PersonNotification {
  personId: string;
  frame: NotificationFrame;
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

function previewOf(text: unknown): string | undefined {
  if (typeof text !== 'string' || text.length === 0) return undefined;
  const chars = [...text];
  return chars.length <= NOTIFICATION_PREVIEW_CHARS ? text : `${chars.slice(0, NOTIFICATION_PREVIEW_CHARS - 1).join('')}…`;
}

/** The notifications of one activity (none for anything but a new message that mentions someone or is direct). */
export async function notificationsOf(broker: ServiceBroker, activity: Activity): Promise<PersonNotification[]> {
  if (activity.event !== 'message.created') return [];
  const data = activity.data;
  const author = activity.actorId;
  const direct = data.roomType === 'direct';
  const everyone = strings(data.mentionedGroups).includes('all');
  const named = strings(data.mentionedPeople).filter((id) => id !== author);
  if (!direct && !everyone && named.length === 0) return [];
  const { roomId } = activity;
  const recipients = direct || everyone
    ? await broker.call<string[], { roomId: string }>('rooms.memberIdsOf', { roomId })
    : await broker.call<string[], { roomId: string; personIds: string[] }>('rooms.membersAmong', { roomId, personIds: [...new Set(named)].slice(0, 1000) });
  const base = { type: 'notification', roomId, messageId: String(data.id), actorId: author, created: activity.created, preview: previewOf(data.text) } as const;
  const kindOf = (personId: string): NotificationFrame['kind'] => (everyone || named.includes(personId) ? 'mention' : 'direct');
  return [...new Set(recipients)].filter((personId) => personId !== author).map((personId) => ({ personId, frame: { ...base, kind: kindOf(personId) } }));
}

export interface PersonNotifierDeps {
  broker: ServiceBroker;
  push: PushStore;
  queue: WorkQueue;
  queueName: string;
  log: Logger;
}

/**
 * Notifies the people an activity concerns: a `notification` frame on each live socket they
 * have (flagged silent in do not disturb), else one Web Push job per subscription of theirs
 * — none in do not disturb. Returns once each job is durably queued.
 */
export async function notifyPeople({ broker, push, queue, queueName, log }: PersonNotifierDeps, activity: Activity): Promise<void> {
  const notifications = await notificationsOf(broker, activity);
  if (notifications.length === 0) return;
  const quiet = await inDoNotDisturb(broker, notifications.map((n) => n.personId), log);
  for (const n of notifications) if (quiet.has(n.personId)) n.frame.silent = true;
  const reached = await deliverLive(broker, notifications, log);
  const offline = notifications.filter(({ personId }) => !reached.has(personId) && !quiet.has(personId));
  // PUSH_CONCURRENCY people at a time: an `@all` in a large room is many people, and each one's
  // read and publishes wait on an engine; one at a time made the last wait for all the others.
  await inBatches(offline, (slice) => Promise.all(slice.map(async ({ personId, frame }) => {
    const { preview: _, ...notification } = frame;
    const subscriptions = await push.ofPerson(personId);
    await Promise.all(subscriptions.map((subscription) => queue.publish(queueName, { subscriptionId: subscription.id, notification } satisfies PushJob)));
  })), PUSH_CONCURRENCY);
}
