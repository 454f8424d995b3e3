// The cluster message search index on Elasticsearch 8. Uses only what every distribution has,
// including the bare integ-test-zip (no analysis-common, no painless, no ingest, no
// _delete_by_query/_reindex, no `GET /`): the `standard` analyzer, keyword/date fields, bulk,
// search with `search_after`, refresh.
//
// One document per message, `_id` = message id, so indexing again replaces it — unless the
// document is newer: the message's version (IndexedMessage.version, a room seq) is the
// document's external version (`external_gte`: equal versions replace, older ones are refused
// with a 409 that means "a newer text is here" and is not an error). Removals are versioned
// too and leave a tombstone for `index.gc_deletes` (GC_DELETES), so a write older than a
// removal is refused in that window: search nodes applying events and one rebuilding a room
// from older reads cannot put back text that was edited or deleted meanwhile. Mapping
// (`dynamic: strict`, so a stray field is an error rather than a silent mapping change):
//   id        keyword  (also the `_id`; a field of its own because sorting on `_id` is off in 8.x)
//   roomId    keyword  (the `terms` filter and removeRoom's scan)
//   personId  keyword
//   text      text, analyzer `standard`
//   created   date
//   mentioned keyword (people ids, and `*` for @all: mentionKeys)
//   hasFiles  boolean
//   seq       long    (the message's creation seq: SearchQuery.roomsUpTo)
//   orgId     keyword (the organization owning the room: SearchQuery.orgId)
// Fields added later are added to an existing index's mapping at start (documents indexed
// before have none until a rebuild, `npm run reindex`).
// Settings: 1 primary shard by default (bm25 statistics are per shard, so one shard keeps the
// ranking exact; the index is rebuildable, so grow it by rebuilding into a new index), replicas
// auto-expanded 0-1 (green on one node, one replica as soon as there is a second).
//
// Query semantics (the same as the embedded FTS5 index): the text is indexed as its terms
// (storage/search-terms.ts: folded, stemmed), and a query's terms are `match`ed with operator `and`
// (every word must appear), filtered by `terms` on roomId, best first (score, then newest).
// `match` never parses query syntax, so any characters are safe.
import { Client, errors } from '@elastic/elasticsearch';
import type { estypes } from '@elastic/elasticsearch';
import { InvalidSearchPositionError, type IndexedMessage, type SearchHit, type SearchIndex, type SearchPosition, type SearchQuery } from '../interfaces.ts';
import { ALL_MENTIONED } from '../records.ts';
import { bulkFailure, describe, ElasticsearchError, wrap } from './errors.ts';
import { termsOf } from '../search-terms.ts';

export { ElasticsearchError } from './errors.ts';

export interface ElasticsearchSearchIndexOptions {
  /** e.g. http://127.0.0.1:9200 */
  node: string;
  /** Index name (lowercase); default `squared-messages`. */
  index?: string;
  /** Documents per bulk request when indexing, and per page when removing a room (default 1000). */
  pageSize?: number;
  /** Primary shards when the index is created (default 1). */
  shards?: number;
  /** How long `create` waits for the cluster to be reachable and at least yellow (default 30 s). */
  readyTimeoutMs?: number;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
  /** How often the cluster is pinged for `reachable` (default 2 s). */
  pingIntervalMs?: number;
  /** Hears every failed request (and ping), e.g. to count it. */
  onError?: () => void;
}

interface MessageDoc {
  id: string;
  roomId: string;
  personId: string;
  text: string;
  created: string;
  mentioned: string[];
  hasFiles: boolean;
  seq: number;
  orgId?: string;
}

const MAPPING: estypes.MappingTypeMapping = {
  dynamic: 'strict',
  properties: {
    id: { type: 'keyword' },
    roomId: { type: 'keyword' },
    personId: { type: 'keyword' },
    text: { type: 'text', analyzer: 'standard' },
    created: { type: 'date' },
    mentioned: { type: 'keyword' },
    hasFiles: { type: 'boolean' },
    seq: { type: 'long' },
    orgId: { type: 'keyword' },
  },
};

/**
 * What the index's mapping says of its format: documents versioned by room seq, text held as
 * folded, stemmed terms, each with its message's seq and its room's organization. An index of another format is Squared's
 * older one: dropped and filled again (it is derived).
 */
