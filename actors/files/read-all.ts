// A stream read whole, up to a bound: what the sandbox renders must be in memory, and must
// never be more than the limit however much the stream holds.
import type { Readable } from 'node:stream';

/** The whole stream, or a RangeError as soon as it passes `maxBytes` (the rest is not read). */
export async function readAll(stream: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    size += bytes.length;
    if (size > maxBytes) {
      stream.destroy();
      throw new RangeError(`more than ${maxBytes} bytes`);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}
