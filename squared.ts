// Starts a Squared process: the roles named in SQUARED_ROLES (all of them by default, the
// embedded mode), on the adapters and fan-out the configuration selects (cluster/wiring.ts).
import { ServiceBroker } from 'moleculer';
import type { AddressInfo } from 'node:net';
import { readConfig } from './contracts/config.ts';
import { registerMetrics } from './contracts/metrics.ts';
import { wire } from './cluster/wiring.ts';
import { openConsoleSocket, type ConsoleSocket } from './cluster/console-socket.ts';
import { createNodeOperatorService } from './cluster/node-operator.service.ts';
import { filesFaults, previewFaults, retentionClock, roomLogFaults } from './cluster/fault-injection.ts';
import { brokerOptions } from './moleculer.config.ts';
import { NodeLiveness } from './routing/node-liveness.ts';
import { createPeopleService } from './actors/people/people.service.ts';
import { createRoomsService } from './actors/rooms/rooms.service.ts';
import { createSearchService } from './actors/search/search.service.ts';
import { createTeamsService } from './actors/teams/teams.service.ts';
import { createConferencesService } from './actors/conferences/conferences.service.ts';
import { createAttachmentActionsService } from './actors/attachment-actions/attachment-actions.service.ts';
import { createNotificationsService } from './actors/notifications/notifications.service.ts';
import { createPresenceService } from './actors/presence/presence.service.ts';
import { createAvatarsService } from './actors/files/avatars.service.ts';
import { RenderSandbox } from './actors/files/preview/sandbox.ts';
import { DEFAULT_RENDER_LIMITS } from './actors/files/preview/render-types.ts';
import { createGatewayService } from './gateway/gateway.service.ts';
import { createFilesService } from './actors/files/files.service.ts';
import { FilePreviews } from './actors/files/file-previews.ts';
import { outboundPolicyOf } from './actors/notifications/notifications.service.ts';
import { createMediaService } from './media/media.service.ts';

const config = readConfig();
const broker = new ServiceBroker(brokerOptions(config, config.engines.nats?.servers.join(',')));
// Moleculer's Shard strategy (under routing/owner-strategy.ts) listens for node events once
// per action; past a hundred actions the local bus warned of a leak that is none.
broker.localBus.setMaxListeners(1000);
registerMetrics(broker.metrics);
let url: string | undefined;
/** Set when this process created the first administrator and wrote their credentials there. */
let adminCredentials: string | undefined;

let wiring: Awaited<ReturnType<typeof wire>>;
/** The child processes that render untrusted files (actors nodes). */
let previewSandbox: RenderSandbox | undefined;
try {
  wiring = await wire(config, broker.getLogger('wiring'), broker.metrics);
} catch (err) {
  broker.logger.fatal({ err }, 'Squared could not open its storage');
  process.exit(1);
}

