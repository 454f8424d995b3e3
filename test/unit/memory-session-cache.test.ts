// The embedded mode's session cache against the SessionCache conformance suite, and its bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemorySessionCache } from '../../storage/embedded/memory-session-cache.ts';
import { sessionCacheConformance } from '../storage/session-cache.conformance.ts';

sessionCacheConformance('memory', () => new MemorySessionCache());

test('the memory session cache keeps at most maxEntries, dropping the oldest first', async () => {
  const cache = new MemorySessionCache({ maxEntries: 3 });
  for (const token of ['t1', 't2', 't3', 't4']) await cache.set(token, 'person', 0, token, 60);
  assert.equal(await cache.get('t1'), undefined);
  for (const token of ['t2', 't3', 't4']) assert.equal(await cache.get(token), token);
  await cache.dropPerson('person');
  for (const token of ['t2', 't3', 't4']) assert.equal(await cache.get(token), undefined);
});
