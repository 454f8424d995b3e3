// The guarantees written on RetentionStore, for the embedded and the Cassandra adapter.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newId } from '../../contracts/ids.ts';
import type { RetentionStore } from '../../storage/retention-store.ts';

export function retentionStoreConformance(name: string, open: () => Promise<{ retention: RetentionStore }>): void {
  describe(`RetentionStore conformance: ${name}`, () => {
    test('an org has no policy until one is put; a put replaces it whole; list holds every org\'s', async () => {
      const { retention } = await open();
      const [a, b] = [newId('ORGANIZATION'), newId('ORGANIZATION')];
      assert.equal(await retention.get(a), undefined);
      const first = { orgId: a, directDays: 30, groupDays: 365, updated: '2026-12-01T00:00:00.000Z', updatedBy: newId('PEOPLE') };
      await retention.put(first);
      assert.deepEqual(await retention.get(a), first);
      const replaced = { orgId: a, groupDays: 90, updated: '2026-12-02T00:00:00.000Z', updatedBy: newId('PEOPLE') };
      await retention.put(replaced);
      assert.deepEqual(await retention.get(a), replaced, 'directDays is gone: the policy was replaced, not merged');
      const other = { orgId: b, directDays: 7, updated: '2026-12-02T00:00:00.000Z', updatedBy: newId('PEOPLE') };
      await retention.put(other);
      const listed = (await retention.list()).filter((policy) => policy.orgId === a || policy.orgId === b);
      assert.deepEqual(listed, [replaced, other].sort((x, y) => (x.orgId < y.orgId ? -1 : 1)));
    });
  });
}
