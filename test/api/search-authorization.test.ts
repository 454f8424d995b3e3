// Message search's authorization as a property (issue 13): over random memberships (one of
// them ended after its room had messages, and more were posted after it), random messages and
// random combinations of every parameter — words, roomId, personId, from, before, after, max,
// and the pages a Link leads to — each person finds exactly the matching messages of the
// rooms they are a member of now, and of the room they left those posted before they left:
// never a hit, a page or a highlight beyond that, never a room they were refused.
// The expected answer is computed from what the test posted. Seeded: SQUARED_TEST_SEED
// replays a failing run (the seed is in the failure message).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { termsOf } from '../../storage/search-terms.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { post } from '../harness/messages.ts';
import { addMember, createRoom, expectStatus, nextLink } from '../harness/rooms.ts';
import { until } from '../harness/wait.ts';
import { seededRandom as random } from '../harness/seeded-random.ts';
import { startTarget, type Target } from './target.ts';

const PEOPLE = 4;
const ROOMS = 6;
const MESSAGES = 40;
/** Posted after the membership ended, at least two of them in its room. */
const MESSAGES_AFTER_LEAVING = 8;
const QUERIES_PER_PERSON = 20;
const WORDS = ['osprey', 'ospreys', 'gannet', 'tern', 'terns', 'skua', 'petrel'];

let target: Target;
before(async () => {
  target = await startTarget();
});
after(() => target.stop());


interface Posted { id: string; roomId: string; personId: string; email: string; text: string; created: string }

