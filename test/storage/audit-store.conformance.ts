// The guarantees of AuditStore, and of the people store's changes that carry their audit event
// (same commit), as one suite every adapter must pass (embedded SQLite and Cassandra).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { AuditCategory, AuditRecord } from '../../contracts/audit-events.ts';
import { newId } from '../../contracts/ids.ts';
import type { AuditQuery, AuditStore } from '../../storage/audit-store.ts';
import { DuplicateEmailError, type PeopleStore } from '../../storage/interfaces.ts';
import type { PersonRecord } from '../../storage/records.ts';

const unique = () => randomUUID().slice(0, 8);

function event(orgId: string, created: string, extra: { actorId?: string; category?: AuditCategory; targetId?: string } = {}): AuditRecord {
  const actorId = extra.actorId ?? newId('PEOPLE');
  return {
    id: newId('AUDIT_EVENT'), orgId, actorId, actorOrgId: orgId, created,
    data: {
      actorName: 'Ada Admin', actorEmail: 'ada@example.com', adminRoles: ['Full_Admin'], eventCategory: extra.category ?? 'USERS',
      eventDescription: 'User created', actionText: 'Ada Admin created someone.', targetId: extra.targetId ?? newId('PEOPLE'), targetType: 'USER',
      targetName: 'Someone', targetOrgId: orgId, trackingId: `T_${unique()}`, actorIp: '192.0.2.1', actorUserAgent: 'conformance',
    },
  };
}

function person(orgId: string): PersonRecord {
  const tag = unique();
  const now = new Date().toISOString();
  return { id: newId('PEOPLE'), emails: [`a-${tag}@example.com`], displayName: `Audited ${tag}`, orgId, roles: [], type: 'person', created: now, lastModified: now };
}

/** Every page of the query, checking each page's size. */
async function collect(store: AuditStore, query: Omit<AuditQuery, 'after'>): Promise<AuditRecord[]> {
  const seen: AuditRecord[] = [];
  let after: string | undefined;
  do {
    const page = await store.list({ ...query, after });
    assert.ok(page.items.length <= query.max);
    seen.push(...page.items);
    after = page.next;
  } while (after);
  return seen;
}

const newestFirst = (events: AuditRecord[]) => [...events].sort((a, b) => (a.created === b.created ? (a.id < b.id ? 1 : -1) : a.created < b.created ? 1 : -1));
const ids = (events: AuditRecord[]) => events.map((e) => e.id);
const RANGE = { from: '2020-01-01T00:00:00.000Z', to: '2099-01-01T00:00:00.000Z' };

