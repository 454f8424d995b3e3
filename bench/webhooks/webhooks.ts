// Scenario `webhooks`: webhook deliveries from an embedded Squared to local HTTPS receivers
// (one server, so one origin, per webhook: Squared limits deliveries per target origin).
// Messages are posted into one room at a fixed rate, first with no webhook subscribed, then
// with N webhooks on `messages created` (same process, same room, same rate): posting's
// latency in both phases (what subscribers cost a poster), and the deliveries per second of
// the second phase against the baseline — the driver itself POSTing the same number of
// bodies straight to the same receiver with undici (TLS, HTTP and the receiver, nothing else).
// Correctness: every post must be answered 200, and every (post, webhook) pair delivered.
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { ApiClient } from '../../clients/api-client.ts';
import { makeTempDir, removeTempDir } from '../lib/children.ts';
import { flagHelp, parseFlags, positiveNumber, type FlagSpec } from '../lib/cli.ts';
import { microsHistogram, recordMs, summarize, type LatencySummary } from '../lib/histogram.ts';
import { startOutboundSquared, until } from '../lib/outbound-squared.ts';
import type { ServerProcess } from '../lib/server-process.ts';
import { generateCert, installCertFor, type BenchCert } from '../lib/tls.ts';

export const description = 'webhook deliveries/s to a local HTTPS receiver, and posting p99 with and without N webhooks';

export const flags: Record<string, FlagSpec> = {
  rate: { default: '50', help: 'posts per second', parse: positiveNumber('rate', { integer: true }) },
  seconds: { default: '10', help: 'posting time per phase', parse: positiveNumber('seconds', { integer: true }) },
  webhooks: { default: '10', help: 'webhooks subscribed in the second phase', parse: positiveNumber('webhooks', { integer: true }) },
};

export const usage = () => `Flags:\n${flagHelp(flags)}`;

const log = (line: string) => process.stderr.write(`${line}\n`);

interface Receiver {
  port: number;
  ports: number[];
  count: number;
  firstAt: number;
  lastAt: number;
  reset(): void;
  close(): Promise<void>;
}

/** `servers` HTTPS servers (one origin per webhook, as webhooks of different bots would be), counted together. */
async function startReceiver(cert: BenchCert, servers: number): Promise<Receiver> {
  const state = { count: 0, firstAt: 0, lastAt: 0 };
  const all = await Promise.all(Array.from({ length: servers }, () => startServer(cert, state)));
  return {
    port: all[0].port,
    ports: all.map((server) => server.port),
    get count() { return state.count; },
    get firstAt() { return state.firstAt; },
    get lastAt() { return state.lastAt; },
    reset() { Object.assign(state, { count: 0, firstAt: 0, lastAt: 0 }); },
    close: async () => { await Promise.all(all.map((server) => server.close())); },
  };
}