const FORMAT = { squared: { versioning: 'room-seq', terms: 'folded-porter-1', fields: 'seq-org-1' } };
/** Longest query text considered, and most terms kept from it (as the FTS5 index does). */
const MAX_QUERY_CHARS = 1024;
const MAX_TERMS = 32;

/** How long a removed message's version is remembered (longer than any rebuild page takes to write). */
const GC_DELETES = '5m';

/** Largest `size` Elasticsearch accepts by default (index.max_result_window). */
const MAX_RESULT_WINDOW = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ElasticsearchSearchIndex implements SearchIndex {
  readonly client: Client;
  readonly index: string;
  private readonly pageSize: number;
  private readonly onError: () => void;
  /** The last ping's answer (see `reachable`). */
  private answered = true;
  private pinger: NodeJS.Timeout | undefined;
  readonly wantsRebuild: boolean;
  /** Where the rooms' checkpoints are kept: one empty document per room whose external version is the seq. */
  private readonly checkpointIndex: string;

  /** Use `create`, which does the I/O (waits for the cluster, creates the index). */
  constructor(client: Client, index: string, pageSize: number, onError: () => void = () => undefined, created = false) {
    this.wantsRebuild = created;
    this.client = client;
    this.index = index;
    this.pageSize = pageSize;
    this.onError = onError;
    this.checkpointIndex = checkpointIndexOf(index);
  }

  static async create(options: ElasticsearchSearchIndexOptions): Promise<ElasticsearchSearchIndex> {
    const index = options.index ?? 'squared-messages';
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(index)) throw new Error(`invalid Elasticsearch index name ${JSON.stringify(index)} (lowercase letters, digits, . _ -)`);
    const client = new Client({ node: options.node, requestTimeout: options.requestTimeoutMs ?? 30_000, maxRetries: 2 });
    try {
      await waitForYellow(client, options.node, options.readyTimeoutMs ?? 30_000);
      const created = await ensureIndex(client, index, options.shards ?? 1);
      // Checkpoints of an index made anew would claim what it no longer holds: they go with it.
      await ensureCheckpointIndex(client, checkpointIndexOf(index), created);
      const opened = new ElasticsearchSearchIndex(client, index, options.pageSize ?? 1000, options.onError, created);
      opened.startPinging(options.pingIntervalMs ?? 2000);
      return opened;
    } catch (err) {
      await client.close().catch(() => {});
      throw err;
    }
  }

  async indexMessages(messages: IndexedMessage[]): Promise<void> {
    for (let start = 0; start < messages.length; start += this.pageSize) {
      const operations: (estypes.BulkOperationContainer | MessageDoc)[] = [];
      for (const m of messages.slice(start, start + this.pageSize)) {
        operations.push({ index: { _index: this.index, _id: m.id, version: m.version, version_type: 'external_gte' } });
        operations.push({ id: m.id, roomId: m.roomId, personId: m.personId, text: termsOf(m.text ?? '').join(' '), created: m.created, mentioned: m.mentioned, hasFiles: m.hasFiles, seq: m.seq, ...(m.orgId ? { orgId: m.orgId } : {}) });
      }
      let response: estypes.BulkResponse;
      try {
        response = await this.client.bulk({ operations });
      } catch (err) {
        throw this.heard(wrap(`bulk index into ${this.index}`, err));
      }
      const failure = bulkFailure(`bulk index into ${this.index}`, response, false);
      if (failure) throw this.heard(failure);
    }
  }

  async removeMessage(id: string, version: number): Promise<void> {
    try {
      // 404: nothing to remove (the tombstone is written anyway); 409: a newer version is there.
      await this.client.delete({ index: this.index, id, version, version_type: 'external_gte' }, { ignore: [404, 409] });
    } catch (err) {
      throw this.heard(wrap(`delete of ${id} from ${this.index}`, err));
    }
  }

  /**
   * Without _delete_by_query: refresh (so documents indexed a moment ago are seen), then page
   * through the room's document ids sorted by `id` with `search_after` and bulk-delete each
   * page. Keyed on the last id seen, the scan stays correct while its own deletes (or a
   * background refresh) change the index under it. Each delete carries `version`, so a
   * document written meanwhile with a newer one stays.
   */
  async removeRoom(roomId: string, version: number): Promise<void> {
    const what = `removal of room ${roomId} from ${this.index}`;
    await this.refresh();
    let after: estypes.SortResults | undefined;
    for (;;) {
      let hits: estypes.SearchHit<unknown>[];
      try {
        const response = await this.client.search({
          index: this.index, size: this.pageSize, _source: false, track_total_hits: false,
          query: { bool: { filter: [{ term: { roomId } }] } },
          sort: [{ id: 'asc' }],
          ...(after ? { search_after: after } : {}),
        });
        hits = response.hits.hits;
      } catch (err) {
        throw this.heard(wrap(what, err));
      }
      if (hits.length === 0) return;
      let response: estypes.BulkResponse;
      try {
        response = await this.client.bulk({ operations: hits.map((hit) => ({ delete: { _index: this.index, _id: hit._id!, version, version_type: 'external_gte' as const } })) });
      } catch (err) {
        throw this.heard(wrap(what, err));
      }
      const failure = bulkFailure(what, response, true);
      if (failure) throw this.heard(failure);
      if (hits.length < this.pageSize) return;
      after = hits[hits.length - 1].sort;
    }
  }

  async search({ text, roomIds, roomsUpTo = {}, orgId, max, personId, before, after, mentioning, hasFiles, startAfter }: SearchQuery): Promise<SearchHit[]> {
    const size = Math.min(MAX_RESULT_WINDOW, Math.max(0, Math.floor(max)));
    // [score, created as epoch ms, id], as this index's sort answers them: anything else would be the engine's 400
    if (startAfter && !(startAfter.length === 3 && typeof startAfter[0] === 'number' && Number.isSafeInteger(startAfter[1]) && typeof startAfter[2] === 'string')) {
      throw new InvalidSearchPositionError('not a position of this index');
    }
    const terms = termsOf(text.slice(0, MAX_QUERY_CHARS)).slice(0, MAX_TERMS);
    // The rooms searched whole, and those up to a seq (a room also searched whole is whole).
    const whole = [...new Set(roomIds)];
    const upTo = Object.entries(roomsUpTo).filter(([roomId]) => !whole.includes(roomId));
    if (terms.length === 0 || (whole.length + upTo.length === 0 && orgId === undefined) || size === 0) return [];
    const reach: estypes.QueryDslQueryContainer[] = [
      ...(whole.length > 0 ? [{ terms: { roomId: whole } }] : []),
      ...(orgId === undefined ? [] : [{ term: { orgId } }]),
      ...upTo.map(([roomId, seq]) => ({ bool: { filter: [{ term: { roomId } }, { range: { seq: { lte: seq } } }] } })),
    ];
    try {
      const response = await this.client.search<{ roomId: string }>({
        index: this.index, size, track_total_hits: false, _source: ['roomId'],
        query: {
          bool: {
            must: [{ match: { text: { query: terms.join(' '), operator: 'and' } } }],
            filter: [
              reach.length === 1 ? reach[0] : { bool: { should: reach, minimum_should_match: 1 } },
              ...(personId === undefined ? [] : [{ term: { personId } }]),
              ...(before === undefined && after === undefined ? [] : [{ range: { created: { ...(before === undefined ? {} : { lt: before }), ...(after === undefined ? {} : { gt: after }) } } }]),
              ...(mentioning === undefined ? [] : [{ terms: { mentioned: [mentioning, ALL_MENTIONED] } }]),
              ...(hasFiles === undefined ? [] : [{ term: { hasFiles } }]),
            ],
          },
        },
        // best first, then newest, then by id: a stable order, the same as the FTS5 index's
        sort: [{ _score: { order: 'desc' } }, { created: { order: 'desc' } }, { id: { order: 'asc' } }],
        ...(startAfter ? { search_after: startAfter } : {}),
      });
      return response.hits.hits.map((hit) => ({ id: hit._id!, roomId: hit._source!.roomId, position: hit.sort as SearchPosition }));
    } catch (err) {
      throw this.heard(wrap(`search in ${this.index}`, err));
    }
  }

  async refresh(): Promise<void> {
    try {
      await this.client.indices.refresh({ index: this.index });
    } catch (err) {
      throw this.heard(wrap(`refresh of ${this.index}`, err));
    }
  }

  async checkpoints(roomIds: string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>(roomIds.map((roomId) => [roomId, 0]));
    if (roomIds.length === 0) return found;
    try {
      const response = await this.client.mget({ index: this.checkpointIndex, ids: roomIds, _source: false });
      for (const doc of response.docs) {
        if ('found' in doc && doc.found && doc._version !== undefined) found.set(doc._id, doc._version);
      }
    } catch (err) {
      throw this.heard(wrap(`read of checkpoints from ${this.checkpointIndex}`, err));
    }
    return found;
  }

  async raiseCheckpoints(checkpoints: Map<string, number>): Promise<void> {
    if (checkpoints.size === 0) return;
    // External versions only ever grow: a lower seq is a 409, which bulkFailure does not count.
    const operations = [...checkpoints].flatMap(([roomId, seq]) => [{ index: { _index: this.checkpointIndex, _id: roomId, version: seq, version_type: 'external' as const } }, {}]);
    let response: estypes.BulkResponse;
    try {
      response = await this.client.bulk({ operations });
    } catch (err) {
      throw this.heard(wrap(`checkpoints into ${this.checkpointIndex}`, err));
    }
    const failure = bulkFailure(`checkpoints into ${this.checkpointIndex}`, response, false);
    if (failure) throw this.heard(failure);
  }

  /** Deletes the whole index and its checkpoints (rebuilds, tests). */
  async deleteIndex(): Promise<void> {
    try {
      await this.client.indices.delete({ index: [this.index, this.checkpointIndex] }, { ignore: [404] });
    } catch (err) {
      throw this.heard(wrap(`deletion of index ${this.index}`, err));
    }
  }

  /**
   * Whether the last ping was answered. HTTP holds no connection whose state would say it,
   * so a ping (1 s at most, no retries) runs every `pingIntervalMs`; asking costs nothing.
   */
  reachable(): boolean {
    return this.answered;
  }

  private startPinging(intervalMs: number): void {
    const ping = () => {
      this.client.ping(undefined, { requestTimeout: 1000, maxRetries: 0 }).then(
        () => (this.answered = true),
        () => {
          this.answered = false;
          this.onError();
        },
      ).finally(() => {
        if (this.pinger) this.pinger = setTimeout(ping, intervalMs).unref();
      });
    };
    this.pinger = setTimeout(ping, intervalMs).unref();
  }

  /** A failure on its way to the caller, heard by `onError`. */
  private heard(err: ElasticsearchError): ElasticsearchError {
    this.onError();
    return err;
  }

  async close(): Promise<void> {
    clearTimeout(this.pinger);
    this.pinger = undefined;
    await this.client.close();
  }
}

