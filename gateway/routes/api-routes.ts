// Every REST route of the Webex Messaging API that Squared serves, the meetings API, and
// Squared's extensions.
import type { Route } from '../http/router.ts';
import { meetingRoutes } from './meeting-routes.ts';
import { createRoute, getRoute, listRoute, resourceRoutes } from './resource-routes.ts';

const crud = { list: 'list', create: 'create', get: 'get', update: 'update', remove: 'remove' };
const membershipCrud = { list: 'listMemberships', create: 'createMembership', get: 'getMembership', update: 'updateMembership', remove: 'removeMembership' };

export function apiRoutes(): Route[] {
  return [
    // OAuth2 token endpoint (RFC 6749): unauthenticated, form or JSON body.
    {
      method: 'post',
      path: '/v1/access_token',
      public: true,
      // RFC 6749 section 5.1: responses carrying tokens must not be cached.
      handle: async (ctx) => ({ status: 200, body: await ctx.call('people.issueToken', ctx.body), headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' } }),
    },
    getRoute('/v1/people/me', 'people.me'),
    ...resourceRoutes('/v1/people', 'personId', 'people', crud),
    // Squared extension: an administrator creates a bot and receives its token.
    createRoute('/v1/bots', 'people.createBot'),
    ...resourceRoutes('/v1/rooms', 'roomId', 'rooms', crud),
    ...resourceRoutes('/v1/memberships', 'membershipId', 'rooms', membershipCrud),
    listRoute('/v1/messages/direct', 'rooms.listDirectMessages'),
    ...resourceRoutes('/v1/messages', 'messageId', 'rooms', {
      list: 'listMessages', create: 'createMessage', get: 'getMessage', update: 'updateMessage', remove: 'removeMessage',
    }),
    ...resourceRoutes('/v1/teams', 'teamId', 'teams', crud),
    ...resourceRoutes('/v1/team/memberships', 'membershipId', 'teams', membershipCrud),
    ...meetingRoutes(),
  ];
}
