// Chooses, once at start-up, the adapter behind every storage interface and the fan-out:
// a cluster engine where the configuration names one, the embedded counterpart otherwise.
import path from 'node:path';
import type { Logger } from 'moleculer';
import type { Config } from '../contracts/config.ts';
import { METRIC, NO_METRICS, type EngineName, type MetricSink } from '../contracts/metrics.ts';
import { EngineHealth, type EngineProbe } from '../storage/engine-health.ts';
import type { Fanout } from '../routing/fanout/fanout.ts';
import { LocalFanout } from '../routing/fanout/local-fanout.ts';
import type { AttemptThrottle, ConferenceStore, PeopleStore, RateLimitStore, RoomStore, SearchIndex, SessionCache, TeamStore, WorkQueue } from '../storage/interfaces.ts';
import type { AuditStore } from '../storage/audit-store.ts';
import type { RetentionStore } from '../storage/retention-store.ts';
import type { WebhookStore } from '../storage/webhook-store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { FileStore } from '../storage/file-store.ts';
import type { AttachmentActionStore } from '../storage/attachment-action-store.ts';
import type { PushStore } from '../storage/push-store.ts';
import type { DeviceLeaseStore, ManualStatusStore } from '../storage/presence-store.ts';

export interface Wiring {
  /** Present on nodes with the `actors` role. */
  actors?: { people: PeopleStore; audit: AuditStore; sessions: SessionCache; attempts: AttemptThrottle; rooms: RoomStore; retention: RetentionStore; teams: TeamStore; conferences: ConferenceStore; search: SearchIndex; webhooks: WebhookStore; attachmentActions: AttachmentActionStore; push: PushStore; queue: WorkQueue; presence: { leases: DeviceLeaseStore; statuses: ManualStatusStore }; blobs: BlobStore; files: FileStore };
  /**
   * The file bytes, on nodes with the `gateway` or `actors` role: a gateway streams uploads
   * into it and downloads out of it, under the files actor's authority (actors/files/files.service.ts).
   */
  blobs?: BlobStore;
  rateLimits: RateLimitStore;
  fanout: Fanout;
  /** `nats://…` when the Moleculer broker must join a cluster. */
  transporter: string | undefined;
  /** The engines this node needs (those it opened an adapter for) and whether it reaches them. */
  health: EngineHealth;
  close(): Promise<void>;
}

/** What every adapter of an engine is given: where its errors are counted, and where its probe goes. */
interface EngineSignals {
  probes: EngineProbe[];
  /** Counts the engine's errors; the counter shows 0 from the start for an engine this node uses. */
  errorsOf(engine: EngineName): () => void;
}

function engineSignals(metrics: MetricSink): EngineSignals {
  return {
    probes: [],
    errorsOf(engine) {
      metrics.increment(METRIC.engineErrors, { engine }, 0);
      return () => metrics.increment(METRIC.engineErrors, { engine });
    },
  };
}

