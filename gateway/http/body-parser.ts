// Parsing a request body, JSON or form-urlencoded (the two encodings Webex clients send),
// with work bounded by the body's size: the shape of a body (its fields, members, nesting)
// is checked on the raw bytes before it is parsed, so a body of the maximum size costs a
// few milliseconds of the event loop whatever it holds, never seconds.
import { HttpError } from './http-errors.ts';

/** No Webex form has more than a handful of fields; past this many, 400. */
export const MAX_FORM_FIELDS = 1000;
/** No Webex resource nests deeply; bounding depth keeps validators and renderers off deep recursion. */
export const MAX_JSON_DEPTH = 16;
/**
 * Object members and array elements of a JSON body, in all. Parsing an object of 90,000
 * members takes V8 about 100 ms; the largest Webex bodies (a card, 100 invitees) hold a
 * few hundred.
 */
export const MAX_JSON_VALUES = 5000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const AMPERSAND = 0x26;
const OPENERS = new Set([0x7b, 0x5b]);
const CLOSERS = new Set([0x7d, 0x5d]);

export function parseBody(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  if (raw.length === 0) return {};
  const type = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) return parseJson(raw);
  if (type === 'application/x-www-form-urlencoded') return parseForm(raw);
  throw new HttpError(415, `Content type ${type} is not supported; send application/json or application/x-www-form-urlencoded.`);
}

function parseJson(raw: Buffer): Record<string, unknown> {
  const problem = jsonShapeProblem(raw);
  if (problem) throw new HttpError(400, problem);
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'The request body must be a JSON object.');
  return value as Record<string, unknown>;
}

/**
 * Nesting and the count of members and elements, read from the bytes outside strings (a
 * container opening or a comma starts a value). Not a validation: JSON.parse says whether
 * the body is JSON at all. Strings are skipped with indexOf, so the scan is linear, and fast
 * on what bodies mostly are, text.
 */
function jsonShapeProblem(raw: Buffer): string | undefined {
  let depth = 0;
  let values = 0;
  for (let at = 0; at < raw.length; at++) {
    const byte = raw[at];
    if (byte === QUOTE) {
      at = closingQuote(raw, at);
    } else if (OPENERS.has(byte)) {
      if (++depth > MAX_JSON_DEPTH) return `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`;
      if (++values > MAX_JSON_VALUES) return `The request body holds more than ${MAX_JSON_VALUES} members and elements.`;
    } else if (CLOSERS.has(byte)) {
      depth--;
    } else if (byte === COMMA && ++values > MAX_JSON_VALUES) {
      return `The request body holds more than ${MAX_JSON_VALUES} members and elements.`;
    }
  }
  return undefined;
}

/** Where the string opened at `open` ends (the end of the body if it never does). */
function closingQuote(raw: Buffer, open: number): number {
  for (let at = raw.indexOf(QUOTE, open + 1); at >= 0; at = raw.indexOf(QUOTE, at + 1)) {
    // A quote preceded by an odd number of backslashes is escaped. Each run of backslashes
    // is counted once, by the quote right after it, so this stays linear.
    let backslashes = 0;
    while (raw[at - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return raw.length;
}

/** Repeated keys are lists, as in `files=…&files=…`; collected in place, never copied. */
function parseForm(raw: Buffer): Record<string, unknown> {
  let fields = 1;
  for (let at = raw.indexOf(AMPERSAND); at >= 0; at = raw.indexOf(AMPERSAND, at + 1)) {
    if (++fields > MAX_FORM_FIELDS) throw new HttpError(400, `The request body has more than ${MAX_FORM_FIELDS} form fields.`);
  }
  const form = new Map<string, string | string[]>();
  for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) {
    const existing = form.get(key);
    if (existing === undefined) form.set(key, value);
    else if (Array.isArray(existing)) existing.push(value);
    else form.set(key, [existing, value]);
  }
  return Object.fromEntries(form);
}
