// Scenario `search`: message search on a large index (issue 13: 1,000,000 messages). The same
// synthetic messages (words drawn from a vocabulary with a Zipf-like spread, over --rooms
// rooms) are written into the embedded FTS5 index and into Elasticsearch through Squared's
// adapters; then the same queries (one or two mid-frequency words, each among the 20 rooms
// of a searcher, 50 hits) are timed through Squared's `SearchIndex.search` — the terms, the
// room restriction inside the query, the filters, the stable order — and, alternating with
// them, as a bare engine query of the same terms without any of that (FTS5 MATCH ordered by
// bm25, LIMIT 50; an Elasticsearch `match`, size 50): the engine's own cost, the baseline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ElasticsearchSearchIndex } from '../../storage/elasticsearch/search-index.ts';
import { SqliteSearchIndex } from '../../storage/embedded/search-index.ts';
import type { IndexedMessage, SearchIndex } from '../../storage/interfaces.ts';
import { termsOf } from '../../storage/search-terms.ts';
import { flagHelp, parseFlags, positiveNumber, type FlagSpec } from '../lib/cli.ts';

export const description = 'search p50/p99 on 1M messages: Squared\'s SearchIndex vs a bare FTS5 / Elasticsearch query of the same terms';

export const flags: Record<string, FlagSpec> = {
  messages: { default: '1000000', help: 'messages in the index', parse: positiveNumber('messages', { integer: true }) },
  rooms: { default: '2000', help: 'rooms they are spread over', parse: positiveNumber('rooms', { integer: true }) },
  queries: { default: '300', help: 'queries timed per kind and target', parse: positiveNumber('queries', { integer: true }) },
  targets: { default: 'embedded,elasticsearch', help: 'embedded, elasticsearch (SQUARED_ELASTICSEARCH, default http://127.0.0.1:9200)' },
};

export const usage = () => `Flags:\n${flagHelp(flags)}`;

const log = (line: string) => process.stderr.write(`${line}\n`);
const VOCABULARY = 20_000;
const ROOMS_PER_SEARCHER = 20;
const BATCH = 5000;

/** A deterministic generator, so every target gets the same messages and queries. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Word n of the vocabulary: letters only, so each is one term (some stem together, as real words do). */
const word = (n: number) => {
  let s = '';
  for (let v = n + 26; v > 0; v = Math.floor(v / 26)) s += String.fromCharCode(97 + (v % 26));
  return `${s}ing`;
};

/** A Zipf-like draw: low ranks are common. */
const zipf = (rand: () => number) => Math.floor(VOCABULARY ** rand()) - 1;

function* messagesOf(count: number, rooms: number): Generator<IndexedMessage[]> {
  const rand = random(1);
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < count;) {
    const batch: IndexedMessage[] = [];
    for (const end = Math.min(count, i + BATCH); i < end; i++) {
      const words = Array.from({ length: 8 + Math.floor(rand() * 8) }, () => word(zipf(rand)));
      batch.push({
        id: `m${i}`, roomId: `r${i % rooms}`, personId: `p${i % 50}`, text: words.join(' '),
        created: new Date(start + i * 1000).toISOString(), version: 1, seq: i + 1, mentioned: [], hasFiles: false,
      });
    }
    yield batch;
  }
}

interface Query { text: string; roomIds: string[] }

function queriesOf(count: number, rooms: number): Query[] {
  const rand = random(2);
  // Mid-frequency words (ranks 20-2000): common enough to match in a searcher's rooms, rare enough to rank.
  return Array.from({ length: count }, () => ({
    text: Array.from({ length: 1 + Math.floor(rand() * 2) }, () => word(20 + Math.floor(rand() * 1980))).join(' '),
    roomIds: Array.from({ length: ROOMS_PER_SEARCHER }, () => `r${Math.floor(rand() * rooms)}`),
  }));
}

interface Timing { p50: number; p99: number; max: number }

function timing(times: number[]): Timing {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
}

/** Each query through Squared, then bare, alternating, so the machine's load weighs on both alike. */
async function timeBoth(queries: Query[], squared: (q: Query) => Promise<number>, bare: (q: Query) => Promise<number>) {
  for (const q of queries.slice(0, 10)) {
    await squared(q);
    await bare(q);
  } // warm-up
  const times = { squared: [] as number[], bare: [] as number[] };
  let hits = 0;
  for (const q of queries) {
    let started = performance.now();
    hits += await squared(q);
    times.squared.push(performance.now() - started);
    started = performance.now();
    await bare(q);
    times.bare.push(performance.now() - started);
  }
  return { squared: timing(times.squared), bare: timing(times.bare), hitsPerQuery: hits / queries.length };
}

