// Shared plumbing of the Cassandra stores: query options with explicit consistency levels,
// paging, bounded concurrency, and row mutations compiled into prepared statements and
// size-bounded logged batches.
import { types, type Client, type QueryOptions } from 'cassandra-driver';

const { consistencies } = types;

type Params = unknown[];
type Row = types.Row;

export interface DbOptions {
  /** Consistency of reads and plain writes (default LOCAL_QUORUM). */
  consistency?: number;
  /** Consistency of the Paxos phase of lightweight transactions and of linearizable reads (default SERIAL). */
  serialConsistency?: number;
  /** Hears every failed query or batch, e.g. to count it. */
  onError?: () => void;
}

/** The approximate budget of one logged batch; Cassandra's default batch_size_fail_threshold is 50 KiB. */
const BATCH_BUDGET_BYTES = 32 * 1024;
const MAX_BATCH_STATEMENTS = 100;

export class Db {
  readonly client: Client;
  readonly ks: string;
  readonly consistency: number;
  readonly serialConsistency: number;
  private readonly onError: () => void;

  constructor(client: Client, ks: string, options: DbOptions = {}) {
    this.client = client;
    this.ks = ks;
    this.consistency = options.consistency ?? consistencies.localQuorum;
    this.serialConsistency = options.serialConsistency ?? consistencies.serial;
    this.onError = options.onError ?? (() => undefined);
  }

  /** A read or plain write at LOCAL_QUORUM (or the configured level). */
  run(query: string, params: Params = [], extra: QueryOptions = {}): Promise<types.ResultSet> {
    return this.heard(this.client.execute(query, params, { prepare: true, consistency: this.consistency, ...extra }));
  }

  /** The driver's answer, its failure heard by `onError` on the way. */
  private heard<T>(answer: Promise<T>): Promise<T> {
    return answer.catch((err: unknown) => {
      this.onError();
      throw err;
    });
  }

  /** A lightweight transaction: Paxos at SERIAL, commit at LOCAL_QUORUM. Returns whether it applied, and the current row if not. */
  async lwt(query: string, params: Params): Promise<{ applied: boolean; row: Row | undefined }> {
    const result = await this.heard(this.client.execute(query, params, {
      prepare: true, consistency: this.consistency, serialConsistency: this.serialConsistency, isIdempotent: false,
    }));
    return { applied: result.wasApplied(), row: result.first() ?? undefined };
  }

  /** A conditional batch (all statements in one partition): applies all or nothing. */
  async lwtBatch(queries: { query: string; params: Params }[]): Promise<{ applied: boolean; row: Row | undefined }> {
    const result = await this.heard(this.client.batch(queries, {
      prepare: true, consistency: this.consistency, serialConsistency: this.serialConsistency, logged: true, isIdempotent: false,
    }));
    return { applied: result.wasApplied(), row: result.first() ?? undefined };
  }

  /** A linearizable read: completes any in-flight Paxos round on the partition first. */
  async serialRead(query: string, params: Params): Promise<Row | undefined> {
    return (await this.heard(this.client.execute(query, params, { prepare: true, consistency: this.serialConsistency }))).first() ?? undefined;
  }

  async first(query: string, params: Params = []): Promise<Row | undefined> {
    return (await this.run(query, params)).first() ?? undefined;
  }

  async rows(query: string, params: Params = [], fetchSize = 5000): Promise<Row[]> {
    const out: Row[] = [];
    for await (const row of this.each(query, params, fetchSize)) out.push(row);
    return out;
  }

  /** Every row, page by page, using the driver's page state. */
  async *each(query: string, params: Params = [], fetchSize = 1000): AsyncGenerator<Row> {
    let pageState: string | undefined;
    do {
      const result = await this.run(query, params, { fetchSize, pageState });
      yield* result.rows;
      pageState = result.pageState ?? undefined;
    } while (pageState);
  }

  /**
   * Runs mutations, grouped into logged batches under the size budget, all at `timestamp` (µs)
   * when given. Undefined values are left unset (no tombstone), as the driver does by default.
   */
  async mutate(mutations: Mutation[], timestamp?: number): Promise<void> {
    const chunks: { query: string; params: Params }[][] = [];
    let chunk: { query: string; params: Params }[] = [];
    let size = 0;
    for (const mutation of mutations) {
      const statement = this.compile(mutation);
      const bytes = estimateSize(statement.params);
      if (chunk.length > 0 && (size + bytes > BATCH_BUDGET_BYTES || chunk.length >= MAX_BATCH_STATEMENTS)) {
        chunks.push(chunk);
        chunk = [];
        size = 0;
      }
      chunk.push(statement);
      size += bytes;
    }
    if (chunk.length) chunks.push(chunk);
    const options: QueryOptions = { prepare: true, consistency: this.consistency, ...(timestamp === undefined ? {} : { timestamp }) };
    await mapLimit(chunks, 8, async (queries) => {
      if (queries.length === 1) await this.heard(this.client.execute(queries[0].query, queries[0].params, { ...options, isIdempotent: true }));
      else await this.heard(this.client.batch(queries, { ...options, logged: true, isIdempotent: true }));
    });
  }

  private compile(mutation: Mutation): { query: string; params: Params } {
    const keyColumns = Object.keys(mutation.key);
    if (mutation.kind === 'delete') {
      return {
        query: `DELETE FROM ${this.ks}.${mutation.table} WHERE ${keyColumns.map((c) => `${c} = ?`).join(' AND ')}`,
        params: Object.values(mutation.key),
      };
    }
    const columns = [...keyColumns, ...Object.keys(mutation.values)];
    return {
      query: `INSERT INTO ${this.ks}.${mutation.table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      params: [...Object.values(mutation.key), ...Object.values(mutation.values)],
    };
  }
}

export type Mutation =
  | { kind: 'upsert'; table: string; key: Record<string, unknown>; values: Record<string, unknown> }
  | { kind: 'delete'; table: string; key: Record<string, unknown> };

export const upsert = (table: string, key: Record<string, unknown>, values: Record<string, unknown> = {}): Mutation => ({ kind: 'upsert', table, key, values });
export const remove = (table: string, key: Record<string, unknown>): Mutation => ({ kind: 'delete', table, key });

/**
 * Mutations of one write, the last one per row winning. All of a write's mutations carry the
 * same timestamp, and at equal timestamps Cassandra lets a delete beat an insert, so the
 * order of changes inside a write must be resolved here, not by the server.
 */
export class MutationSet {
  private readonly byRow = new Map<string, Mutation>();

  add(mutation: Mutation): void {
    const id = `${mutation.table}\u0000${JSON.stringify(mutation.key)}`;
    this.byRow.delete(id);
    this.byRow.set(id, mutation);
  }

  get list(): Mutation[] {
    return [...this.byRow.values()];
  }
}

function estimateSize(params: Params): number {
  let bytes = 16;
  for (const value of params) bytes += typeof value === 'string' ? Buffer.byteLength(value) : 8;
  return bytes;
}

/** A bigint (Long), int or null column as a number. */
export function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  return Number(String(value));
}

export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  });
  await Promise.all(workers);
  return results;
}

export function parseDoc<T>(row: Row | undefined, column = 'doc'): T | undefined {
  const text = row?.[column];
  return typeof text === 'string' ? (JSON.parse(text) as T) : undefined;
}
