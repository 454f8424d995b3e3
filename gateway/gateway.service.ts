// The `gateway` service: the HTTPS and WSS front of Squared on uWebSockets.js. Stateless:
// it authenticates, validates the HTTP shape of requests, calls the actors, and runs the
// live sessions of the clients connected to it.
import uws, { type TemplatedApp, type us_listen_socket } from 'uWebSockets.js';
import type { Context, ServiceSchema } from 'moleculer';
import type { Readable } from 'node:stream';
import path from 'node:path';
import type { CallClient, Caller } from '../contracts/caller.ts';
import type { Fanout } from '../routing/fanout/fanout.ts';
import type { Config } from '../contracts/config.ts';
import type { EngineName, MetricSink } from '../contracts/metrics.ts';
import type { RateLimitStore } from '../storage/interfaces.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { AnonymousLimit } from './anonymous-limit.ts';
import { InFlightRequests } from './http/in-flight.ts';
import { registerRoutes, type Reply, type Route } from './http/router.ts';
import { registerLiveEndpoint } from './live/live-endpoint.ts';
import { LiveHub } from './live/live-hub.ts';
import { CLOSE_GOING_AWAY, type NotificationFrame, type PresenceView } from '../contracts/live-frames.ts';
import { PresenceReporter } from './live/presence-reporter.ts';
import { presenceOwnerOf } from '../routing/owner-strategy.ts';
import { LiveSession } from './live/live-session.ts';
import type { LiveSessionHost, ReplayResult } from './live/live-session-host.ts';
import { apiRoutes } from './routes/api-routes.ts';
import { webRoutes } from './web/web-routes.ts';
import { ensureCertificate } from './tls.ts';

/** uWS closes an HTTP connection idle this long (HTTP_IDLE_TIMEOUT_S), one that never sent a request too. */
const UWS_IDLE_TIMEOUT_MS = 10_000;

export interface GatewayOptions {
  config: Config;
  fanout: Fanout;
  rateLimits: RateLimitStore;
  /** Where uploads are streamed and files read from (undefined: this node serves no files). */
  blobs?: BlobStore;
  /** The engines this node needs that it cannot reach now (cached state, no I/O), for /ready. */
  missingEngines(): EngineName[];
  /** The engines this node serves without, degraded, that it cannot reach now. */
  degradedEngines(): EngineName[];
  /** Called once the gateway listens, with its base URL. */
  onListening?(url: string): void;
}

/**
 * Listens, retrying for a while: a gateway restarted in place may find its port still
 * held for a moment by the process it replaces.
 */
