// The child process of the preview sandbox: it renders one job at a time, sent by
// sandbox.ts over the IPC channel, and answers with the result or why there is none. It
// holds nothing worth keeping: when it runs out of time or memory the parent kills it, when
// a decoder crashes it dies alone, and a fresh child takes the next job.
import { configureSharp, renderAvatar, renderImageThumbnail } from './render-image.ts';
import { renderPdfFirstPage } from './render-pdf.ts';
import { renderText } from './render-text.ts';
import { RenderFailure, type Preview, type AvatarRendition, type RenderJob, type RenderLimits, type WorkerReply } from './render-types.ts';
import { sniff } from './sniff.ts';

const limits = JSON.parse(process.env.SQUARED_RENDER_LIMITS ?? '') as RenderLimits;
configureSharp();

async function preview(bytes: Uint8Array): Promise<Preview> {
  const type = await sniff(bytes);
  switch (type.family) {
    case 'image':
      return renderImageThumbnail(bytes, type.mime, limits.maxInputPixels, limits.thumbnailSide);
    case 'pdf':
      return renderPdfFirstPage(bytes, limits.maxPdfPages, limits.thumbnailSide);
    case 'text':
      return renderText(bytes, type.encoding, limits.maxTextBytes);
    case 'other':
      // Office documents included: see docs/previews.md for why they are not rendered.
      throw new RenderFailure('unsupported', `Files of type ${type.mime} are not previewed.`);
    default:
      throw new Error(`unknown family ${(type satisfies never as { family: string }).family}`);
  }
}

async function avatar(bytes: Uint8Array, sizes: readonly number[]): Promise<AvatarRendition[]> {
  const type = await sniff(bytes);
  if (type.family !== 'image') throw new RenderFailure('unsupported', 'An avatar must be a PNG, JPEG, WebP, GIF, AVIF or TIFF image.');
  return renderAvatar(bytes, limits.maxInputPixels, sizes);
}

function run(job: RenderJob): Promise<Preview | AvatarRendition[]> {
  return job.op === 'preview' ? preview(job.bytes) : avatar(job.bytes, job.sizes);
}

process.on('message', (message: { id: number; job: RenderJob }) => {
  const { id, job } = message;
  run(job).then(
    (result): WorkerReply => ({ id, ok: true, result }),
    (err): WorkerReply => err instanceof RenderFailure
      ? { id, ok: false, reason: err.reason, message: err.message }
      : { id, ok: false, reason: 'unreadable', message: `The file cannot be rendered: ${String(err instanceof Error ? err.message : err).slice(0, 200)}` },
  ).then((reply) => process.send!(reply));
});
// The parent went away: nothing left to render for.
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