export async function wire(config: Config, logger: Logger, metrics: MetricSink = NO_METRICS): Promise<Wiring> {
  const { engines } = config;
  const closers: (() => Promise<void>)[] = [];
  const signals = engineSignals(metrics);
  const clustered = engines.nats !== undefined;
  if (clustered && config.roles.includes('actors') && !engines.cassandra) {
    throw new Error('A clustered actors node needs SQUARED_CASSANDRA: embedded storage belongs to one process.');
  }

  let actors: Wiring['actors'];
  if (config.roles.includes('actors')) {
    if (engines.cassandra) {
      const { openCassandraStorage } = await import('../storage/cassandra/index.ts');
      const cassandra = await openCassandraStorage({ ...engines.cassandra, log: (message) => logger.info(message), onError: signals.errorsOf('cassandra') });
      closers.push(() => cassandra.close());
      signals.probes.push({ engine: 'cassandra', required: true, reachable: () => cassandra.reachable() });
      actors = { people: cassandra.people, audit: cassandra.audit, ...(await openPeopleCaches(config, logger, closers, signals)), rooms: cassandra.rooms, retention: cassandra.retention, teams: cassandra.teams, conferences: cassandra.conferences, search: await openSearch(config, logger, closers, signals), webhooks: cassandra.webhooks, attachmentActions: cassandra.attachmentActions, push: cassandra.push, queue: await openQueue(config, logger, closers), presence: { leases: await openLeases(config, logger, closers, signals), statuses: cassandra.manualStatuses }, blobs: cassandra.blobs, files: cassandra.files };
    } else {
      const { openEmbeddedStorage } = await import('../storage/embedded/index.ts');
      const embedded = openEmbeddedStorage(config.dataDir, config.durableSync,
        (err) => logger.fatal({ err }, 'rooms.db could not sync its writes to disk: it refuses every write from now on; restart Squared once the disk is sound'));
      closers.push(() => embedded.close());
      actors = { people: embedded.people, audit: embedded.audit, ...(await openPeopleCaches(config, logger, closers, signals)), rooms: embedded.rooms, retention: embedded.retention, teams: embedded.teams, conferences: embedded.conferences, search: await openSearch(config, logger, closers, signals), webhooks: embedded.webhooks, attachmentActions: embedded.attachmentActions, push: embedded.push, queue: await openQueue(config, logger, closers), presence: { leases: await openLeases(config, logger, closers, signals), statuses: embedded.manualStatuses }, blobs: embedded.blobs, files: embedded.files };
    }
  }

  let blobs = actors?.blobs;
  if (!blobs && config.roles.includes('gateway') && engines.cassandra) {
    const { openCassandraStorage } = await import('../storage/cassandra/index.ts');
    const cassandra = await openCassandraStorage({ ...engines.cassandra, log: (message) => logger.info(message), onError: signals.errorsOf('cassandra') });
    closers.push(() => cassandra.close());
    signals.probes.push({ engine: 'cassandra', required: false, reachable: () => cassandra.reachable() });
    blobs = cassandra.blobs;
  }

  let rateLimits: RateLimitStore;
  if (engines.redis) {
    const { RedisRateLimitStore } = await import('../storage/redis/redis-rate-limits.ts');
    const redis = await RedisRateLimitStore.create({ url: engines.redis.url, keyPrefix: `${engines.redis.keyPrefix}ratelimit:`, logger, onError: signals.errorsOf('redis') });
    closers.push(() => redis.close());
    signals.probes.push({ engine: 'redis', required: false, reachable: () => redis.reachable() });
    rateLimits = redis;
  } else {
    const { MemoryRateLimitStore } = await import('../storage/embedded/memory-rate-limits.ts');
    rateLimits = new MemoryRateLimitStore();
  }

  let fanout: Fanout;
  if (engines.nats) {
    const { NatsFanout } = await import('../routing/fanout/nats-fanout.ts');
    const nats = await NatsFanout.create({ servers: engines.nats.servers, logger, name: `squared-fanout-${config.nodeId ?? process.pid}`, onError: signals.errorsOf('nats') });
    signals.probes.push({ engine: 'nats', required: true, reachable: () => nats.reachable() });
    fanout = nats;
  } else {
    fanout = new LocalFanout();
  }
  closers.push(() => fanout.close());

  return {
    actors,
    blobs,
    rateLimits,
    fanout,
    transporter: engines.nats?.servers.join(','),
    health: new EngineHealth(signals.probes, metrics, logger),
    async close() {
      for (const close of closers.reverse()) await close().catch((err: unknown) => logger.warn({ err }, 'closing an adapter failed'));
    },
  };
}

/**
 * The people store alone, with its caches, for the operator command (cluster/admin.ts): on
 * the engines the configuration names, as the actor nodes of that configuration use them.
 */
export async function wirePeople(config: Config, logger: Logger): Promise<{ people: PeopleStore; sessions: SessionCache; attempts: AttemptThrottle; close(): Promise<void> }> {
  const closers: (() => Promise<void>)[] = [];
  let people: PeopleStore;
  if (config.engines.cassandra) {
    const { openCassandraStorage } = await import('../storage/cassandra/index.ts');
    const cassandra = await openCassandraStorage({ ...config.engines.cassandra, log: (message) => logger.info(message) });
    closers.push(() => cassandra.close());
    people = cassandra.people;
  } else {
    const { openEmbeddedPeopleStore } = await import('../storage/embedded/index.ts');
    const embedded = openEmbeddedPeopleStore(config.dataDir, config.durableSync);
    closers.push(async () => embedded.close());
    people = embedded.people;
  }
  return {
    people,
    ...(await openPeopleCaches(config, logger, closers)),
    async close() {
      for (const close of closers.reverse()) await close().catch((err: unknown) => logger.warn({ err }, 'closing an adapter failed'));
    },
  };
}