/** Waits until the cluster answers and is at least yellow, retrying while it is unreachable. */
const checkpointIndexOf = (index: string) => `${index}-checkpoints`;

/** The checkpoints' index: documents without fields (their version is the datum), made empty with `reset`. */
async function ensureCheckpointIndex(client: Client, index: string, reset: boolean): Promise<void> {
  if (reset) await client.indices.delete({ index }, { ignore: [404] });
  try {
    await client.indices.create({ index, settings: { number_of_shards: 1, auto_expand_replicas: '0-1' }, mappings: { dynamic: false, properties: {} } });
  } catch (err) {
    // Made by another node a moment before: as good as ours.
    if (!(err instanceof errors.ResponseError && JSON.stringify(err.body).includes('resource_already_exists_exception'))) throw wrap(`creation of index ${index}`, err);
  }
}

async function waitForYellow(client: Client, node: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    const remaining = deadline - Date.now();
    try {
      const waitSeconds = Math.max(1, Math.min(10, Math.floor(remaining / 1000)));
      const health = await client.cluster.health(
        { wait_for_status: 'yellow', timeout: `${waitSeconds}s` },
        // no client-side retries (this loop retries), and never past the deadline by much
        { ignore: [408], maxRetries: 0, requestTimeout: Math.max(remaining, 0) + waitSeconds * 1000 },
      );
      if (!health.timed_out && health.status !== 'red') return;
      last = `cluster status ${health.status}`;
    } catch (err) {
      last = describe(err).text;
    }
    if (Date.now() >= deadline) {
      throw new ElasticsearchError(`elasticsearch at ${node} not ready (yellow) within ${timeoutMs} ms: ${last}`, undefined, undefined);
    }
    await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
  }
}

