// The embedded SearchIndex (FTS5) and WorkQueue (SQLite) against their conformance suites,
// plus what only the embedded queue can show here: durability across a reopen and
// redelivery after the consuming process dies mid-job.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SqliteSearchIndex, ftsTerms } from '../../storage/embedded/search-index.ts';
import { highlight } from '../../actors/search/highlight.ts';
import { SqliteWorkQueue } from '../../storage/embedded/work-queue.ts';
import { searchIndexConformance } from '../storage/search-index.conformance.ts';
import { sleep, waitFor, workQueueConformance } from '../storage/work-queue.conformance.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'squared-search-queue-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
const freshFile = (name: string) => path.join(fs.mkdtempSync(path.join(root, `${name}-`)), `${name}.db`);

searchIndexConformance('embedded SQLite FTS5', { open: async () => SqliteSearchIndex.open(freshFile('search')) });

workQueueConformance('embedded SQLite', { open: async () => SqliteWorkQueue.open(freshFile('queues'), false, { pollMs: 50 }) });

describe('embedded SQLite FTS5 index', () => {
  test('user text becomes quoted FTS5 strings of its terms (folded, stemmed), never FTS5 syntax', () => {
    assert.deepEqual(ftsTerms(' a  "b" NEAR(c) Reports Café '), ['"a"', '"b"', '"near"', '"c"', '"report"', '"cafe"']);
    assert.deepEqual(ftsTerms(''), []);
  });

  test('survives a reopen', async () => {
    const file = freshFile('search');
    const first = SqliteSearchIndex.open(file);
    assert.equal(first.wantsRebuild, true, 'a new file is filled from the rooms');
    await first.indexMessages([{ id: 'm1', roomId: 'r1', personId: 'p', text: 'persistent words', created: new Date().toISOString(), version: 1, mentioned: [], hasFiles: false, seq: 1 }]);
    await first.close();
    const second = SqliteSearchIndex.open(file);
    assert.equal(second.wantsRebuild, false);
    assert.deepEqual((await second.search({ text: 'persistent', roomIds: ['r1'], max: 5 })).map(({ id, roomId }) => ({ id, roomId })), [{ id: 'm1', roomId: 'r1' }]);
    await second.close();
  });
});

describe('embedded SQLite work queue', () => {
  test('published jobs and dead letters survive a reopen', async () => {
    const file = freshFile('queues');
    const first = SqliteWorkQueue.open(file, false, { pollMs: 50 });
    await first.publish('q', { n: 1 });
    const stop = await first.consume('dead-q', async () => { throw new Error('nope'); }, { maxAttempts: 1, backoffMs: 1, concurrency: 1 });
    await first.publish('dead-q', { n: 2 });
    await waitFor(async () => (await first.deadLetters('dead-q', 5)).length === 1, 5000, 'the dead letter');
    await stop();
    await first.close();
    await assert.rejects(first.publish('q', {}), /closed/);

    const second = SqliteWorkQueue.open(file, false, { pollMs: 50 });
    const seen: unknown[] = [];
    const stop2 = await second.consume('q', async (job) => { seen.push(job); }, { maxAttempts: 3, backoffMs: 10, concurrency: 1 });
    await waitFor(() => seen.length === 1, 5000, 'the job published before the reopen');
    assert.deepEqual(seen, [{ n: 1 }]);
    assert.deepEqual(await second.deadLetters('dead-q', 5), [{ job: { n: 2 }, attempts: 1, error: 'nope' }]);
    await stop2();
    await second.close();
  });

  test('a job whose consumer process dies mid-job is delivered again after the visibility timeout', async () => {
    const file = freshFile('queues');
    const queue = SqliteWorkQueue.open(file, false, { pollMs: 50 });
    await queue.publish('crash', { n: 'survivor' });
    // Another process claims the job and dies inside the handler.
    const moduleUrl = new URL('../../storage/embedded/work-queue.ts', import.meta.url).href;
    const script = `
      const { SqliteWorkQueue } = await import(${JSON.stringify(moduleUrl)});
      const queue = SqliteWorkQueue.open(${JSON.stringify(file)}, false, { pollMs: 20, visibilityTimeoutMs: 400 });
      await queue.consume('crash', async () => { process.stdout.write('claimed\\n'); process.exit(7); }, { maxAttempts: 3, backoffMs: 10, concurrency: 1 });
    `;
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], {
      cwd: path.dirname(fileURLToPath(import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 7, 'the child died in the handler');
    assert.match(out, /claimed/);

    const deliveries: { job: unknown; attempt: number; at: number }[] = [];
    const t0 = Date.now();
    const stop = await queue.consume('crash', async (job, attempt) => { deliveries.push({ job, attempt, at: Date.now() }); }, { maxAttempts: 3, backoffMs: 10, concurrency: 1 });
    try {
      await waitFor(() => deliveries.length === 1, 5000, 'the redelivery');
      assert.deepEqual(deliveries.map(({ job, attempt }) => ({ job, attempt })), [{ job: { n: 'survivor' }, attempt: 2 }], 'the lost attempt counts');
      assert.ok(deliveries[0].at - t0 <= 1000);
      await sleep(200);
      assert.equal(deliveries.length, 1);
    } finally {
      await stop();
      await queue.close();
    }
  });

  test('a slow handler keeps its lease: no second delivery while it runs', async () => {
    const queue = SqliteWorkQueue.open(freshFile('queues'), false, { pollMs: 20, visibilityTimeoutMs: 150 });
    let deliveries = 0;
    const stop = await queue.consume('slow', async () => { deliveries++; await sleep(600); }, { maxAttempts: 3, backoffMs: 10, concurrency: 2 });
    await queue.publish('slow', { n: 1 });
    await waitFor(() => deliveries === 1, 5000, 'the delivery');
    await sleep(700);
    assert.equal(deliveries, 1);
    await stop();
    await queue.close();
  });
});

describe('search highlights', () => {
  test('every matched word marked, the rest escaped; a window around the first match', () => {
    assert.equal(highlight('a <b>Café</b> & cafe', 'CAFE'), 'a &lt;b&gt;<mark>Café</mark>&lt;/b&gt; &amp; <mark>cafe</mark>');
    assert.equal(highlight('nothing here', 'absent'), undefined);
    // a long word before the match: the window keeps the match
    const long = highlight(`see https://example.com/${'a'.repeat(90)}/deploy now please`, 'deploy');
    assert.match(long!, /<mark>deploy<\/mark> now please$/);
    const far = highlight(`${'word '.repeat(200)}target ${'tail '.repeat(200)}`, 'target')!;
    assert.ok(far.startsWith('…') && far.endsWith('…') && far.includes('<mark>target</mark>'), far);
    assert.ok(far.length < 320, 'a window, not the whole text');
  });
});
