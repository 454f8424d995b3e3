// Scenario `fanout`: N live sockets over R rooms, messages posted open-loop at a fixed rate,
// post→deliver latency at every socket. Against Squared (per --sync mode) and against a raw
// uWebSockets.js pub/sub baseline, same load generator, same certificate, same numbers.
import os from 'node:os';
import { flagHelp, oneOf, parseFlags, positiveNumber, type FlagSpec } from '../lib/cli.ts';
import { makeTempDir } from '../lib/children.ts';
import { generateCert } from '../lib/tls.ts';
import { startBaselineTarget } from './baseline-target.ts';
import { Fleet } from './fleet.ts';
import { runLoad, type LoadOptions, type PhaseResult, type Poster } from './load.ts';
import { problems, ratios, renderRatios, renderTable, renderTimeline } from './report.ts';
import { startClusterTarget } from './cluster-target.ts';
import { startSquaredTarget } from './squared-target.ts';
import type { FanoutTarget } from './target.ts';

export const description = 'N live sockets over R rooms, open-loop posts, post→deliver latency; Squared vs raw uWS pub/sub';

export const flags: Record<string, FlagSpec> = {
  sockets: { default: '1000', help: 'live sockets (one bot per socket), spread round-robin over the rooms', parse: positiveNumber('sockets', { integer: true }) },
  rooms: { default: '10', help: 'rooms (topics), one poster per room', parse: positiveNumber('rooms', { integer: true }) },
  rate: { default: '200', help: 'messages per second offered in total (open loop, round-robin over rooms)', parse: positiveNumber('rate') },
  seconds: { default: '10', help: 'measured posting duration per target', parse: positiveNumber('seconds') },
  warmup: { default: '2', help: 'warm-up posting before the measured part (delivered and checked, not in the figures)', parse: (v) => (v === '0' ? '0' : positiveNumber('warmup')(v)) },
  drain: { default: '15', help: 'max seconds to wait after the last post for outstanding deliveries', parse: positiveNumber('drain') },
  sync: { default: 'full', help: 'Squared SQLite commit mode: full (fsync every commit), normal, or both (two Squared runs)', parse: oneOf('sync', ['full', 'normal', 'both']) },
  targets: { default: 'squared,baseline', help: 'targets to run, comma-separated, in this order: squared (embedded), cluster (a local multi-process cluster on the engines of `npm run engines:up`), baseline', parse: (v) => {
    const list = v.split(',').map((s) => s.trim());
    for (const t of list) oneOf('targets', ['squared', 'cluster', 'baseline'])(t);
    return list.join(',');
  } },
  gateways: { default: '2', help: 'cluster target: gateway processes', parse: positiveNumber('gateways', { integer: true }) },
  actors: { default: '2', help: 'cluster target: actor node processes', parse: positiveNumber('actors', { integer: true }) },
  'post-conns': { default: '32', help: 'max HTTPS keep-alive connections the Squared posters use', parse: positiveNumber('post-conns', { integer: true }) },
  'connect-concurrency': { default: '50', help: 'sockets connecting at the same time during set-up', parse: positiveNumber('connect-concurrency', { integer: true }) },
  'max-inflight': { default: '20000', help: 'posts in flight above which the generator skips (and reports) sends', parse: positiveNumber('max-inflight', { integer: true }) },
  timeline: { default: 'off', help: 'also print, per second of the schedule, deliveries / max latency / deliveries over 100 ms', parse: oneOf('timeline', ['on', 'off']) },
  'frame-bytes': { default: 'auto', help: 'baseline event frame size; auto = the mean Squared frame size of this run (600 without one)', parse: (v) => (v === 'auto' ? v : positiveNumber('frame-bytes', { integer: true })(v)) },
};

export const usage = () => `Flags:\n${flagHelp(flags)}`;

const log = (line: string) => process.stderr.write(`${line}\n`);