test('each person finds exactly the matching messages within their reach, in every parameter combination', { timeout: 300_000 }, async () => {
  const seed = Number(process.env.SQUARED_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const rand = random(seed);
  const pick = <T>(items: T[]): T => items[Math.floor(rand() * items.length)];
  const people = await createPeople(target.admin, ...Array.from({ length: PEOPLE }, (_, i) => `Searcher ${i} ${seed}`));
  const emails = new Map(people.map((person) => [person.id, person.email]));

  // Random rooms, each with its creator and a random subset of the others.
  const members = new Map<string, Set<string>>();
  const rooms: string[] = [];
  for (let r = 0; r < ROOMS; r++) {
    const creator = pick(people);
    const room = await createRoom(creator, { title: `searched ${r}` });
    const inRoom = new Set([creator.id]);
    for (const person of people) {
      if (person !== creator && rand() < 0.5) {
        await addMember(creator, room.id, person);
        inRoom.add(person.id);
      }
    }
    members.set(room.id, inRoom);
    rooms.push(room.id);
  }
  const byId = new Map(people.map((person) => [person.id, person]));

  const posted: Posted[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const roomId = pick(rooms);
    const author = byId.get(pick([...members.get(roomId)!]))!;
    const words = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(WORDS));
    const message = await post(author, { roomId, text: `${words.join(' ')} note${i}` });
    posted.push({ id: message.id, roomId, personId: author.id, email: emails.get(author.id)!, text: message.text!, created: message.created });
  }
  // One membership ends after its room had messages: those are out of that person's reach now.
  const leaving = rooms.map((roomId) => ({ roomId, creatorId: [...members.get(roomId)!][0], other: [...members.get(roomId)!][1] }))
    .find((candidate) => candidate.other !== undefined && posted.some((m) => m.roomId === candidate.roomId));
  /** How many of `posted` the person who left could see of their room: those before they left. */
  const postedBeforeLeaving = posted.length;
  if (leaving) {
    const owner = byId.get(leaving.creatorId)!;
    const membership = (await owner.api.get(`/v1/memberships?roomId=${leaving.roomId}&personId=${leaving.other}`)).body.items[0];
    expectStatus(await owner.api.delete(`/v1/memberships/${membership.id}`), 204, 'a member leaves');
    members.get(leaving.roomId)!.delete(leaving.other!);
    for (let i = 0; i < MESSAGES_AFTER_LEAVING; i++) {
      const roomId = i < 2 ? leaving.roomId : pick(rooms);
      const author = byId.get(pick([...members.get(roomId)!]))!;
      const words = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(WORDS));
      const n = posted.length;
      const message = await post(author, { roomId, text: `${words.join(' ')} note${n}` });
      posted.push({ id: message.id, roomId, personId: author.id, email: emails.get(author.id)!, text: message.text!, created: message.created });
    }
  }
  /** Whether the person may find the message: a member of its room now, or the one who left it, for what came before. */
  const reaches = (personId: string, m: Posted) => members.get(m.roomId)!.has(personId)
    || (leaving !== undefined && personId === leaving.other && m.roomId === leaving.roomId && posted.indexOf(m) < postedBeforeLeaving);

  // The index has applied everything (and Elasticsearch refreshed) before any expectation.
  for (const person of people) {
    await until(async () => {
      const answer = await person.api.get('/v1/messages/search?q=note0');
      return answer.status === 200 && answer.body.indexBehind.activities === 0;
    }, 30_000, `the index to catch up for ${person.id}`);
  }
  const probe = posted[posted.length - 1];
  // Asked as a member now (the probe's author may be the one who left).
  const prober = byId.get([...members.get(probe.roomId)!][0])!;
  await until(async () => (await prober.api.get(`/v1/messages/search?q=note${posted.length - 1}&roomId=${probe.roomId}`)).body.items?.length === 1, 30_000, 'the last post searchable');

  const times = posted.map((m) => m.created).sort();
  for (const person of people) {
    const mine = new Set(rooms.filter((roomId) => members.get(roomId)!.has(person.id) || (leaving?.other === person.id && leaving.roomId === roomId)));
    for (let q = 0; q < QUERIES_PER_PERSON; q++) {
      const words = Array.from({ length: 1 + Math.floor(rand() * 2) }, () => pick(WORDS));
      const params = new URLSearchParams({ q: words.join(' '), max: String(1 + Math.floor(rand() * 7)) });
      const roomId = rand() < 0.4 ? pick(rooms) : undefined;
      if (roomId) params.set('roomId', roomId);
      const author = rand() < 0.3 ? pick(people) : undefined;
      // `personId` takes an id; `from` an id or an email.
      if (author) {
        if (rand() < 0.5) params.set('personId', author.id);
        else params.set('from', rand() < 0.5 ? author.id : emails.get(author.id)!);
      }
      const beforeTime = rand() < 0.3 ? pick(times) : undefined;
      if (beforeTime) params.set('before', beforeTime);
      const afterTime = rand() < 0.3 ? pick(times) : undefined;
      if (afterTime) params.set('after', afterTime);
      const what = `seed ${seed}, ${person.displayName}: ${params}`;

      let url: string | undefined = `/v1/messages/search?${params}`;
      if (roomId && !mine.has(roomId)) {
        const refused = await person.api.get(url);
        assert.equal(refused.status, 404, `${what}: a room not theirs is refused`);
        assert.equal(refused.body.items, undefined, `${what}: and nothing of it is answered`);
        continue;
      }
      const found: { id: string; roomId: string; highlight?: string; text?: string }[] = [];
      for (let pages = 0; url; pages++) {
        assert.ok(pages < 50, `${what}: paging ends`);
        const answer = await person.api.get(url);
        expectStatus(answer, 200, what);
        found.push(...answer.body.items);
        url = nextLink(answer, person.api.baseUrl);
      }
      const wanted = new Set(termsOf(words.join(' ')));
      const expected = posted.filter((m) => reaches(person.id, m) && (!roomId || m.roomId === roomId)
        && (!author || m.personId === author.id) && (!beforeTime || m.created < beforeTime) && (!afterTime || m.created > afterTime)
        && [...wanted].every((term) => termsOf(m.text).includes(term)));
      for (const hit of found) {
        const source = posted.find((m) => m.id === hit.id);
        assert.ok(source, `${what}: a hit the test never posted`);
        assert.ok(reaches(person.id, source!), `${what}: a hit beyond their reach (${hit.roomId}${mine.has(hit.roomId) ? ', after they left' : ''})`);
        if (hit.highlight) {
          const shown = hit.highlight.replace(/<\/?mark>/g, '').replace(/^…|…$/g, '')
            .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
          assert.ok(source!.text.includes(shown), `${what}: the highlight is of the hit's own text`);
        }
      }
      assert.equal(new Set(found.map((m) => m.id)).size, found.length, `${what}: no hit twice`);
      assert.deepEqual(found.map((m) => m.id).sort(), expected.map((m) => m.id).sort(), `${what}: exactly the matching messages within their reach`);
    }
  }
});
