// Scenario `presence`: what presence costs, on an embedded Squared against raw uWebSockets.js
// pub/sub (bench/presence/baseline-server.ts) in the same run. N subject sockets, W watcher
// sockets each watching every subject (Squared: one room of all, `presence.subscribe`).
//  1. quiet: for --quiet seconds the subjects report activity once a second and the gateway
//     renews their leases (every third of SQUARED_PRESENCE_LEASE_MS): heartbeats absorbed,
//     CPU spent on them, and the frames they cause (must be none);
//  2. changes: --rate status changes per second in all (each subject toggles DoNotDisturb,
//     over REST on Squared, a frame on the baseline), each one a real change: status changes
//     delivered per second, CPU per change, change → watcher latency p50/p99.
// Correctness: no frame in the quiet phase, every change reaches every watcher exactly once.
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { ApiClient } from '../../clients/api-client.ts';
import { makeTempDir, removeTempDir } from '../lib/children.ts';
import { flagHelp, parseFlags, positiveNumber, UsageError, type FlagSpec } from '../lib/cli.ts';
import { microsHistogram, recordMs, summarize, type LatencySummary } from '../lib/histogram.ts';
import { until } from '../lib/outbound-squared.ts';
import { cpuMs } from '../lib/proc.ts';
import { spawnServer, type ServerProcess } from '../lib/server-process.ts';
import { generateCert, installCertFor, type BenchCert } from '../lib/tls.ts';
import { SQUARED_BENCH_ENV } from '../fanout/squared-target.ts';

export const description = 'N sockets heartbeating and changing status, W watchers each: Squared vs raw uWS pub/sub';

export const flags: Record<string, FlagSpec> = {
  subjects: { default: '200', help: 'sockets whose presence is watched (at most 500: one subscription)', parse: positiveNumber('subjects', { integer: true }) },
  watchers: { default: '20', help: 'watcher sockets, each watching every subject', parse: positiveNumber('watchers', { integer: true }) },
  rate: { default: '50', help: 'status changes per second in all', parse: positiveNumber('rate', { integer: true }) },
  seconds: { default: '10', help: 'seconds of status changes', parse: positiveNumber('seconds', { integer: true }) },
  quiet: { default: '5', help: 'seconds of heartbeats alone', parse: positiveNumber('quiet', { integer: true }) },
  lease: { default: '1500', help: 'SQUARED_PRESENCE_LEASE_MS (renewed every third of it)', parse: positiveNumber('lease', { integer: true }) },
};

export const usage = () => `Flags:\n${flagHelp(flags)}`;

const ROOT = path.resolve(import.meta.dirname, '../..');
const log = (line: string) => process.stderr.write(`${line}\n`);
/** The pace of one person's frames in Squared; a subject changes less often than this. */
const MIN_INTERVAL_MS = 1000;

interface Target {
  name: string;
  server: ServerProcess;
  subjects: { id: string; socket: WebSocket }[];
  watchers: WebSocket[];
  /** Makes subject `s` DoNotDisturb (`on`) or not; resolves when the server took it. */
  change(s: number, on: boolean): Promise<void>;
  /** Lease renewals the server does per second for the subjects (0 on the baseline: it keeps none). */
  renewalsPerSecond: number;
  close(): Promise<void>;
}

async function open(url: string, ca: Buffer, hello: object): Promise<WebSocket> {
  const socket = new WebSocket(url, { ca, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (data: Buffer) => {
      const frame = JSON.parse(data.toString());
      if (frame.type === 'ready') {
        socket.off('message', onMessage);
        resolve();
      } else if (frame.type === 'error') reject(new Error(`hello refused: ${data}`));
    };
    socket.on('message', onMessage);
  });
  socket.send(JSON.stringify(hello));
  await ready;
  return socket;
}

