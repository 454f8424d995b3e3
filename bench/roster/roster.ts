// Scenario `roster`: what one change of a meeting's state costs its participants. N live
// sockets join one meeting of an embedded Squared; the host then raises and lowers its hand
// again and again. For each change: the bytes each socket receives (a meeting.delta), next
// to the bytes of the full state at that moment (what a design sending the whole state per
// change would push, the baseline), and the time until the last socket has it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from '../../clients/api-client.ts';
import { MeetingClient } from '../../clients/meeting-client.ts';
import { makeTempDir, removeTempDir } from '../lib/children.ts';
import { flagHelp, parseFlags, positiveNumber, UsageError, type FlagSpec } from '../lib/cli.ts';
import { microsHistogram, recordMs, summarize } from '../lib/histogram.ts';
import { spawnServer } from '../lib/server-process.ts';
import { generateCert, installCertFor } from '../lib/tls.ts';
import { SQUARED_BENCH_ENV } from '../fanout/squared-target.ts';

export const description = 'one meeting of N live sockets: bytes and time per roster change (deltas) vs the full state per change';

export const flags: Record<string, FlagSpec> = {
  sizes: { default: '25,100', help: 'meeting sizes (participants), comma-separated', parse: (v) => {
    const sizes = v.split(',').map(Number);
    if (sizes.some((n) => !Number.isInteger(n) || n < 2)) throw new UsageError(`--sizes must be integers of at least 2, got "${v}"`);
    return sizes.join(',');
  } },
  changes: { default: '40', help: 'hand raises and lowers of the host, one after the other', parse: positiveNumber('changes', { integer: true }) },
};

export const usage = () => `Flags:\n${flagHelp(flags)}`;

const log = (line: string) => process.stderr.write(`${line}\n`);
const ROOT = path.resolve(import.meta.dirname, '../..');

interface Measured {
  participants: number;
  deltaBytes: number;
  fullBytes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

async function measure(url: string, ca: Buffer, api: ApiClient, participants: number, changes: number): Promise<Measured> {
  const bots = await Promise.all(Array.from({ length: participants }, async (_, i) => {
    const r = await api.post('/v1/bots', { displayName: `Roster ${participants}-${i}` });
    if (r.status !== 200) throw new Error(`POST /v1/bots -> ${r.status} ${r.text}`);
    return r.body.token as string;
  }));
  const meeting = await api.as(bots[0]).post('/v1/meetings', { title: `roster of ${participants}`, enabledJoinBeforeHost: true });
  if (meeting.status !== 200) throw new Error(`POST /v1/meetings -> ${meeting.status} ${meeting.text}`);
  const sockets: MeetingClient[] = [];
  try {
    for (const token of bots) {
      const socket = await MeetingClient.connect(url, ca, token, meeting.body.id);
      sockets.push(socket);
      await socket.ok('join');
    }
    const host = sockets[0];
    await host.waitForState((s) => s.participants.length === participants, 60_000);
    log(`    ${participants} joined`);

    const histogram = microsHistogram();
    let deltaBytes = 0;
    let fullBytes = 0;
    for (let change = 0; change < changes; change++) {
      const raised = change % 2 === 0;
      const received = sockets.map(() => 0);
      const arrived = sockets.map(() => 0);
      const started = performance.now();
      const stops = sockets.map((socket, i) => socket.live.onFrame((frame) => {
        if (frame.type !== 'meeting.delta' && frame.type !== 'meeting.state') return;
        received[i] += JSON.stringify(frame).length;
        const hostNow = (frame.participants ?? []).find((p: { id: string }) => p.id === host.participantId);
        if (hostNow?.handRaised === raised && !arrived[i]) arrived[i] = performance.now();
      }));
      await host.ok(raised ? 'raiseHand' : 'lowerHand');
      const deadline = Date.now() + 30_000;
      while (arrived.some((t) => t === 0)) {
        if (Date.now() > deadline) throw new Error(`change ${change} reached ${arrived.filter((t) => t > 0).length} of ${participants} sockets in 30 s`);
        await sleep(2);
      }
      for (const stop of stops) stop();
      recordMs(histogram, Math.max(...arrived) - started);
      deltaBytes += received.reduce((a, b) => a + b, 0) / participants;
      fullBytes += JSON.stringify(host.latestState()).length;
    }
    const latency = summarize(histogram);
    return { participants, deltaBytes: Math.round(deltaBytes / changes), fullBytes: Math.round(fullBytes / changes), p50Ms: latency.p50, p99Ms: latency.p99, maxMs: latency.max };
  } finally {
    for (const socket of sockets) socket.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags(argv, flags);
  const sizes = f.sizes.split(',').map(Number);
  const changes = Number(f.changes);
  const command = `npm run bench -- roster --sizes ${f.sizes} --changes ${changes}`;
  log(`roster: meetings of ${sizes.join(' and ')} live sockets, ${changes} changes each; node ${process.version}, ${os.cpus().length} cores`);

  const certDir = makeTempDir('bench-cert-');
  const dataDir = makeTempDir('squared-bench-');
  const cert = await generateCert(certDir);
  installCertFor(dataDir, cert);
  const server = await spawnServer({
    name: 'Squared', script: path.join(ROOT, 'squared.ts'), cwd: ROOT, readyPrefix: 'SQUARED_READY',
    env: { ...SQUARED_BENCH_ENV, SQUARED_DATA_DIR: dataDir, SQUARED_PORT: '0', SQUARED_MEDIA_WORKERS: '1' },
  });
  const results: Measured[] = [];
  try {
    const url: string = server.ready.url;
    const { token } = JSON.parse(fs.readFileSync(path.join(dataDir, 'admin.json'), 'utf8'));
    const api = new ApiClient(url, cert.cert, token);
    for (const n of sizes) {
      log(`\n[${n} participants]`);
      results.push(await measure(url, cert.cert, api, n, changes));
    }
    api.close();
  } finally {
    await server.stop();
    removeTempDir(dataDir);
    removeTempDir(certDir);
  }

  const header = ['participants', 'bytes per socket per change (delta)', 'full state (baseline)', 'full/delta', 'change→last socket p50 ms', 'p99 ms', 'max ms'];
  const rows = results.map((r) => [String(r.participants), String(r.deltaBytes), String(r.fullBytes), `${(r.fullBytes / r.deltaBytes).toFixed(1)}x`, r.p50Ms.toFixed(1), r.p99Ms.toFixed(1), r.maxMs.toFixed(1)]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padStart(widths[c])).join('  ');
  const out = ['', line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), ''];
  for (const r of results) out.push(`${r.participants} participants: each change pushes ${r.participants * r.deltaBytes} bytes in all, ${r.participants * r.fullBytes} with the full state (${(r.fullBytes / r.deltaBytes).toFixed(1)}x)`);
  out.push('', `reproduce: ${command}`);
  process.stdout.write(`${out.join('\n')}\n`);
  process.stdout.write(`BENCH_RESULT ${JSON.stringify({ scenario: 'roster', params: { sizes, changes }, results, command })}\n`);
  return 0;
}
