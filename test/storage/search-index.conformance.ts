// The guarantees written on SearchIndex, as one suite every adapter must pass: the embedded
// SQLite FTS5 index and the Elasticsearch index. Both adapters also share the query semantics
// tested here: every word of the query must appear, best matches first.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newId } from '../../contracts/ids.ts';
import type { IndexedMessage, SearchIndex, SearchQuery } from '../../storage/interfaces.ts';
import { ALL_MENTIONED } from '../../storage/records.ts';

export interface SearchIndexHarness {
  /** A fresh, empty index. */
  open(): Promise<SearchIndex>;
  /** Called after each test (default: close). */
  dispose?(index: SearchIndex): Promise<void>;
}

/** Documents in the room of the removeRoom test: more than one page of the paging adapters (their test page size is at most 100). */
export const REMOVE_ROOM_DOCS = 250;

let clock = Date.UTC(2026, 0, 1);

function msg(roomId: string, text: string, extra: Partial<IndexedMessage> = {}): IndexedMessage {
  clock += 1000;
  // The clock's seconds serve as seqs: increasing, as a room's are.
  return { id: newId('MESSAGE'), roomId, personId: newId('PEOPLE'), text, created: new Date(clock).toISOString(), version: 1, seq: clock / 1000, mentioned: [], hasFiles: false, ...extra };
}

const ids = (hits: { id: string }[]) => hits.map((h) => h.id);
/** Hits without their positions (those are the adapter's own). */
const pairs = (hits: { id: string; roomId: string }[]) => hits.map(({ id, roomId }) => ({ id, roomId }));
const sorted = (values: string[]) => [...values].sort();

