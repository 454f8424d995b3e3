// Every log line written while serving a request carries its trackingId, the actors' too:
// a refresh token presented a second time makes the people actor warn (it revokes the
// sign-in), and that warning names the trackingId the request was sent with. In cluster
// mode the people actor runs on an actors node, reached over NATS.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { personWithPassword } from '../harness/people.ts';
import { startTarget, type Target } from './target.ts';

let target: Target;
before(async () => {
  target = await startTarget();
});
after(() => target.stop());

/** What the processes running the actors wrote (JSON lines: tests read stdout through a pipe). */
const actorOutput = () => (target.cluster ? target.cluster.actors().map((node) => node.output()).join('\n') : target.process!.output());

function linesNaming(output: string, message: string): Record<string, unknown>[] {
  return output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === message);
}

test('an actor\'s warning while serving a request names the request\'s trackingId', async () => {
  const pat = await personWithPassword(target.admin);
  const token = (form: Record<string, string>, headers?: Record<string, string>) =>
    target.admin.post('/v1/access_token', undefined, { form, token: null, headers });
  const issued = await token({ grant_type: 'password', username: pat.email, password: pat.password });
  assert.equal(issued.status, 200, issued.text);
  const refreshed = await token({ grant_type: 'refresh_token', refresh_token: issued.body.refresh_token });
  assert.equal(refreshed.status, 200, refreshed.text);

  const trackingId = `SQUARED_logtest_${randomUUID()}`;
  const replayed = await token({ grant_type: 'refresh_token', refresh_token: issued.body.refresh_token }, { TrackingID: trackingId });
  assert.equal(replayed.status, 400, replayed.text);
  assert.equal(replayed.headers['trackingid'], trackingId, 'the gateway kept the trackingId it was sent');

  const message = 'a used refresh token was presented again: its sign-in is revoked';
  let warned: Record<string, unknown>[] = [];
  for (let i = 0; i < 50 && warned.length === 0; i++) {
    warned = linesNaming(actorOutput(), message).filter((line) => line.personId === pat.id);
    if (warned.length === 0) await sleep(100);
  }
  assert.equal(warned.length, 1, 'the people actor warned once');
  assert.equal(warned[0].trackingId, trackingId, `the warning names the request: ${JSON.stringify(warned[0])}`);
  assert.equal(warned[0].mod, 'people', 'written by the people actor');
});
