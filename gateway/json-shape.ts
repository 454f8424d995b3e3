// The shape of a JSON text — how deep it nests, how many members and elements it holds —
// read before it is parsed, in one linear pass with no allocation. JSON.parse costs far more
// per member than per byte (an object of 90,000 members: about 100 ms), so texts from
// clients not yet known (request bodies, a live socket's first frame) are measured first
// and refused past a bound.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * What is wrong with the text's shape ("nests deeper than 16 levels", "holds more than 5000
 * members and elements"), or undefined. Not a validation: JSON.parse says whether the text
 * is JSON at all. A container opening or a comma outside strings starts a value; strings
 * are skipped by closingQuote. Plain comparisons: a Set lookup per character made a
 * megabyte of whitespace cost 17 ms.
 */
export function jsonShapeProblem(text: string, maxDepth: number, maxValues: number): string | undefined {
  let depth = 0;
  let values = 0;
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code === QUOTE) {
      at = closingQuote(text, at);
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > maxDepth) return `nests deeper than ${maxDepth} levels`;
      if (++values > maxValues) return `holds more than ${maxValues} members and elements`;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
    } else if (code === COMMA && ++values > maxValues) {
      return `holds more than ${maxValues} members and elements`;
    }
  }
  return undefined;
}

/**
 * Where the string opened at `open` ends (the end of the text if it never does). Text is
 * jumped over with indexOf to the next quote; a quote that turns out to be escaped (odd
 * backslashes before it) sends the rest of the string through a character loop, so a
 * string of escaped quotes costs one pass too, not an indexOf and a look back per quote.
 */
function closingQuote(text: string, open: number): number {
  const quote = text.indexOf('"', open + 1);
  if (quote < 0) return text.length;
  let backslashes = 0;
  while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
  if (backslashes % 2 === 0) return quote;
  for (let at = quote + 1; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code === BACKSLASH) at++;
    else if (code === QUOTE) return at;
  }
  return text.length;
}
