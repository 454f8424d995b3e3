// The presence actor's rules without a clock to wait for: the order of the statuses
// (manual > meeting > active within the idle time > inactive while leased > unknown), when a
// status may change on its own, and the pace of publications (one per interval, the latest
// winning, a flap back to what was sent publishing nothing).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { aggregate } from '../../actors/presence/aggregate.ts';
import { PresencePacer } from '../../actors/presence/presence-pacer.ts';
import type { DeviceLease } from '../../storage/presence-store.ts';

const NOW = Date.parse('2026-12-02T12:00:00.000Z');
const IDLE = 60_000;
const lease = (deviceId: string, lastActivity: number, expiresAt = NOW + 30_000): DeviceLease => ({ personId: 'p', deviceId, lastActivity, expiresAt });

test('the statuses in their order, with lastActivity the latest known', () => {
  const active = lease('a', NOW - 1000);
  const idle = lease('b', NOW - 2 * IDLE);
  assert.deepEqual(aggregate({ leases: [] }, NOW, IDLE), { view: { status: 'unknown' } });
  assert.deepEqual(aggregate({ leases: [], lastActivity: NOW - 5000 }, NOW, IDLE).view, { status: 'unknown', lastActivity: new Date(NOW - 5000).toISOString() });
  assert.equal(aggregate({ leases: [idle] }, NOW, IDLE).view.status, 'inactive');
  assert.equal(aggregate({ leases: [idle, active] }, NOW, IDLE).view.status, 'active', 'active while any device is');
  assert.equal(aggregate({ leases: [active], meetings: ['m'] }, NOW, IDLE).view.status, 'meeting');
  const dnd = { status: 'DoNotDisturb' as const, set: new Date(NOW).toISOString() };
  assert.equal(aggregate({ leases: [active], meetings: ['m'], manual: dnd }, NOW, IDLE).view.status, 'DoNotDisturb', 'a manual status wins over all');
  assert.equal(aggregate({ leases: [], manual: dnd }, NOW, IDLE).view.status, 'DoNotDisturb', 'offline too');
  const expired = { ...dnd, expires: new Date(NOW - 1).toISOString() };
  assert.equal(aggregate({ leases: [active], manual: expired }, NOW, IDLE).view.status, 'active', 'until it expires');
  assert.equal(aggregate({ leases: [idle, active] }, NOW, IDLE).view.lastActivity, new Date(NOW - 1000).toISOString());
});

test('when a status may change on its own', () => {
  assert.equal(aggregate({ leases: [lease('a', NOW - 1000, NOW + 90_000)] }, NOW, IDLE).changesAt, NOW - 1000 + IDLE, 'going idle');
  assert.equal(aggregate({ leases: [lease('a', NOW - 1000, NOW + 5000)] }, NOW, IDLE).changesAt, NOW + 5000, 'a lease lapsing first');
  assert.equal(aggregate({ leases: [lease('a', NOW - 2 * IDLE, NOW + 5000)] }, NOW, IDLE).changesAt, NOW + 5000, 'inactive until the lease lapses');
  const expires = new Date(NOW + 1000).toISOString();
  assert.equal(aggregate({ leases: [], manual: { status: 'OutOfOffice', expires, set: expires } }, NOW, IDLE).changesAt, NOW + 1000);
  assert.equal(aggregate({ leases: [] }, NOW, IDLE).changesAt, undefined);
});

test('the pacer: at once, then one per interval with the latest status; a flap back sends nothing', async () => {
  const sent: string[] = [];
  const pacer = new PresencePacer(1000, (personId, view) => sent.push(`${personId}:${view.status}`));
  pacer.changed('a', { status: 'active' });
  pacer.changed('a', { status: 'inactive' });
  pacer.changed('a', { status: 'DoNotDisturb' });
  pacer.changed('b', { status: 'active' });
  assert.deepEqual(sent, ['a:active', 'b:active'], 'the first change of each goes at once');
  await sleep(1300);
  assert.deepEqual(sent, ['a:active', 'b:active', 'a:DoNotDisturb'], 'the latest one at the end of the interval');
  // Within the interval after DoNotDisturb went out: away and back to it — nothing more is sent.
  pacer.changed('a', { status: 'active' });
  pacer.changed('a', { status: 'DoNotDisturb' });
  await sleep(1300);
  assert.deepEqual(sent, ['a:active', 'b:active', 'a:DoNotDisturb'], 'a flap back costs nothing');
  // Past the interval a change goes at once again.
  pacer.changed('b', { status: 'inactive' });
  assert.deepEqual(sent.at(-1), 'b:inactive');
  pacer.stop();
});
