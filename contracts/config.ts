// Every setting of a Squared process, read once from the environment at start-up and
// passed down explicitly; nothing else reads process.env.
import path from 'node:path';

export type Role = 'gateway' | 'actors' | 'media';

/**
 * What one meeting participant may hold on a media node at once. A browser needs 2
 * transports (send, receive), a producer per microphone, camera or screen, and a consumer
 * per producer of every other participant; the caps are there so that no participant can
 * bind a node's ports or load its workers without bound.
 */
export interface ParticipantMediaLimits {
  transports: number;
  producers: number;
  consumers: number;
}

/** Twice what a browser uses; consumers: audio and video of 500 others. */
export const DEFAULT_PARTICIPANT_MEDIA_LIMITS: ParticipantMediaLimits = { transports: 4, producers: 8, consumers: 1000 };

/**
 * Password attempts (the password grant), counted per account and per client address: past
 * the free failures the key is locked for `lockSeconds`, doubled with each further failure
 * up to `maxLockSeconds`; failures are forgotten `forgetSeconds` after the last one.
 */
export interface PasswordAttemptLimits {
  accountFailures: number;
  addressFailures: number;
  lockSeconds: number;
  maxLockSeconds: number;
  forgetSeconds: number;
}

export interface WebhookSettings {
  /** http:// targets are accepted too (trusted networks only). */
  allowHttp: boolean;
  /** SQUARED_WEBHOOK_ALLOW_HOSTS as given: names, *.suffixes, addresses, CIDR ranges. */
  allowHosts: string;
  /** Attempts of one delivery before it is dead-lettered. */
  maxAttempts: number;
  /** The first retry's delay; each next one doubles it (plus jitter). */
  backoffMs: number;
  /** Consecutive failed attempts after which a webhook is set `inactive`. */
  failureThreshold: number;
  connectTimeoutMs: number;
  timeoutMs: number;
  /** Deliveries in flight per actors node, and per target origin. */
  concurrency: number;
  perTargetConcurrency: number;
  /** The outbox (actors/notifications/room-outbox.ts): how often each node sweeps its rooms for undispatched activities. */
  sweepSeconds: number;
  /** Activities older than this are never replayed by the outbox. */
  replayWindowMinutes: number;
}

/** Notifications for people (docs/notifications.md): Web Push's VAPID subject, TTL and limits. */
export interface PushSettings {
  /** The VAPID `sub` (RFC 8292): a mailto: or https: URL a push service may contact. */
  subject: string;
  /** How long a push service keeps an undelivered push (the TTL header). */
  ttlSeconds: number;
  /** Push subscriptions one person keeps; the oldest goes when one more arrives. */
  maxSubscriptionsPerPerson: number;
}