async function squaredTarget(cert: BenchCert, subjects: number, watchers: number, leaseMs: number): Promise<Target> {
  const dataDir = makeTempDir('squared-bench-');
  installCertFor(dataDir, cert);
  const server = await spawnServer({
    name: 'Squared', script: path.join(ROOT, 'squared.ts'), cwd: ROOT, readyPrefix: 'SQUARED_READY',
    env: {
      ...SQUARED_BENCH_ENV, SQUARED_DATA_DIR: dataDir, SQUARED_PORT: '0', SQUARED_SYNC: 'normal',
      SQUARED_PRESENCE_LEASE_MS: String(leaseMs), SQUARED_PRESENCE_IDLE_MS: '600000', SQUARED_PRESENCE_MIN_INTERVAL_MS: String(MIN_INTERVAL_MS),
    },
  });
  const url: string = server.ready.url;
  const admin = new ApiClient(url, cert.cert, JSON.parse(fs.readFileSync(path.join(dataDir, 'admin.json'), 'utf8')).token);
  const bot = async (displayName: string) => (await admin.post('/v1/bots', { displayName })).body as { id: string; token: string };
  const owner = await bot('Bench Room Owner');
  const room = (await admin.as(owner.token).post('/v1/rooms', { title: 'bench presence' })).body.id as string;
  const member = async (name: string) => {
    const b = await bot(name);
    const added = await admin.as(owner.token).post('/v1/memberships', { roomId: room, personId: b.id });
    if (added.status !== 200) throw new Error(`POST /v1/memberships -> ${added.status} ${added.text}`);
    return b;
  };
  const subjectBots = [];
  for (let i = 0; i < subjects; i++) subjectBots.push(await member(`Subject ${i}`));
  const watcherBots = [];
  for (let i = 0; i < watchers; i++) watcherBots.push(await member(`Watcher ${i}`));
  const live = `${url.replace(/^https/, 'wss')}/v1/live`;
  const subjectSockets = await Promise.all(subjectBots.map(async (b) => ({ id: b.id, socket: await open(live, cert.cert, { type: 'hello', token: b.token }), api: admin.as(b.token) })));
  const watcherSockets = await Promise.all(watcherBots.map((b) => open(live, cert.cert, { type: 'hello', token: b.token })));
  return {
    name: 'squared',
    server,
    subjects: subjectSockets,
    watchers: watcherSockets,
    renewalsPerSecond: (subjects * 1000) / Math.max(250, Math.floor(leaseMs / 3)),
    async change(s, on) {
      const api = subjectSockets[s].api;
      const answer = on ? await api.put('/v1/people/me/status', { status: 'DoNotDisturb' }) : await api.delete('/v1/people/me/status');
      if (answer.status !== (on ? 200 : 204)) throw new Error(`status change -> ${answer.status} ${answer.text}`);
    },
    async close() {
      for (const socket of [...subjectSockets.map((x) => x.socket), ...watcherSockets]) socket.terminate();
      admin.close();
      await server.stop();
      removeTempDir(dataDir);
    },
  };
}

async function baselineTarget(cert: BenchCert, subjects: number, watchers: number): Promise<Target> {
  const server = await spawnServer({
    name: 'presence baseline', script: path.join(import.meta.dirname, 'baseline-server.ts'), cwd: ROOT, readyPrefix: 'BASELINE_READY', stdinPipe: true,
    env: { BASELINE_CERT: cert.certFile, BASELINE_KEY: cert.keyFile },
  });
  const live = `wss://127.0.0.1:${server.ready.port}/live`;
  const ids = Array.from({ length: subjects }, (_, i) => `subject-${i}`);
  const subjectSockets = await Promise.all(ids.map(async (id) => ({ id, socket: await open(live, cert.cert, { type: 'hello', topics: [] }) })));
  const watcherSockets = await Promise.all(Array.from({ length: watchers }, () => open(live, cert.cert, { type: 'hello', topics: ids })));
  return {
    name: 'baseline (raw uWS pub/sub)',
    server,
    subjects: subjectSockets,
    watchers: watcherSockets,
    renewalsPerSecond: 0,
    async change(s, on) {
      subjectSockets[s].socket.send(JSON.stringify({ type: 'status', personId: ids[s], status: on ? 'DoNotDisturb' : 'active' }));
    },
    async close() {
      for (const socket of [...subjectSockets.map((x) => x.socket), ...watcherSockets]) socket.terminate();
      await server.stop();
    },
  };
}

interface Result {
  name: string;
  activityPerSecond: number;
  renewalsPerSecond: number;
  quietCpuPercent: number;
  quietFrames: number;
  changes: number;
  delivered: number;
  expected: number;
  deliveredPerSecond: number;
  cpuPerChangeMs: number;
  latency: LatencySummary;
}

