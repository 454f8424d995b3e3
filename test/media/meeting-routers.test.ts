// A meeting spread over routers, on real mediasoup workers: with more routers than workers
// (a pool of one), newcomers past `participantsPerRouter` get a router of their own on the
// same worker, and active speaker detection stays one observer on the home router, fed the
// audio of every router (piped home).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { types } from 'mediasoup';
import { Meeting } from '../../media/meeting.ts';
import { WorkerPool } from '../../media/worker-pool.ts';
import { OPUS_RTP_PARAMETERS } from '../harness/rtp.ts';
import { until } from '../harness/wait.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

let pool: WorkerPool;
let meeting: Meeting | undefined;
before(async () => {
  pool = await WorkerPool.start({ size: 1, logger: quiet });
});
after(async () => {
  meeting?.close();
  await pool?.close();
});

test('one active speaker observer, on the home router, observes audio produced on another router', async () => {
  const routers: types.Router[] = [];
  const observers: { router: types.Router; observer: types.RtpObserver; added: string[] }[] = [];
  pool.workers()[0].worker.observer.on('newrouter', (router) => {
    routers.push(router);
    router.observer.on('newrtpobserver', (observer) => {
      const entry = { router, observer, added: [] as string[] };
      observer.observer.on('addproducer', (producer) => entry.added.push(producer.id));
      observers.push(entry);
    });
  });
  meeting = await Meeting.create('routers-1', pool, { ip: '127.0.0.1' }, { participantsPerRouter: 2 });
  for (const id of ['alice', 'bob', 'carol']) await meeting.join(id);
  assert.equal(meeting.workerPids().length, 2, 'carol has a second router, on the same worker');

  const send = await meeting.createTransport('carol', 'plain', 'send');
  await meeting.produce('carol', send.id, 'audio', OPUS_RTP_PARAMETERS);
  await until(() => observers.some((o) => o.added.length > 0), 5000, "carol's audio reaching a speaker observer");
  assert.equal(observers.length, 1, 'one speaker observer for the meeting');
  assert.equal(observers[0].router, routers[0], 'on the home router, the first one made');
});
