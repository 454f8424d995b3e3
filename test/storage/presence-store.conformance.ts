// The guarantees of the presence stores (storage/presence-store.ts) as one suite for every
// implementation: the device leases in memory (embedded) and on Redis (cluster); the manual
// statuses on SQLite (embedded) and Cassandra (cluster).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeviceLeaseStore, ManualStatusStore } from '../../storage/presence-store.ts';

const id = () => randomUUID();

export function deviceLeaseConformance(name: string, store: () => Promise<DeviceLeaseStore>): void {
  describe(`DeviceLeaseStore conformance: ${name}`, () => {
    test('renewed leases are read back per person, with their activity; a person without any maps to []', async () => {
      const s = await store();
      const [alice, bob, carol] = [id(), id(), id()];
      const before = Date.now();
      await s.renew([{ personId: alice, deviceId: 'a1', lastActivity: 1000 }, { personId: alice, deviceId: 'a2', lastActivity: 2000 }, { personId: bob, deviceId: 'b1', lastActivity: 3000 }], 10_000);
      const leases = await s.leasesOf([alice, bob, carol]);
      assert.deepEqual(leases.get(alice)!.map((l) => [l.deviceId, l.lastActivity]).sort(), [['a1', 1000], ['a2', 2000]]);
      assert.deepEqual(leases.get(bob)!.map((l) => l.deviceId), ['b1']);
      assert.deepEqual(leases.get(carol), []);
      for (const lease of leases.get(alice)!) assert.ok(lease.expiresAt >= before + 10_000 && lease.expiresAt <= Date.now() + 10_000, `expiresAt ${lease.expiresAt}`);
    });

    test('a renewal replaces the lease; a release removes that device only', async () => {
      const s = await store();
      const alice = id();
      await s.renew([{ personId: alice, deviceId: 'a1', lastActivity: 1000 }, { personId: alice, deviceId: 'a2', lastActivity: 1000 }], 10_000);
      await s.renew([{ personId: alice, deviceId: 'a1', lastActivity: 5000 }], 10_000);
      await s.release(alice, 'a2');
      assert.deepEqual((await s.leasesOf([alice])).get(alice)!.map((l) => [l.deviceId, l.lastActivity]), [['a1', 5000]]);
      await s.release(alice, 'a1');
      await s.release(alice, 'never there');
      assert.deepEqual((await s.leasesOf([alice])).get(alice), []);
    });

    test('a lease not renewed within its TTL is never answered again; a renewed one beside it stays', async () => {
      const s = await store();
      const alice = id();
      await s.renew([{ personId: alice, deviceId: 'dies', lastActivity: 1 }, { personId: alice, deviceId: 'lives', lastActivity: 1 }], 600);
      await sleep(350);
      await s.renew([{ personId: alice, deviceId: 'lives', lastActivity: 2 }], 5000);
      await sleep(400);
      assert.deepEqual((await s.leasesOf([alice])).get(alice)!.map((l) => l.deviceId), ['lives']);
      const bob = id();
      await s.renew([{ personId: bob, deviceId: 'b', lastActivity: 1 }], 300);
      await sleep(500);
      assert.deepEqual((await s.leasesOf([bob])).get(bob), []);
    });

    test('the last activity is the latest renewed, and outlives the leases', async () => {
      const s = await store();
      const [alice, nobody] = [id(), id()];
      await s.renew([{ personId: alice, deviceId: 'a1', lastActivity: 7000 }], 300);
      await s.renew([{ personId: alice, deviceId: 'a2', lastActivity: 4000 }], 300);
      await sleep(500);
      assert.deepEqual((await s.leasesOf([alice])).get(alice), []);
      const last = await s.lastActivityOf([alice, nobody]);
      assert.equal(last.get(alice), 7000);
      assert.equal(last.has(nobody), false);
    });

    test('meetings: set, several at once, left, and lapsing on their own', async () => {
      const s = await store();
      const [alice, bob, carol] = [id(), id(), id()];
      await s.setMeeting(alice, 'm1', true, 10_000);
      await s.setMeeting(alice, 'm2', true, 10_000);
      await s.setMeeting(bob, 'm1', true, 300);
      await s.setMeeting(alice, 'm1', false, 10_000);
      await sleep(500);
      const meetings = await s.meetingsOf([alice, bob, carol]);
      assert.deepEqual(meetings.get(alice), ['m2']);
      assert.equal(meetings.has(bob), false, 'lapsed');
      assert.equal(meetings.has(carol), false);
    });
  });
}

export function manualStatusConformance(name: string, store: () => Promise<ManualStatusStore>): void {
  describe(`ManualStatusStore conformance: ${name}`, () => {
    test('a status is read back until cleared; put replaces it; others are absent', async () => {
      const s = await store();
      const [alice, bob] = [id(), id()];
      const set = new Date().toISOString();
      await s.put(alice, { status: 'DoNotDisturb', set });
      assert.deepEqual((await s.statusesOf([alice, bob])).get(alice), { status: 'DoNotDisturb', set });
      assert.equal((await s.statusesOf([alice, bob])).has(bob), false);
      const expires = new Date(Date.now() + 3_600_000).toISOString();
      await s.put(alice, { status: 'OutOfOffice', expires, set });
      assert.deepEqual((await s.statusesOf([alice])).get(alice), { status: 'OutOfOffice', expires, set });
      await s.clear(alice);
      await s.clear(bob);
      assert.equal((await s.statusesOf([alice])).size, 0);
      assert.equal((await s.statusesOf([])).size, 0);
    });

    test('an expired status is never answered', async () => {
      const s = await store();
      const [alice, bob] = [id(), id()];
      const set = new Date().toISOString();
      await s.put(alice, { status: 'DoNotDisturb', expires: new Date(Date.now() + 1200).toISOString(), set });
      await s.put(bob, { status: 'OutOfOffice', expires: new Date(Date.now() + 60_000).toISOString(), set });
      assert.equal((await s.statusesOf([alice])).get(alice)?.status, 'DoNotDisturb');
      await sleep(1500);
      const after = await s.statusesOf([alice, bob]);
      assert.equal(after.has(alice), false);
      assert.equal(after.get(bob)?.status, 'OutOfOffice');
    });
  });
}
