// The operators' console (`npm run repl`) driven as an operator types it, against the
// target of the run: an embedded process (through its console socket) or a cluster
// (joined over NATS). Each command's output is checked against the state it describes:
// the nodes and their live sockets, a room's head, owner and members, a person's rooms, a
// live meeting and its participant, and `drain`, seen to drain (the node stops, and
// leaves the cluster).
import assert from 'node:assert/strict';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient } from '../../clients/api-client.ts';
import { readConfig } from '../../contracts/config.ts';
import type { SearchIndex } from '../../storage/interfaces.ts';
import { LiveClient } from '../../clients/live-client.ts';
import { MeetingClient } from '../../clients/meeting-client.ts';
import { startHttpsReceiver, type HttpsReceiver } from '../harness/https-receiver.ts';
import { createPeople, type TestPerson } from '../harness/people.ts';
import { fieldOf, linesOf, openOperatorConsole, rowOf, runOperatorCommand, type OperatorConsole } from '../harness/operator-console.ts';
import { startTarget, type Target } from './target.ts';

const { version } = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const inHour = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();

let target: Target;
let receiver: HttpsReceiver;
let operator: OperatorConsole;
let alice: TestPerson;
let bob: TestPerson;
/** What the console needs to reach the target: its data directory, or its cluster's NATS and namespace. */
let consoleEnv: Record<string, string>;
/** Every Squared node of the target, with its roles as `cluster` shows them. */
let nodes: { id: string; roles: string }[];
const actorNodes = () => nodes.filter((node) => node.roles.includes('actors')).map((node) => node.id);
const mediaNodes = () => nodes.filter((node) => node.roles.includes('media')).map((node) => node.id);

before(async () => {
  receiver = await startHttpsReceiver();
  // Webhooks to the test's receiver, dead-lettered after two quick attempts (`queues`, `requeue`).
  target = await startTarget({
    SQUARED_WEBHOOK_ALLOW_HOSTS: 'localhost', NODE_EXTRA_CA_CERTS: receiver.caFile, SQUARED_WEBHOOK_MAX_ATTEMPTS: '2', SQUARED_WEBHOOK_BACKOFF_MS: '50',
  });
  if (target.cluster) {
    nodes = target.cluster.nodes.map((node) => ({ id: node.env.SQUARED_NODE_ID, roles: node.roles }));
    const { SQUARED_NATS, SQUARED_NAMESPACE } = target.cluster.actors()[0].env;
    consoleEnv = { SQUARED_NATS, SQUARED_NAMESPACE };
  } else {
    // Moleculer's default node id: the host name and the process id.
    nodes = [{ id: `${os.hostname().toLowerCase()}-${target.process!.child.pid}`, roles: 'gateway,actors,media' }];
    consoleEnv = { SQUARED_DATA_DIR: target.process!.dataDir };
  }
  operator = openOperatorConsole(consoleEnv);
  [alice, bob] = await createPeople(target.admin, 'Olga Operated', 'Bob Operated');
});
after(async () => {
  await operator?.close();
  await target?.stop();
  await receiver?.close();
});

