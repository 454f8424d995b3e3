// The Elasticsearch SearchIndex against the conformance suite and its own failure modes. Runs
// only when SQUARED_ELASTICSEARCH names a server (e.g. http://127.0.0.1:9200, see
// cluster/engines); in CI a missing variable is a failure, never a silent skip. Every test works
// in a fresh, randomly named index and deletes it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { ElasticsearchError, ElasticsearchSearchIndex } from '../../storage/elasticsearch/search-index.ts';
import type { SearchIndex } from '../../storage/interfaces.ts';
import { searchIndexConformance } from './search-index.conformance.ts';
import { engineAddress } from '../harness/engine.ts';

const node = engineAddress('Elasticsearch search index', 'SQUARED_ELASTICSEARCH', 'http://127.0.0.1:9200', 'elasticsearch');
const freshName = () => `squared-test-${randomUUID()}`;

if (node) {
  const url = node;

  searchIndexConformance('Elasticsearch', {
    // page size 100, so removeRoom's 250 documents take three pages
    open: () => ElasticsearchSearchIndex.create({ node: url, index: freshName(), pageSize: 100 }),
    dispose: async (index: SearchIndex) => {
      await (index as ElasticsearchSearchIndex).deleteIndex();
      await index.close();
    },
  });

  describe('Elasticsearch search index specifics', () => {
    test('create is idempotent and keeps the documents', async () => {
      const name = freshName();
      const first = await ElasticsearchSearchIndex.create({ node: url, index: name });
      try {
        await first.indexMessages([{ id: 'm1', roomId: 'r1', personId: 'p1', text: 'still here', created: new Date().toISOString(), version: 1, mentioned: [], hasFiles: false, seq: 1 }]);
        await first.refresh();
        const second = await ElasticsearchSearchIndex.create({ node: url, index: name });
        assert.deepEqual((await second.search({ text: 'still', roomIds: ['r1'], max: 5 })).map(({ id, roomId }) => ({ id, roomId })), [{ id: 'm1', roomId: 'r1' }]);
        await second.close();
      } finally {
        await first.deleteIndex();
        await first.close();
      }
    });

    test('an existing index with an incompatible mapping is refused with a clear error', async () => {
      const name = freshName();
      const client = new Client({ node: url });
      try {
        await client.indices.create({ index: name, mappings: { properties: { text: { type: 'keyword' } } } });
        await assert.rejects(ElasticsearchSearchIndex.create({ node: url, index: name }), (err: Error) => {
          assert.ok(err instanceof ElasticsearchError);
          assert.match(err.message, new RegExp(`index ${name} exists with an incompatible mapping: .*text is keyword, expected text`));
          return true;
        });
      } finally {
        await client.indices.delete({ index: name }, { ignore: [404] });
        await client.close();
      }
    });

    test('server errors surface as ElasticsearchError with the status and reason', async () => {
      const index = await ElasticsearchSearchIndex.create({ node: url, index: freshName() });
      await index.deleteIndex();
      try {
        await assert.rejects(index.search({ text: 'x', roomIds: ['r'], max: 5 }), (err: Error) => {
          assert.ok(err instanceof ElasticsearchError);
          assert.equal(err.statusCode, 404);
          assert.match(err.message, /elasticsearch search in squared-test-.* failed: HTTP 404: index_not_found_exception/);
          return true;
        });
        await assert.rejects(index.refresh(), /index_not_found_exception/);
        await assert.rejects(index.removeRoom('r', 1), /index_not_found_exception/);
      } finally {
        await index.close();
      }
    });

    test('an index an older Squared made (no versions) is made again, empty, and wants a rebuild; a current one is kept', async () => {
      const name = freshName();
      const raw = new Client({ node: url });
      try {
        // the mapping before versions: same fields, no _meta
        await raw.indices.create({ index: name, mappings: { dynamic: 'strict', properties: { id: { type: 'keyword' }, roomId: { type: 'keyword' }, personId: { type: 'keyword' }, text: { type: 'text', analyzer: 'standard' }, created: { type: 'date' } } } });
        for (let i = 0; i < 3; i++) await raw.index({ index: name, id: 'm1', document: { id: 'm1', roomId: 'r1', personId: 'p1', text: 'legacy text', created: new Date().toISOString() }, refresh: true });
        const remade = await ElasticsearchSearchIndex.create({ node: url, index: name });
        assert.equal(remade.wantsRebuild, true);
        assert.deepEqual(await remade.search({ text: 'legacy', roomIds: ['r1'], max: 5 }), []);
        // a version below the old document's counter (3) is accepted: the counters are gone
        await remade.indexMessages([{ id: 'm1', roomId: 'r1', personId: 'p1', text: 'legacy text again', created: new Date().toISOString(), version: 2, mentioned: [], hasFiles: false, seq: 1 }]);
        await remade.refresh();
        assert.equal((await remade.search({ text: 'again', roomIds: ['r1'], max: 5 })).length, 1);
        await remade.close();
        const kept = await ElasticsearchSearchIndex.create({ node: url, index: name });
        assert.equal(kept.wantsRebuild, false);
        assert.equal((await kept.search({ text: 'again', roomIds: ['r1'], max: 5 })).length, 1);
        await kept.deleteIndex();
        await kept.close();
      } finally {
        await raw.indices.delete({ index: name }, { ignore: [404] });
        await raw.close();
      }
    });

    test('a position it could not have answered is refused before the engine sees it', async () => {
      const index = await ElasticsearchSearchIndex.create({ node: url, index: freshName() });
      try {
        for (const startAfter of [[1], [1, 'date', 'id'], ['x', 1, 'id'], [1, 2, 3]]) {
          await assert.rejects(index.search({ text: 'x', roomIds: ['r'], max: 5, startAfter }), { name: 'InvalidSearchPositionError' });
        }
      } finally {
        await index.deleteIndex();
        await index.close();
      }
    });

    test('a removal is remembered: an older write after it is refused (a rebuild read before a delete)', async () => {
      const index = await ElasticsearchSearchIndex.create({ node: url, index: freshName() });
      try {
        const doc = { id: 'm1', roomId: 'r1', personId: 'p1', text: 'tombstoned words', created: new Date().toISOString(), mentioned: [], hasFiles: false, seq: 1 };
        await index.indexMessages([{ ...doc, version: 3 }]);
        await index.removeMessage('m1', 7);
        await index.indexMessages([{ ...doc, version: 6 }]);
        await index.removeRoom('r1', 2);
        await index.refresh();
        assert.deepEqual(await index.search({ text: 'tombstoned', roomIds: ['r1'], max: 5 }), []);
        await index.removeMessage('m2', 4);
        await index.indexMessages([{ ...doc, id: 'm2', version: 3 }, { ...doc, id: 'm3', version: 1, mentioned: [], hasFiles: false, seq: 1 }]);
        await index.refresh();
        assert.deepEqual((await index.search({ text: 'tombstoned', roomIds: ['r1'], max: 5 })).map(({ id, roomId }) => ({ id, roomId })), [{ id: 'm3', roomId: 'r1' }], 'even a message never indexed');
        await index.indexMessages([{ ...doc, version: 7 }]);
        await index.refresh();
        assert.deepEqual((await index.search({ text: 'tombstoned', roomIds: ['r1'], max: 5 })).map((hit) => hit.id).sort(), ['m1', 'm3']);
      } finally {
        await index.deleteIndex();
        await index.close();
      }
    });

    test('bulk item failures are reported', async () => {
      const index = await ElasticsearchSearchIndex.create({ node: url, index: freshName() });
      try {
        await assert.rejects(index.indexMessages([{ id: 'bad', roomId: 'r', personId: 'p', text: 't', created: 'not a date', version: 1, mentioned: [], hasFiles: false, seq: 1 }]), (err: Error) => {
          assert.ok(err instanceof ElasticsearchError);
          assert.match(err.message, /bulk index into .* failed for 1 of 1 documents; first: bad: HTTP 400 document_parsing_exception/);
          return true;
        });
      } finally {
        await index.deleteIndex();
        await index.close();
      }
    });

    test('an unreachable server fails create within its ready timeout', async () => {
      const t0 = Date.now();
      await assert.rejects(ElasticsearchSearchIndex.create({ node: 'http://127.0.0.1:1', index: freshName(), readyTimeoutMs: 1000 }),
        /elasticsearch at http:\/\/127.0.0.1:1 not ready \(yellow\) within 1000 ms: ConnectionError/);
      assert.ok(Date.now() - t0 < 5000);
    });

    test('index names are validated', async () => {
      await assert.rejects(ElasticsearchSearchIndex.create({ node: url, index: 'Bad Name' }), /invalid Elasticsearch index name/);
    });
  });
}
