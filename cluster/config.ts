// Every setting of a Squared process, read once from the environment at start-up and
// passed down explicitly; nothing else reads process.env.
import path from 'node:path';

export type Role = 'gateway' | 'actors' | 'media';

export interface Config {
  roles: Role[];
  nodeId: string | undefined;
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
    requestTimeoutMs: number;
    /** Bytes buffered for one live socket before it is told to resync. */
    liveMaxBufferedBytes: number;
    liveHelloTimeoutMs: number;
  };
  metricsPort: number | undefined;
  adminEmail: string;
  adminPassword: string | undefined;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const roles = (env.SQUARED_ROLES ?? 'gateway,actors,media').split(',').map((r) => r.trim()).filter(Boolean);
  for (const role of roles) {
    if (role !== 'gateway' && role !== 'actors' && role !== 'media') throw new Error(`SQUARED_ROLES: unknown role "${role}"`);
  }
  return {
    roles: roles as Role[],
    nodeId: env.SQUARED_NODE_ID || undefined,
    host: env.SQUARED_HOST ?? '127.0.0.1',
    port: int(env, 'SQUARED_PORT', 8443),
    publicUrl: env.SQUARED_PUBLIC_URL || undefined,
    dataDir: path.resolve(env.SQUARED_DATA_DIR ?? 'data'),
    logLevel: env.SQUARED_LOG_LEVEL ?? 'info',
    durableSync: (env.SQUARED_SYNC ?? 'full') !== 'normal',
    limits: {
      maxBodyBytes: int(env, 'SQUARED_MAX_BODY_BYTES', 1024 * 1024),
      rateBurst: int(env, 'SQUARED_RATE_BURST', 600),
      ratePerSecond: int(env, 'SQUARED_RATE_PER_SECOND', 300),
      requestTimeoutMs: int(env, 'SQUARED_REQUEST_TIMEOUT_MS', 10_000),
      liveMaxBufferedBytes: int(env, 'SQUARED_LIVE_MAX_BUFFERED_BYTES', 4 * 1024 * 1024),
      liveHelloTimeoutMs: int(env, 'SQUARED_LIVE_HELLO_TIMEOUT_MS', 10_000),
    },
    metricsPort: env.SQUARED_METRICS_PORT ? int(env, 'SQUARED_METRICS_PORT', 0) : undefined,
    adminEmail: env.SQUARED_ADMIN_EMAIL ?? 'admin@squared.local',
    adminPassword: env.SQUARED_ADMIN_PASSWORD || undefined,
  };
}