export function searchIndexConformance(name: string, harness: SearchIndexHarness): void {
  const withIndex = async (body: (index: SearchIndex) => Promise<void>) => {
    const index = await harness.open();
    try {
      await body(index);
    } finally {
      await (harness.dispose ? harness.dispose(index) : index.close());
    }
  };

  describe(`SearchIndex conformance: ${name}`, () => {
    test('indexed messages are found after refresh, with their room', () => withIndex(async (index) => {
      const room = newId('ROOM');
      const a = msg(room, 'the quarterly budget review is on friday');
      const b = msg(room, 'lunch at noon?');
      await index.indexMessages([a, b]);
      await index.indexMessages([]);
      await index.refresh();
      assert.deepEqual(pairs(await index.search({ text: 'budget', roomIds: [room], max: 10 })), [{ id: a.id, roomId: room }]);
      assert.deepEqual(pairs(await index.search({ text: 'BUDGET Review', roomIds: [room], max: 10 })), [{ id: a.id, roomId: room }], 'case-insensitive, words in any order');
      assert.deepEqual(await index.search({ text: 'budget lunch', roomIds: [room], max: 10 }), [], 'every word must appear');
      assert.deepEqual(await index.search({ text: 'dinner', roomIds: [room], max: 10 }), []);
    }));

    test('indexing the same message again replaces it', () => withIndex(async (index) => {
      const room = newId('ROOM');
      const original = msg(room, 'alpha version of the text');
      await index.indexMessages([original]);
      await index.refresh();
      await index.indexMessages([{ ...original, text: 'bravo edited text' }]);
      await index.refresh();
      assert.deepEqual(await index.search({ text: 'alpha', roomIds: [room], max: 10 }), []);
      assert.deepEqual(pairs(await index.search({ text: 'bravo', roomIds: [room], max: 10 })), [{ id: original.id, roomId: room }]);
      assert.deepEqual(ids(await index.search({ text: 'text', roomIds: [room], max: 10 })), [original.id], 'one document per message id');
      await index.indexMessages([{ ...original, text: 'charlie' }, { ...original, text: 'delta' }]);
      await index.refresh();
      assert.deepEqual(ids(await index.search({ text: 'delta', roomIds: [room], max: 10 })), [original.id], 'the last of a batch wins');
      assert.deepEqual(ids(await index.search({ text: 'charlie', roomIds: [room], max: 10 })), []);
    }));

    test('search sees only the given rooms', () => withIndex(async (index) => {
      const [r1, r2, r3] = [newId('ROOM'), newId('ROOM'), newId('ROOM')];
      const m1 = msg(r1, 'deploy the release');
      const m2 = msg(r2, 'deploy the release');
      const m3 = msg(r3, 'deploy the release');
      await index.indexMessages([m1, m2, m3]);
      await index.refresh();
      assert.deepEqual(sorted(ids(await index.search({ text: 'deploy', roomIds: [r1, r3], max: 10 }))), sorted([m1.id, m3.id]));
      assert.deepEqual(pairs(await index.search({ text: 'deploy', roomIds: [r2], max: 10 })), [{ id: m2.id, roomId: r2 }]);
      assert.deepEqual(await index.search({ text: 'deploy', roomIds: [], max: 10 }), []);
      assert.deepEqual(await index.search({ text: 'deploy', roomIds: [newId('ROOM')], max: 10 }), []);
      // many rooms (the embedded index switches strategy beyond a few dozen)
      const many = [...Array.from({ length: 200 }, () => newId('ROOM')), r2];
      assert.deepEqual(ids(await index.search({ text: 'deploy', roomIds: many, max: 10 })), [m2.id]);
    }));

    test('best matches first, at most max', () => withIndex(async (index) => {
      const room = newId('ROOM');
      const other = newId('ROOM');
      const filler = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore';
      const strong = msg(room, 'kiwi kiwi kiwi');
      const weak = msg(room, `kiwi ${filler} ${filler}`);
      const medium = msg(room, `kiwi kiwi ${filler}`);
      // background documents, so the term statistics are not degenerate
      const background = Array.from({ length: 20 }, (_, i) => msg(other, `${filler} number ${i}`));
      await index.indexMessages([weak, ...background, strong, medium]);
      await index.refresh();
      assert.deepEqual(ids(await index.search({ text: 'kiwi', roomIds: [room, other], max: 10 })), [strong.id, medium.id, weak.id]);
      assert.deepEqual(ids(await index.search({ text: 'kiwi', roomIds: [room], max: 2 })), [strong.id, medium.id]);
      assert.deepEqual(await index.search({ text: 'kiwi', roomIds: [room], max: 0 }), []);
      assert.equal((await index.search({ text: 'lorem', roomIds: [room, other], max: 5 })).length, 5);
    }));

    test('personId, before and after narrow the hits inside the query, in both room strategies', () => withIndex(async (index) => {
      const room = newId('ROOM');
      const other = newId('ROOM');
      const [ann, ben] = [newId('PEOPLE'), newId('PEOPLE')];
      const a1 = msg(room, 'harbour schedule one', { personId: ann });
      const b1 = msg(room, 'harbour schedule two', { personId: ben });
      const a2 = msg(other, 'harbour schedule three', { personId: ann });
      const b2 = msg(room, 'harbour schedule four', { personId: ben });
      await index.indexMessages([a1, b1, a2, b2]);
      await index.refresh();
      const many = [...Array.from({ length: 100 }, () => newId('ROOM')), room, other];
      for (const roomIds of [[room, other], many]) {
        const search = (filters: { personId?: string; before?: string; after?: string }, max = 10) =>
          index.search({ text: 'harbour schedule', roomIds, max, ...filters }).then((hits) => sorted(ids(hits)));
        assert.deepEqual(await search({ personId: ann }), sorted([a1.id, a2.id]));
        assert.deepEqual(await search({ personId: ben }), sorted([b1.id, b2.id]));
        assert.deepEqual(await search({ personId: newId('PEOPLE') }), []);
        assert.deepEqual(await search({ before: b1.created }), [a1.id], 'before is strict');
        assert.deepEqual(await search({ after: a2.created }), [b2.id], 'after is strict');
        assert.deepEqual(await search({ after: a1.created, before: b2.created }), sorted([b1.id, a2.id]));
        assert.deepEqual(await search({ personId: ben, after: a1.created, before: b2.created }), [b1.id]);
        assert.deepEqual(await search({ personId: ann }, 1), [a2.id], 'max counts only the filtered hits (newest first among equals)');
      }
    }));

    test('roomsUpTo: a room searched up to a seq finds nothing created after it, beside whole rooms, in both room strategies', () => withIndex(async (index) => {
      const left = newId('ROOM');
      const member = newId('ROOM');
      const early = msg(left, 'lantern festival early');
      const edge = msg(left, 'lantern festival edge');
      const late = msg(left, 'lantern festival late');
      const mine = msg(member, 'lantern festival mine');
      await index.indexMessages([early, edge, late, mine]);
      await index.refresh();
      const many = Array.from({ length: 100 }, () => newId('ROOM'));
      for (const roomIds of [[member], [...many, member]]) {
        const search = (roomsUpTo: Record<string, number>, rooms = roomIds, max = 10) =>
          index.search({ text: 'lantern festival', roomIds: rooms, roomsUpTo, max }).then((hits) => sorted(ids(hits)));
        assert.deepEqual(await search({ [left]: edge.seq }), sorted([early.id, edge.id, mine.id]), 'up to the seq, inclusive');
        assert.deepEqual(await search({ [left]: early.seq - 1 }), [mine.id], 'before its first message: nothing of it');
        assert.deepEqual(await search({ [left]: edge.seq }, [], 1), [edge.id], 'alone, newest first, max counts only what is reached');
        assert.deepEqual(await search({}, []), [], 'no room at all');
        assert.deepEqual(await search({ [newId('ROOM')]: 1_000_000 }, []), [], 'another room reached finds nothing of this one');
      }
    }));

    test('orgId: every room of the organization, beside the rooms given, never another organization\'s', () => withIndex(async (index) => {
      const [ours, alsoOurs, theirs, given] = [newId('ROOM'), newId('ROOM'), newId('ROOM'), newId('ROOM')];
      const [org, other] = [newId('ORGANIZATION'), newId('ORGANIZATION')];
      const a = msg(ours, 'obsidian ledger one', { orgId: org });
      const b = msg(alsoOurs, 'obsidian ledger two', { orgId: org });
      const c = msg(theirs, 'obsidian ledger three', { orgId: other });
      const d = msg(given, 'obsidian ledger four');
      await index.indexMessages([a, b, c, d]);
      await index.refresh();
      const search = (query: Partial<SearchQuery>) => index.search({ text: 'obsidian ledger', roomIds: [], max: 10, ...query }).then((hits) => sorted(ids(hits)));
      assert.deepEqual(await search({ orgId: org }), sorted([a.id, b.id]));
      assert.deepEqual(await search({ orgId: org, roomIds: [given] }), sorted([a.id, b.id, d.id]));
      assert.deepEqual(await search({ orgId: other }), [c.id]);
      assert.deepEqual(await search({ orgId: newId('ORGANIZATION') }), []);
      assert.deepEqual(await search({ orgId: org, personId: b.personId }), [b.id], 'the other filters still narrow');
      assert.deepEqual(await search({ orgId: org, roomsUpTo: { [ours]: a.seq - 1 } }), sorted([a.id, b.id]), 'a room of the org is whole, though also reached up to a seq');
    }));

    test('equal scores: newest first, then by id, the same order every time', () => withIndex(async (index) => {
      const room = newId('ROOM');
      const created = new Date(Date.UTC(2026, 5, 1)).toISOString();
      const same = Array.from({ length: 6 }, () => msg(room, 'identical words here', { created }));
      const newer = msg(room, 'identical words here', { created: new Date(Date.UTC(2026, 5, 2)).toISOString() });
      await index.indexMessages([...same, newer]);
      await index.refresh();
      const expected = [newer.id, ...sorted(same.map((m) => m.id))];
      assert.deepEqual(ids(await index.search({ text: 'identical', roomIds: [room], max: 10 })), expected);
      assert.deepEqual(ids(await index.search({ text: 'identical', roomIds: [room], max: 3 })), expected.slice(0, 3));
    }));

    test('removeMessage removes one message; removing an unknown id is fine', () => withIndex(async (index) => {
      const room = newId('ROOM');
      const keep = msg(room, 'standup notes');
      const drop = msg(room, 'standup cancelled');
      await index.indexMessages([keep, drop]);
      await index.refresh();
      await index.removeMessage(drop.id, 1);
      await index.removeMessage(newId('MESSAGE'), 1);
      await index.refresh();
      assert.deepEqual(ids(await index.search({ text: 'standup', roomIds: [room], max: 10 })), [keep.id]);
      await index.indexMessages([drop]);
      await index.refresh();
      assert.deepEqual(sorted(ids(await index.search({ text: 'standup', roomIds: [room], max: 10 }))), sorted([keep.id, drop.id]), 'a removed message can be indexed again');
    }));

    test(`removeRoom removes every message of the room (${REMOVE_ROOM_DOCS}, more than a page) and nothing else`, () => withIndex(async (index) => {
      const room = newId('ROOM');
      const survivor = newId('ROOM');
      const docs = Array.from({ length: REMOVE_ROOM_DOCS }, (_, i) => msg(room, `incident report ${i}`));
      const kept = [msg(survivor, 'incident report elsewhere'), msg(survivor, 'another incident')];
      await index.indexMessages([...docs, ...kept]);
      // the last messages are not refreshed yet: removeRoom must remove them too
      const late = msg(room, 'incident late arrival');
      await index.indexMessages([late]);
      await index.removeRoom(room, 1);
      await index.refresh();
      assert.deepEqual(await index.search({ text: 'incident', roomIds: [room], max: 1000 }), []);
      assert.deepEqual(sorted(ids(await index.search({ text: 'incident', roomIds: [room, survivor], max: 1000 }))), sorted(kept.map((m) => m.id)));
      await index.removeRoom(newId('ROOM'), 1);
    }));

    test('versions: an older write never replaces a newer one, and removals keep what is newer', () => withIndex(async (index) => {
      const room = newId('ROOM');
      const edited = msg(room, 'okapi first draft', { version: 5 });
      await index.indexMessages([edited]);
      await index.indexMessages([{ ...edited, text: 'okapi stale rebuild read', version: 3 }]);
      await index.refresh();
      assert.deepEqual(ids(await index.search({ text: 'stale', roomIds: [room], max: 10 })), [], 'the older text was refused');
      assert.deepEqual(ids(await index.search({ text: 'draft', roomIds: [room], max: 10 })), [edited.id]);
      await index.indexMessages([{ ...edited, text: 'okapi same version again', version: 5 }]);
      await index.refresh();
      assert.deepEqual(ids(await index.search({ text: 'again', roomIds: [room], max: 10 })), [edited.id], 'an equal version replaces');

      await index.removeMessage(edited.id, 4);
      await index.refresh();
      assert.deepEqual(ids(await index.search({ text: 'okapi', roomIds: [room], max: 10 })), [edited.id], 'a removal older than the text leaves it');

      const older = msg(room, 'okapi old message', { version: 2 });
      const newer = msg(room, 'okapi written meanwhile', { version: 9 });
      await index.indexMessages([older, newer]);
      await index.removeRoom(room, 6);
      await index.refresh();
      assert.deepEqual(ids(await index.search({ text: 'okapi', roomIds: [room], max: 10 })), [newer.id], 'removeRoom keeps the newer message');
      await index.removeMessage(newer.id, 9);
      await index.refresh();
      assert.deepEqual(ids(await index.search({ text: 'okapi', roomIds: [room], max: 10 })), []);
    }));

    test('mentioning and hasFiles narrow the hits inside the query; @all mentions everyone', () => withIndex(async (index) => {
      const room = newId('ROOM');
      const ann = newId('PEOPLE');
      const bea = newId('PEOPLE');
      const toAnn = msg(room, 'walrus for ann', { mentioned: [ann] });
      const toAll = msg(room, 'walrus for everyone', { mentioned: [ALL_MENTIONED], hasFiles: true });
      const toBea = msg(room, 'walrus for bea', { mentioned: [bea], hasFiles: true });
      const plain = msg(room, 'walrus alone');
      await index.indexMessages([toAnn, toAll, toBea, plain]);
      await index.refresh();
      const found = async (extra: Partial<SearchQuery>) => sorted(ids(await index.search({ text: 'walrus', roomIds: [room], max: 10, ...extra })));
      assert.deepEqual(await found({ mentioning: ann }), sorted([toAnn.id, toAll.id]));
      assert.deepEqual(await found({ mentioning: bea, hasFiles: true }), sorted([toAll.id, toBea.id]));
      assert.deepEqual(await found({ hasFiles: false }), sorted([toAnn.id, plain.id]));
      assert.deepEqual(await found({ mentioning: newId('PEOPLE'), hasFiles: false }), []);
    }));

    test('pages: startAfter a hit\'s position goes on in the same order, without repeats or gaps, in both room strategies', () => withIndex(async (index) => {
      const room = newId('ROOM');
      const many = Array.from({ length: 60 }, () => newId('ROOM'));
      // equal scores for most (same text), a few stronger: the order is score, newest, id
      const docs = [
        ...Array.from({ length: 9 }, (_, i) => msg(room, `narwhal sighting ${i}`)),
        msg(room, 'narwhal narwhal narwhal'),
        ...Array.from({ length: 3 }, () => msg(room, 'narwhal sighting same', { created: new Date(Date.UTC(2025, 5, 1)).toISOString() })),
      ];
      await index.indexMessages(docs);
      await index.refresh();
      for (const roomIds of [[room], [room, ...many]]) {
        const all = await index.search({ text: 'narwhal', roomIds, max: 100 });
        assert.equal(all.length, docs.length);
        const paged: string[] = [];
        for (let startAfter: SearchQuery['startAfter'], pages = 0; pages < 10; pages++) {
          const page = await index.search({ text: 'narwhal', roomIds, max: 4, startAfter });
          paged.push(...ids(page));
          if (page.length < 4) break;
          startAfter = page[page.length - 1].position;
        }
        assert.deepEqual(paged, ids(all), `${roomIds.length} rooms`);
      }
    }));

    test('stems and folded diacritics: reports/reporting/REPORTED find each other, café finds cafe and Café', () => withIndex(async (index) => {
      const room = newId('ROOM');
      const stemmed = msg(room, 'The quarterly reports were reporting growth');
      const accented = msg(room, 'Lunch at the Café tomorrow');
      const plain = msg(room, 'the cafe downstairs is closed');
      const other = msg(room, 'nothing to see here');
      await index.indexMessages([stemmed, accented, plain, other]);
      await index.refresh();
      for (const q of ['report', 'REPORTED', 'reporting quarterly', 'Reports']) {
        assert.deepEqual(ids(await index.search({ text: q, roomIds: [room], max: 10 })), [stemmed.id], q);
      }
      for (const q of ['cafe', 'café', 'CAFÉ']) {
        assert.deepEqual(sorted(ids(await index.search({ text: q, roomIds: [room], max: 10 }))), sorted([accented.id, plain.id]), q);
      }
      assert.deepEqual(await index.search({ text: 'reportage', roomIds: [room], max: 10 }), [], 'a stem is not a prefix');
      assert.deepEqual(await index.search({ text: '?!', roomIds: [room], max: 10 }), [], 'no words, no hits');
    }));

    test('checkpoints: 0 for a room never checkpointed, raised only upwards, per room', () => withIndex(async (index) => {
      const [a, b, c] = [newId('ROOM'), newId('ROOM'), newId('ROOM')];
      assert.deepEqual([...await index.checkpoints([a, b])], [[a, 0], [b, 0]]);
      await index.raiseCheckpoints(new Map([[a, 5], [b, 2]]));
      await index.raiseCheckpoints(new Map([[a, 3], [c, 1]])); // a lower seq for a changes nothing
      await index.raiseCheckpoints(new Map([[b, 9]]));
      assert.deepEqual([...await index.checkpoints([a, b, c])], [[a, 5], [b, 9], [c, 1]]);
      assert.deepEqual([...await index.checkpoints([])], []);
      // Raising to the same seq again is harmless (a redone catch-up).
      await index.raiseCheckpoints(new Map([[a, 5]]));
      assert.equal((await index.checkpoints([a])).get(a), 5);
    }));

    test('query syntax and special characters are plain text: no errors, no escaping the room filter', () => withIndex(async (index) => {
      const room = newId('ROOM');
      const secretRoom = newId('ROOM');
      const plain = msg(room, 'we use c++ and node.js (version 22) — see https://example.com/a?b=c&d "quoted words" 100% ok café');
      const secret = msg(secretRoom, 'secret plans');
      await index.indexMessages([plain, secret]);
      await index.refresh();
      const nasty = [
        '', '   ', '"', '""', "'", 'AND', 'OR', 'NOT', 'and or not', 'NEAR(a b)', 'NEAR', 'a*', '*', '^start', 'text:secret', 'room:secret',
        '{text room}: secret', '(', ')', '(secret', 'secret)', '-secret', '+secret', 'secret~2', 'se?ret', '\\', '/', '//', '[x TO y]', '{', '}', ':', '!', '&&', '||',
        'secret" OR "plans', 'x" OR room : "', `${'("'.repeat(300)}`, '\u0000', '🙂', 'AND OR NOT NEAR', 'a'.repeat(5000), Array.from({ length: 500 }, (_, i) => `w${i}`).join(' '),
      ];
      for (const text of nasty) {
        const hits = await index.search({ text, roomIds: [room], max: 10 });
        assert.ok(hits.every((h) => h.roomId === room), `only the permitted room for ${JSON.stringify(text.slice(0, 40))}`);
      }
      assert.deepEqual(ids(await index.search({ text: 'c++', roomIds: [room], max: 10 })), [plain.id]);
      assert.deepEqual(ids(await index.search({ text: '"quoted words"', roomIds: [room], max: 10 })), [plain.id]);
      assert.deepEqual(ids(await index.search({ text: '(version 22)', roomIds: [room], max: 10 })), [plain.id]);
      assert.deepEqual(ids(await index.search({ text: 'node.js', roomIds: [room], max: 10 })), [plain.id]);
      assert.deepEqual(await index.search({ text: 'secret', roomIds: [room], max: 10 }), []);
    }));
  });
}
