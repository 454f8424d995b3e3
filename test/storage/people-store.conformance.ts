// The guarantees of PeopleStore, as one suite that every adapter must pass (the embedded
// SQLite store and the Cassandra store).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { newId } from '../../contracts/ids.ts';
import { DuplicateEmailError, type PeopleStore } from '../../storage/interfaces.ts';
import type { PersonRecord, TokenRecord } from '../../storage/records.ts';

const now = () => new Date().toISOString();
const unique = () => randomUUID().slice(0, 8);

function person(extra: Partial<PersonRecord> = {}): PersonRecord {
  const tag = unique();
  return {
    id: newId('PEOPLE'), emails: [`p-${tag}@example.com`], displayName: `Person ${tag}`, orgId: newId('ORGANIZATION'),
    roles: [], type: 'person', created: now(), lastModified: now(), ...extra,
  };
}

function token(personId: string, extra: Partial<TokenRecord> = {}): TokenRecord {
  return { hash: randomUUID().replaceAll('-', ''), personId, kind: 'access', expiresAt: new Date(Date.now() + 3_600_000).toISOString(), created: now(), ...extra };
}

async function collect(store: PeopleStore, query: Omit<Parameters<PeopleStore['listPeople']>[0], 'after'>): Promise<string[]> {
  const seen: string[] = [];
  let after: string | undefined;
  do {
    const page = await store.listPeople({ ...query, after });
    assert.ok(page.items.length <= query.max);
    seen.push(...page.items.map((p) => p.id));
    after = page.next;
  } while (after);
  return seen;
}