/** The session cache and the password attempts: shared by the actor nodes on Redis; this process's own otherwise. */
async function openPeopleCaches(config: Config, logger: Logger, closers: (() => Promise<void>)[], signals?: EngineSignals): Promise<{ sessions: SessionCache; attempts: AttemptThrottle }> {
  if (!config.engines.redis) {
    const { MemorySessionCache } = await import('../storage/embedded/memory-session-cache.ts');
    const { MemoryAttemptThrottle } = await import('../storage/embedded/memory-attempt-throttle.ts');
    return { sessions: new MemorySessionCache(), attempts: new MemoryAttemptThrottle() };
  }
  const { RedisSessionCache } = await import('../storage/redis/redis-session-cache.ts');
  const { RedisAttemptThrottle } = await import('../storage/redis/redis-attempt-throttle.ts');
  const onError = signals?.errorsOf('redis');
  const sessions = await RedisSessionCache.create({ url: config.engines.redis.url, keyPrefix: `${config.engines.redis.keyPrefix}session:`, logger, onError });
  closers.push(() => sessions.close());
  const attempts = await RedisAttemptThrottle.create({ url: config.engines.redis.url, keyPrefix: `${config.engines.redis.keyPrefix}attempts:`, logger, onError });
  closers.push(() => attempts.close());
  signals?.probes.push({ engine: 'redis', required: false, reachable: () => sessions.reachable() }, { engine: 'redis', required: false, reachable: () => attempts.reachable() });
  return { sessions, attempts };
}

/**
 * The devices' presence leases: Redis keys with TTLs, shared by every actor node, when Redis
 * is configured; this process's memory otherwise (right for one process only).
 */
async function openLeases(config: Config, logger: Logger, closers: (() => Promise<void>)[], signals: EngineSignals): Promise<DeviceLeaseStore> {
  if (!config.engines.redis) {
    if (config.engines.nats) logger.warn('presence leases are kept in memory: with more than one actor node, set SQUARED_REDIS');
    const { MemoryDeviceLeases } = await import('../storage/embedded/memory-device-leases.ts');
    return new MemoryDeviceLeases();
  }
  const { RedisDeviceLeases } = await import('../storage/redis/redis-device-leases.ts');
  const leases = await RedisDeviceLeases.create({ url: config.engines.redis.url, keyPrefix: `${config.engines.redis.keyPrefix}presence:`, logger, onError: signals.errorsOf('redis') });
  closers.push(() => leases.close());
  signals.probes.push({ engine: 'redis', required: false, reachable: () => leases.reachable() });
  return leases;
}

async function openSearch(config: Config, logger: Logger, closers: (() => Promise<void>)[], signals: EngineSignals): Promise<SearchIndex> {
  let index: SearchIndex;
  if (config.engines.elasticsearch) {
    const { ElasticsearchSearchIndex } = await import('../storage/elasticsearch/search-index.ts');
    const elasticsearch = await ElasticsearchSearchIndex.create({ ...config.engines.elasticsearch, onError: signals.errorsOf('elasticsearch') });
    signals.probes.push({ engine: 'elasticsearch', required: false, reachable: () => elasticsearch.reachable() });
    index = elasticsearch;
  } else {
    const { SqliteSearchIndex } = await import('../storage/embedded/search-index.ts');
    // Never fsynced on commit: the index is derived, and its checkpoints are in the same file,
    // written after the documents they cover, so a power loss takes a suffix of both and the
    // search actor catches up from the rooms' logs (actors/search/index-follower.ts).
    index = SqliteSearchIndex.open(path.join(config.dataDir, 'search.db'), false);
  }
  logger.debug('search index opened');
  closers.push(() => index.close());
  return index;
}

/**
 * The durable work queue (webhook deliveries): RabbitMQ when configured, shared by every
 * actors node; else a SQLite queue in the data directory, this process's own (embedded mode,
 * or a cluster without RabbitMQ, whose pending deliveries then wait for their node).
 */
async function openQueue(config: Config, logger: Logger, closers: (() => Promise<void>)[]): Promise<WorkQueue> {
  let queue: WorkQueue;
  if (config.engines.rabbitmq) {
    const { RabbitWorkQueue } = await import('../storage/rabbitmq/work-queue.ts');
    queue = await RabbitWorkQueue.create({ url: config.engines.rabbitmq.url, logger: { info: (m) => logger.info(m), warn: (m) => logger.warn(m), error: (m) => logger.error(m) } });
  } else {
    if (config.engines.nats) logger.warn('SQUARED_RABBITMQ is not set: webhook deliveries queue on this node\'s disk and wait for it if it stops');
    const { SqliteWorkQueue } = await import('../storage/embedded/work-queue.ts');
    queue = SqliteWorkQueue.open(path.join(config.dataDir, 'queues.db'), config.durableSync, { onError: (err) => logger.error({ err }, 'work queue') });
  }
  closers.push(() => queue.close());
  return queue;
}