async function phase(name: string, start: () => Promise<FanoutTarget>, load: LoadOptions, connectConcurrency: number): Promise<{ result: PhaseResult; warnings: { count: number; examples: string[] } }> {
  log(`\n[${name}] starting…`);
  const target = await start();
  const fleet = new Fleet(target.fleetSpec);
  try {
    const connectStart = Date.now();
    await fleet.connectAll(connectConcurrency, (done) => {
      if (done % Math.max(250, Math.ceil(load.sockets / 4 / 250) * 250) === 0) log(`    ${done}/${load.sockets} sockets ready`);
    });
    log(`    ${load.sockets} sockets connected and ready in ${((Date.now() - connectStart) / 1000).toFixed(1)} s (server pids ${target.servers.map((s) => s.pid).join(', ')})`);
    const members = Array.from({ length: load.rooms }, (_, r) => Math.floor(load.sockets / load.rooms) + (r < load.sockets % load.rooms ? 1 : 0));
    const result = await runLoad(name, load, fleet, target.poster, { server: target.servers.map((s) => s.pid), engines: target.enginePids }, members, log);
    for (const server of target.servers) {
      const crashed = server.crashed();
      if (crashed) throw new Error(`${crashed}. Last output:\n${server.tail()}`);
    }
    log(`    done: ${result.deliveries.received}/${result.deliveries.expected} deliveries, p99 ${result.latencyMs.p99} ms, ${result.resyncs} resyncs`);
    const each = target.servers.map((s) => s.warnings());
    return { result, warnings: { count: each.reduce((n, w) => n + w.count, 0), examples: each.flatMap((w) => w.examples).slice(0, 8) } };
  } finally {
    await fleet.closeAll();
    target.poster.close();
    await target.stop();
  }
}

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags(argv, flags);
  const load: LoadOptions = {
    sockets: Number(f.sockets), rooms: Number(f.rooms), rate: Number(f.rate), seconds: Number(f.seconds),
    warmup: Number(f.warmup), drain: Number(f.drain), maxInflight: Number(f['max-inflight']),
  };
  if (load.rooms > load.sockets) throw new Error(`--rooms (${load.rooms}) must not exceed --sockets (${load.sockets})`);
  const targets = f.targets.split(',');
  const syncModes = f.sync === 'both' ? (['full', 'normal'] as const) : [f.sync as 'full' | 'normal'];
  const command = `npm run bench -- fanout ${Object.keys(flags).filter((k) => (k !== 'frame-bytes' || f[k] !== 'auto') && (k !== 'timeline' || f[k] !== 'off')).map((k) => `--${k} ${f[k]}`).join(' ')}`;

  log(`fanout: ${load.sockets} sockets over ${load.rooms} rooms (~${Math.round(load.sockets / load.rooms)} per room), ${load.rate} msg/s offered, ${load.warmup}+${load.seconds} s per target`);
  log(`        node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), clients in the driver process (pid ${process.pid}), each server in its own process`);

  const inherited = Object.keys(process.env).filter((k) => k.startsWith('SQUARED_'));
  if (inherited.length) log(`        note: inherited by Squared from your environment: ${inherited.map((k) => `${k}=${process.env[k]}`).join(' ')}`);
  const certDir = makeTempDir('bench-cert-');
  const cert = await generateCert(certDir);
  const results: PhaseResult[] = [];
  const warnings: Record<string, { count: number; examples: string[] }> = {};

  if (targets.includes('squared')) {
    for (const sync of syncModes) {
      const name = `squared(${sync})`;
      const { result, warnings: w } = await phase(name, () => startSquaredTarget({ sockets: load.sockets, rooms: load.rooms, sync, postConns: Number(f['post-conns']), cert, log }), load, Number(f['connect-concurrency']));
      results.push(result);
      warnings[name] = w;
    }
  }
  if (targets.includes('cluster')) {
    const name = `cluster(${f.gateways}gw+${f.actors}act)`;
    const { result, warnings: w } = await phase(name, () => startClusterTarget({ gateways: Number(f.gateways), actors: Number(f.actors), sockets: load.sockets, rooms: load.rooms, postConns: Number(f['post-conns']), cert, log }), load, Number(f['connect-concurrency']));
    results.push(result);
    warnings[name] = w;
  }
  if (targets.includes('baseline')) {
    const squaredFrame = results.find((r) => r.avgFrameBytes > 0)?.avgFrameBytes;
    const frameBytes = f['frame-bytes'] === 'auto' ? (squaredFrame ?? 600) : Number(f['frame-bytes']);
    const { result, warnings: w } = await phase('baseline', () => startBaselineTarget({ sockets: load.sockets, rooms: load.rooms, frameBytes, cert }), load, Number(f['connect-concurrency']));
    results.push(result);
    warnings.baseline = w;
  }

  const r = ratios(results);
  const out: string[] = [];
  out.push('', `fan-out: ${load.sockets} sockets, ${load.rooms} rooms, ${load.rate} msg/s offered for ${load.seconds} s (after ${load.warmup} s warm-up); TLS everywhere; baseline = raw uWS SSLApp pub/sub`, '');
  out.push(renderTable(results), '', renderRatios(r), '');
  if (f.timeline === 'on') out.push(renderTimeline(results, load.warmup), '');
  for (const [name, w] of Object.entries(warnings)) {
    if (w.count > 0) out.push(`${name}: ${w.count} warning/error log lines, e.g.:`, ...w.examples.map((e) => `    ${e}`));
  }
  const failures: string[] = [];
  for (const result of results) {
    for (const p of problems(result)) failures.push(`${result.target}: ${p}`);
    for (const e of result.postErrorExamples.slice(0, 3)) out.push(`${result.target} post error: ${e}`);
    for (const e of result.errorFrameExamples.slice(0, 3)) out.push(`${result.target} error frame: ${e}`);
    if (result.resyncs > 0) out.push(`${result.target}: ${result.resyncs} sockets were told to resync (backpressure) and resumed`);
    const starved = Math.max(result.serverWaitingForCpuPct, result.clientWaitingForCpuPct);
    if (starved > 10) out.push(`${result.target}: WARNING the machine was oversubscribed (main threads waited for a CPU up to ${starved}% of the time, load avg ${result.loadAvg.join(' → ')}); latency/throughput figures are dominated by CPU contention, compare 'server CPU µs per delivery' instead`);
  }
  out.push('', `reproduce: ${command}`, `       or: npx node bench/run.ts fanout ${command.split(' fanout ')[1]}`);
  process.stdout.write(`${out.join('\n')}\n`);
  process.stdout.write(`BENCH_RESULT ${JSON.stringify({
    scenario: 'fanout',
    params: { ...load, sync: f.sync, targets, postConns: Number(f['post-conns']) },
    env: { node: process.version, cores: os.cpus().length, tls: true, baseline: 'uWebSockets.js SSLApp pub/sub (app.publish)' },
    results: Object.fromEntries(results.map((x) => [x.target, x])),
    ratios: r,
    warnings,
    ok: failures.length === 0,
    failures,
    command,
  })}\n`);
  if (failures.length > 0) {
    log(`\nbench: FAILED (figures above are not a clean measurement):\n  - ${failures.join('\n  - ')}`);
    return 1;
  }
  return 0;
}
