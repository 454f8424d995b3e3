// The product metrics on the Prometheus endpoint (SQUARED_METRICS_PORT), scraped and parsed
// with a real parser of the text format: a message posted while a live socket follows the
// room moves the gateway's sockets, frames, deliveries and commit-to-deliver histogram and
// the rooms actor's post-to-commit histogram; refusals move the rate-limit counter by limit.
// In cluster mode the live socket's gateway and every actor node are scraped.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LiveClient } from '../../clients/live-client.ts';
import { countOf, metricsUrlOf, scrape, valueOf } from '../harness/metrics.ts';
import { createPeople } from '../harness/people.ts';
import { roomWith } from '../harness/rooms.ts';
import { startTarget, type Target } from './target.ts';

const FRAME_BURST = 20;
const ANON_BURST = 3;

let target: Target;
/** The gateway live sockets connect to, and the nodes that run the rooms actor. */
let liveGateway: string;
let actorNodes: string[];

before(async () => {
  target = await startTarget({
    SQUARED_METRICS_PORT: '0',
    SQUARED_LIVE_FRAME_BURST: String(FRAME_BURST), SQUARED_LIVE_FRAMES_PER_SECOND: '1',
    SQUARED_ANON_RATE_BURST: String(ANON_BURST), SQUARED_ANON_RATE_PER_SECOND: '1',
  });
  if (target.cluster) {
    const liveNode = target.cluster.gateways().find((node) => node.url === target.liveUrl)!;
    liveGateway = metricsUrlOf(liveNode.output());
    actorNodes = target.cluster.actors().map((node) => metricsUrlOf(node.output()));
  } else {
    liveGateway = metricsUrlOf(target.process!.output());
    actorNodes = [liveGateway];
  }
});
after(() => target.stop());

/** The rooms actor's figures, summed over the actor nodes (the room's owner is one of them). */
async function postToCommitCount(): Promise<number> {
  let count = 0;
  for (const url of actorNodes) count += countOf(await scrape(url), 'squared_post_to_commit_seconds');
  return count;
}

test('a message posted while a live socket follows its room moves the live and latency figures', async () => {
  const [alice, bob] = await createPeople(target.admin, 'Alice Metrics', 'Bob Metrics');
  const room = await roomWith(alice, [bob]);
  const gatewayBefore = await scrape(liveGateway);
  const committedBefore = await postToCommitCount();

  const live = await LiveClient.connect(target.liveUrl, target.ca, bob.token);
  try {
    const during = await scrape(liveGateway);
    assert.equal(valueOf(during, 'squared_live_sockets', 'GAUGE'), valueOf(gatewayBefore, 'squared_live_sockets', 'GAUGE') + 1, 'the open socket is counted');

    const posted = await alice.api.post('/v1/messages', { roomId: room.id, text: 'measured' });
    assert.equal(posted.status, 200, posted.text);
    await live.waitFor((frame) => frame.type === 'event' && frame.data.id === posted.body.id);

    const gatewayAfter = await scrape(liveGateway);
    const grew = (name: string, type: 'COUNTER' | 'GAUGE') => valueOf(gatewayAfter, name, type) - valueOf(gatewayBefore, name, type);
    assert.ok(grew('squared_live_frames_received_total', 'COUNTER') >= 1, 'the hello was received');
    assert.ok(grew('squared_live_frames_sent_total', 'COUNTER') >= 2, 'ready and the event were sent');
    assert.ok(grew('squared_live_deliveries_total', 'COUNTER') >= 1, 'the event was delivered');
    assert.ok(countOf(gatewayAfter, 'squared_commit_to_deliver_seconds') > countOf(gatewayBefore, 'squared_commit_to_deliver_seconds'), 'its commit-to-deliver latency was observed');
    assert.ok((await postToCommitCount()) > committedBefore, 'its post-to-commit latency was observed');
    assert.equal(valueOf(gatewayAfter, 'squared_room_write_queue_tasks', 'GAUGE') >= 0, true);
  } finally {
    live.close();
    await live.closed;
  }
  // The close reaches the gateway a moment after the client's.
  for (let i = 0; i < 50 && valueOf(await scrape(liveGateway), 'squared_live_sockets', 'GAUGE') !== valueOf(gatewayBefore, 'squared_live_sockets', 'GAUGE'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(valueOf(await scrape(liveGateway), 'squared_live_sockets', 'GAUGE'), valueOf(gatewayBefore, 'squared_live_sockets', 'GAUGE'), 'the closed socket is no longer counted');
});

test('frames over a live socket\'s limit move the rate-limit counter of live frames', async () => {
  const [carol] = await createPeople(target.admin, 'Carol Metrics');
  const before = valueOf(await scrape(liveGateway), 'squared_rate_limited_total', 'COUNTER', { limit: 'live_frames' });
  const live = await LiveClient.connect(target.liveUrl, target.ca, carol.token);
  try {
    for (let i = 0; i < FRAME_BURST + 5; i++) live.send({ type: 'ping' });
    await live.waitFor((frame) => frame.type === 'error' && typeof frame.retryAfterMs === 'number');
  } finally {
    live.close();
  }
  const refused = valueOf(await scrape(liveGateway), 'squared_rate_limited_total', 'COUNTER', { limit: 'live_frames' }) - before;
  assert.ok(refused >= 1, `frames refused were counted (${refused})`);
});

// Last: past it, the address is refused for a second on the gateway that said 429.
test('a 429 for failed attempts moves the rate-limit counter of anonymous attempts', async () => {
  const restGateway = target.cluster ? metricsUrlOf(target.cluster.gateways().find((node) => node.url === target.url)!.output()) : liveGateway;
  const before = valueOf(await scrape(restGateway), 'squared_rate_limited_total', 'COUNTER', { limit: 'anonymous' });
  let status = 0;
  for (let i = 0; i < ANON_BURST + 3 && status !== 429; i++) {
    status = (await target.admin.get('/v1/people/me', { token: 'not-a-token', unchecked: true })).status;
  }
  assert.equal(status, 429, 'the address was refused');
  const after = valueOf(await scrape(restGateway), 'squared_rate_limited_total', 'COUNTER', { limit: 'anonymous' });
  assert.ok(after > before, `the refusal was counted (${before} → ${after})`);
});
