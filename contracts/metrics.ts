// The product metrics of Squared: their names, types, labels and meanings, shared by the
// parts that move them (gateway, rooms actor, engine adapters) and by the entry point that
// registers them on Moleculer's metrics registry. Prometheus conventions: `squared_` first,
// base units (seconds), `_total` on counters, and only labels with a handful of values —
// never a room, person or token id.

export type EngineName = 'cassandra' | 'redis' | 'elasticsearch' | 'rabbitmq' | 'nats';
export const ENGINES: readonly EngineName[] = ['cassandra', 'redis', 'elasticsearch', 'rabbitmq', 'nats'];

/**
 * What a refused request or frame was over: a person's REST bucket, an address's bucket on
 * the routes without a token, an address's failed attempts (REST and live hellos), a live
 * socket's frames, a password lock (per account or address).
 */
export type RateLimitName = 'person' | 'address' | 'anonymous' | 'live_frames' | 'password';
export const RATE_LIMITS: readonly RateLimitName[] = ['person', 'address', 'anonymous', 'live_frames', 'password'];

export type ResyncReason = 'backpressure' | 'unavailable';
export const RESYNC_REASONS: readonly ResyncReason[] = ['backpressure', 'unavailable'];

export const METRIC = {
  liveSockets: 'squared_live_sockets',
  liveFramesIn: 'squared_live_frames_received_total',
  liveFramesOut: 'squared_live_frames_sent_total',
  deliveries: 'squared_live_deliveries_total',
  resyncs: 'squared_live_resyncs_total',
  commitToDeliver: 'squared_commit_to_deliver_seconds',
  postToCommit: 'squared_post_to_commit_seconds',
  roomWriteQueueTasks: 'squared_room_write_queue_tasks',
  roomWriteQueueRooms: 'squared_room_write_queue_rooms',
  rateLimited: 'squared_rate_limited_total',
  engineErrors: 'squared_engine_errors_total',
  engineUp: 'squared_engine_up',
  webhookUnqueued: 'squared_webhook_deliveries_unqueued_total',
  searchRoomsBehind: 'squared_search_rooms_behind',
} as const;

/**
 * Latency buckets in seconds, from 1 ms to 10 s. Moleculer's Prometheus reporter writes a
 * histogram's `_bucket` series (the `le="+Inf"` one is the count) and, without quantiles,
 * no `_sum` and `_count` lines.
 */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface MetricDefinition {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  description: string;
  labelNames?: string[];
  /** Label values shown at 0 from the start, so a rate over them exists before the first event. */
  initial?: Record<string, string>[];
  buckets?: number[];
}

const each = <T extends string>(label: string, values: readonly T[]) => values.map((value) => ({ [label]: value }));

export const METRIC_DEFINITIONS: readonly MetricDefinition[] = [
  { name: METRIC.liveSockets, type: 'gauge', description: 'Live sockets open on this gateway.' },
  { name: METRIC.liveFramesIn, type: 'counter', description: 'Frames received from live sockets.' },
  { name: METRIC.liveFramesOut, type: 'counter', description: 'Frames sent to live sockets (events, replies, errors, pongs).' },
  { name: METRIC.deliveries, type: 'counter', description: 'Room activities delivered to live sockets (live or replayed).' },
  { name: METRIC.resyncs, type: 'counter', description: 'Live sockets told to resync and closed (4000), by reason.', labelNames: ['reason'], initial: each('reason', RESYNC_REASONS) },
  { name: METRIC.commitToDeliver, type: 'histogram', description: 'From an activity\'s commit (its created time) to its send on a live socket, live deliveries only.', buckets: LATENCY_BUCKETS },
  { name: METRIC.postToCommit, type: 'histogram', description: 'From a write\'s arrival at its room\'s write queue to its commit, in the rooms actor.', buckets: LATENCY_BUCKETS },
  { name: METRIC.roomWriteQueueTasks, type: 'gauge', description: 'Writes queued or running in the rooms actor\'s per-room write queues.' },
  { name: METRIC.roomWriteQueueRooms, type: 'gauge', description: 'Rooms with a write queued or running in the rooms actor.' },
  { name: METRIC.rateLimited, type: 'counter', description: 'Requests and frames refused by a rate limit (429, 4029 or a live error frame), by limit.', labelNames: ['limit'], initial: each('limit', RATE_LIMITS) },
  { name: METRIC.engineErrors, type: 'counter', description: 'Errors from a cluster engine seen by this node\'s adapters (failed commands, lost connections), by engine.', labelNames: ['engine'] },
  { name: METRIC.engineUp, type: 'gauge', description: 'Whether this node reaches an engine it needs (1) or not (0), by engine; the engines of /ready.', labelNames: ['engine'] },
  { name: METRIC.webhookUnqueued, type: 'counter', description: 'Webhook deliveries of committed events that could not be queued (a lookup or the queue failed).' },
  { name: METRIC.searchRoomsBehind, type: 'gauge', description: 'Rooms whose indexing failed on this node and wait to be caught up from their logs (the index engine was unreachable).' },
];

/**
 * The part of Moleculer's metrics registry the instrumented code uses. A registry that is
 * disabled (no SQUARED_METRICS_PORT) ignores every call.
 */
export interface MetricSink {
  increment(name: string, labels?: Record<string, string>, value?: number): unknown;
  set(name: string, value: number, labels?: Record<string, string>): unknown;
  observe(name: string, value: number, labels?: Record<string, string>): unknown;
}

/** For code run without a broker (unit tests, tools). */
export const NO_METRICS: MetricSink = { increment: () => undefined, set: () => undefined, observe: () => undefined };

/** Registers every metric above on a Moleculer registry (`broker.metrics`), counters at 0. */
export function registerMetrics(registry: MetricSink & { register(options: object): unknown; isEnabled(): boolean }): void {
  if (!registry.isEnabled()) return;
  for (const { initial, ...definition } of METRIC_DEFINITIONS) {
    registry.register(definition);
    if (definition.type === 'counter') for (const labels of initial ?? (definition.labelNames ? [] : [{}])) registry.increment(definition.name, labels, 0);
    if (definition.type === 'gauge' && !definition.labelNames) registry.set(definition.name, 0);
  }
}
