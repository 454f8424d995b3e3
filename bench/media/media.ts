// Scenario `media`: meetings of N synthetic participants, each sending audio and video RTP
// and receiving everyone else's, through one mediasoup worker of Squared's media plane, and
// through a plain C forwarder that sends the same copies; the cost per forwarded packet of
// each, measured as CPU time of the process, and what it means in consumers per worker at
// 80 % of one core.
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { flagHelp, parseFlags, positiveNumber, UsageError, type FlagSpec } from '../lib/cli.ts';
import { cpuMs } from '../lib/proc.ts';
import { startForwarderBaseline } from './baseline-target.ts';
import { RtpGenerator, streamsOf } from './rtp-generator.ts';
import { startSfuTarget } from './sfu-target.ts';

export const description = 'meetings of N synthetic participants (audio+video RTP): mediasoup worker vs a plain C forwarder, consumers per worker at 80% of a core';

export const flags: Record<string, FlagSpec> = {
  sizes: { default: '4,25', help: 'meeting sizes (participants), comma-separated', parse: (v) => {
    const sizes = v.split(',').map(Number);
    if (sizes.some((n) => !Number.isInteger(n) || n < 2)) throw new UsageError(`--sizes must be integers of at least 2, got "${v}"`);
    return sizes.join(',');
  } },
  seconds: { default: '10', help: 'measured seconds per target and size', parse: positiveNumber('seconds') },
  warmup: { default: '2', help: 'seconds of traffic before measuring', parse: positiveNumber('warmup') },
  'audio-pps': { default: '50', help: 'audio packets per second per participant (opus at 20 ms)', parse: positiveNumber('audio-pps', { integer: true }) },
  'audio-bytes': { default: '120', help: 'audio payload bytes', parse: positiveNumber('audio-bytes', { integer: true }) },
  'video-pps': { default: '100', help: 'video packets per second per participant (~1 Mb/s at 1100 bytes)', parse: positiveNumber('video-pps', { integer: true }) },
  'video-bytes': { default: '1100', help: 'video payload bytes', parse: positiveNumber('video-bytes', { integer: true }) },
};

export const usage = () => `Flags:\n${flagHelp(flags)}`;

const log = (line: string) => process.stderr.write(`${line}\n`);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

interface Measured {
  target: string;
  participants: number;
  consumers: number;
  inPps: number;
  outPps: number;
  cpuPct: number;
  microsPerPacket: number;
  /** Consumers one core at 80 % sustains at this stream mix: 0.8 s of CPU ÷ CPU per consumer-second. */
  consumersAt80: number;
}

async function measure(target: string, participants: number, consumers: number, pid: number, forwarded: () => Promise<number>, generator: RtpGenerator, warmup: number, seconds: number, perConsumerPps: number): Promise<Measured> {
  await sleep(warmup * 1000);
  const [cpu0, out0, in0, t0] = [cpuMs(pid)!, await forwarded(), generator.sent, performance.now()];
  await sleep(seconds * 1000);
  const [cpu1, out1, in1, t1] = [cpuMs(pid)!, await forwarded(), generator.sent, performance.now()];
  const wall = (t1 - t0) / 1000;
  const outPps = (out1 - out0) / wall;
  const cpuSeconds = (cpu1 - cpu0) / 1000;
  const microsPerPacket = (cpuSeconds * 1e6) / Math.max(1, out1 - out0);
  return {
    target, participants, consumers,
    inPps: round((in1 - in0) / wall, 0),
    outPps: round(outPps, 0),
    cpuPct: round((cpuSeconds / wall) * 100),
    microsPerPacket: round(microsPerPacket, 3),
    consumersAt80: Math.floor(0.8e6 / (microsPerPacket * perConsumerPps)),
  };
}

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags(argv, flags);
  const sizes = f.sizes.split(',').map(Number);
  const [audioPps, audioBytes, videoPps, videoBytes] = [f['audio-pps'], f['audio-bytes'], f['video-pps'], f['video-bytes']].map(Number);
  const [warmup, seconds] = [Number(f.warmup), Number(f.seconds)];
  // Half the consumers are audio, half video.
  const perConsumerPps = (audioPps + videoPps) / 2;
  const command = `npm run bench -- media ${Object.keys(flags).map((k) => `--${k} ${f[k]}`).join(' ')}`;
  log(`media: meetings of ${sizes.join(' and ')}; per participant audio ${audioPps} pps × ${audioBytes} B, video ${videoPps} pps × ${videoBytes} B; ${warmup}+${seconds} s per target`);
  log(`       node ${process.version}, ${os.cpus().length} cores; generator and sink in this process, each server in its own`);

  const results: Measured[] = [];
  for (const n of sizes) {
    const streams = Array.from({ length: n }, (_, i) => streamsOf(i, audioPps, audioBytes, videoPps, videoBytes));
    for (const target of ['squared', 'baseline'] as const) {
      log(`\n[${target}, ${n} participants] starting…`);
      const generator = await RtpGenerator.open();
      const server = target === 'squared' ? await startSfuTarget(streams, log) : await startForwarderBaseline(n);
      try {
        const pid = 'workerPid' in server ? server.workerPid : server.pid;
        const consumers = n * (n - 1) * 2;
        generator.start(server.ports.map((port, i) => ({ port, streams: [streams[i].audio, streams[i].video] })));
        const m = await measure(target === 'squared' ? 'squared (mediasoup worker)' : 'baseline (C forwarder)', n, consumers, pid, () => server.forwarded(), generator, warmup, seconds, perConsumerPps);
        log(`    ${m.outPps} packets/s out, CPU ${m.cpuPct} %, ${m.microsPerPacket} µs per packet`);
        results.push(m);
      } finally {
        generator.close();
        await server.stop();
      }
    }
  }

  const header = ['participants', 'target', 'consumers', 'packets in/s', 'packets out/s', 'CPU % of 1 core', 'CPU µs/packet out', 'consumers at 80% core'];
  const rows = results.map((r) => [String(r.participants), r.target, String(r.consumers), String(r.inPps), String(r.outPps), String(r.cpuPct), String(r.microsPerPacket), String(r.consumersAt80)]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c <= 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  const out = ['', line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), ''];
  const ratios: Record<string, { microsPerPacket: number; consumersAt80: number }> = {};
  for (const n of sizes) {
    const s = results.find((r) => r.participants === n && r.target.startsWith('squared'))!;
    const b = results.find((r) => r.participants === n && r.target.startsWith('baseline'))!;
    ratios[`${n} participants`] = { microsPerPacket: round(s.microsPerPacket / b.microsPerPacket, 2), consumersAt80: round(s.consumersAt80 / b.consumersAt80, 2) };
    out.push(`${n} participants: squared/baseline CPU per packet ${ratios[`${n} participants`].microsPerPacket}x; consumers per worker at 80% of a core: ${s.consumersAt80} (baseline ${b.consumersAt80}); target ≥ 400`);
  }
  const failures = results.filter((r) => r.outPps < 0.9 * r.inPps * (r.participants - 1)).map((r) => `${r.target} with ${r.participants}: forwarded ${r.outPps}/s of ${r.inPps * (r.participants - 1)}/s expected`);
  for (const failure of failures) out.push(`WARNING ${failure}: it did not keep up (or packets were lost), the per-packet figure is still valid`);
  out.push('', `reproduce: ${command}`);
  process.stdout.write(`${out.join('\n')}\n`);
  process.stdout.write(`BENCH_RESULT ${JSON.stringify({ scenario: 'media', params: { sizes, audioPps, audioBytes, videoPps, videoBytes, warmup, seconds }, results, ratios, command })}\n`);
  return 0;
}
