// What a file is, decided from its bytes only (a name or a client's Content-Type can lie):
// the binary formats by their signatures (file-type), text by decoding it strictly.
import { fileTypeFromBuffer } from 'file-type';

export type Sniffed =
  | { family: 'image'; mime: string }
  | { family: 'pdf'; mime: 'application/pdf' }
  | { family: 'text'; mime: 'text/plain'; encoding: 'utf-8' | 'utf-16le' | 'utf-16be' }
  | { family: 'other'; mime: string };

/**
 * The raster formats libvips decodes from sharp's prebuilt binaries. SVG is left out on
 * purpose: it is a document (fonts, references, scripts), and is previewed as text.
 */
const RASTER = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/avif', 'image/tiff']);

/** How much of a file the text test reads: enough to judge, bounded whatever the file's size. */
const TEXT_PROBE_BYTES = 8 * 1024;

export async function sniff(bytes: Uint8Array): Promise<Sniffed> {
  const probe = bytes.subarray(0, TEXT_PROBE_BYTES);
  // Text with a byte-order mark first: UTF-16's FF FE also starts an MPEG audio frame.
  const marked = hasByteOrderMark(probe) ? textEncoding(probe) : undefined;
  if (marked) return { family: 'text', mime: 'text/plain', encoding: marked };
  const type = await fileTypeFromBuffer(bytes);
  if (type) {
    if (type.mime === 'application/pdf') return { family: 'pdf', mime: 'application/pdf' };
    if (RASTER.has(type.mime)) return { family: 'image', mime: type.mime };
    return { family: 'other', mime: type.mime };
  }
  const encoding = textEncoding(probe);
  return encoding ? { family: 'text', mime: 'text/plain', encoding } : { family: 'other', mime: 'application/octet-stream' };
}

function hasByteOrderMark(probe: Uint8Array): boolean {
  return (probe[0] === 0xff && probe[1] === 0xfe) || (probe[0] === 0xfe && probe[1] === 0xff) || (probe[0] === 0xef && probe[1] === 0xbb && probe[2] === 0xbf);
}

/**
 * The encoding a file of text is in, or undefined when the bytes are not text: UTF-16 by its
 * byte-order mark, else UTF-8 (ASCII included); decoded strictly, with no NUL and few control
 * characters. A character cut by the end of the probe is not an error (`stream`).
 */
export function textEncoding(probe: Uint8Array): 'utf-8' | 'utf-16le' | 'utf-16be' | undefined {
  if (probe.length === 0) return undefined;
  const encoding = probe[0] === 0xff && probe[1] === 0xfe ? 'utf-16le' : probe[0] === 0xfe && probe[1] === 0xff ? 'utf-16be' : 'utf-8';
  let text: string;
  try {
    text = new TextDecoder(encoding, { fatal: true }).decode(probe, { stream: true });
  } catch {
    return undefined;
  }
  let control = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0) return undefined;
    if (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d && code !== 0x0c && code !== 0x1b) control++;
  }
  return control * 100 <= text.length ? encoding : undefined;
}
