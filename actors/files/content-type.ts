// What a stored file is served as: its Content-Type, sniffed from its first bytes (the preview
// sandbox's sniffer: file-type, then a strict text decoder), and whether a browser may show it
// inline. Never the client's claim, nor the file name's extension, for the type.
import { sniff } from './preview/sniff.ts';

/** Bytes of a file read to decide its type: file-type needs about 4 KiB, the text test 8 KiB. */
export const SNIFF_BYTES = 16 * 1024;

/** Types a browser shows without running anything of the file's (served inline). */
const SAFE_INLINE = /^(image\/(png|jpeg|gif|webp|avif)|application\/pdf|audio\/[a-z0-9.+-]+|video\/[a-z0-9.+-]+|text\/plain)$/;

/** Names of what a browser runs or renders as a page, were it ever to take the name's word for it. */
const ACTIVE_NAME = /\.(html?|xhtml|xht|svgz?|m?js|xml|xsl|xslt|mht|mhtml|shtml|php|swf|hta)$/i;

/** Text that is markup: a browser sniffing it (an old one, or one ignoring nosniff) would render a page. */
const MARKUP = /^\s*(<!doctype|<html|<svg|<\?xml|<script|<head|<body|<iframe|<!--|<[a-z][a-z0-9-]*[\s>/])/i;

export async function contentTypeOf(head: Uint8Array, name: string): Promise<{ type: string; disposition: 'inline' | 'attachment' }> {
  if (head.length === 0) return { type: 'application/octet-stream', disposition: 'attachment' };
  const sniffed = await sniff(head);
  const type = sniffed.family === 'text' ? `text/plain; charset=${sniffed.encoding}` : sniffed.mime;
  const text = sniffed.family === 'text' ? new TextDecoder(sniffed.encoding).decode(head.subarray(0, 1024)).replace(/^\uFEFF/, '') : '';
  const inline = SAFE_INLINE.test(sniffed.mime) && !ACTIVE_NAME.test(name) && !MARKUP.test(text);
  return { type, disposition: inline ? 'inline' : 'attachment' };
}