async function measure(target: Target, f: { rate: number; seconds: number; quiet: number }): Promise<Result> {
  const { subjects, watchers, server } = target;
  const sentAt = new Map<string, number>();
  const latency = microsHistogram();
  let counting = false;
  let quietFrames = 0;
  let delivered = 0;
  for (const watcher of watchers) {
    watcher.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString());
      if (frame.type !== 'presence' || !counting) return;
      const t0 = sentAt.get(`${frame.personId} ${frame.status}`);
      if (t0 === undefined) {
        quietFrames++;
        return;
      }
      delivered++;
      recordMs(latency, performance.now() - t0);
    });
  }
  // Squared: the subscription, with every subject's status at once (not counted).
  if (target.name === 'squared') {
    const initial = watchers.map((w) => new Promise<void>((resolve) => {
      let seen = 0;
      const onMessage = (data: Buffer) => {
        if (JSON.parse(data.toString()).type === 'presence' && ++seen === subjects.length) {
          w.off('message', onMessage);
          resolve();
        }
      };
      w.on('message', onMessage);
    }));
    for (const w of watchers) w.send(JSON.stringify({ type: 'presence.subscribe', personIds: subjects.map((s) => s.id) }));
    await Promise.all(initial);
  }
  const activity = setInterval(() => {
    for (const s of subjects) s.socket.send('{"type":"activity"}');
  }, 1000);
  try {
    await sleep(500);
    counting = true;
    const quietCpu0 = cpuMs(server.pid)!;
    const quiet0 = performance.now();
    await sleep(f.quiet * 1000);
    const quietCpuPercent = ((cpuMs(server.pid)! - quietCpu0) / (performance.now() - quiet0)) * 100;

    const total = f.rate * f.seconds;
    const on = new Array<boolean>(subjects.length).fill(false);
    const cpu0 = cpuMs(server.pid)!;
    const started = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const wait = started + (i * 1000) / f.rate - performance.now();
      if (wait > 0) await sleep(wait);
      const s = i % subjects.length;
      on[s] = !on[s];
      sentAt.set(`${subjects[s].id} ${on[s] ? 'DoNotDisturb' : 'active'}`, performance.now());
      inFlight.push(target.change(s, on[s]));
    }
    await Promise.all(inFlight);
    const expected = total * watchers.length;
    await until(() => delivered >= expected, 30_000);
    const elapsed = (performance.now() - started) / 1000;
    const cpuPerChangeMs = (cpuMs(server.pid)! - cpu0) / total;
    // Anything late or extra shows here.
    await sleep(500);
    return {
      name: target.name, activityPerSecond: subjects.length, renewalsPerSecond: target.renewalsPerSecond, quietCpuPercent, quietFrames,
      changes: total, delivered, expected, deliveredPerSecond: delivered / elapsed, cpuPerChangeMs, latency: summarize(latency),
    };
  } finally {
    clearInterval(activity);
  }
}

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags(argv, flags);
  const [subjects, watchers, rate, seconds, quiet, lease] = ['subjects', 'watchers', 'rate', 'seconds', 'quiet', 'lease'].map((k) => Number(f[k]));
  if (subjects > 500) throw new UsageError('--subjects: a socket watches at most 500 people');
  if ((subjects / rate) * 1000 < MIN_INTERVAL_MS * 1.5) throw new UsageError(`--subjects / --rate must leave each subject ${MIN_INTERVAL_MS * 1.5} ms between its changes (the pace would coalesce them)`);
  const command = `npm run bench -- presence --subjects ${subjects} --watchers ${watchers} --rate ${rate} --seconds ${seconds} --quiet ${quiet} --lease ${lease}`;
  log(`presence: ${subjects} subjects × ${watchers} watchers, ${rate} changes/s for ${seconds} s after ${quiet} s of heartbeats; node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`);
  const certDir = makeTempDir('bench-cert-');
  const cert = await generateCert(certDir);
  const results: Result[] = [];
  try {
    for (const start of [() => baselineTarget(cert, subjects, watchers), () => squaredTarget(cert, subjects, watchers, lease)]) {
      const target = await start();
      try {
        log(`  ${target.name}: measuring`);
        results.push(await measure(target, { rate, seconds, quiet }));
        const crashed = target.server.crashed();
        if (crashed) throw new Error(crashed);
      } finally {
        await target.close();
      }
    }
  } finally {
    removeTempDir(certDir);
  }
  const [base, sq] = results;
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
  const row = (label: string, get: (r: Result) => number, digits = 1) => `| ${label} | ${get(base).toFixed(digits)} | ${get(sq).toFixed(digits)} | ${ratio(get(sq), get(base))} |`;
  process.stdout.write([
    `presence — ${command}`,
    `| | ${base.name} | squared | squared / baseline |`,
    '| --- | --- | --- | --- |',
    `| quiet: activity frames/s absorbed | ${base.activityPerSecond} | ${sq.activityPerSecond} | |`,
    `| quiet: lease renewals/s absorbed | — | ${sq.renewalsPerSecond.toFixed(0)} | |`,
    row('quiet: server CPU (% of a core)', (r) => r.quietCpuPercent),
    `| quiet: presence frames sent (must be 0) | ${base.quietFrames} | ${sq.quietFrames} | |`,
    row('status changes/s delivered to watchers', (r) => r.deliveredPerSecond, 0),
    row('server CPU per change (ms)', (r) => r.cpuPerChangeMs, 3),
    row('change → watcher p50 (ms)', (r) => r.latency.p50, 2),
    row('change → watcher p99 (ms)', (r) => r.latency.p99, 2),
    `| deliveries | ${base.delivered}/${base.expected} | ${sq.delivered}/${sq.expected} | |`,
    '',
    'Squared\'s change is a REST PUT/DELETE /v1/people/me/status (authenticated, stored in SQLite) and its CPU includes it; the baseline\'s is one WebSocket frame published as it is.',
    '',
  ].join('\n'));
  const ok = results.every((r) => r.quietFrames === 0 && r.delivered === r.expected);
  if (!ok) log('presence: FAILED — a frame in the quiet phase, or a change not delivered exactly once to every watcher');
  return ok ? 0 : 1;
}
