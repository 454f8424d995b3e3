// The guarantees of SessionCache as one suite for every implementation: the memory cache
// of the embedded mode and the Redis cache of cluster mode.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionCache } from '../../storage/interfaces.ts';

const id = () => randomUUID();

export function sessionCacheConformance(name: string, cache: () => SessionCache): void {
  describe(`SessionCache conformance: ${name}`, () => {
    test('an entry set at the current generation is read back; an unknown token misses', async () => {
      const c = cache();
      const [token, person] = [id(), id()];
      await c.set(token, person, await c.generation(person), '{"id":"p"}', 60);
      assert.equal(await c.get(token), '{"id":"p"}');
      assert.equal(await c.get(id()), undefined);
    });

    test('an entry expires after its TTL', async () => {
      const c = cache();
      const [token, person] = [id(), id()];
      await c.set(token, person, await c.generation(person), 'v', 1);
      assert.equal(await c.get(token), 'v');
      await sleep(2100);
      assert.equal(await c.get(token), undefined);
    });

    test('a TTL under one second caches nothing', async () => {
      const c = cache();
      const [token, person] = [id(), id()];
      await c.set(token, person, await c.generation(person), 'v', 0.5);
      assert.equal(await c.get(token), undefined);
    });

    test('dropPerson drops every entry of that person and no other', async () => {
      const c = cache();
      const [alice, bob] = [id(), id()];
      const tokens = [id(), id(), id()];
      await c.set(tokens[0], alice, await c.generation(alice), 'a1', 60);
      await c.set(tokens[1], alice, await c.generation(alice), 'a2', 60);
      await c.set(tokens[2], bob, await c.generation(bob), 'b', 60);
      await c.dropPerson(alice);
      assert.equal(await c.get(tokens[0]), undefined);
      assert.equal(await c.get(tokens[1]), undefined);
      assert.equal(await c.get(tokens[2]), 'b');
    });

    test('a set whose read raced a change of the person stores nothing', async () => {
      const c = cache();
      const [token, person] = [id(), id()];
      const before = await c.generation(person);
      await c.dropPerson(person); // the person changed while the reader was reading it
      await c.set(token, person, before, 'stale', 60);
      assert.equal(await c.get(token), undefined);
      assert.notEqual(await c.generation(person), before);
      await c.set(token, person, await c.generation(person), 'fresh', 60);
      assert.equal(await c.get(token), 'fresh');
    });

    test('setting a token again replaces its entry', async () => {
      const c = cache();
      const [token, person] = [id(), id()];
      await c.set(token, person, await c.generation(person), 'one', 60);
      await c.set(token, person, await c.generation(person), 'two', 60);
      assert.equal(await c.get(token), 'two');
    });
  });
}