async function startServer(cert: BenchCert, state: { count: number; firstAt: number; lastAt: number }): Promise<{ port: number; close(): Promise<void> }> {
  const server = https.createServer({ cert: cert.cert, key: fs.readFileSync(cert.keyFile) }, (req, res) => {
    req.resume();
    req.on('end', () => {
      const now = performance.now();
      if (state.count === 0) state.firstAt = now;
      state.count++;
      state.lastAt = now;
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Posts at `rate` per second for `seconds`; the latency of each acknowledged post. */
async function postAtRate(api: ApiClient, roomId: string, rate: number, seconds: number): Promise<{ latency: LatencySummary; posted: number; failed: number; startedAt: number }> {
  const histogram = microsHistogram();
  const total = rate * seconds;
  const startedAt = performance.now();
  let failed = 0;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = startedAt + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const sent = performance.now();
    inFlight.push(api.post('/v1/messages', { roomId, text: `bench ${i}` }).then((r) => {
      if (r.status === 200) recordMs(histogram, performance.now() - sent);
      else failed++;
    }));
  }
  await Promise.all(inFlight);
  return { latency: summarize(histogram), posted: total - failed, failed, startedAt };
}

/** The baseline: `count` POSTs of a webhook-sized body straight to the receiver, `concurrency` at a time. */
async function rawDeliveries(receiver: Receiver, cert: BenchCert, count: number, concurrency: number, body: string): Promise<number> {
  const agent = new Agent({ connect: { ca: cert.cert }, connections: concurrency });
  receiver.reset();
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    while (next < count) {
      next++;
      const answer = await request(`https://127.0.0.1:${receiver.ports[worker % receiver.ports.length]}/raw/${worker}`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
      await answer.body.dump();
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await agent.close();
  return count / seconds;
}

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags(argv, flags);
  const [rate, seconds, hooks] = [Number(f.rate), Number(f.seconds), Number(f.webhooks)];
  const command = `npm run bench -- webhooks --rate ${rate} --seconds ${seconds} --webhooks ${hooks}`;
  log(`webhooks: ${rate} posts/s for ${seconds} s per phase, ${hooks} webhooks; node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`);
  const certDir = makeTempDir('bench-cert-');
  const dataDir = makeTempDir('squared-bench-');
  const cert = await generateCert(certDir);
  installCertFor(dataDir, cert);
  const receiver = await startReceiver(cert, hooks);
  let squared: ServerProcess | undefined;
  let failures = 0;
  try {
    const started = await startOutboundSquared(cert, dataDir);
    squared = started.server;
    const { url, admin } = started;
    const bot = await admin.post('/v1/bots', { displayName: 'Bench Poster' });
    const api = admin.as(bot.body.token);
    const room = await api.post('/v1/rooms', { title: 'bench webhooks' });

    const without = await postAtRate(api, room.body.id, rate, seconds);
    log(`  no webhook: ${without.posted} posted, p50 ${without.latency.p50} ms, p99 ${without.latency.p99} ms`);
    for (let i = 0; i < hooks; i++) {
      const created = await api.post('/v1/webhooks', { name: `bench ${i}`, targetUrl: `https://127.0.0.1:${receiver.ports[i]}/hook/${i}`, resource: 'messages', event: 'created', secret: 'bench' });
      if (created.status !== 200) throw new Error(`POST /v1/webhooks -> ${created.status} ${created.text}`);
    }
    receiver.reset();
    const withHooks = await postAtRate(api, room.body.id, rate, seconds);
    const expected = withHooks.posted * hooks;
    const complete = await until(() => receiver.count >= expected, 120_000);
    const deliverySeconds = (receiver.lastAt - withHooks.startedAt) / 1000;
    const deliveriesPerSecond = receiver.count / deliverySeconds;
    log(`  ${hooks} webhooks: ${withHooks.posted} posted, p50 ${withHooks.latency.p50} ms, p99 ${withHooks.latency.p99} ms; ${receiver.count}/${expected} delivered in ${deliverySeconds.toFixed(1)} s`);
    if (!complete || without.failed + withHooks.failed > 0) failures++;
    const sampleBody = JSON.stringify({ id: 'x'.repeat(80), name: 'bench', targetUrl: 'https://127.0.0.1/hook', resource: 'messages', event: 'created', data: { id: 'y'.repeat(80), roomId: 'z'.repeat(80) } });
    const raw = await rawDeliveries(receiver, cert, expected, hooks * 4, sampleBody);
    const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
    process.stdout.write([
      `webhooks — ${command}`,
      `| | no webhook | ${hooks} webhooks | ratio |`,
      '| --- | --- | --- | --- |',
      `| posting p50 (ms) | ${without.latency.p50} | ${withHooks.latency.p50} | ${ratio(withHooks.latency.p50, without.latency.p50)} |`,
      `| posting p99 (ms) | ${without.latency.p99} | ${withHooks.latency.p99} | ${ratio(withHooks.latency.p99, without.latency.p99)} |`,
      '',
      `| deliveries/s | Squared (${rate} posts/s × ${hooks}) | raw undici POSTs to the receivers (${hooks * 4} connections) | ratio |`,
      '| --- | --- | --- | --- |',
      `| | ${deliveriesPerSecond.toFixed(0)} (${receiver.count === 0 ? 0 : expected}/${expected}${complete ? '' : ' INCOMPLETE'}) | ${raw.toFixed(0)} | ${ratio(deliveriesPerSecond, raw)} |`,
      '',
      `Squared's figure is bounded by the offered load (${rate * hooks}/s): a ratio near ${ratio(rate * hooks, raw)} means it kept up.`,
      '',
    ].join('\n'));
    admin.close();
  } finally {
    await squared?.stop();
    await receiver.close();
    removeTempDir(dataDir);
    removeTempDir(certDir);
  }
  return failures === 0 ? 0 : 1;
}
