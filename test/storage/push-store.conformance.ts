// The guarantees of PushStore, as one suite that every adapter must pass (the embedded
// SQLite store and the Cassandra store).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { newId } from '../../contracts/ids.ts';
import type { PushStore, PushSubscriptionRecord } from '../../storage/push-store.ts';

function subscription(personId: string, extra: Partial<PushSubscriptionRecord> = {}): PushSubscriptionRecord {
  return {
    id: newId('PUSH_SUBSCRIPTION'), personId, endpoint: `https://push.example.com/${randomUUID()}`,
    keys: { p256dh: 'BPublicKey', auth: 'secret' }, created: new Date().toISOString(), ...extra,
  };
}

export function pushStoreConformance(name: string, open: () => Promise<PushStore>): void {
  describe(`PushStore conformance: ${name}`, () => {
    test('put, get, replace, remove; a person\'s subscriptions in id order', async () => {
      const store = await open();
      const person = newId('PEOPLE');
      const mine = [subscription(person, { expirationTime: 1_900_000_000_000 }), subscription(person), subscription(person)];
      for (const s of mine) await store.put(s);
      await store.put(subscription(newId('PEOPLE')));
      assert.deepEqual(await store.get(mine[0].id), mine[0]);
      assert.deepEqual((await store.ofPerson(person)).map((s) => s.id), mine.map((s) => s.id).sort());
      await store.put({ ...mine[1], keys: { p256dh: 'BOther', auth: 'other' } });
      assert.equal((await store.get(mine[1].id))?.keys.auth, 'other');
      assert.equal((await store.ofPerson(person)).length, 3);
      await store.remove(mine[1].id);
      await store.remove(mine[1].id);
      assert.equal(await store.get(mine[1].id), undefined);
      assert.deepEqual((await store.ofPerson(person)).map((s) => s.id), [mine[0].id, mine[2].id].sort());
      assert.equal(await store.get(newId('PUSH_SUBSCRIPTION')), undefined);
      assert.deepEqual(await store.ofPerson(newId('PEOPLE')), []);
    });

    test('the first VAPID key pair stored wins, for every later and concurrent caller', async () => {
      const store = await open();
      const first = await store.vapidKeys({ publicKey: `pub-${randomUUID()}`, privateKey: 'priv-a' });
      const racing = await Promise.all(Array.from({ length: 4 }, (_, i) => store.vapidKeys({ publicKey: `pub-${i}`, privateKey: `priv-${i}` })));
      for (const keys of racing) assert.deepEqual(keys, first);
      assert.deepEqual(await store.vapidKeys({ publicKey: 'late', privateKey: 'late' }), first);
    });
  });
}
