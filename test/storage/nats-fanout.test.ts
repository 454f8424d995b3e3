// NatsFanout: subject mapping and backoff (always), then two NatsFanout instances standing
// for two processes on the shared NATS (SQUARED_NATS): interest routing, order, reference
// counting, unsubscribe; and outages on a dedicated nats-server this file starts itself.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { newId } from '../../contracts/ids.ts';
import { personTopic, roomTopic } from '../../routing/fanout/fanout.ts';
import { Backoff, NatsFanout, subjectOf, subjectToken, type FanoutLogger } from '../../routing/fanout/nats-fanout.ts';
import type { Activity } from '../../storage/records.ts';
import { engineAddress } from '../harness/engine.ts';
import { until } from '../harness/wait.ts';
import { startNats, stopNats } from '../harness/nats-server.ts';
import { freePort } from '../harness/redis-server.ts';

const url = engineAddress('NATS fan-out', 'SQUARED_NATS', 'nats://127.0.0.1:4222', 'nats');

interface LogLine { level: 'info' | 'warn' | 'error'; obj: object; msg: string }

function recordingLogger(): FanoutLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (obj, msg) => void lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => void lines.push({ level: 'error', obj, msg }),
  };
}

function activity(roomId: string, seq: number, subjectId?: string): Activity {
  return { roomId, seq, event: subjectId ? 'membership.created' : 'message.created', actorId: 'p', subjectId, created: new Date().toISOString(), data: { seq, text: `m${seq}` } };
}


describe('NATS subjects and backoff', () => {
  test('base64url ids are subject tokens as they are', () => {
    const roomId = newId('ROOM');
    assert.match(roomId, /^[A-Za-z0-9_-]+$/);
    assert.equal(subjectOf(roomTopic(roomId)), `squared.room.${roomId}`);
    assert.equal(subjectOf(personTopic('abc-DEF_09')), 'squared.person.abc-DEF_09');
  });

  test('anything else is encoded, without wildcards, dots or spaces, and without clashes', () => {
    const odd = ['a.b', '*', '>', 'x y', '', 'é', 'room:x'];
    const subjects = odd.map((id) => subjectOf(roomTopic(id)));
    for (const subject of subjects) {
      const tokens = subject.split('.');
      assert.equal(tokens.length, 3, subject);
      for (const token of tokens) assert.match(token, /^(~[A-Za-z0-9_-]*|[A-Za-z0-9_-]+)$/, subject);
    }
    assert.equal(new Set([...subjects, subjectOf(roomTopic('a')), subjectOf(roomTopic('b'))]).size, odd.length + 2);
    assert.equal(subjectToken('~'), `~${Buffer.from('~').toString('base64url')}`);
    assert.equal(subjectOf('plain'), 'squared.plain');
  });

  test('reconnection pauses double from the minimum up to the maximum', () => {
    let now = 0;
    const backoff = new Backoff(100, 1000, () => now);
    const within = (ms: number, base: number) => assert.ok(ms >= base * 0.8 && ms <= base * 1.2, `${ms} is not ${base} ± 20 %`);
    within(backoff.next(), 100);
    now = 150;
    within(backoff.next(), 100);
    now = 400;
    within(backoff.next(), 200);
    now = 800;
    within(backoff.next(), 400);
    now = 60_000;
    within(backoff.next(), 1000);
    backoff.reset();
    within(backoff.next(), 100);
  });
});