/** Creates the index, answering true, or false when it exists already. */
async function createIndex(client: Client, index: string, shards: number): Promise<boolean> {
  try {
    await client.indices.create({
      index,
      settings: { number_of_shards: shards, auto_expand_replicas: '0-1', 'index.gc_deletes': GC_DELETES },
      mappings: { ...MAPPING, _meta: FORMAT },
      wait_for_active_shards: 1,
    });
    return true;
  } catch (err) {
    const type = err instanceof errors.ResponseError ? (err.body as { error?: { type?: string } })?.error?.type : undefined;
    if (type !== 'resource_already_exists_exception') throw wrap(`creation of index ${index}`, err);
    return false;
  }
}

/**
 * Creates the index with its mapping unless it exists, then checks an existing one is
 * compatible. Answers whether the index is new (so empty): made now, or made again because
 * an older Squared made it without versions (its documents carry Elasticsearch's own version
 * counters, which can be above a room's seq and would refuse newer writes; the index is
 * derived, so it is dropped and filled again from the rooms).
 */
async function ensureIndex(client: Client, index: string, shards: number): Promise<boolean> {
  let created = await createIndex(client, index, shards);
  if (!created) {
    const mapping = await readMapping(client, index);
    refuseIncompatible(index, mapping.properties, LEGACY_FIELDS);
    // Squared's own index of an older format (its fields, no format): dropped, it is derived.
    // An index of anything else is never touched: refused above.
    const format = mapping.meta?.squared;
    if (format?.versioning !== FORMAT.squared.versioning || format?.terms !== FORMAT.squared.terms || format?.fields !== FORMAT.squared.fields) {
      try {
        await client.indices.delete({ index }, { ignore: [404] });
      } catch (err) {
        throw wrap(`deletion of the older index ${index}`, err);
      }
      created = await createIndex(client, index, shards);
    }
  }
  // An index made just now has the mapping and settings already; an older one is brought up to them.
  if (!created) {
    try {
      // adds the fields an older Squared's index lacks; refused (and reported below) for a field of another type
      await client.indices.putMapping({ index, properties: MAPPING.properties });
    } catch (err) {
      const type = err instanceof errors.ResponseError ? (err.body as { error?: { type?: string } })?.error?.type : undefined;
      if (type !== 'illegal_argument_exception') throw wrap(`updating the mapping of ${index}`, err);
    }
    refuseIncompatible(index, (await readMapping(client, index)).properties, Object.keys(MAPPING.properties!));
    try {
      // an index made before removals were versioned keeps the default (60 s) otherwise
      await client.indices.putSettings({ index, settings: { 'index.gc_deletes': GC_DELETES } });
    } catch (err) {
      throw wrap(`setting gc_deletes of ${index}`, err);
    }
  }
  try {
    await client.cluster.health({ index, wait_for_status: 'yellow', timeout: '30s' });
  } catch (err) {
    throw wrap(`waiting for index ${index}`, err);
  }
  return created;
}

