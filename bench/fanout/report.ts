// The fan-out results as a table, the Squared / baseline ratios, and one JSON line.
import type { PhaseResult } from './load.ts';

type Row = [label: string, value: (r: PhaseResult) => string | number];

const n = (v: number) => (Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: 3 }) : 'n/a');
const closes = (r: PhaseResult) => Object.values(r.unexpectedCloses).reduce((s, c) => s + c, 0);

const ROWS: Row[] = [
  ['offered msg/s', (r) => n(r.offeredMessagesPerSec)],
  ['offered deliveries/s', (r) => n(r.offeredDeliveriesPerSec)],
  ['messages posted/s (acked)', (r) => n(r.messagesPostedPerSec)],
  ['deliveries/s achieved', (r) => n(r.deliveriesPerSec)],
  ['post→deliver p50 ms', (r) => n(r.latencyMs.p50)],
  ['post→deliver p90 ms', (r) => n(r.latencyMs.p90)],
  ['post→deliver p99 ms', (r) => n(r.latencyMs.p99)],
  ['post→deliver p99.9 ms', (r) => n(r.latencyMs.p999)],
  ['post→deliver max ms', (r) => n(r.latencyMs.max)],
  ['post→ack p50 ms', (r) => n(r.ackLatencyMs.p50)],
  ['post→ack p99 ms', (r) => n(r.ackLatencyMs.p99)],
  ['deliveries expected', (r) => n(r.deliveries.expected)],
  ['missed deliveries', (r) => n(r.deliveries.missed)],
  ['duplicate deliveries', (r) => n(r.deliveries.duplicates)],
  ['seq gaps / dups seen', (r) => `${r.seqGaps} / ${r.seqDuplicates}`],
  ['posts failed / skipped', (r) => `${r.messages.failed} / ${r.messages.skipped}`],
  ['resyncs / reconnects', (r) => `${r.resyncs} / ${r.reconnects}`],
  ['unexpected closes', (r) => n(closes(r))],
  ['max posts in flight', (r) => n(r.maxInFlight)],
  ['drain after last post ms', (r) => `${n(r.drainMs)}${r.drainTimedOut ? ' (TIMED OUT)' : ''}`],
  ['avg event frame bytes', (r) => n(r.avgFrameBytes)],
  ['server CPU % of 1 core', (r) => n(r.serverCpuPct)],
  ['server CPU µs per delivery', (r) => n(r.serverCpuMicrosPerDelivery)],
  ['server processes', (r) => n(r.serverProcesses)],
  ['engines CPU % of 1 core', (r) => n(r.enginesCpuPct)],
  ['engines CPU µs per delivery', (r) => n(r.enginesCpuMicrosPerDelivery)],
  ['client CPU % of 1 core', (r) => n(r.clientCpuPct)],
  ['server main thread waiting for CPU %', (r) => n(r.serverWaitingForCpuPct)],
  ['client main thread waiting for CPU %', (r) => n(r.clientWaitingForCpuPct)],
  ['server peak RSS MiB (VmHWM)', (r) => n(r.serverPeakRssMiB)],
  ['server max RSS under load MiB', (r) => n(r.serverPeakRssDuringLoadMiB)],
  ['machine load avg 1m start/end', (r) => `${r.loadAvg[0]} / ${r.loadAvg[1]}`],
  ['generator lag p99 / max ms', (r) => `${n(r.generatorLagMs.p99)} / ${n(r.generatorLagMs.max)}`],
];

/** Numbers right-aligned; the first column (labels) and a trailing notes column left-aligned. */
function table(header: string[], rows: string[][], notesColumn = false): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const last = header.length - 1;
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 || (notesColumn && c === last) ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export interface Ratio {
  postsPerSec: number;
  deliveriesPerSec: number;
  p50: number;
  p99: number;
  max: number;
  peakRss: number;
  cpuPerDelivery: number;
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : NaN);

