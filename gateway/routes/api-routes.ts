// Every REST route of the Webex Messaging API that Squared serves, the meetings API, and
// Squared's extensions.
import type { Route } from '../http/router.ts';
import { avatarRoutes, withAvatars } from './avatar-routes.ts';
import { IDEMPOTENT_CREATES, idempotent } from './idempotent-routes.ts';
import { meetingRoutes } from './meeting-routes.ts';
import { createRoute, deleteRoute, getRoute, listRoute, resourceRoutes, updateRoute } from './resource-routes.ts';
import { tokenRoutes } from './token-routes.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { contentRoutes } from './content-routes.ts';
import { messageCreateRoute, type UploadLimits } from './message-create-route.ts';

/** Webex's limits: one file of 100 MB per message; a client silent for 30 s is cut off. */
export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { maxFileBytes: 100 * 1000 * 1000, idleMs: 30_000, maxFieldBytes: 1024 * 1024 };

const crud = { list: 'list', create: 'create', get: 'get', update: 'update', remove: 'remove' };
const membershipCrud = { list: 'listMemberships', create: 'createMembership', get: 'getMembership', update: 'updateMembership', remove: 'removeMembership' };

/** `blobs`: where uploads are streamed and downloads read (the gateway's own access, see actors/files/files.service.ts). */
export function apiRoutes(options: { avatarMaxBytes: number; blobs?: BlobStore; limits: UploadLimits } = { avatarMaxBytes: 8 * 1024 * 1024, limits: DEFAULT_UPLOAD_LIMITS }): Route[] {
  const files = options;
  const routes: Route[] = [
    ...tokenRoutes(),
    // Every person answered carries an absolute `avatar` (avatar-routes.ts): their own, or the generated default.
    withAvatars(getRoute('/v1/people/me', 'people.me')),
    // Squared extension: the caller's Web Push subscriptions and the VAPID key (docs/notifications.md).
    listRoute('/v1/people/me/pushSubscriptions', 'notifications.listPushSubscriptions'),
    createRoute('/v1/people/me/pushSubscriptions', 'notifications.createPushSubscription'),
    getRoute('/v1/people/me/pushSubscriptions/:subscriptionId', 'notifications.getPushSubscription'),
    deleteRoute('/v1/people/me/pushSubscriptions/:subscriptionId', 'notifications.removePushSubscription'),
    getRoute('/v1/push/vapidPublicKey', 'notifications.vapidPublicKey'),
    // Squared extension: the caller's manual status, DoNotDisturb or OutOfOffice (README, Presence).
    updateRoute('/v1/people/me/status', 'presence.setStatus'),
    deleteRoute('/v1/people/me/status', 'presence.clearStatus'),
    ...resourceRoutes('/v1/people', 'personId', 'people', crud).map(withAvatars),
    // Squared extension: an administrator revokes every token of a person (docs/admin.md).
    deleteRoute('/v1/people/:personId/tokens', 'people.revokeTokensByAdmin'),
    // Squared extension: an administrator creates a bot and receives its token.
    withAvatars(createRoute('/v1/bots', 'people.createBot')),
    ...avatarRoutes(options.avatarMaxBytes).map(withAvatars),
    ...resourceRoutes('/v1/rooms', 'roomId', 'rooms', crud),
    // Squared extension: the caller has read the room up to a message (docs/live-protocol.md, Read status).
    createRoute('/v1/rooms/:roomId/read', 'rooms.markRead'),
    ...resourceRoutes('/v1/memberships', 'membershipId', 'rooms', membershipCrud),
    listRoute('/v1/messages/direct', 'rooms.listDirectMessages'),
    // Squared extension: the caller's messages that match a query (docs/search.md).
    listRoute('/v1/messages/search', 'search.messages'),
    ...resourceRoutes('/v1/messages', 'messageId', 'rooms', {
      list: 'listMessages', create: 'createMessage', get: 'getMessage', update: 'updateMessage', remove: 'removeMessage',
    }).map((route) => (route.method === 'post' ? messageCreateRoute(files.blobs, files.limits) : route)),
    ...contentRoutes(files.blobs),
    ...resourceRoutes('/v1/teams', 'teamId', 'teams', crud),
    ...resourceRoutes('/v1/team/memberships', 'membershipId', 'teams', membershipCrud),
    ...resourceRoutes('/v1/webhooks', 'webhookId', 'notifications', crud),
    ...resourceRoutes('/v1/room/tabs', 'tabId', 'rooms', { list: 'listTabs', create: 'createTab', get: 'getTab', update: 'updateTab', remove: 'removeTab' }),
    // The org's events, for compliance officers (docs/compliance.md).
    listRoute('/v1/events', 'rooms.listEvents'),
    getRoute('/v1/events/:eventId', 'rooms.getEvent'),
    createRoute('/v1/attachment/actions', 'attachmentActions.create', 202),
    getRoute('/v1/attachment/actions/:id', 'attachmentActions.get'),
    ...meetingRoutes(),
    // Webex's Admin Audit Events API (docs/admin.md): administrators only.
    listRoute('/v1/adminAudit/events', 'people.auditEvents'),
    getRoute('/v1/adminAudit/eventCategories', 'people.auditEventCategories'),
    // Squared extension: the organization's usage figures, for its administrators (docs/admin.md).
    getRoute('/v1/organizations/:orgId/usage', 'people.orgUsage'),
    // Squared extension: the organization's message retention policy (docs/admin.md, Retention).
    getRoute('/v1/organizations/:orgId/retention', 'rooms.retentionPolicy'),
    updateRoute('/v1/organizations/:orgId/retention', 'rooms.setRetentionPolicy'),
  ];
  return routes.map((route) => (route.method === 'post' && IDEMPOTENT_CREATES.has(route.path) ? idempotent(route) : route));
}