test('cluster: every node, its roles, versions, and the live sockets of each gateway', async () => {
  const live = await LiveClient.connect(target.liveUrl, target.ca, alice.token);
  try {
    // A cluster's console discovers the nodes a moment after it joins: ask until all are there.
    let answer = '';
    for (let i = 0; i < 30; i++) {
      answer = await operator.ask('cluster', /\d+ nodes up, \d+ gateways, \d+ live sockets/);
      if (nodes.every((node) => rowOf(answer, node.id)?.[12] !== undefined) && /, 1 live sockets/.test(answer)) break;
      await sleep(1000);
    }
    for (const node of nodes) {
      const row = rowOf(answer, node.id);
      assert.ok(row, `${node.id} is listed: ${answer}`);
      const [, state, roles, squared, nodeVersion, , uptime, load] = row;
      assert.equal(state, 'up');
      assert.equal(roles, node.roles);
      assert.equal(squared, version);
      assert.equal(nodeVersion, process.version);
      assert.match(uptime, /^\d+(s|m\d+s)$/);
      assert.match(load, /^\d+\.\d\d\/\d+$/);
      // The requests each of the node's services is handling, named after its roles' services.
      const inFlight = Object.fromEntries(row[12].split(',').map((pair) => pair.split(':')));
      for (const service of node.roles.split(',').flatMap((role) => ({ gateway: ['gateway'], actors: ['people', 'rooms', 'conferences'], media: ['media'] })[role] ?? [])) {
        assert.match(inFlight[service] ?? '', /^\d+$/, `${service} in flight on ${node.id}: ${row[12]}`);
      }
    }
    // The one live socket open is counted on the gateway that holds it, and nowhere else.
    const sockets = nodes.filter((node) => node.roles.includes('gateway')).map((node) => Number(rowOf(answer, node.id)![9]));
    assert.equal(sockets.reduce((sum, count) => sum + count, 0), 1, answer);
  } finally {
    live.close();
  }
});

test('room <id>: the owner node, the head seq, the members and the live followers, as the room is', async () => {
  const room = await alice.api.post('/v1/rooms', { title: 'operated room' });
  assert.equal(room.status, 200);
  const roomId = room.body.id;
  assert.equal((await alice.api.post('/v1/memberships', { roomId, personId: bob.id })).status, 200);
  for (let i = 0; i < 3; i++) assert.equal((await bob.api.post('/v1/messages', { roomId, text: `m${i}` })).status, 200);
  const live = await LiveClient.connect(target.liveUrl, target.ca, alice.token);
  const head = live.frames[0].positions[roomId] as number;
  assert.ok(head >= 5);

  // Alice's socket follows the room: one gateway counts one socket of one person.
  const answer = await operator.ask(`room ${roomId}`, /live followers \(sockets\)[\s\S]*\n\S+\s+1\s+1\n/);
  live.close();
  const gateways = nodes.filter((node) => node.roles.includes('gateway')).map((node) => node.id);
  assert.deepEqual(gateways.map((id) => rowOf(answer, id)?.slice(1)).filter((row) => row?.[0] !== '0'), [['1', '1']], answer);
  assert.equal(fieldOf(answer, 'room'), roomId);
  assert.equal(fieldOf(answer, 'title'), 'operated room');
  assert.equal(fieldOf(answer, 'head seq'), String(head));
  assert.equal(fieldOf(answer, 'pending fenced write'), 'none');
  assert.ok(actorNodes().includes(fieldOf(answer, 'owner node')!), `the owner is an actor node: ${answer}`);
  assert.equal(fieldOf(answer, 'members'), '2');
  assert.deepEqual(rowOf(answer, bob.id)?.slice(1, 4), [bob.email, 'Bob Operated', 'no']);
  assert.equal(rowOf(answer, alice.id)?.[1], alice.email);

  assert.match(await operator.ask('room Y2lzY29zcGFyazovL3VzL1JPT00vbm9uZQ', /room: /), /room: no room Y2lzY29zcGFyazovL3VzL1JPT00vbm9uZQ\./);
  // Embedded, the console says the usage; moleculer-repl (cluster) says what is missing.
  assert.match(await operator.ask('room', /usage|missing/), /usage: room <roomId>|missing required argument 'roomId'/);
});

