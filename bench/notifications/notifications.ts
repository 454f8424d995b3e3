// Scenario `notifications`: what mentions cost and how fast they reach people, on an
// embedded Squared. One room of N member bots, half of them with a live socket, half with
// none and a Web Push subscription to a local HTTPS push service. A poster bot posts at a
// fixed rate, first plain messages (the baseline: no notification), then `<@all>` ones
// (same process, room and rate). Reported side by side: posting's latency in both phases
// (what notifying costs a poster), the latency from post to the `notification` frame
// against the same message's `event` frame on the same sockets (the room's fan-out is the
// baseline), and the pushes delivered per second with the time they took to drain.
// Correctness: every post answered 200, every online member framed, every offline one pushed.
import { createECDH, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from '../../clients/api-client.ts';
import { LiveClient, type Frame } from '../../clients/live-client.ts';
import { makeTempDir, removeTempDir } from '../lib/children.ts';
import { flagHelp, parseFlags, positiveNumber, UsageError, type FlagSpec } from '../lib/cli.ts';
import { microsHistogram, recordMs, summarize, type LatencySummary } from '../lib/histogram.ts';
import { startOutboundSquared, until } from '../lib/outbound-squared.ts';
import type { ServerProcess } from '../lib/server-process.ts';
import { generateCert, installCertFor, type BenchCert } from '../lib/tls.ts';

export const description = 'mentions: post → notification frame vs the event frame, pushes/s, posting p99 with and without @all';

function countOrZero(name: string): (value: string) => string {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be an integer >= 0`);
    return value;
  };
}

export const flags: Record<string, FlagSpec> = {
  members: { default: '40', help: 'members of the room', parse: positiveNumber('members', { integer: true }) },
  pushed: { default: '20', help: 'of them with no live socket, each with a push subscription (0: none)', parse: countOrZero('pushed') },
  rate: { default: '10', help: 'posts per second', parse: positiveNumber('rate', { integer: true }) },
  seconds: { default: '10', help: 'posting time per phase', parse: positiveNumber('seconds', { integer: true }) },
};

export const usage = () => `Flags:\n${flagHelp(flags)}`;

const log = (line: string) => process.stderr.write(`${line}\n`);

/** A push service that takes every push (201) and counts them with their arrival times. */
async function startPushService(cert: BenchCert): Promise<{ port: number; arrivals: number[]; close(): Promise<void> }> {
  const arrivals: number[] = [];
  const server = https.createServer({ cert: cert.cert, key: fs.readFileSync(cert.keyFile) }, (req, res) => {
    req.resume();
    req.on('end', () => {
      arrivals.push(performance.now());
      res.writeHead(201).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    arrivals,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

interface Phase {
  posting: LatencySummary;
  event: LatencySummary;
  notification: LatencySummary;
  posted: number;
  failed: number;
  startedAt: number;
  lastPostAt: number;
  framed: number;
}

/**
 * Posts `rate` per second for `seconds` (texts `<tag> <i>`), timing each post's answer and,
 * on every online socket, the `event` and `notification` frames of it from the moment it was sent.
 */
async function phase(api: ApiClient, roomId: string, sockets: LiveClient[], tag: string, markdown: (i: number) => string, rate: number, seconds: number, expectFrames: boolean): Promise<Phase> {
  const sentAt = new Map<string, number>();
  const [posting, event, notification] = [microsHistogram(), microsHistogram(), microsHistogram()];
  let framed = 0;
  // The text ends with the post's `<tag> <i>` (a mention renders as the name it shows before it).
  const keyOf = (f: Frame): string => /(\S+ \d+)$/.exec(String((f.type === 'event' ? f.data?.text : f.type === 'notification' ? f.preview : '') ?? ''))?.[1] ?? '';
  const stops = sockets.map((socket) => socket.onFrame((f) => {
    const t0 = sentAt.get(keyOf(f));
    if (t0 === undefined) return;
    if (f.type === 'event' && f.event === 'message.created') recordMs(event, performance.now() - t0);
    if (f.type === 'notification') {
      recordMs(notification, performance.now() - t0);
      framed++;
    }
  }));
  const total = rate * seconds;
  const startedAt = performance.now();
  let failed = 0;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = startedAt + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    const body = markdown(i);
    const sent = performance.now();
    sentAt.set(`${tag} ${i}`, sent);
    inFlight.push(api.post('/v1/messages', { roomId, markdown: body }).then((r) => {
      if (r.status === 200) recordMs(posting, performance.now() - sent);
      else failed++;
    }));
  }
  await Promise.all(inFlight);
  const lastPostAt = performance.now();
  const frames = (total - failed) * sockets.length;
  await until(() => summarize(event).count >= frames && (!expectFrames || framed >= frames), 60_000);
  for (const stop of stops) stop();
  return { posting: summarize(posting), event: summarize(event), notification: summarize(notification), posted: total - failed, failed, startedAt, lastPostAt, framed };
}

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags(argv, flags);
  const [members, rate, seconds] = [Number(f.members), Number(f.rate), Number(f.seconds)];
  const offline = Math.min(members, Number(f.pushed));
  const online = members - offline;
  const command = `npm run bench -- notifications --members ${members} --pushed ${offline} --rate ${rate} --seconds ${seconds}`;
  log(`notifications: room of ${members} (${online} online, ${offline} pushed), ${rate} posts/s for ${seconds} s per phase; node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`);
  const certDir = makeTempDir('bench-cert-');
  const dataDir = makeTempDir('squared-bench-');
  const cert = await generateCert(certDir);
  installCertFor(dataDir, cert);
  const push = await startPushService(cert);
  let squared: ServerProcess | undefined;
  const sockets: LiveClient[] = [];
  let failures = 0;
  try {
    const started = await startOutboundSquared(cert, dataDir);
    squared = started.server;
    const { url, admin } = started;
    const bot = async (displayName: string) => (await admin.post('/v1/bots', { displayName })).body as { id: string; token: string };
    const poster = await bot('Bench Poster');
    const api = admin.as(poster.token);
    const room = await api.post('/v1/rooms', { title: 'bench notifications' });
    for (let i = 0; i < members; i++) {
      const member = await bot(`Bench Member ${i}`);
      const added = await api.post('/v1/memberships', { roomId: room.body.id, personId: member.id });
      if (added.status !== 200) throw new Error(`POST /v1/memberships -> ${added.status} ${added.text}`);
      if (i < online) {
        sockets.push(await LiveClient.connect(url, cert.cert, member.token));
      } else {
        const keys = { p256dh: createECDH('prime256v1').generateKeys().toString('base64url'), auth: randomBytes(16).toString('base64url') };
        const subscribed = await admin.as(member.token).post('/v1/people/me/pushSubscriptions', { endpoint: `https://127.0.0.1:${push.port}/push/${i}`, keys });
        if (subscribed.status !== 200) throw new Error(`POST pushSubscriptions -> ${subscribed.status} ${subscribed.text}`);
      }
    }

    const plain = await phase(api, room.body.id, sockets, 'plain', (i) => `plain ${i}`, rate, seconds, false);
    log(`  plain: ${plain.posted} posted, posting p99 ${plain.posting.p99} ms, event p99 ${plain.event.p99} ms`);
    if (plain.framed > 0 || push.arrivals.length > 0) failures++;
    const everyone = await phase(api, room.body.id, sockets, 'everyone', (i) => `<@all> everyone ${i}`, rate, seconds, true);
    const pushes = everyone.posted * offline;
    const drained = await until(() => push.arrivals.length >= pushes, 120_000);
    const pushSeconds = ((push.arrivals.at(-1) ?? everyone.startedAt) - everyone.startedAt) / 1000;
    log(`  @all: ${everyone.posted} posted, posting p99 ${everyone.posting.p99} ms, notification p99 ${everyone.notification.p99} ms; ${push.arrivals.length}/${pushes} pushes in ${pushSeconds.toFixed(1)} s`);
    const framesExpected = everyone.posted * online;
    if (!drained || everyone.framed < framesExpected || plain.failed + everyone.failed > 0) failures++;
    const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
    const drainMs = Math.max(0, (push.arrivals.at(-1) ?? 0) - everyone.lastPostAt);
    process.stdout.write([
      `notifications — ${command}`,
      `| | plain messages | <@all> messages | ratio |`,
      '| --- | --- | --- | --- |',
      `| posting p50 (ms) | ${plain.posting.p50} | ${everyone.posting.p50} | ${ratio(everyone.posting.p50, plain.posting.p50)} |`,
      `| posting p99 (ms) | ${plain.posting.p99} | ${everyone.posting.p99} | ${ratio(everyone.posting.p99, plain.posting.p99)} |`,
      '',
      `| post → frame, <@all> phase (${online} sockets) | event frame (the room's fan-out) | notification frame | ratio |`,
      '| --- | --- | --- | --- |',
      `| p50 (ms) | ${everyone.event.p50} | ${everyone.notification.p50} | ${ratio(everyone.notification.p50, everyone.event.p50)} |`,
      `| p99 (ms) | ${everyone.event.p99} | ${everyone.notification.p99} | ${ratio(everyone.notification.p99, everyone.event.p99)} |`,
      '',
      `| Web Push (${offline} offline members) | offered (${rate} posts/s × ${offline}) | delivered/s | drained after the last post (ms) |`,
      '| --- | --- | --- | --- |',
      `| ${push.arrivals.length}/${pushes}${drained ? '' : ' INCOMPLETE'} | ${rate * offline}/s | ${(push.arrivals.length / Math.max(pushSeconds, 0.001)).toFixed(0)} | ${drainMs.toFixed(0)} |`,
      '',
      `frames: ${everyone.framed}/${framesExpected} notification frames; plain phase: ${plain.framed} notifications and no push expected`,
      '',
    ].join('\n'));
    admin.close();
  } finally {
    for (const socket of sockets) socket.close();
    await squared?.stop();
    await push.close();
    removeTempDir(dataDir);
    removeTempDir(certDir);
  }
  return failures === 0 ? 0 : 1;
}
