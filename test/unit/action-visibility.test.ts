// Every Moleculer action says who may call it: 'published' — a client route of the gateway
// calls it on a client's behalf, and it checks the caller itself — or 'public' — only other
// actors or the gateway's own machinery call it, and it may trust what it is given (the
// person a replay is for, an internal resolve). A client route that reaches an internal
// action would hand a client that trust, so the routes are checked too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServiceSchema } from 'moleculer';
import { createPeopleService } from '../../actors/people/people.service.ts';
import { createRoomsService } from '../../actors/rooms/rooms.service.ts';
import { createSearchService } from '../../actors/search/search.service.ts';
import { createTeamsService } from '../../actors/teams/teams.service.ts';
import { createConferencesService } from '../../actors/conferences/conferences.service.ts';
import { createNotificationsService } from '../../actors/notifications/notifications.service.ts';
import { createAttachmentActionsService } from '../../actors/attachment-actions/attachment-actions.service.ts';
import { createAvatarsService } from '../../actors/files/avatars.service.ts';
import { createFilesService } from '../../actors/files/files.service.ts';
import { createMediaService } from '../../media/media.service.ts';
import { createPresenceService } from '../../actors/presence/presence.service.ts';
import { apiRoutes } from '../../gateway/routes/api-routes.ts';
import type { RouteContext } from '../../gateway/http/router.ts';

// The schemas are only read here, never started: their dependencies are never touched.
const unused = {} as never;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'visibility-'));
const schemas: ServiceSchema[] = [
  createPeopleService({ store: unused, sessions: unused, dataDir, adminEmail: 'admin@example.com', adminPassword: undefined } as never),
  createRoomsService({ store: unused, retention: unused, fanout: unused }),
  createTeamsService({ store: unused }),
  createSearchService({ index: unused }),
  createConferencesService({ store: unused, fanout: unused } as never),
  createNotificationsService({ store: unused, queue: unused, queueName: 'q', settings: { allowHttp: false, allowHosts: '' }, push: unused, pushQueueName: 'p', pushSettings: { subject: 'mailto:a@b', ttlSeconds: 1, maxSubscriptionsPerPerson: 1 } } as never),
  createAttachmentActionsService({ store: unused }),
  createPresenceService({ leases: unused, statuses: unused, fanout: unused, settings: unused }),
  createAvatarsService({ blobs: unused, sandbox: unused, maxBytes: 1 }),
  createFilesService({ store: unused, blobs: unused, queue: unused, queueName: unused, settings: unused, previews: unused }),
  createMediaService({ pool: { size: 1, rtcMinPort: 40000, rtcMaxPort: 40001 }, listen: { ip: '127.0.0.1' } } as never),
];
fs.rmSync(dataDir, { recursive: true, force: true });

function visibilities(): Map<string, unknown> {
  const found = new Map<string, unknown>();
  for (const schema of schemas) {
    for (const [name, action] of Object.entries(schema.actions ?? {})) {
      found.set(`${schema.name}.${name}`, typeof action === 'object' && action !== null ? (action as { visibility?: unknown }).visibility : undefined);
    }
  }
  return found;
}

test('every action of every actor and of the media service names its visibility', () => {
  const unmarked = [...visibilities()].filter(([, visibility]) => visibility !== 'published' && visibility !== 'public').map(([name]) => name);
  assert.deepEqual(unmarked, []);
});

/** The actions the gateway's REST routes call, found by running each route with a recording context. */
async function actionsOfRoutes(): Promise<Map<string, Set<string>>> {
  const byRoute = new Map<string, Set<string>>();
  for (const route of apiRoutes()) {
    const called = new Set<string>();
    const ctx = {
      request: { method: route.method, path: '/v1/x', query: {}, params: {}, headers: { 'content-type': 'image/png' }, trackingId: 't', remoteAddress: '127.0.0.1', aborted: false },
      body: { items: [{ participantId: 'meeting_00' }] },
      rawBody: Buffer.from('an image'),
      caller: undefined,
      url: () => 'https://squared.example/x',
      call: async (action: string) => {
        called.add(action);
        return { items: [], id: 'x' };
      },
    } as unknown as RouteContext;
    try {
      await route.handle(ctx);
    } catch {
      // A route that rejects the recorded context's input still said what it would call.
    }
    byRoute.set(`${route.method.toUpperCase()} ${route.path}`, called);
  }
  return byRoute;
}

/** Routes that by design call no actor: what they answer is all in their URL. */
const ANSWERED_BY_THE_GATEWAY = new Set(['GET /v1/avatars/default/:file']);

test('every REST route calls published actions only', async () => {
  const known = visibilities();
  const wrong: string[] = [];
  for (const [route, actions] of await actionsOfRoutes()) {
    if (ANSWERED_BY_THE_GATEWAY.has(route)) continue;
    assert.ok(actions.size > 0, `${route} calls no action that the check could see`);
    for (const action of actions) if (known.get(action) !== 'published') wrong.push(`${route} → ${action} (${String(known.get(action))})`);
  }
  assert.deepEqual(wrong, []);
});