async function listen(app: TemplatedApp, host: string, port: number): Promise<us_listen_socket> {
  for (let waited = 0; ; waited += 250) {
    const socket = await new Promise<us_listen_socket | false>((resolve) => app.listen(host, port, resolve));
    if (socket) return socket;
    if (port === 0 || waited >= 15_000) throw new Error(`cannot listen on ${host}:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * /ready: 503 until the gateway serves and while it drains, and while an engine this node
 * cannot serve without is unreachable (naming it); 200 otherwise — `degraded`, naming them,
 * while only engines it serves without are (storage/engine-health.ts). Load balancers and
 * rolling restarts use it.
 */
function readiness(serving: boolean, missing: EngineName[], degraded: EngineName[]): Reply {
  if (!serving) return { status: 503, body: { status: 'starting' }, headers: { 'Retry-After': '1' } };
  if (missing.length > 0) {
    return { status: 503, body: { status: 'unavailable', missingEngines: missing, message: `This node cannot reach: ${missing.join(', ')}.` }, headers: { 'Retry-After': '1' } };
  }
  if (degraded.length > 0) {
    return { status: 200, body: { status: 'degraded', degradedEngines: degraded, message: `This node serves without: ${degraded.join(', ')}.` } };
  }
  return { status: 200, body: { status: 'ready' } };
}

export function createGatewayService({ config, fanout, rateLimits, blobs, missingEngines, degradedEngines, onListening }: GatewayOptions): ServiceSchema {
  let app: TemplatedApp | undefined;
  let listenSocket: us_listen_socket | undefined;
  let ready = false;
  const hub = new LiveHub(fanout);
  let presence: PresenceReporter | undefined;
  const inFlight = new InFlightRequests();
  const anonymous = new AnonymousLimit(rateLimits, config.limits.anonRateBurst, config.limits.anonRatePerSecond);

  return {
    name: 'gateway',
    dependencies: ['people', 'rooms', 'teams', 'conferences', 'presence', 'files'],

    actions: {
      /** Live session counts of this gateway, for operators. */
      stats: { handler: (_ctx: Context) => hub.stats() },
      /**
       * Notifications for people, from the notifications actor (which asks every gateway):
       * written to their persons' live sockets here; answers whom it reached. Internal.
       */
      notify: {
        visibility: 'public',
        params: {
          groups: {
            type: 'array', max: 100,
            items: { type: 'object', props: { frame: { type: 'object' }, personIds: { type: 'array', max: 10_000, items: { type: 'string', min: 1, max: 200 } } } },
          },
        },
        handler: (ctx: Context<{ groups: { frame: NotificationFrame; personIds: string[] }[] }>) => hub.notify(ctx.params.groups),
      },
      /** Of one room, for operators (`room <id>` asks every gateway). */
      operatorFollowers: {
        visibility: 'public',
        params: { roomId: { type: 'string', min: 1, max: 200 } },
        handler: (ctx: Context<{ roomId: string }>) => hub.followersOf(ctx.params.roomId),
      },
      /** Of one person, for operators (`person <id>` asks every gateway). */
      operatorSessions: {
        visibility: 'public',
        params: { personId: { type: 'string', min: 1, max: 200 } },
        handler: (ctx: Context<{ personId: string }>) => hub.sessionsOf(ctx.params.personId),
      },
    },

    async started() {
      const broker = this.broker;
      const logger = this.logger;
      const metrics: MetricSink = broker.metrics;
      const tls = await ensureCertificate(config.dataDir, [config.host]);
      if (tls.created) logger.info({ cert: tls.certFile }, 'generated a self-signed TLS certificate');
      app = uws.SSLApp({ cert_file_name: tls.certFile, key_file_name: tls.keyFile });
      // A drain waits for the HTTP connections to close (in-flight.ts).
      app.filter((_res, count) => {
        if (count > 0) inFlight.connectionOpened();
        else inFlight.connectionClosed();
      });

      const call = <T>(action: string, params: object, meta: { caller?: Caller; trackingId?: string; client?: CallClient }, stream?: Readable) => broker.call(action, params, { meta, stream }) as Promise<T>;
      const authenticate = (token: string, trackingId?: string) => call<Caller>('people.authenticate', { token }, { trackingId });

      const health: Route[] = [
        { method: 'get', path: '/health', public: true, unlimited: true, handle: async () => ({ status: 200, body: { status: 'ok' } }) },
        {
          method: 'get', path: '/ready', public: true, unlimited: true,
          handle: async () => readiness(ready, missingEngines(), degradedEngines()),
        },
      ];
      registerRoutes(app, [...health, ...apiRoutes({ avatarMaxBytes: config.previews.avatarMaxBytes, blobs, limits: { maxFileBytes: config.files.maxFileBytes, idleMs: config.files.uploadIdleMs, maxFieldBytes: config.limits.maxBodyBytes } }), ...webRoutes()], {
        logger,
        maxBodyBytes: config.limits.maxBodyBytes,
        rateBurst: config.limits.rateBurst,
        ratePerSecond: config.limits.ratePerSecond,
        publicUrl: config.publicUrl,
        rateLimits,
        anonymous,
        authenticate,
        call,
        inFlight,
        metrics,
        spoolDir: path.join(config.dataDir, 'spool'),
      });

      const reporter = new PresenceReporter({
        leaseMs: config.presence.leaseMs,
        idleMs: config.presence.idleMs,
        ownerOf: (personId) => presenceOwnerOf(broker, personId),
        call: (action, params, nodeID) => broker.call(action, params, nodeID ? { nodeID } : {}),
        logger,
      });
      presence = reporter;
      reporter.start();
      const sessionHost: LiveSessionHost = {
        authenticate: (token) => authenticate(token),
        helloRefusal: (address) => anonymous.refusal(address),
        helloFailed: (address) => anonymous.failed(address),
        liveRooms: (personId) => call('rooms.liveRooms', { personId }, {}),
        markRead: (caller, roomId, messageId) => call('rooms.markRead', { roomId, messageId }, { caller }),
        replay: (personId, positions) => call<Record<string, ReplayResult>>('rooms.replay', { personId, positions }, {}),
        subscribeRoom: (session, roomId) => hub.subscribeRoom(session, roomId),
        unsubscribeRoom: (session, roomId) => hub.unsubscribeRoom(session, roomId),
        watchPerson: (session) => hub.watchPerson(session),
        publishTyping: (roomId, personId, typing) => hub.publishTyping(roomId, personId, typing),
        peopleSharingRooms: (personId, personIds) => call<string[]>('rooms.peopleSharingRooms', { personId, personIds }, {}),
        presenceStatuses: (personIds) => call<Record<string, PresenceView>>('presence.statuses', { personIds }, {}),
        watchPresence: (session, personId) => hub.watchPresence(session, personId),
        unwatchPresence: (session, personId) => hub.unwatchPresence(session, personId),
        deviceOpened: (session) => reporter.opened(session.id, session.personId!),
        deviceActive: (session) => reporter.active(session.id),
        deviceClosed: (session) => reporter.closed(session.id),
        forget: (session) => hub.forget(session),
        meetingRequest: (session, caller, frame) =>
          broker.call('conferences.signal', { meetingId: frame.meetingId, sessionId: session.id, gatewayNodeId: broker.nodeID, action: frame.action, args: frame.args }, { meta: { caller } }),
        meetingSessionClosed: (session, meetingId) => {
          broker.call('conferences.sessionClosed', { meetingId, sessionId: session.id }).catch((err: unknown) => logger.warn({ err, meetingId }, 'a closed session could not leave its meeting'));
        },
        subscribeMeeting: (session, meetingId) => hub.subscribeMeeting(session, meetingId),
        meetingState: (caller, meetingId) => call<{ version: number }>('conferences.state', { meetingId }, { caller }),
        unsubscribeMeeting: (session, meetingId) => hub.unsubscribeMeeting(session, meetingId),
        maxBufferedBytes: config.limits.liveMaxBufferedBytes,
        frameBurst: config.limits.liveFrameBurst,
        framesPerSecond: config.limits.liveFramesPerSecond,
        helloTimeoutMs: config.limits.liveHelloTimeoutMs,
        checkSeconds: config.limits.liveCheckSeconds,
        heartbeatSeconds: 25,
        logger,
        metrics,
      };
      registerLiveEndpoint(app, {
        maxBufferedBytes: config.limits.liveMaxBufferedBytes,
        metrics,
        upgraded: () => inFlight.connectionUpgraded(),
        createSession: (socket) => {
          const session = new LiveSession(socket, sessionHost);
          hub.add(session);
          return session;
        },
      });

      listenSocket = await listen(app, config.host, config.port);
      const port = uws.us_socket_local_port(listenSocket);
      const url = config.publicUrl ?? `https://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
      ready = true;
      logger.info({ url }, 'gateway listening');
      onListening?.(url);
    },

    /**
     * The drain: stop taking connections (and say so on /ready); answer every request that
     * arrives on a connection already open, each with `Connection: close` so keep-alive
     * clients reconnect elsewhere, until every HTTP connection has closed — or, with some
     * left open, a second passes with nothing in flight and none new, and uWS's idle timeout
     * since the last connection was accepted (see InFlightRequests.settled); then tell live
     * clients to reconnect (elsewhere) and resume, and close what is left.
     */
    async stopped() {
      ready = false;
      inFlight.draining = true;
      if (listenSocket) uws.us_listen_socket_close(listenSocket);
      const quietMs = Math.min(1000, config.limits.drainTimeoutMs);
      const freshMs = Math.min(UWS_IDLE_TIMEOUT_MS, config.limits.drainTimeoutMs);
      const drained = await inFlight.settled(quietMs, config.limits.drainTimeoutMs, freshMs);
      if (!drained) this.logger.warn({ inFlight: inFlight.size, connections: inFlight.openConnections }, 'drain timed out: closing with requests still in flight');
      // The clients reconnect as new devices within the lease: the old ones are left to lapse, so nobody shows offline meanwhile.
      presence?.drain();
      hub.closeAll(CLOSE_GOING_AWAY, 'going away: reconnect and resume');
      app?.close();
    },
  };
}
