// The snippet of a text or code file: its first lines, read from a bounded prefix, decoded
// without ever splitting a character (a cut multi-byte sequence or surrogate pair is dropped).
import type { PreviewText } from './render-types.ts';

export const SNIPPET_LINES = 40;
export const SNIPPET_CHARS = 2_000;

export function renderText(bytes: Uint8Array, encoding: 'utf-8' | 'utf-16le' | 'utf-16be', maxBytes: number): PreviewText {
  const prefix = bytes.subarray(0, maxBytes);
  // Not fatal here: the sniffer judged the start; a bad byte further on becomes U+FFFD.
  const decoded = decode(prefix, encoding).replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  let end = 0;
  let lines = 0;
  let chars = 0;
  // Walk code points (for…of), so a cut never falls inside a surrogate pair.
  for (const ch of decoded) {
    if (chars >= SNIPPET_CHARS) break;
    if (ch === '\n' && ++lines >= SNIPPET_LINES) break;
    end += ch.length;
    chars++;
  }
  const snippet = decoded.slice(0, end);
  return { kind: 'text', sourceType: 'text/plain', snippet, truncated: end < decoded.length || prefix.length < bytes.length };
}

function decode(prefix: Uint8Array, encoding: 'utf-8' | 'utf-16le' | 'utf-16be'): string {
  // `stream`: an incomplete character at the end of the prefix is held back, never emitted.
  return new TextDecoder(encoding).decode(prefix, { stream: true });
}
