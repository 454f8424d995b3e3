// Image thumbnails and avatar renditions with sharp (libvips). The pixel count is checked by
// libvips from the image's header before any pixel is decoded (`limitInputPixels`), which is
// what stops a decompression bomb: a tiny PNG that claims 100,000 × 100,000 pixels.
import sharp from 'sharp';
import { RenderFailure, type AvatarRendition, type PreviewImage } from './render-types.ts';

/** One libvips thread and no operation cache: the child renders one file at a time, in bounded memory. */
export function configureSharp(): void {
  sharp.concurrency(1);
  sharp.cache(false);
}

function open(bytes: Uint8Array, maxInputPixels: number) {
  // failOn 'error': a truncated or corrupt image is refused rather than half-decoded into grey.
  return sharp(bytes, { limitInputPixels: maxInputPixels, failOn: 'error', pages: 1, sequentialRead: true });
}

/** libvips' errors, sorted into the limit passed and the file that cannot be read. */
function failure(err: unknown): RenderFailure {
  const message = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(message)) return new RenderFailure('too-large', 'The image has more pixels than allowed.');
  return new RenderFailure('unreadable', `The image cannot be read: ${message.split('\n')[0].slice(0, 200)}`);
}

export async function renderImageThumbnail(bytes: Uint8Array, sourceType: string, maxInputPixels: number, side: number): Promise<PreviewImage> {
  try {
    const { data, info } = await open(bytes, maxInputPixels)
      .rotate() // as the camera held it (EXIF orientation)
      .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer({ resolveWithObject: true });
    return { kind: 'image', sourceType, mime: 'image/webp', width: info.width, height: info.height, data };
  } catch (err) {
    throw failure(err);
  }
}

/** The image cropped to its central square (`cover`) at each size, as WebP and as PNG. */
export async function renderAvatar(bytes: Uint8Array, maxInputPixels: number, sizes: readonly number[]): Promise<AvatarRendition[]> {
  try {
    // Decoded once, to a bounded square: every size is made from it.
    const largest = Math.max(...sizes);
    const square = await open(bytes, maxInputPixels).rotate().resize({ width: largest, height: largest, fit: 'cover', position: 'attention' }).png().toBuffer();
    const renditions: AvatarRendition[] = [];
    for (const size of sizes) {
      const resized = sharp(square).resize({ width: size, height: size });
      renditions.push({ size, mime: 'image/webp', data: await resized.clone().webp({ quality: 85 }).toBuffer() });
      renditions.push({ size, mime: 'image/png', data: await resized.clone().png({ compressionLevel: 9 }).toBuffer() });
    }
    return renditions;
  } catch (err) {
    throw failure(err);
  }
}