export interface Config {
  roles: Role[];
  nodeId: string | undefined;
  /** Processes see each other only within one namespace (one cluster per namespace). */
  namespace: string;
  host: string;
  port: number;
  publicUrl: string | undefined;
  dataDir: string;
  logLevel: string;
  /** fsync every commit (SQLite synchronous=FULL); NORMAL survives a process crash but not a power loss. */
  durableSync: boolean;
  limits: {
    maxBodyBytes: number;
    /** Requests a token may make in a burst, and the sustained rate per second. */
    rateBurst: number;
    ratePerSecond: number;
    /** Failed attempts (no usable token, a token refused, a hello refused) an address may make in a burst, and per second (0: no limit). */
    anonRateBurst: number;
    anonRatePerSecond: number;
    requestTimeoutMs: number;
    /** Bytes buffered for one live socket before it is told to resync. */
    liveMaxBufferedBytes: number;
    liveHelloTimeoutMs: number;
    /** Frames one live socket may send: a burst, then this many per second. */
    liveFrameBurst: number;
    liveFramesPerSecond: number;
    liveCheckSeconds: number;
    /** How long a stopping node waits for the requests it is answering. */
    drainTimeoutMs: number;
  };
  metricsPort: number | undefined;
  /** Media nodes: their mediasoup workers and where their transports listen. */
  media: {
    workers: number | undefined;
    rtcMinPort: number;
    rtcMaxPort: number;
    listenIp: string;
    announcedAddress: string | undefined;
    /** Participants of one meeting on one media node before others go to another node. */
    meetingParticipantsPerNode: number;
    /** How long a participant whose live session went away keeps their place (0: they leave at once). */
    meetingReconnectGraceMs: number;
    /** Per participant, on its media node; past one, a request for one more gets 403 MEDIA_LIMIT_REACHED. */
    participantLimits: ParticipantMediaLimits;
  };
  /** The cluster engines; each one absent means its embedded counterpart. */
  engines: {
    nats?: { servers: string[] };
    cassandra?: { contactPoints: string[]; localDataCenter: string; keyspace: string };
    redis?: { url: string; keyPrefix: string };
    elasticsearch?: { node: string; index: string };
    rabbitmq?: { url: string };
  };
  /** Webhook deliveries (docs/webhooks.md): the outbound policy and the retry schedule. */
  webhooks: WebhookSettings;
  push: PushSettings;
  presence: PresenceSettings;
  /** Files on messages (docs/files.md). `files` URLs are fetched under the webhooks' outbound policy. */
  files: { maxFileBytes: number; uploadIdleMs: number; fetchTimeoutMs: number; uploadGraceMs: number };
  passwordAttempts: PasswordAttemptLimits;
  /** Message retention (docs/admin.md): how often each actors node deletes the messages its rooms keep past their org's policy. */
  retention: { sweepSeconds: number };
  /** The search index (docs/search.md): how often each node compares its rooms' heads with the index's checkpoints. */
  search: { sweepSeconds: number };
  /** The preview sandbox (docs/previews.md): its child processes per actor node, and the largest avatar upload. */
  previews: { workers: number; avatarMaxBytes: number };
  adminEmail: string;
  adminPassword: string | undefined;
}

