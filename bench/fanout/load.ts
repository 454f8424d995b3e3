// One measured phase against one target: an open-loop poster (message k is due at
// t0 + k / rate, sent when due whatever happened to earlier ones, round-robin over the
// rooms), then a drain until every acknowledged message reached every socket of its room
// or the drain time ran out. Latencies are taken from the due time, so a slow server (or
// a late generator, reported separately as generator lag) cannot hide queueing.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { summarize, type LatencySummary } from '../lib/histogram.ts';
import { cpuMs, peakRssKiB, rssSampler, schedMs } from '../lib/proc.ts';

/** The processes whose cost a phase measures: the server under test (one or several
 *  processes) and, in cluster mode, the engines it writes to. */
export interface MeasuredProcesses {
  server: number[];
  engines: number[];
}
import type { Fleet } from './fleet.ts';
import { ACKED, FAILED, Recorder, SKIPPED } from './recorder.ts';

export interface Poster {
  /** Posts `text` to `room`; resolves when acknowledged, rejects with a reason otherwise. */
  post(room: number, k: number, text: string): Promise<void>;
}

export interface LoadOptions {
  sockets: number;
  rooms: number;
  rate: number;
  seconds: number;
  warmup: number;
  drain: number;
  maxInflight: number;
}

export interface PhaseResult {
  target: string;
  offeredMessagesPerSec: number;
  offeredDeliveriesPerSec: number;
  messagesPostedPerSec: number;
  deliveriesPerSec: number;
  latencyMs: LatencySummary;
  ackLatencyMs: LatencySummary;
  generatorLagMs: LatencySummary;
  messages: { scheduled: number; acked: number; failed: number; skipped: number; unacknowledged: number };
  deliveries: { expected: number; received: number; missed: number; duplicates: number; deliveredForFailedPosts: number };
  seqGaps: number;
  seqDuplicates: number;
  otherEvents: number;
  resyncs: number;
  reconnects: number;
  unexpectedCloses: Record<string, number>;
  errorFrames: number;
  errorFrameExamples: string[];
  postErrors: Record<string, number>;
  postErrorExamples: string[];
  maxInFlight: number;
  drainMs: number;
  drainTimedOut: boolean;
  avgFrameBytes: number;
  serverCpuPct: number;
  /** Server CPU time per delivery of a measured message (CPU of the measured part ÷ its deliveries). */
  serverCpuMicrosPerDelivery: number;
  clientCpuPct: number;
  /** Engines' CPU (cluster mode; NaN without engines), as % of 1 core and per delivery. */
  enginesCpuPct: number;
  enginesCpuMicrosPerDelivery: number;
  /** How many processes the server is made of (1, or a cluster's nodes). */
  serverProcesses: number;
  /** Run-queue delay of the main threads (runnable, waiting for a CPU) as % of wall time; the worst server process. */
  serverWaitingForCpuPct: number;
  clientWaitingForCpuPct: number;
  serverPeakRssMiB: number;
  serverPeakRssDuringLoadMiB: number;
  clientPeakRssMiB: number;
  /** 1-minute load average of the machine at the start and the end of the phase. */
  loadAvg: [number, number];
  /** Per second of the schedule (warm-up first): deliveries, max post→deliver ms, deliveries over 100 ms. */
  timeline: { second: number; deliveries: number; maxMs: number; over100: number }[];
}

const mib = (kib: number | undefined) => (kib === undefined ? NaN : Math.round(kib / 102.4) / 10);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

const sum = (values: (number | undefined)[]) => values.reduce<number>((s, v) => s + (v ?? NaN), 0);

