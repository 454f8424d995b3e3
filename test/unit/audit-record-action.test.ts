// `people.recordAudit`, the internal action other actors (the compliance officer's reads, org
// settings kept elsewhere) record their administrative events with (docs/admin.md). No client
// route reaches it (action-visibility.test.ts), so it is called here on a broker of its own,
// with the people actor on a real embedded store, as another actor calls it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ServiceBroker } from 'moleculer';
import { createPeopleService } from '../../actors/people/people.service.ts';
import { ADMIN_ROLE, type Caller } from '../../contracts/caller.ts';
import { newId } from '../../contracts/ids.ts';
import { openEmbeddedStorage } from '../../storage/embedded/index.ts';
import { MemoryAttemptThrottle } from '../../storage/embedded/memory-attempt-throttle.ts';
import { MemorySessionCache } from '../../storage/embedded/memory-session-cache.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-record-'));
const storage = openEmbeddedStorage(dataDir, false);
const broker = new ServiceBroker({ logger: false, transporter: null });
const orgId = newId('ORGANIZATION');
const officer: Caller = { id: newId('PEOPLE'), orgId, email: 'carol@example.com', displayName: 'Carol Compliance', roles: [Buffer.from('ciscospark://us/ROLE/id_compliance_officer').toString('base64url')], type: 'person' };
const admin: Caller = { id: newId('PEOPLE'), orgId, email: 'ada@example.com', displayName: 'Ada Admin', roles: [ADMIN_ROLE], type: 'person' };

before(async () => {
  broker.createService(createPeopleService({
    store: storage.people, audit: storage.audit, sessions: new MemorySessionCache(), attempts: new MemoryAttemptThrottle(),
    passwordLimits: { accountFailures: 5, addressFailures: 30, lockSeconds: 5, maxLockSeconds: 60, forgetSeconds: 60 },
    dataDir, adminEmail: 'first@example.com', adminPassword: undefined,
  }));
  await broker.start();
});
after(async () => {
  await broker.stop();
  await storage.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const read = { category: 'COMPLIANCE', eventDescription: 'Compliance officer read messages', actionText: 'Carol Compliance read the messages of the room Planning.', targetId: newId('ROOM'), targetType: 'ROOM', targetName: 'Planning' };

test('the caller in meta is the actor; the event is listed to the org\'s administrators with the request\'s trackingId and client', async () => {
  const meta = { caller: officer, trackingId: 'T_compliance_1', client: { address: '192.0.2.7', userAgent: 'compliance-tool/2' } };
  const recorded = await broker.call<Record<string, any>, object>('people.recordAudit', read, { meta });
  assert.equal(recorded.actorId, officer.id);
  assert.equal(recorded.orgId, orgId);
  assert.deepEqual(recorded.data.adminRoles, ['Compliance_Officer']);
  assert.equal(recorded.data.targetOrgId, orgId);
  const listed = await broker.call<{ items: Record<string, any>[] }, object>('people.auditEvents', {
    orgId, from: new Date(Date.now() - 60_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString(), eventCategories: 'COMPLIANCE',
  }, { meta: { caller: admin } });
  assert.deepEqual(listed.items, [recorded]);
  assert.equal(listed.items[0].data.trackingId, 'T_compliance_1');
  assert.equal(listed.items[0].data.actorIp, '192.0.2.7');
  assert.equal(listed.items[0].data.actorUserAgent, 'compliance-tool/2');
});

test('without a caller, or with an unknown category, nothing is recorded', async () => {
  await assert.rejects(broker.call('people.recordAudit', read, { meta: {} }), (err: { code?: number }) => err.code === 401);
  await assert.rejects(broker.call('people.recordAudit', { ...read, category: 'NOPE' }, { meta: { caller: officer } }), (err: { code?: number }) => err.code === 422 || err.code === 400);
  const listed = await broker.call<{ items: unknown[] }, object>('people.auditEvents', {
    orgId, from: new Date(Date.now() - 60_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString(),
  }, { meta: { caller: admin } });
  assert.equal(listed.items.length, 1);
});