export function peopleStoreConformance(name: string, open: () => Promise<PeopleStore>): void {
  describe(`PeopleStore conformance: ${name}`, () => {
    test('a person is found by id and by any of their emails, case-insensitively', async () => {
      const store = await open();
      const tag = unique();
      const p = person({ emails: [`Alice.${tag}@Example.com`, `alice2-${tag}@example.com`] });
      await store.createPerson(p);
      assert.deepEqual(await store.getPerson(p.id), p);
      assert.equal((await store.getPersonByEmail(`alice.${tag}@example.com`))?.id, p.id);
      assert.equal((await store.getPersonByEmail(`ALICE.${tag}@EXAMPLE.COM`))?.id, p.id);
      assert.equal((await store.getPersonByEmail(`alice2-${tag}@example.com`))?.id, p.id);
      assert.equal(await store.getPersonByEmail(`nobody-${tag}@example.com`), undefined);
      assert.equal(await store.getPerson(newId('PEOPLE')), undefined);
    });

    test('emails are unique across people, whatever their case; a refused create leaves nothing', async () => {
      const store = await open();
      const first = person();
      await store.createPerson(first);
      const second = person({ emails: [`fresh-${unique()}@example.com`, first.emails[0].toUpperCase()] });
      await assert.rejects(store.createPerson(second, 'hash'), DuplicateEmailError);
      assert.equal(await store.getPerson(second.id), undefined);
      assert.equal(await store.getPersonByEmail(second.emails[0]), undefined, 'emails claimed before the duplicate are released');
      assert.equal(await store.getPasswordHash(second.id), undefined);
      assert.equal((await store.getPersonByEmail(first.emails[0]))?.id, first.id);
      // The released email is free for someone else.
      const third = person({ emails: [second.emails[0]] });
      await store.createPerson(third);
      assert.equal((await store.getPersonByEmail(second.emails[0]))?.id, third.id);
    });

    test('people created concurrently with one email: exactly one gets it', async () => {
      const store = await open();
      const email = `race-${unique()}@example.com`;
      const racers = [1, 2, 3].map((i) => person({ emails: [i === 2 ? email.toUpperCase() : email] }));
      const results = await Promise.allSettled(racers.map((p) => store.createPerson(p)));
      const winners = racers.filter((_, i) => results[i].status === 'fulfilled');
      assert.equal(winners.length, 1);
      assert.ok(results.every((r) => r.status === 'fulfilled' || r.reason instanceof DuplicateEmailError));
      assert.equal((await store.getPersonByEmail(email))?.id, winners[0].id);
      for (const p of racers) if (p !== winners[0]) assert.equal(await store.getPerson(p.id), undefined);
    });

    test('updates move emails: the old one is freed, another person\'s is refused and changes nothing', async () => {
      const store = await open();
      const a = person();
      const b = person();
      await store.createPerson(a);
      await store.createPerson(b);
      const renamed = { ...a, emails: [`new-${unique()}@example.com`], displayName: 'Renamed', lastModified: now() };
      await store.updatePerson(renamed);
      assert.deepEqual(await store.getPerson(a.id), renamed);
      assert.equal((await store.getPersonByEmail(renamed.emails[0]))?.id, a.id);
      assert.equal(await store.getPersonByEmail(a.emails[0]), undefined);
      await assert.rejects(store.updatePerson({ ...b, emails: [b.emails[0], renamed.emails[0].toUpperCase()] }), DuplicateEmailError);
      assert.deepEqual(await store.getPerson(b.id), b);
      assert.equal((await store.getPersonByEmail(renamed.emails[0]))?.id, a.id);
      // a's old email can now be taken by b.
      await store.updatePerson({ ...b, emails: [b.emails[0], a.emails[0]] });
      assert.equal((await store.getPersonByEmail(a.emails[0]))?.id, b.id);
      assert.equal((await store.getPersonByEmail(b.emails[0]))?.id, b.id);
    });

    test('deleting a person removes them, their password and tokens, and frees their emails', async () => {
      const store = await open();
      const p = person();
      await store.createPerson(p, 'secret-hash');
      const t = token(p.id);
      await store.saveToken(t);
      await store.deletePerson(p.id);
      assert.equal(await store.getPerson(p.id), undefined);
      assert.equal(await store.getPersonByEmail(p.emails[0]), undefined);
      assert.equal(await store.getPasswordHash(p.id), undefined);
      assert.equal(await store.getToken(t.hash), undefined);
      const again = person({ emails: p.emails });
      await store.createPerson(again);
      assert.equal((await store.getPersonByEmail(p.emails[0]))?.id, again.id);
    });

    test('listPeople: one org, in id order, paged, filtered by email, display name prefix and ids', async () => {
      const store = await open();
      const orgId = newId('ORGANIZATION');
      const names = ['Ann Lee', 'anna Smith', 'Bob Stone', 'Annabel Ng', 'Carl'];
      const people = names.map((displayName) => person({ orgId, displayName }));
      for (const p of people) await store.createPerson(p);
      await store.createPerson(person({ displayName: 'Ann Other Org' }));
      const ids = people.map((p) => p.id).sort();
      assert.deepEqual(await collect(store, { orgId, max: 2 }), ids);
      assert.deepEqual(await collect(store, { orgId, max: 100 }), ids);
      const anns = people.filter((p) => p.displayName.toLowerCase().startsWith('ann')).map((p) => p.id).sort();
      assert.equal(anns.length, 3);
      assert.deepEqual(await collect(store, { orgId, displayName: 'ANN', max: 2 }), anns);
      assert.deepEqual(await collect(store, { orgId, displayName: 'anna', max: 1 }), people.filter((p) => /^anna/i.test(p.displayName)).map((p) => p.id).sort());
      assert.deepEqual(await collect(store, { orgId, displayName: 'zed', max: 10 }), []);
      assert.deepEqual(await collect(store, { orgId, email: people[2].emails[0].toUpperCase(), max: 10 }), [people[2].id]);
      assert.deepEqual(await collect(store, { orgId: newId('ORGANIZATION'), email: people[2].emails[0], max: 10 }), [], 'another org does not see them');
      const some = [people[4].id, people[0].id, people[2].id, newId('PEOPLE')];
      assert.deepEqual(await collect(store, { orgId, ids: some, max: 2 }), [people[0].id, people[2].id, people[4].id].sort());
      assert.deepEqual(await collect(store, { orgId, ids: some, displayName: 'ann', max: 10 }), [people[0].id]);
      assert.deepEqual(await collect(store, { orgId, email: people[0].emails[0], displayName: 'bob', max: 10 }), [], 'filters combine');
    });

    test('countPeople counts people', async () => {
      const store = await open();
      const before = await store.countPeople();
      const p = person();
      await store.createPerson(p);
      await store.createPerson(person());
      assert.equal(await store.countPeople(), before + 2);
      await store.deletePerson(p.id);
      assert.equal(await store.countPeople(), before + 1);
    });

    test('passwords are set, replaced and read back', async () => {
      const store = await open();
      const p = person();
      await store.createPerson(p, 'first');
      assert.equal(await store.getPasswordHash(p.id), 'first');
      await store.setPasswordHash(p.id, 'second');
      assert.equal(await store.getPasswordHash(p.id), 'second');
      const q = person();
      await store.createPerson(q);
      assert.equal(await store.getPasswordHash(q.id), undefined);
    });

    test('tokens round-trip, expiring or not, and are deleted one by one', async () => {
      const store = await open();
      const p = person();
      await store.createPerson(p);
      const access = token(p.id);
      const refresh = token(p.id, { kind: 'refresh', expiresAt: new Date(Date.now() + 86_400_000).toISOString() });
      const bot = token(p.id, { expiresAt: null });
      for (const t of [access, refresh, bot]) await store.saveToken(t);
      assert.deepEqual(await store.getToken(access.hash), access);
      assert.deepEqual(await store.getToken(refresh.hash), refresh);
      assert.deepEqual(await store.getToken(bot.hash), bot);
      assert.equal(await store.getToken('0'.repeat(64)), undefined);
      await store.deleteToken(access.hash);
      assert.equal(await store.getToken(access.hash), undefined);
      assert.deepEqual(await store.getToken(bot.hash), bot);
      const family = randomUUID();
      const inFamily = token(p.id, { familyId: family });
      const used = token(p.id, { kind: 'refresh', familyId: family, usedAt: now() });
      for (const t of [inFamily, used]) await store.saveToken(t);
      assert.deepEqual(await store.getToken(inFamily.hash), inFamily);
      assert.deepEqual(await store.getToken(used.hash), used);
    });

    test('a refresh token is used once: of concurrent uses exactly one wins, and the used token stays', async () => {
      const store = await open();
      const p = person();
      await store.createPerson(p);
      const refresh = token(p.id, { kind: 'refresh', familyId: randomUUID() });
      await store.saveToken(refresh);
      const usedAt = now();
      const wins = await Promise.all(Array.from({ length: 6 }, () => store.useRefreshToken(refresh.hash, usedAt)));
      assert.equal(wins.filter(Boolean).length, 1);
      assert.deepEqual(await store.getToken(refresh.hash), { ...refresh, usedAt });
      assert.equal(await store.useRefreshToken(refresh.hash, now()), false, 'used already');
      const access = token(p.id);
      await store.saveToken(access);
      assert.equal(await store.useRefreshToken(access.hash, now()), false, 'an access token is not used up');
      assert.deepEqual(await store.getToken(access.hash), access);
      assert.equal(await store.useRefreshToken('0'.repeat(64), now()), false, 'an unknown token');
      assert.equal(await store.getToken('0'.repeat(64)), undefined, 'and it is not created');
    });

    test("deleting a family deletes all of its tokens, and nobody else's", async () => {
      const store = await open();
      const p = person();
      await store.createPerson(p);
      const [family, other] = [randomUUID(), randomUUID()];
      const members = [
        token(p.id, { familyId: family }),
        token(p.id, { kind: 'refresh', familyId: family, usedAt: now() }),
        token(p.id, { kind: 'refresh', familyId: family }),
      ];
      const kept = [token(p.id, { familyId: other }), token(p.id, { kind: 'refresh', familyId: other }), token(p.id, { expiresAt: null })];
      for (const t of [...members, ...kept]) await store.saveToken(t);
      await store.deleteTokenFamily(family);
      for (const t of members) assert.equal(await store.getToken(t.hash), undefined);
      for (const t of kept) assert.deepEqual(await store.getToken(t.hash), t);
      await store.deleteTokenFamily(randomUUID()); // an unknown family is fine
      await store.deletePerson(p.id);
      for (const t of kept) assert.equal(await store.getToken(t.hash), undefined, 'deleting the person still deletes the rest');
    });

    test("deleting a person's tokens deletes every one of them, and keeps the person and others' tokens", async () => {
      const store = await open();
      const [p, q] = [person(), person()];
      await store.createPerson(p, 'hash');
      await store.createPerson(q);
      const family = randomUUID();
      const mine = [token(p.id), token(p.id, { expiresAt: null }), token(p.id, { familyId: family }), token(p.id, { kind: 'refresh', familyId: family })];
      const theirs = [token(q.id), token(q.id, { kind: 'refresh', familyId: randomUUID() })];
      for (const t of [...mine, ...theirs]) await store.saveToken(t);
      await store.deletePersonTokens(p.id);
      for (const t of mine) assert.equal(await store.getToken(t.hash), undefined);
      for (const t of theirs) assert.deepEqual(await store.getToken(t.hash), t);
      assert.deepEqual(await store.getPerson(p.id), p);
      assert.equal(await store.getPasswordHash(p.id), 'hash');
      const later = token(p.id, { familyId: family });
      await store.saveToken(later);
      assert.deepEqual(await store.getToken(later.hash), later, 'new tokens may be issued afterwards');
      await store.deleteTokenFamily(family);
      assert.equal(await store.getToken(later.hash), undefined, 'and they join their family');
    });
  });
}
