// The guarantees of WebhookStore, as one suite that every adapter must pass (the embedded
// SQLite store and the Cassandra store).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newId } from '../../contracts/ids.ts';
import type { WebhookRecord, WebhookStore } from '../../storage/webhook-store.ts';

function webhook(extra: Partial<WebhookRecord> = {}): WebhookRecord {
  return {
    id: newId('WEBHOOK'), name: 'hook', targetUrl: 'https://example.com/h', resource: 'messages', event: 'created', status: 'active',
    ownedBy: 'creator', orgId: 'org', createdBy: 'person', appId: 'app', created: new Date().toISOString(), ...extra,
  };
}

export function webhookStoreConformance(name: string, open: () => Promise<WebhookStore>): void {
  describe(`WebhookStore conformance: ${name}`, () => {
    test('put, get, replace, remove', async () => {
      const store = await open();
      const w = webhook({ filter: 'roomId=x', secret: 's' });
      await store.put(w);
      assert.deepEqual(await store.get(w.id), w);
      await store.put({ ...w, status: 'inactive', name: 'renamed' });
      assert.equal((await store.get(w.id))?.status, 'inactive');
      assert.equal((await store.get(w.id))?.name, 'renamed');
      await store.remove(w.id);
      assert.equal(await store.get(w.id), undefined);
      assert.equal(await store.get(newId('WEBHOOK')), undefined);
    });

    test('update replaces an existing webhook only: a deleted one is never brought back', async () => {
      const store = await open();
      const w = webhook();
      await store.put(w);
      assert.equal(await store.update({ ...w, status: 'inactive', name: 'renamed' }), true);
      assert.deepEqual(await store.get(w.id), { ...w, status: 'inactive', name: 'renamed' });
      await store.remove(w.id);
      assert.equal(await store.update({ ...w, status: 'active' }), false);
      assert.equal(await store.get(w.id), undefined);
      assert.equal((await store.listByCreator(w.createdBy, { max: 100 })).items.some((x) => x.id === w.id), false);
      assert.equal(await store.update(webhook()), false, 'a webhook never created is not created by update');
      // A DELETE racing updates (a PUT, delivery setting it inactive): whichever lands first, it ends deleted.
      const raced = webhook();
      await store.put(raced);
      await Promise.all([store.update({ ...raced, name: 'put' }), store.remove(raced.id), store.update({ ...raced, status: 'inactive' })]);
      assert.equal(await store.get(raced.id), undefined);
    });

    test('deactivate sets the status alone, of an active webhook that exists', async () => {
      const store = await open();
      const w = webhook({ secret: 'old' });
      await store.put(w);
      // A PUT lands after delivery read the webhook: setting it inactive keeps the new target and secret.
      const changed = { ...w, targetUrl: 'https://example.com/new', secret: 'new' };
      assert.equal(await store.update(changed), true);
      assert.equal(await store.deactivate(w.id), true);
      assert.deepEqual(await store.get(w.id), { ...changed, status: 'inactive' });
      assert.equal(await store.deactivate(w.id), false, 'already inactive');
      await store.remove(w.id);
      assert.equal(await store.deactivate(w.id), false);
      assert.equal(await store.get(w.id), undefined, 'a deleted webhook is not brought back');
      assert.equal(await store.deactivate(newId('WEBHOOK')), false);
      // Racing a PUT right after the create: whichever lands first, the PUT's target is kept.
      // Many rounds, because a lost write shows only when the two land in the same millisecond.
      for (let round = 0; round < 20; round += 1) {
        const raced = webhook();
        await store.put(raced);
        await Promise.all([store.update({ ...raced, targetUrl: 'https://example.com/raced' }), store.deactivate(raced.id)]);
        assert.equal((await store.get(raced.id))?.targetUrl, 'https://example.com/raced', `round ${round}`);
      }
    });

    test('listing by creator and by org pages in id order; listAll has every webhook', async () => {
      const store = await open();
      const creator = newId('PEOPLE');
      const org = newId('ORGANIZATION');
      const mine = await Promise.all(Array.from({ length: 5 }, async () => {
        const w = webhook({ createdBy: creator, orgId: org });
        await store.put(w);
        return w;
      }));
      const other = webhook({ orgId: org });
      await store.put(other);
      const seen: string[] = [];
      let after: string | undefined;
      do {
        const page = await store.listByCreator(creator, { max: 2, after });
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((w) => w.id));
        after = page.next;
      } while (after);
      assert.deepEqual(seen, mine.map((w) => w.id).sort());
      const inOrg = await store.listByOrg(org, { max: 100 });
      assert.deepEqual(inOrg.items.map((w) => w.id).sort(), [...mine, other].map((w) => w.id).sort());
      await store.remove(mine[0].id);
      assert.equal((await store.listByCreator(creator, { max: 100 })).items.length, 4);
      const all = new Set((await store.listAll()).map((w) => w.id));
      for (const w of [...mine.slice(1), other]) assert.ok(all.has(w.id));
      assert.ok(!all.has(mine[0].id));
    });

    test('failures count atomically, survive a put, and clear', async () => {
      const store = await open();
      const w = webhook();
      await store.put(w);
      assert.equal(await store.failures(w.id), 0);
      await Promise.all([store.addFailure(w.id), store.addFailure(w.id), store.addFailure(w.id)]);
      assert.equal(await store.failures(w.id), 3);
      await store.put({ ...w, name: 'changed' });
      assert.equal(await store.addFailure(w.id), 4);
      await store.clearFailures(w.id);
      assert.equal(await store.failures(w.id), 0);
      assert.equal(await store.addFailure(w.id), 1);
    });

    test('outbox checkpoints: absent until put, read for many rooms at once, last write wins', async () => {
      const store = await open();
      const [a, b, c] = [newId('ROOM'), newId('ROOM'), newId('ROOM')];
      assert.equal((await store.dispatchedUpTo([a, b])).size, 0);
      await store.putDispatchedUpTo(new Map([[a, 3], [b, 7]]));
      assert.deepEqual(await store.dispatchedUpTo([a, b, c]), new Map([[a, 3], [b, 7]]));
      await store.putDispatchedUpTo(new Map([[a, 12]]));
      // A lower value is kept as given: it is still a true checkpoint (storage/webhook-store.ts).
      await store.putDispatchedUpTo(new Map([[b, 5]]));
      assert.deepEqual(await store.dispatchedUpTo([c, b, a]), new Map([[a, 12], [b, 5]]));
      assert.deepEqual(await store.dispatchedUpTo([]), new Map());
      await store.putDispatchedUpTo(new Map());
      const many = Array.from({ length: 40 }, () => newId('ROOM'));
      await store.putDispatchedUpTo(new Map(many.map((id, i) => [id, i + 1])));
      const read = await store.dispatchedUpTo(many);
      assert.deepEqual(many.map((id) => read.get(id)), many.map((_, i) => i + 1));
    });
  });
}