/** Presence (README, Presence): the devices' leases, the idle time, the pace of presence frames. */
export interface PresenceSettings {
  /** A device's lease: a socket whose gateway stops renewing it (killed) counts no more after this. Gateways renew every third of it. */
  leaseMs: number;
  /** A person none of whose devices reported activity for this long is `inactive`. */
  idleMs: number;
  /** Presence frames of one person go out at most this often; changes meanwhile are coalesced (a flap back sends nothing). */
  minIntervalMs: number;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

const list = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const roles = (env.SQUARED_ROLES ?? 'gateway,actors,media').split(',').map((r) => r.trim()).filter(Boolean);
  for (const role of roles) {
    if (role !== 'gateway' && role !== 'actors' && role !== 'media') throw new Error(`SQUARED_ROLES: unknown role "${role}"`);
  }
  return {
    roles: roles as Role[],
    nodeId: env.SQUARED_NODE_ID || undefined,
    namespace: env.SQUARED_NAMESPACE || 'squared',
    host: env.SQUARED_HOST ?? '127.0.0.1',
    port: int(env, 'SQUARED_PORT', 8443),
    publicUrl: env.SQUARED_PUBLIC_URL || undefined,
    dataDir: path.resolve(env.SQUARED_DATA_DIR ?? 'data'),
    logLevel: env.SQUARED_LOG_LEVEL ?? 'info',
    durableSync: (env.SQUARED_SYNC ?? 'full') !== 'normal',
    limits: {
      maxBodyBytes: int(env, 'SQUARED_MAX_BODY_BYTES', 1024 * 1024),
      rateBurst: Math.max(1, int(env, 'SQUARED_RATE_BURST', 600)),
      ratePerSecond: Math.max(1, int(env, 'SQUARED_RATE_PER_SECOND', 300)),
      anonRateBurst: Math.max(1, int(env, 'SQUARED_ANON_RATE_BURST', 200)),
      anonRatePerSecond: int(env, 'SQUARED_ANON_RATE_PER_SECOND', 20),
      requestTimeoutMs: int(env, 'SQUARED_REQUEST_TIMEOUT_MS', 10_000),
      liveMaxBufferedBytes: int(env, 'SQUARED_LIVE_MAX_BUFFERED_BYTES', 4 * 1024 * 1024),
      liveHelloTimeoutMs: int(env, 'SQUARED_LIVE_HELLO_TIMEOUT_MS', 10_000),
      liveFrameBurst: int(env, 'SQUARED_LIVE_FRAME_BURST', 400),
      liveFramesPerSecond: int(env, 'SQUARED_LIVE_FRAMES_PER_SECOND', 100),
      liveCheckSeconds: int(env, 'SQUARED_LIVE_CHECK_SECONDS', 60),
      drainTimeoutMs: int(env, 'SQUARED_DRAIN_TIMEOUT_MS', 10_000),
    },
    metricsPort: env.SQUARED_METRICS_PORT ? int(env, 'SQUARED_METRICS_PORT', 0) : undefined,
    media: {
      workers: env.SQUARED_MEDIA_WORKERS ? int(env, 'SQUARED_MEDIA_WORKERS', 1) || undefined : undefined,
      rtcMinPort: int(env, 'SQUARED_RTC_MIN_PORT', 40000),
      rtcMaxPort: int(env, 'SQUARED_RTC_MAX_PORT', 49999),
      listenIp: env.SQUARED_MEDIA_LISTEN_IP ?? env.SQUARED_HOST ?? '127.0.0.1',
      announcedAddress: env.SQUARED_MEDIA_ANNOUNCED_ADDRESS || undefined,
      meetingParticipantsPerNode: Math.max(1, int(env, 'SQUARED_MEETING_PARTICIPANTS_PER_NODE', 400)),
      meetingReconnectGraceMs: int(env, 'SQUARED_MEETING_RECONNECT_GRACE_MS', 30_000),
      participantLimits: {
        transports: Math.max(1, int(env, 'SQUARED_MEDIA_MAX_TRANSPORTS_PER_PARTICIPANT', DEFAULT_PARTICIPANT_MEDIA_LIMITS.transports)),
        producers: Math.max(1, int(env, 'SQUARED_MEDIA_MAX_PRODUCERS_PER_PARTICIPANT', DEFAULT_PARTICIPANT_MEDIA_LIMITS.producers)),
        consumers: Math.max(1, int(env, 'SQUARED_MEDIA_MAX_CONSUMERS_PER_PARTICIPANT', DEFAULT_PARTICIPANT_MEDIA_LIMITS.consumers)),
      },
    },
    engines: {
      nats: env.SQUARED_NATS ? { servers: list(env.SQUARED_NATS) } : undefined,
      cassandra: env.SQUARED_CASSANDRA
        ? { contactPoints: list(env.SQUARED_CASSANDRA), localDataCenter: env.SQUARED_CASSANDRA_DC ?? 'datacenter1', keyspace: env.SQUARED_CASSANDRA_KEYSPACE ?? 'squared' }
        : undefined,
      redis: env.SQUARED_REDIS ? { url: env.SQUARED_REDIS, keyPrefix: env.SQUARED_REDIS_PREFIX ?? 'squared:' } : undefined,
      elasticsearch: env.SQUARED_ELASTICSEARCH ? { node: env.SQUARED_ELASTICSEARCH, index: env.SQUARED_ES_INDEX ?? 'squared-messages' } : undefined,
      rabbitmq: env.SQUARED_RABBITMQ ? { url: env.SQUARED_RABBITMQ } : undefined,
    },
    webhooks: {
      allowHttp: env.SQUARED_WEBHOOK_ALLOW_HTTP === 'true',
      allowHosts: env.SQUARED_WEBHOOK_ALLOW_HOSTS ?? '',
      maxAttempts: Math.max(1, int(env, 'SQUARED_WEBHOOK_MAX_ATTEMPTS', 6)),
      backoffMs: int(env, 'SQUARED_WEBHOOK_BACKOFF_MS', 1000),
      failureThreshold: Math.max(1, int(env, 'SQUARED_WEBHOOK_FAILURE_THRESHOLD', 20)),
      connectTimeoutMs: Math.max(1, int(env, 'SQUARED_WEBHOOK_CONNECT_TIMEOUT_MS', 5000)),
      timeoutMs: Math.max(1, int(env, 'SQUARED_WEBHOOK_TIMEOUT_MS', 10_000)),
      concurrency: Math.max(1, int(env, 'SQUARED_WEBHOOK_CONCURRENCY', 32)),
      perTargetConcurrency: Math.max(1, int(env, 'SQUARED_WEBHOOK_TARGET_CONCURRENCY', 4)),
      sweepSeconds: Math.max(1, int(env, 'SQUARED_WEBHOOK_SWEEP_SECONDS', 300)),
      replayWindowMinutes: Math.max(1, int(env, 'SQUARED_WEBHOOK_REPLAY_WINDOW_MINUTES', 1440)),
    },
    search: { sweepSeconds: Math.max(1, int(env, 'SQUARED_SEARCH_SWEEP_SECONDS', 60)) },
    retention: { sweepSeconds: Math.max(1, int(env, 'SQUARED_RETENTION_SWEEP_SECONDS', 3600)) },
    push: {
      subject: env.SQUARED_PUSH_SUBJECT ?? `mailto:${env.SQUARED_ADMIN_EMAIL ?? 'admin@squared.local'}`,
      ttlSeconds: Math.max(0, int(env, 'SQUARED_PUSH_TTL_SECONDS', 86_400)),
      maxSubscriptionsPerPerson: Math.max(1, int(env, 'SQUARED_PUSH_MAX_SUBSCRIPTIONS', 10)),
    },
    presence: {
      leaseMs: Math.max(1000, int(env, 'SQUARED_PRESENCE_LEASE_MS', 30_000)),
      idleMs: Math.max(1000, int(env, 'SQUARED_PRESENCE_IDLE_MS', 600_000)),
      minIntervalMs: int(env, 'SQUARED_PRESENCE_MIN_INTERVAL_MS', 1000),
    },
    files: {
      maxFileBytes: Math.max(1, int(env, 'SQUARED_MAX_FILE_BYTES', 100 * 1000 * 1000)),
      uploadIdleMs: Math.max(100, int(env, 'SQUARED_UPLOAD_IDLE_MS', 30_000)),
      fetchTimeoutMs: Math.max(100, int(env, 'SQUARED_FILE_FETCH_TIMEOUT_MS', 60_000)),
      // An upload on no message this long after it began is swept (docs/files.md): 24 h.
      uploadGraceMs: Math.max(1000, int(env, 'SQUARED_UPLOAD_GRACE_MS', 86_400_000)),
    },
    passwordAttempts: {
      accountFailures: Math.max(1, int(env, 'SQUARED_PASSWORD_ACCOUNT_FAILURES', 5)),
      addressFailures: Math.max(1, int(env, 'SQUARED_PASSWORD_ADDRESS_FAILURES', 30)),
      lockSeconds: Math.max(1, int(env, 'SQUARED_PASSWORD_LOCK_SECONDS', 5)),
      maxLockSeconds: Math.max(1, int(env, 'SQUARED_PASSWORD_MAX_LOCK_SECONDS', 300)),
      forgetSeconds: Math.max(1, int(env, 'SQUARED_PASSWORD_FORGET_SECONDS', 900)),
    },
    previews: {
      workers: Math.max(1, int(env, 'SQUARED_PREVIEW_WORKERS', 1)),
      avatarMaxBytes: Math.max(1, int(env, 'SQUARED_AVATAR_MAX_BYTES', 8 * 1024 * 1024)),
    },
    adminEmail: env.SQUARED_ADMIN_EMAIL ?? 'admin@squared.local',
    adminPassword: env.SQUARED_ADMIN_PASSWORD || undefined,
  };
}