/** The fields every Squared's index had, before versions and the fields added with them. */
const LEGACY_FIELDS = ['id', 'roomId', 'personId', 'text', 'created'];

async function readMapping(client: Client, index: string): Promise<{ properties: Record<string, { type?: string }> | undefined; meta: typeof FORMAT | undefined }> {
  try {
    const mappings = Object.values(await client.indices.getMapping({ index }))[0]?.mappings;
    return { properties: mappings?.properties as Record<string, { type?: string }> | undefined, meta: mappings?._meta as typeof FORMAT | undefined };
  } catch (err) {
    throw wrap(`reading the mapping of ${index}`, err);
  }
}

/** Throws unless each of `fields` has the type MAPPING gives it. */
function refuseIncompatible(index: string, properties: Record<string, { type?: string }> | undefined, fields: string[]): void {
  const mismatches = fields
    .map((field) => ({ field, actual: properties?.[field]?.type, expected: (MAPPING.properties![field] as { type: string }).type }))
    .filter(({ actual, expected }) => actual !== expected)
    .map(({ field, actual, expected }) => `${field} is ${actual ?? 'missing'}, expected ${expected}`);
  if (mismatches.length > 0) {
    throw new ElasticsearchError(`elasticsearch index ${index} exists with an incompatible mapping: ${mismatches.join('; ')}`, undefined, undefined);
  }
}
