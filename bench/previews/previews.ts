// Scenario `previews`: what rendering in the sandbox costs. A ~10 MB image (random pixels,
// which PNG cannot shrink) is thumbnailed again and again by the preview sandbox (a warm
// child process: the bytes cross IPC, are sniffed, rendered under the limits, the result
// comes back) and, in this process, by sharp alone with the same pipeline (the baseline).
// The first-page render of a one-page PDF is measured in the sandbox beside.
import crypto from 'node:crypto';
import os from 'node:os';
import * as mupdf from 'mupdf';
import sharp from 'sharp';
import { RenderSandbox } from '../../actors/files/preview/sandbox.ts';
import { DEFAULT_RENDER_LIMITS } from '../../actors/files/preview/render-types.ts';
import { flagHelp, parseFlags, positiveNumber, type FlagSpec } from '../lib/cli.ts';

export const description = 'preview latency of a 10 MB image: the sandboxed renderer vs sharp alone in-process';

export const flags: Record<string, FlagSpec> = {
  runs: { default: '20', help: 'renders of each kind', parse: positiveNumber('runs', { integer: true }) },
};

export const usage = () => `Flags:\n${flagHelp(flags)}`;

const log = (line: string) => process.stderr.write(`${line}\n`);

interface Timing {
  p50: number;
  max: number;
}

function summary(times: number[]): Timing {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50: sorted[Math.floor(sorted.length / 2)], max: sorted[sorted.length - 1] };
}

/**
 * Each render of every kind once per round, the kinds alternating, so that the machine's load
 * (shared, busy) weighs on them alike; one warm-up round first (children started, code paged in).
 */
async function timedTogether(runs: number, renders: (() => Promise<unknown>)[]): Promise<Timing[]> {
  for (const render of renders) await render();
  const times = renders.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [k, render] of renders.entries()) {
      const started = process.hrtime.bigint();
      await render();
      times[k].push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  }
  return times.map(summary);
}

/** A one-page PDF, written by MuPDF itself. */
function onePagePdf(): Uint8Array {
  const doc = new mupdf.PDFDocument();
  doc.insertPage(-1, doc.addPage([0, 0, 612, 792], 0, {}, '0.2 0.4 0.8 rg 72 72 468 648 re f'));
  return doc.saveToBuffer('').asUint8Array();
}

export async function run(argv: string[]): Promise<number> {
  const runs = Number(parseFlags(argv, flags).runs);
  const [width, height] = [2400, 1450];
  const image = await sharp(crypto.randomBytes(width * height * 3), { raw: { width, height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
  log(`previews: a ${width}×${height} PNG of ${(image.length / 1e6).toFixed(1)} MB, ${runs} renders each; node ${process.version}, ${os.cpus().length} cores`);
  sharp.concurrency(1);
  const sandbox = new RenderSandbox(DEFAULT_RENDER_LIMITS, 1);
  try {
    const pdfBytes = onePagePdf();
    const [alone, sandboxed, pdf] = await timedTogether(runs, [
      () => sharp(image, { limitInputPixels: DEFAULT_RENDER_LIMITS.maxInputPixels }).rotate().resize({ width: 640, height: 640, fit: 'inside' }).webp({ quality: 80 }).toBuffer(),
      () => sandbox.preview(image),
      () => sandbox.preview(pdfBytes),
    ]);
    const rows = [
      ['sharp alone, in-process (baseline)', alone],
      ['preview sandbox (child process)', sandboxed],
      ['preview sandbox, 1-page PDF', pdf],
    ] as const;
    log('');
    for (const [name, t] of rows) log(`${name.padEnd(38)} p50 ${t.p50.toFixed(1).padStart(7)} ms   max ${t.max.toFixed(1).padStart(7)} ms`);
    log(`\nsandbox / sharp alone (p50): ${(sandboxed.p50 / alone.p50).toFixed(2)}×`);
  } finally {
    sandbox.close();
  }
  return 0;
}