export async function runLoad(target: string, opts: LoadOptions, fleet: Fleet, poster: Poster, pids: MeasuredProcesses, members: number[], log: (line: string) => void): Promise<PhaseResult> {
  const interval = 1000 / opts.rate;
  const warm = Math.round(opts.warmup * opts.rate);
  const measured = Math.round(opts.seconds * opts.rate);
  const total = warm + measured;
  const rec = new Recorder(total, warm, members);
  fleet.attach(rec);

  const loadStart = os.loadavg()[0];
  const rss = rssSampler(pids.server);
  const t0 = performance.now() + 20;
  const measureStart = t0 + warm * interval;
  for (let k = 0; k < total; k++) rec.dueAt[k] = t0 + k * interval;

  type Sched = { onCpu: number; waiting: number } | undefined;
  let cpuStart: { server: number; engines: number; client: NodeJS.CpuUsage; serverSched: Sched[]; clientSched: Sched; at: number } | undefined;
  const takeCpuStart = () => {
    cpuStart ??= {
      server: sum(pids.server.map(cpuMs)), engines: sum(pids.engines.map(cpuMs)), client: process.cpuUsage(),
      serverSched: pids.server.map(schedMs), clientSched: schedMs(process.pid), at: performance.now(),
    };
  };
  if (warm === 0) takeCpuStart();

  const send = (k: number) => {
    const now = performance.now();
    if (k === warm) takeCpuStart();
    if (rec.inFlight >= opts.maxInflight) {
      rec.state[k] = SKIPPED;
      return;
    }
    rec.sent(k, now);
    // The text carries the due time in µs of this process's monotonic clock.
    poster.post(rec.roomOf(k), k, `bm:${k}:${Math.round(rec.dueAt[k] * 1000)}`).then(
      () => rec.acked(k, performance.now()),
      (err: Error) => rec.failed(k, err.message.split(':')[0], err.message),
    );
  };

  log(`  ${target}: posting ${opts.warmup}s warm-up + ${opts.seconds}s measured at ${opts.rate} msg/s…`);
  await new Promise<void>((resolve) => {
    let k = 0;
    const tick = () => {
      const now = performance.now();
      while (k < total && rec.dueAt[k] <= now) send(k++);
      if (k >= total) return resolve();
      setTimeout(tick, Math.max(0, rec.dueAt[k] - performance.now()));
    };
    setTimeout(tick, Math.max(0, t0 - performance.now()));
  });
  const postingEnd = t0 + total * interval;

  // Drain: wait for acknowledgements and for every expected delivery.
  const drainDeadline = performance.now() + opts.drain * 1000;
  let drainTimedOut = false;
  for (;;) {
    const a = rec.accounting();
    if (rec.inFlight === 0 && a.missed === 0) break;
    if (performance.now() > drainDeadline) {
      drainTimedOut = true;
      break;
    }
    await sleep(50);
  }
  takeCpuStart();
  const end = Math.max(rec.lastDeliveryAt, rec.lastAckAt, postingEnd);
  const wallMs = performance.now() - cpuStart!.at;
  const serverCpu = sum(pids.server.map(cpuMs)) - cpuStart!.server;
  const enginesCpu = pids.engines.length ? sum(pids.engines.map(cpuMs)) - cpuStart!.engines : NaN;
  const clientCpu = process.cpuUsage(cpuStart!.client);
  const waitingPct = (before: Sched, after: Sched) => (before && after ? round(((after.waiting - before.waiting) / wallMs) * 100) : NaN);
  const serverWaiting = Math.max(...pids.server.map((pid, i) => waitingPct(cpuStart!.serverSched[i], schedMs(pid))));
  const clientWaiting = waitingPct(cpuStart!.clientSched, schedMs(process.pid));
  const serverPeakDuringLoad = rss.stop();
  // Peaks of several processes need not coincide: their sum is an upper bound.
  const serverPeak = sum(pids.server.map(peakRssKiB));

  const a = rec.accounting();
  const failed = rec.count(FAILED, 0);
  const skipped = rec.count(SKIPPED, 0);
  const measuredWindowMs = Math.max(1, (rec.lastDeliveryAt || end) - measureStart);
  const ackWindowMs = Math.max(1, (rec.lastAckAt || end) - measureStart);
  const avgMembers = members.reduce((s, m) => s + m, 0) / members.length;
  fleet.attach(new Recorder(0, 0, members)); // stragglers after this point are not counted

  return {
    target,
    offeredMessagesPerSec: opts.rate,
    offeredDeliveriesPerSec: round(opts.rate * avgMembers, 0),
    messagesPostedPerSec: round((a.measuredAcked * 1000) / ackWindowMs),
    deliveriesPerSec: round((a.measuredDeliveries * 1000) / measuredWindowMs, 0),
    latencyMs: summarize(rec.latency),
    ackLatencyMs: summarize(rec.ackLatency),
    generatorLagMs: summarize(rec.generatorLag),
    messages: { scheduled: total, acked: rec.count(ACKED), failed, skipped, unacknowledged: rec.inFlight },
    deliveries: { expected: a.expected, received: a.received, missed: a.missed, duplicates: a.duplicates, deliveredForFailedPosts: a.deliveredUnacked },
    seqGaps: rec.seqGaps,
    seqDuplicates: rec.seqDuplicates,
    otherEvents: rec.otherEvents,
    resyncs: rec.resyncs,
    reconnects: rec.reconnects,
    unexpectedCloses: Object.fromEntries(rec.unexpectedCloses),
    errorFrames: rec.errorFrameCount,
    errorFrameExamples: rec.errorFrames,
    postErrors: Object.fromEntries(rec.postErrors),
    postErrorExamples: rec.postErrorExamples,
    maxInFlight: rec.maxInFlight,
    drainMs: round(Math.max(0, (rec.lastDeliveryAt || postingEnd) - postingEnd), 0),
    drainTimedOut,
    avgFrameBytes: rec.deliveredTotal ? Math.round(rec.deliveredBytes / rec.deliveredTotal) : 0,
    serverCpuPct: round((serverCpu / wallMs) * 100),
    serverCpuMicrosPerDelivery: a.measuredDeliveries ? round((serverCpu * 1000) / a.measuredDeliveries, 2) : NaN,
    enginesCpuPct: round((enginesCpu / wallMs) * 100),
    enginesCpuMicrosPerDelivery: a.measuredDeliveries ? round((enginesCpu * 1000) / a.measuredDeliveries, 2) : NaN,
    serverProcesses: pids.server.length,
    clientCpuPct: round(((clientCpu.user + clientCpu.system) / 1000 / wallMs) * 100),
    serverWaitingForCpuPct: serverWaiting,
    clientWaitingForCpuPct: clientWaiting,
    serverPeakRssMiB: mib(serverPeak),
    serverPeakRssDuringLoadMiB: mib(serverPeakDuringLoad),
    clientPeakRssMiB: mib(peakRssKiB(process.pid)),
    loadAvg: [round(loadStart, 2), round(os.loadavg()[0], 2)],
    timeline: Array.from(rec.timeline, (b, second) => ({ second, deliveries: b?.deliveries ?? 0, maxMs: round(b?.maxMs ?? 0), over100: b?.over100 ?? 0 })),
  };
}