export function auditStoreConformance(name: string, open: () => Promise<{ audit: AuditStore; people: PeopleStore }>): void {
  describe(`AuditStore conformance: ${name}`, () => {
    test('an org\'s events come newest first, ties by id, across months, in pages; another org\'s never', async () => {
      const { audit } = await open();
      const orgId = newId('ORGANIZATION');
      const instants = ['2026-01-31T23:59:59.999Z', '2026-02-01T00:00:00.000Z', '2026-02-15T10:00:00.000Z', '2026-02-15T10:00:00.000Z', '2026-02-15T10:00:00.000Z', '2026-04-02T08:00:00.000Z'];
      const mine = instants.map((at) => event(orgId, at));
      for (const e of mine) await audit.record(e);
      await audit.record(event(newId('ORGANIZATION'), '2026-02-15T10:00:00.000Z'));
      for (const max of [1, 2, 4, 100]) assert.deepEqual(ids(await collect(audit, { orgId, ...RANGE, max })), ids(newestFirst(mine)), `max ${max}`);
      assert.deepEqual(await collect(audit, { orgId, ...RANGE, max: 2 }), newestFirst(mine), 'the events come back as recorded');
    });

    test('from is inclusive and to exclusive', async () => {
      const { audit } = await open();
      const orgId = newId('ORGANIZATION');
      const [a, b, c] = ['2026-03-01T00:00:00.000Z', '2026-03-10T00:00:00.000Z', '2026-03-20T00:00:00.000Z'].map((at) => event(orgId, at));
      for (const e of [a, b, c]) await audit.record(e);
      assert.deepEqual(ids(await collect(audit, { orgId, from: a.created, to: c.created, max: 10 })), [b.id, a.id]);
      assert.deepEqual(ids(await collect(audit, { orgId, from: '2026-03-01T00:00:00.001Z', to: '2026-03-20T00:00:00.001Z', max: 10 })), [c.id, b.id]);
      assert.deepEqual(await collect(audit, { orgId, from: '2026-03-21T00:00:00.000Z', to: '2026-05-01T00:00:00.000Z', max: 10 }), []);
    });

    test('filters by actor and by categories, paging through the matches only', async () => {
      const { audit } = await open();
      const orgId = newId('ORGANIZATION');
      const actor = newId('PEOPLE');
      const all: AuditRecord[] = [];
      for (let i = 0; i < 12; i++) {
        const e = event(orgId, new Date(Date.UTC(2026, 5, 1, 0, i)).toISOString(), { actorId: i % 3 === 0 ? actor : undefined, category: (['USERS', 'BOTS', 'COMPLIANCE'] as const)[i % 3 === 1 ? 1 : i % 4 === 0 ? 2 : 0] });
        all.push(e);
        await audit.record(e);
      }
      const expect = (keep: (e: AuditRecord) => boolean) => ids(newestFirst(all.filter(keep)));
      assert.deepEqual(ids(await collect(audit, { orgId, ...RANGE, actorId: actor, max: 2 })), expect((e) => e.actorId === actor));
      assert.deepEqual(ids(await collect(audit, { orgId, ...RANGE, categories: ['BOTS'], max: 2 })), expect((e) => e.data.eventCategory === 'BOTS'));
      assert.deepEqual(ids(await collect(audit, { orgId, ...RANGE, categories: ['BOTS', 'COMPLIANCE'], max: 3 })), expect((e) => e.data.eventCategory !== 'USERS'));
      assert.deepEqual(ids(await collect(audit, { orgId, ...RANGE, actorId: actor, categories: ['USERS'], max: 1 })), expect((e) => e.actorId === actor && e.data.eventCategory === 'USERS'));
      assert.deepEqual(await collect(audit, { orgId, ...RANGE, actorId: newId('PEOPLE'), max: 5 }), []);
    });

    test('a person\'s creation, update, deletion and token revocation each write their event with the change', async () => {
      const { audit, people } = await open();
      const orgId = newId('ORGANIZATION');
      const now = () => new Date().toISOString();
      const someone = person(orgId);
      const created = event(orgId, now(), { targetId: someone.id });
      await people.createPerson(someone, undefined, created);
      assert.ok(await people.getPerson(someone.id));
      const renamed = { ...someone, displayName: `${someone.displayName} Renamed` };
      const updated = event(orgId, now(), { targetId: someone.id });
      await people.updatePerson(renamed, updated);
      assert.equal((await people.getPerson(someone.id))?.displayName, renamed.displayName);
      await people.saveToken({ hash: randomUUID(), personId: someone.id, kind: 'access', expiresAt: new Date(Date.now() + 60_000).toISOString(), created: now() });
      const revoked = event(orgId, now(), { targetId: someone.id });
      await people.deletePersonTokens(someone.id, revoked);
      const deleted = event(orgId, now(), { targetId: someone.id });
      await people.deletePerson(someone.id, deleted);
      assert.equal(await people.getPerson(someone.id), undefined);
      assert.deepEqual(new Set(ids(await collect(audit, { orgId, ...RANGE, max: 10 }))), new Set([created.id, updated.id, revoked.id, deleted.id]));
    });

    test('a change that fails writes no event: a taken email, on create and on update', async () => {
      const { audit, people } = await open();
      const orgId = newId('ORGANIZATION');
      const first = person(orgId);
      await people.createPerson(first);
      const second = { ...person(orgId), emails: first.emails };
      await assert.rejects(people.createPerson(second, undefined, event(orgId, new Date().toISOString())), DuplicateEmailError);
      const third = person(orgId);
      await people.createPerson(third);
      await assert.rejects(people.updatePerson({ ...third, emails: first.emails }, event(orgId, new Date().toISOString())), DuplicateEmailError);
      assert.deepEqual(await collect(audit, { orgId, ...RANGE, max: 10 }), []);
    });
  });
}