if (wiring.actors) {
  const { people, audit, sessions, attempts, rooms, retention, teams, conferences, search, webhooks, attachmentActions, push, queue, presence, blobs, files } = wiring.actors;
  broker.createService(createPeopleService({
    store: people, audit, sessions, attempts, passwordLimits: config.passwordAttempts, dataDir: config.dataDir, adminEmail: config.adminEmail, adminPassword: config.adminPassword,
    onFirstAdministrator: (file) => (adminCredentials = file),
  }));
  broker.createService(createRoomsService({ store: rooms, retention, retentionSweepSeconds: config.retention.sweepSeconds, retentionNow: retentionClock(), fanout: wiring.fanout, faults: roomLogFaults(), metrics: broker.metrics }));
  broker.createService(createTeamsService({ store: teams }));
  broker.createService(createSearchService({ index: search, settings: config.search }));
  previewSandbox = new RenderSandbox(DEFAULT_RENDER_LIMITS, config.previews.workers);
  const previews = new FilePreviews({
    store: files, blobs, sandbox: previewSandbox, limits: DEFAULT_RENDER_LIMITS, queue, faults: previewFaults(),
    settings: { queueName: `${config.namespace}.previews`, concurrency: config.previews.workers },
  });
  broker.createService(createFilesService({ store: files, blobs, queue, queueName: `${config.namespace}.file-deletions`, previews, settings: {
    maxFileBytes: config.files.maxFileBytes, fetchTimeoutMs: config.files.fetchTimeoutMs, connectTimeoutMs: config.webhooks.connectTimeoutMs, policy: outboundPolicyOf(config.webhooks),
    uploadGraceMs: config.files.uploadGraceMs,
  }, faults: filesFaults() }));
  broker.createService(createNotificationsService({ store: webhooks, queue, queueName: `${config.namespace}.webhook-deliveries`, settings: config.webhooks,
    push, pushQueueName: `${config.namespace}.push-deliveries`, pushSettings: config.push,
  }));
  broker.createService(createAttachmentActionsService({ store: attachmentActions }));
  broker.createService(createPresenceService({ ...presence, fanout: wiring.fanout, settings: config.presence }));
  broker.createService(createConferencesService({ store: conferences, fanout: wiring.fanout, participantsPerNode: config.media.meetingParticipantsPerNode, reconnectGraceMs: config.media.meetingReconnectGraceMs }));
  broker.createService(createAvatarsService({ blobs, sandbox: previewSandbox, maxBytes: config.previews.avatarMaxBytes }));
}
if (config.roles.includes('media')) {
  const { workers, rtcMinPort, rtcMaxPort, listenIp, announcedAddress, participantLimits } = config.media;
  broker.createService(createMediaService({ pool: { size: workers, rtcMinPort, rtcMaxPort }, listen: { ip: listenIp, announcedAddress }, participantLimits }));
}
if (config.roles.includes('gateway')) {
  broker.createService(createGatewayService({ config, fanout: wiring.fanout, rateLimits: wiring.rateLimits, blobs: wiring.blobs, missingEngines: () => wiring.health.missing(), degradedEngines: () => wiring.health.degraded(), onListening: (listening) => (url = listening) }));
}

broker.createService(createNodeOperatorService({ roles: config.roles, drain: (reason) => void shutdown(reason) }));

let consoleSocket: ConsoleSocket | undefined;
let liveness: NodeLiveness | undefined;
let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  broker.logger.info({ signal }, 'shutting down');
  try {
    await consoleSocket?.close();
    await broker.stop();
    previewSandbox?.close();
    // Last: while draining, this node still answers the liveness probes of the others, or
    // they would take it for dead and reject the calls it is finishing.
    await liveness?.stop();
    wiring.health.stop();
    await wiring.close();
  } finally {
    process.exit(0);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  // A cluster node sees another die within a second (routing/node-liveness.ts). It answers
  // the others' probes before they learn of it, so it is never taken for gone while starting.
  if (config.engines.nats) liveness = await NodeLiveness.start(broker, { servers: config.engines.nats.servers, namespace: config.namespace });
  await broker.start();
} catch (err) {
  broker.logger.fatal({ err }, 'Squared could not start');
  await wiring.close();
  process.exit(1);
}
// An embedded installation's console (`npm run repl`); a cluster's joins over the transporter.
if (!wiring.transporter) consoleSocket = await openConsoleSocket(broker, config.dataDir);
wiring.health.watch();
// One machine-readable line for scripts and tests, besides the logs.
process.stdout.write(`SQUARED_READY ${JSON.stringify({ url, nodeId: broker.nodeID, roles: config.roles, dataDir: config.dataDir, adminCredentials, metrics: metricsUrl() })}\n`);

/** Where the Prometheus reporter listens (its port may have been chosen by the system: SQUARED_METRICS_PORT=0). */
function metricsUrl(): string | undefined {
  const reporter = (broker.metrics as unknown as { reporter?: { server?: { address(): AddressInfo | string | null } }[] }).reporter?.[0];
  const address = reporter?.server?.address();
  return address && typeof address === 'object' ? `http://127.0.0.1:${address.port}/metrics` : undefined;
}