test('person <email|id>: the person, their rooms with heads, their presence with its devices, and their live sessions', async () => {
  const rooms = (await alice.api.get('/v1/rooms')).body.items as { id: string }[];
  const live = await LiveClient.connect(target.liveUrl, target.ca, alice.token);
  const positions = live.frames[0].positions as Record<string, number>;
  const sessionId = live.frames[0].sessionId as string;
  const last = rooms.at(-1)!.id;
  for (const query of [alice.email, alice.id]) {
    const answer = await operator.ask(`person ${query}`, new RegExp(`${last}\\s+\\d+\\s+\\d+[\\s\\S]*${sessionId}`));
    assert.equal(fieldOf(answer, 'live sessions'), '1');
    assert.ok(linesOf(answer).some((line) => line.includes(sessionId) && /\d{4}-\d\d-\d\dT/.test(line)), `the session and when it opened: ${answer}`);
    assert.equal(fieldOf(answer, 'person'), alice.id);
    assert.equal(fieldOf(answer, 'name'), 'Olga Operated');
    assert.equal(fieldOf(answer, 'rooms'), String(rooms.length));
    assert.match(fieldOf(answer, 'presence')!, /^active \(last active \d{4}-\d\d-\d\dT/);
    assert.equal(fieldOf(answer, 'manual status'), 'none');
    assert.equal(fieldOf(answer, 'in meetings'), 'none');
    // the socket is the device: its lease, renewed by its gateway
    assert.match(rowOf(answer, sessionId)?.slice(1).join(' ') ?? '', /^\d{4}-\d\d-\d\dT\S+ \d{4}-\d\d-\d\dT\S+$/, answer);
    for (const { id } of rooms) assert.equal(rowOf(answer, id)?.[1], String(positions[id]), `${id}'s head`);
  }
  assert.equal((await alice.api.put('/v1/people/me/status', { status: 'DoNotDisturb' })).status, 200);
  const dnd = await operator.ask(`person ${alice.id}`, /manual status/);
  assert.equal(fieldOf(dnd, 'presence')?.split(' ')[0], 'DoNotDisturb');
  assert.equal(fieldOf(dnd, 'manual status'), 'DoNotDisturb');
  live.close();
  assert.match(await operator.ask('person nobody@example.com', /person: /), /person: no person nobody@example\.com\./);
});

test('tokens revoke <person>: every token of the person stops working, on every gateway', async () => {
  const before = await bob.api.get('/v1/people/me');
  assert.equal(before.status, 200);
  const answer = await operator.ask(`tokens revoke ${bob.email}`, /revoked\s+every/);
  assert.equal(fieldOf(answer, 'person'), bob.id);
  for (const url of [target.url, target.liveUrl]) {
    const api = new ApiClient(url, target.ca, bob.token);
    const refused = await api.get('/v1/people/me');
    api.close();
    assert.equal(refused.status, 401, `${url} refuses the revoked token`);
  }
  assert.match(await operator.ask('tokens revoke nobody@example.com', /tokens: /), /tokens: no person nobody@example\.com\./);
  assert.match(await operator.ask(`tokens forget ${bob.email}`, /tokens: /), /unknown verb "forget"/);
});

test('meetings: a live meeting, its owner and media node, its participant; none once they leave', async () => {
  const created = await alice.api.post('/v1/meetings', { title: 'Operated meeting', start: inHour(1), end: inHour(2) });
  assert.equal(created.status, 200, created.text);
  const meetingId = created.body.id;
  const client = await MeetingClient.connect(target.liveUrl, target.ca, alice.token, meetingId);
  try {
    const joined = await client.request('join', {});
    assert.ok(joined.ok, JSON.stringify(joined.error));
    const participantId = joined.result.participantId as string;
    const answer = await operator.ask('meetings', new RegExp(`${participantId}.*\\n`));
    const [, title, , owner, mediaNode, participants] = rowOf(answer, meetingId)!;
    assert.equal(title, 'Operated meeting');
    assert.ok(actorNodes().includes(owner), `owner ${owner}`);
    assert.ok(mediaNodes().includes(mediaNode), `media node ${mediaNode}`);
    assert.equal(participants, '1');
    const participant = answer.split('\n').find((line) => line.includes(participantId))!.split(/ {2,}/);
    assert.deepEqual([participant[2], participant[3], participant[5], participant[8]], ['Olga Operated', alice.email, 'yes', 'yes']);
    assert.ok((await client.request('leave', {})).ok);
    assert.match(await operator.ask('meetings', /no live meetings/), /no live meetings/);
  } finally {
    client.close();
  }
});

test('queues and requeue <queue>: a delivery to a target that is down is a dead letter until requeued, then delivered', async () => {
  let down = true;
  receiver.on('/operated', () => (down ? { status: 503 } : undefined));
  const room = (await alice.api.post('/v1/rooms', { title: 'Queued' })).body;
  const hook = await alice.api.post('/v1/webhooks', { name: 'Queued', targetUrl: `${receiver.url}/operated`, resource: 'messages', event: 'created', filter: `roomId=${room.id}` });
  assert.equal(hook.status, 200, hook.text);
  assert.equal((await alice.api.post('/v1/messages', { roomId: room.id, text: 'while the target is down' })).status, 200);
  const queueRow = (answer: string) => linesOf(answer).find((line) => line.includes('webhook deliveries'))?.split(/ {2,}/);
  let answer = '';
  for (const deadline = Date.now() + 30_000; queueRow(answer)?.[3] !== '1';) {
    if (Date.now() > deadline) assert.fail(`no dead letter after 30 s:\n${answer}`);
    await sleep(200);
    answer = await operator.ask('queues', /webhook deliveries/);
  }
  const [queue, , ready] = queueRow(answer)!;
  assert.equal(ready, '0');
  // The files actor's queue is listed beside the notifications actor's (nothing in it).
  assert.deepEqual(linesOf(answer).find((line) => / previews /.test(line))?.split(/ {2,}/).slice(1), ['previews', '0', '0']);
  assert.match(await operator.ask(`requeue ${linesOf(answer).find((line) => / previews /.test(line))!.split(/ {2,}/)[0]}`, /requeue/), /0 dead letters of .*previews requeued/);
  assert.equal(receiver.received('/operated').length, 2, 'two attempts, then the dead letter');
  down = false;
  assert.match(await operator.ask(`requeue ${queue}`, /requeue/), new RegExp(`1 dead letters of ${queue} requeued`));
  for (const deadline = Date.now() + 20_000; receiver.received('/operated').length < 3;) {
    if (Date.now() > deadline) assert.fail('the requeued delivery never came');
    await sleep(100);
  }
  const delivered = JSON.parse(receiver.received('/operated')[2].raw.toString());
  assert.equal(delivered.data.roomId, room.id);
  assert.equal(queueRow(await operator.ask('queues', /webhook deliveries/))?.[3], '0');
  assert.match(await operator.ask('requeue no-such-queue', /requeue: /), /no queue named no-such-queue/);
});

/** The target's own search index, opened beside it: SQLite's file embedded, its Elasticsearch index in a cluster. */
async function openTargetIndex(): Promise<SearchIndex> {
  if (!target.cluster) return (await import('../../storage/embedded/search-index.ts')).SqliteSearchIndex.open(path.join(target.process!.dataDir, 'search.db'));
  const { elasticsearch } = readConfig(target.cluster.actors()[0].env).engines;
  return (await import('../../storage/elasticsearch/search-index.ts')).ElasticsearchSearchIndex.create(elasticsearch!);
}

test('one command from the command line (`npm run repl -- <command>`, `npm run reindex`): its answer, exit code 0, or 1 when it failed', async () => {
  const room = (await alice.api.post('/v1/rooms', { title: 'One shot' })).body;
  const answered = await runOperatorCommand(consoleEnv, ['room', room.id]);
  assert.equal(answered.code, 0, answered.output);
  assert.equal(fieldOf(answered.output, 'title'), 'One shot');
  assert.equal(fieldOf(answered.output, 'pending fenced write'), 'none');
  const refused = await runOperatorCommand(consoleEnv, ['room', 'Y2lzY29zcGFyazovL3VzL1JPT00vbm9uZQ']);
  assert.equal(refused.code, 1, refused.output);
  assert.match(refused.output, /room: no room Y2lzY29zcGFyazovL3VzL1JPT00vbm9uZQ\./);
  const unknown = await runOperatorCommand(consoleEnv, ['no-such-command']);
  assert.equal(unknown.code, 1, unknown.output);
  assert.match(unknown.output, /unknown command "no-such-command"/);
  // what `npm run reindex` runs
  const script = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../../package.json'), 'utf8')).scripts.reindex as string;
  assert.match(script, /cluster\/repl\.ts reindex$/);
  const reindexed = await runOperatorCommand(consoleEnv, ['reindex'], 120_000);
  assert.equal(reindexed.code, 0, reindexed.output);
  assert.match(reindexed.output, /search index rebuilt on \S+: \d+ rooms, \d+ messages/);
});

test('reindex: a search index that lost a room is whole again, edits as they are now, deleted messages gone', async () => {
  const room = (await alice.api.post('/v1/rooms', { title: 'Reindexed' })).body;
  const kept = (await alice.api.post('/v1/messages', { roomId: room.id, text: 'zebrafinch kept' })).body;
  const edited = (await alice.api.post('/v1/messages', { roomId: room.id, text: 'zebrafinch before' })).body;
  const deleted = (await alice.api.post('/v1/messages', { roomId: room.id, text: 'zebrafinch deleted' })).body;
  assert.equal((await alice.api.put(`/v1/messages/${edited.id}`, { roomId: room.id, text: 'okapi after' })).status, 200);
  assert.equal((await alice.api.delete(`/v1/messages/${deleted.id}`)).status, 204);
  const index = await openTargetIndex();
  try {
    const found = async (word: string) => {
      await index.refresh();
      return (await index.search({ text: word, roomIds: [room.id], max: 10 })).map((hit) => hit.id).sort();
    };
    // The index lost the room (a restore without it, a lost Elasticsearch index).
    for (const deadline = Date.now() + 20_000; (await found('okapi')).length === 0;) {
      if (Date.now() > deadline) assert.fail('the edit never reached the index');
      await sleep(100);
    }
    // as new as the room is now (a removal newer than the room's head would refuse the rebuild's writes for a while)
    const head = Number(fieldOf(await operator.ask(`room ${room.id}`, /head seq/), 'head seq'));
    assert.ok(head >= 5);
    await index.removeRoom(room.id, head);
    assert.deepEqual(await found('zebrafinch'), []);
    const answer = await operator.ask('reindex', /reindex|rebuilt/);
    const counted = /rebuilt on \S+: (\d+) rooms, (\d+) messages/.exec(answer);
    assert.ok(counted, answer);
    assert.ok(Number(counted[1]) >= 1 && Number(counted[2]) >= 2, answer);
    assert.deepEqual(await found('zebrafinch'), [kept.id]);
    assert.deepEqual(await found('okapi'), [edited.id]);
  } finally {
    await index.close();
  }
});

test('drain <node>: the node drains as on SIGTERM and stops; the console sees it go', async () => {
  assert.match(await operator.ask('drain no-such-node', /drain: /), /drain: no Squared node no-such-node is up/);
  if (target.cluster) {
    const victim = target.cluster.actors().at(-1)!;
    const exited = new Promise<number | null>((resolve) => victim.child.once('exit', (code) => resolve(code)));
    const answer = await operator.ask(`drain ${victim.env.SQUARED_NODE_ID}`, /left the cluster|still in the cluster/, 45_000);
    assert.match(answer, /draining[\s\S]*left the cluster after/);
    assert.equal(await exited, 0, 'the drained node exits cleanly');
    const after = await operator.ask('cluster', /live sockets/);
    const row = rowOf(after, victim.env.SQUARED_NODE_ID);
    assert.ok(!row || row[1] === 'gone', `the drained node is gone: ${after}`);
  } else {
    const child = target.process!.child;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const answer = await operator.ask(`drain ${nodes[0].id}`, /Squared closed the console/, 30_000);
    assert.match(answer, /draining[\s\S]*this console closes with it/);
    assert.equal(await exited, 0, 'the drained process exits cleanly');
    assert.equal(await operator.exited, 0);
  }
});