if (url) {
  describe('NATS fan-out between two processes', () => {
    const logger = recordingLogger();
    let a: NatsFanout;
    let b: NatsFanout;

    before(async () => {
      a = await NatsFanout.create({ servers: url, logger, name: 'test-a' });
      b = await NatsFanout.create({ servers: url, logger, name: 'test-b' });
    });

    after(async () => {
      await Promise.all([a.close(), b.close()]);
      assert.deepEqual(logger.lines.filter((l) => l.level !== 'info'), [], 'no warnings while NATS is up');
    });

    test('a process receives only the rooms it listens to', async () => {
      const x = newId('ROOM');
      const y = newId('ROOM');
      const gotA: Activity[] = [];
      const gotB: Activity[] = [];
      const stopA = a.subscribe(roomTopic(x), (act) => gotA.push(act));
      const stopB = b.subscribe(roomTopic(y), (act) => gotB.push(act));
      await Promise.all([a.flush(), b.flush()]);
      const before = { a: a.stats().inMsgs, b: b.stats().inMsgs };

      for (let seq = 1; seq <= 3; seq++) {
        a.publish(roomTopic(x), activity(x, seq));
        a.publish(roomTopic(y), activity(y, seq));
      }
      await a.flush();
      await until(() => gotA.length === 3 && gotB.length === 3, 5000, 'both rooms delivered');
      await Promise.all([a.flush(), b.flush()]);

      assert.deepEqual(gotA.map((act) => [act.roomId, act.seq]), [[x, 1], [x, 2], [x, 3]]);
      assert.deepEqual(gotB, [1, 2, 3].map((seq) => JSON.parse(JSON.stringify({ ...activity(y, seq), created: gotB[seq - 1].created }))), 'the activity round-trips as JSON');
      // The routing happens in NATS: room y's messages never reached a's connection, nor x's b's.
      assert.equal(a.stats().inMsgs - before.a, 3);
      assert.equal(b.stats().inMsgs - before.b, 3);
      stopA();
      stopB();
    });

    test('1000 activities arrive in publish order', async () => {
      const room = newId('ROOM');
      const seqs: number[] = [];
      const stopB = b.subscribe(roomTopic(room), (act) => seqs.push(act.seq));
      await b.flush();
      for (let seq = 1; seq <= 1000; seq++) a.publish(roomTopic(room), activity(room, seq));
      await until(() => seqs.length === 1000, 10_000, '1000 activities');
      assert.deepEqual(seqs, Array.from({ length: 1000 }, (_, i) => i + 1));
      stopB();
    });

    test('one NATS subscription per topic while it has listeners; unsubscribe stops delivery', async () => {
      const room = newId('ROOM');
      const subscriptions = b.stats().subscriptions;
      const first: number[] = [];
      const second: number[] = [];
      const stopFirst = b.subscribe(roomTopic(room), (act) => first.push(act.seq));
      const stopSecond = b.subscribe(roomTopic(room), (act) => second.push(act.seq));
      assert.equal(b.stats().subscriptions, subscriptions + 1, 'two listeners, one subscription');
      await b.flush();

      a.publish(roomTopic(room), activity(room, 1));
      await until(() => first.length === 1 && second.length === 1, 5000, 'both listeners');

      stopFirst();
      stopFirst(); // stopping twice changes nothing
      assert.equal(b.stats().subscriptions, subscriptions + 1, 'the other listener keeps the subscription');
      a.publish(roomTopic(room), activity(room, 2));
      await until(() => second.length === 2, 5000, 'the remaining listener');
      assert.deepEqual(first, [1]);

      stopSecond();
      assert.equal(b.stats().subscriptions, subscriptions, 'the last listener gone, the subscription is dropped');
      await b.flush(); // the server has processed the UNSUB
      const inBefore = b.stats().inMsgs;
      a.publish(roomTopic(room), activity(room, 3));
      await a.flush();
      await sleep(100);
      await b.flush();
      assert.equal(b.stats().inMsgs, inBefore, 'nothing reaches b for a room it left');
      assert.deepEqual(second, [1, 2]);
    });

    test('person topics, a publisher listening to itself, and a failing listener', async () => {
      const person = newId('PEOPLE');
      const room = newId('ROOM');
      const own: Activity[] = [];
      const seen: number[] = [];
      const stopFailing = a.subscribe(personTopic(person), () => {
        throw new Error('listener bug');
      });
      const stopOwn = a.subscribe(personTopic(person), (act) => own.push(act));
      const stopB = b.subscribe(personTopic(person), (act) => seen.push(act.seq));
      await Promise.all([a.flush(), b.flush()]);
      a.publish(personTopic(person), activity(room, 7, person));
      a.publish(personTopic(person), activity(room, 8, person));
      await until(() => own.length === 2 && seen.length === 2, 5000, 'person topic delivered');
      assert.equal(own[0].subjectId, person);
      assert.deepEqual(seen, [7, 8]);
      const failures = logger.lines.filter((l) => l.msg === 'fan-out listener failed');
      assert.equal(failures.length, 2);
      logger.lines.length = 0;
      stopFailing();
      stopOwn();
      stopB();
    });
  });

  describe('NATS fan-out when NATS fails (a dedicated nats-server)', () => {
    let port: number;
    let server: ChildProcess | undefined;
    let publisher: NatsFanout;
    let gateway: NatsFanout;
    const logger = recordingLogger();

    before(async () => {
      port = await freePort();
      server = await startNats(port);
      const options = { servers: `nats://127.0.0.1:${port}`, logger, reconnectMinMs: 50, reconnectMaxMs: 200, warnIntervalMs: 60_000, drainTimeoutMs: 500 };
      publisher = await NatsFanout.create(options);
      gateway = await NatsFanout.create(options);
    });

    after(async () => {
      await Promise.all([publisher.close(), gateway.close()]);
      if (server) await stopNats(server);
    });

    test('publishing while NATS is down never throws; delivery resumes when it is back, and says so', async () => {
      const room = newId('ROOM');
      const got: number[] = [];
      let resumed = 0;
      gateway.onResumed(() => resumed++);
      gateway.subscribe(roomTopic(room), (act) => got.push(act.seq));
      await gateway.flush();
      publisher.publish(roomTopic(room), activity(room, 1));
      await until(() => got.length === 1, 5000, 'delivery before the outage');

      await stopNats(server!);
      server = undefined;
      // Before and after the client notices: neither throws.
      for (let seq = 2; seq <= 50; seq++) assert.doesNotThrow(() => publisher.publish(roomTopic(room), activity(room, seq)));
      await until(() => !publisher.stats().connected && !gateway.stats().connected, 5000, 'both notice the outage');
      for (let seq = 51; seq <= 100; seq++) assert.doesNotThrow(() => publisher.publish(roomTopic(room), activity(room, seq)));
      assert.ok(publisher.stats().dropped >= 50, `dropped ${publisher.stats().dropped}`);
      assert.equal(logger.lines.filter((l) => l.msg.startsWith('NATS fan-out: dropping')).length, 1, 'one warning per interval');

      server = await startNats(port);
      await until(() => publisher.stats().connected && gateway.stats().connected, 5000, 'both reconnect');
      await gateway.flush(); // the subscription was restored on reconnect
      publisher.publish(roomTopic(room), activity(room, 101));
      await until(() => got.includes(101), 5000, 'delivery after the outage');
      assert.deepEqual(got, [1, 101], 'what was published during the outage is dropped, not replayed');
      assert.equal(resumed, 1, 'subscribers are told once that they may have missed something');
    });

    test('create fails when no server answers; publish after close is dropped silently', async () => {
      const absent = await freePort();
      await assert.rejects(NatsFanout.create({ servers: `nats://127.0.0.1:${absent}`, logger: recordingLogger(), connectTimeoutMs: 500 }));
      const lone = await NatsFanout.create({ servers: `nats://127.0.0.1:${port}`, logger: recordingLogger() });
      await lone.close();
      assert.doesNotThrow(() => lone.publish(roomTopic('r'), activity('r', 1)));
      assert.doesNotThrow(() => lone.subscribe(roomTopic('r'), () => {})());
    });
  });
}