async function fill(index: SearchIndex, messages: number, rooms: number, name: string): Promise<number> {
  const started = performance.now();
  let done = 0;
  for (const batch of messagesOf(messages, rooms)) {
    await index.indexMessages(batch);
    done += batch.length;
    if (done % 100_000 === 0) log(`  ${name}: ${done} messages indexed (${Math.round(done / ((performance.now() - started) / 1000))}/s)`);
  }
  await index.refresh();
  return (performance.now() - started) / 1000;
}

export async function run(argv: string[]): Promise<number> {
  const values = parseFlags(argv, flags);
  const [messages, rooms, queryCount] = [Number(values.messages), Number(values.rooms), Number(values.queries)];
  const targets = String(values.targets).split(',');
  const queries = queriesOf(queryCount, rooms);
  log(`search: ${messages} messages over ${rooms} rooms, ${queryCount} queries of 1-2 words among ${ROOMS_PER_SEARCHER} rooms, 50 hits; node ${process.version}, ${os.cpus().length} cores`);
  const results: Record<string, unknown> = {};

  if (targets.includes('embedded')) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-bench-search-'));
    const index = SqliteSearchIndex.open(path.join(dir, 'search.db'));
    try {
      const seconds = await fill(index, messages, rooms, 'embedded');
      const db = (index as unknown as { db: import('node:sqlite').DatabaseSync }).db;
      const bare = db.prepare('SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY bm25(search_fts, 1.0, 0.0) LIMIT 50');
      const measured = await timeBoth(queries,
        async (q) => (await index.search({ text: q.text, roomIds: q.roomIds, max: 50 })).length,
        async (q) => bare.all(`text : (${termsOf(q.text).map((t) => `"${t}"`).join(' ')})`).length);
      results.embedded = { fillSeconds: seconds, fileMiB: fs.statSync(path.join(dir, 'search.db')).size / 2 ** 20, ...measured };
    } finally {
      await index.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  if (targets.includes('elasticsearch')) {
    const node = process.env.SQUARED_ELASTICSEARCH ?? 'http://127.0.0.1:9200';
    const name = `squared-bench-search-${process.pid}`;
    const index = await ElasticsearchSearchIndex.create({ node, index: name, pageSize: 2000, requestTimeoutMs: 120_000 });
    try {
      const seconds = await fill(index, messages, rooms, 'elasticsearch');
      const measured = await timeBoth(queries,
        async (q) => (await index.search({ text: q.text, roomIds: q.roomIds, max: 50 })).length,
        async (q) => (await index.client.search({ index: name, size: 50, track_total_hits: false, _source: false, query: { match: { text: { query: termsOf(q.text).join(' '), operator: 'and' } } } })).hits.hits.length);
      results.elasticsearch = { fillSeconds: seconds, ...measured };
    } finally {
      await index.deleteIndex().catch(() => undefined);
      await index.close();
    }
  }

  log('');
  for (const [target, r] of Object.entries(results) as [string, { fillSeconds: number; squared: Timing; bare: Timing; hitsPerQuery: number }][]) {
    log(`${target.padEnd(14)} filled in ${r.fillSeconds.toFixed(0)} s (${Math.round(messages / r.fillSeconds)}/s); ${r.hitsPerQuery.toFixed(1)} hits per query`);
    log(`  Squared SearchIndex.search   p50 ${r.squared.p50.toFixed(2).padStart(8)} ms   p99 ${r.squared.p99.toFixed(2).padStart(8)} ms`);
    log(`  bare engine query (baseline) p50 ${r.bare.p50.toFixed(2).padStart(8)} ms   p99 ${r.bare.p99.toFixed(2).padStart(8)} ms`);
    log(`  ratio p50 ${(r.squared.p50 / r.bare.p50).toFixed(2)}×, p99 ${(r.squared.p99 / r.bare.p99).toFixed(2)}×`);
  }
  process.stdout.write(`BENCH_RESULT ${JSON.stringify({ scenario: 'search', params: { messages, rooms, queries: queryCount, targets }, results, command: `npm run bench -- search --messages ${messages} --rooms ${rooms} --queries ${queryCount} --targets ${targets.join(',')}` })}\n`);
  return 0;
}