function ratioOf(r: PhaseResult, baseline: PhaseResult): Ratio {
  return {
    postsPerSec: ratio(r.messagesPostedPerSec, baseline.messagesPostedPerSec),
    deliveriesPerSec: ratio(r.deliveriesPerSec, baseline.deliveriesPerSec),
    p50: ratio(r.latencyMs.p50, baseline.latencyMs.p50),
    p99: ratio(r.latencyMs.p99, baseline.latencyMs.p99),
    max: ratio(r.latencyMs.max, baseline.latencyMs.max),
    peakRss: ratio(r.serverPeakRssMiB, baseline.serverPeakRssMiB),
    cpuPerDelivery: ratio(r.serverCpuMicrosPerDelivery, baseline.serverCpuMicrosPerDelivery),
  };
}

/** Every Squared target against the baseline; and the cluster against the embedded mode. */
export function ratios(results: PhaseResult[]): Record<string, Ratio> {
  const out: Record<string, Ratio> = {};
  const baseline = results.find((r) => r.target === 'baseline');
  const embedded = results.find((r) => r.target.startsWith('squared('));
  for (const r of results) {
    if (baseline && r !== baseline) out[`${r.target}/baseline`] = ratioOf(r, baseline);
    if (embedded && r.target.startsWith('cluster(')) out[`${r.target}/${embedded.target}`] = ratioOf(r, embedded);
  }
  return out;
}

export function renderTable(results: PhaseResult[]): string {
  return table(['metric', ...results.map((r) => r.target)], ROWS.map(([label, value]) => [label, ...results.map((r) => String(value(r)))]));
}

export function renderRatios(r: Record<string, Ratio>): string {
  const names = Object.keys(r);
  if (names.length === 0) return '(no baseline and no embedded/cluster pair in this run: no ratios)';
  const rows: [string, keyof Ratio, string][] = [
    ['messages posted/s', 'postsPerSec', 'higher is better'],
    ['deliveries/s', 'deliveriesPerSec', 'higher is better, 1.0 = as fast as the reference'],
    ['post→deliver p50', 'p50', 'lower is better'],
    ['post→deliver p99', 'p99', 'lower is better'],
    ['post→deliver max', 'max', 'lower is better'],
    ['server peak RSS', 'peakRss', 'lower is better'],
    ['server CPU per delivery', 'cpuPerDelivery', 'lower is better; least sensitive to other load on the machine (engines not included)'],
  ];
  return table(['ratio', ...names, ''], rows.map(([label, key, note]) => [label, ...names.map((name) => `${n(r[name][key])}x`), note]), true);
}

/** Problems that make the run a failure (the figures are printed anyway). */
export function problems(r: PhaseResult): string[] {
  const found: string[] = [];
  if (r.deliveries.missed > 0) found.push(`${r.deliveries.missed} missed deliveries`);
  if (r.deliveries.duplicates > 0) found.push(`${r.deliveries.duplicates} duplicate deliveries`);
  if (r.seqGaps > 0 || r.seqDuplicates > 0) found.push(`seq gaps ${r.seqGaps}, seq duplicates ${r.seqDuplicates}`);
  if (r.messages.failed > 0) found.push(`${r.messages.failed} failed posts ${JSON.stringify(r.postErrors)}`);
  if (r.messages.skipped > 0) found.push(`${r.messages.skipped} posts skipped (more than --max-inflight in flight)`);
  if (r.messages.unacknowledged > 0) found.push(`${r.messages.unacknowledged} posts never acknowledged`);
  if (closes(r) > 0) found.push(`unexpected socket closes ${JSON.stringify(r.unexpectedCloses)}`);
  if (r.errorFrames > 0) found.push(`${r.errorFrames} error frames`);
  if (r.drainTimedOut) found.push('drain timed out');
  return found;
}

/** Per second of the schedule: max post→deliver latency and how many deliveries took over 100 ms. */
export function renderTimeline(results: PhaseResult[], warmup: number): string {
  const seconds = Math.max(...results.map((r) => r.timeline.length));
  const rows = Array.from({ length: seconds }, (_, s) => [
    `${s}${s < warmup ? ' (warm-up)' : ''}`,
    ...results.map((r) => {
      const b = r.timeline[s];
      return b ? `${n(b.maxMs)} ms / ${n(b.over100)}` : '-';
    }),
  ]);
  return `timeline (per second of due time: max post→deliver / deliveries over 100 ms)\n${table(['second', ...results.map((r) => r.target)], rows)}`;
}
